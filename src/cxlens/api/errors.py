"""One JSON shape for every API error, so clients handle failures one way:

{"error": {"status": 422, "code": "invalid_event", "message": "...", "details": [...]}}
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxlens.errors import CxlensError


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def error_body(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or []}}


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors as {field, message}: the field path reads like `events.3.customer`."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "(body)", "message": str(e.get("msg", ""))})
    return out


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    exc = cast(ApiError, error)
    return JSONResponse(
        error_body(exc.status, exc.code, exc.message, exc.details), status_code=exc.status
    )


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, error)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(exc.status_code, code, str(exc.detail)), status_code=exc.status_code
    )


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, error)
    details = validation_details(exc.errors())
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return JSONResponse(error_body(422, "invalid_request", message, details), status_code=422)


async def _cxlens_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body(400, type(exc).__name__, str(exc)), status_code=400)


HANDLERS = {
    ApiError: _api_error,
    StarletteHTTPException: _http_error,
    RequestValidationError: _validation_error,
    CxlensError: _cxlens_error,
}
