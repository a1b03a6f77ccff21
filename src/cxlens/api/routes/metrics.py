"""The overview's figures and the revenue metrics behind them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cxlens.api.server import Reader, server_of
from cxlens.book.overview import overview

router = APIRouter(tags=["metrics"])


@router.get("/v1/metrics/overview", operation_id="overview")
def get_overview(request: Request, who: Reader) -> dict[str, Any]:
    """ARR, NRR, GRR, logo churn, NPS, CSAT and revenue at risk with monthly trends."""
    del who
    server = server_of(request)
    ws = server.workspace
    return server.cached("overview", lambda: overview(ws.store, ws.value).to_dict())
