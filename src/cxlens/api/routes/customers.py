"""Customers: the filterable book, and (with the story module) one customer's 360, timeline
and story."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cxlens.api.server import Reader, book_owner, server_of
from cxlens.book.customers import Filters, customers, options

router = APIRouter(tags=["customers"])


def _json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v if not isinstance(v, float) or v == v else None) for k, v in r.items()}
            for r in rows]  # fmt: skip


@router.get("/v1/customers", operation_id="list_customers")
def list_customers(
    request: Request,
    who: Reader,
    q: str | None = None,
    segment: str | None = None,
    owner: str | None = None,
    region: str | None = None,
    health_status: str | None = None,
    risk_band: str | None = None,
    value_tier: str | None = None,
    sort: str = "value",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    """Master accounts with value, health, churn risk and open alerts; CSM keys see their
    own book only."""
    filters = Filters(
        q=q, segment=segment, owner=book_owner(who, owner), region=region,
        health_status=health_status, risk_band=risk_band, value_tier=value_tier,
    )  # fmt: skip
    server = server_of(request)
    with server.lock:
        found = customers(
            server.workspace.store, filters, sort=sort, descending=order == "desc",
            page=page, size=size,
        )  # fmt: skip
    return {
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "size": found.size,
        "sort": found.sort,
        "order": order,
        "customers": _json_rows(found.rows),
    }


@router.get("/v1/customers/filters", operation_id="customer_filters")
def customer_filters(request: Request, who: Reader) -> dict[str, list[str]]:
    """The values each customer filter can take."""
    del who
    server = server_of(request)
    return server.cached("filters", lambda: options(server.workspace.store))
