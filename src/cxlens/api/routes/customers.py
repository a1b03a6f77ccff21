"""Customers: the filterable book, and (with the story module) one customer's 360, timeline
and story."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cxlens.api.errors import ApiError
from cxlens.api.keys import Caller
from cxlens.api.server import Reader, Server, book_owner, server_of
from cxlens.book.customers import Filters, customers, options
from cxlens.errors import UnknownMaster
from cxlens.story.customer360 import Customer360

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


@router.get("/v1/customers/search", operation_id="search_customers")
def search(
    request: Request, who: Reader, q: str, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[dict[str, Any]]:
    """Accounts and people by name, email, domain or id (case-insensitive)."""
    server = server_of(request)
    with server.lock:
        found = server.workspace.story.search(q, limit=limit)
    if who.role == "csm":
        found = [f for f in found if f.get("owner") in (None, who.owner)]
    return found


def _master(server: Server, who: Caller, customer: str) -> str:
    """The customer's master id, or 404; a CSM only opens customers of their own book."""
    store = server.workspace.store
    try:
        with server.lock:
            kind, master = server.workspace.story.resolve(customer)
            account = master if kind == "account" else store.scalar(
                "SELECT account_id FROM customers WHERE customer_id = ?", [master]
            )  # fmt: skip
            owner = store.scalar("SELECT owner FROM accounts WHERE account_id = ?", [account])
    except UnknownMaster as exc:
        raise ApiError(404, "unknown_customer", str(exc)) from exc
    if who.role == "csm" and owner != who.owner:
        raise ApiError(403, "forbidden", f"{customer} is not in your book")
    return master


def customer_360(server: Server, who: Caller, customer: str) -> Customer360:
    master = _master(server, who, customer)
    with server.lock:
        return server.workspace.story.customer360(master)


@router.get("/v1/customers/{customer_id}", operation_id="customer_360")
def get_customer(request: Request, customer_id: str, who: Reader) -> dict[str, Any]:
    """Everything known about one customer: profile, people, source records and why they were
    merged, value, risk with reasons, health, voice, alerts and tasks, counts by department."""
    return customer_360(server_of(request), who, customer_id).to_dict()


@router.get("/v1/customers/{customer_id}/timeline", operation_id="customer_timeline")
def get_timeline(
    request: Request,
    customer_id: str,
    who: Reader,
    department: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    order: Annotated[str, Query(pattern="^(newest|oldest)$")] = "newest",
) -> list[dict[str, Any]]:
    """The customer's events across departments, filtered by department, kind and time."""
    server = server_of(request)
    master = _master(server, who, customer_id)
    with server.lock:
        return server.workspace.story.timeline(
            master, departments=department, kinds=kind, since=since, until=until,
            limit=limit, offset=offset, newest_first=order == "newest",
        )  # fmt: skip


@router.get("/v1/customers/{customer_id}/story", operation_id="customer_story")
def get_story(request: Request, customer_id: str, who: Reader) -> dict[str, Any]:
    """The customer's story: sentences, each with the events it stands on."""
    server = server_of(request)
    master = _master(server, who, customer_id)
    with server.lock:
        return server.workspace.story.story(master).to_dict()
