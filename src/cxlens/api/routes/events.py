"""`POST /v1/events`: events in, answered once stored and judged."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from cxlens.api.errors import ApiError, validation_details
from cxlens.api.server import Ingest, server_of
from cxlens.signals.intake import MAX_BATCH, EventBatch, EventIn

router = APIRouter(tags=["events"])
_ONE_OR_MANY: TypeAdapter[EventIn | EventBatch] = TypeAdapter(EventIn | EventBatch)


class Accepted(BaseModel):
    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events whose event_id was already stored.")
    alerts: list[str] = Field(description="Alerts these events raised.")


@router.post(
    "/v1/events",
    operation_id="send_events",
    response_model=Accepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ONE_OR_MANY.json_schema()}},
        }
    },
)
async def send_events(request: Request, who: Ingest) -> Accepted:
    """One event, or `{"events": [...]}` (up to 1,000). Answered once the events are durably
    stored and judged; an `event_id` already stored is counted, not stored again."""
    del who
    server = server_of(request)
    limit = server.max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"request over {limit:,} bytes")
    body = await request.body()
    if len(body) > limit:
        raise ApiError(413, "too_large", f"request over {limit:,} bytes")
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not JSON: {exc}") from exc
    batch = isinstance(raw, dict) and "events" in raw
    if batch and isinstance(raw["events"], list) and len(raw["events"]) > MAX_BATCH:
        raise ApiError(
            413,
            "too_many_events",
            f"{len(raw['events']):,} events: send at most {MAX_BATCH:,} per request",
        )
    try:
        parsed = EventBatch.model_validate(raw) if batch else EventIn.model_validate(raw)
    except ValidationError as exc:
        details = validation_details(exc.errors())
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise ApiError(422, "invalid_event", message, details) from exc
    events = parsed.events if isinstance(parsed, EventBatch) else [parsed]
    result = await asyncio.wrap_future(server.stream.submit(events))
    return Accepted(accepted=result.accepted, duplicates=result.duplicates, alerts=result.alerts)
