"""Voice of the customer and early warning, as the dashboard and integrations read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request

from cxlens.api.errors import ApiError
from cxlens.api.routes.work import records
from cxlens.api.server import Reader, book_owner, server_of
from cxlens.errors import MetricError

router = APIRouter()
T = TypeVar("T")
Breakdown = Literal["touchpoint", "journey_stage", "channel", "segment", "region", "owner"]


def _computed(request: Request, key: str, compute: Callable[[], T]) -> T:
    """A cached result, or 404 when it has not been computed yet (no VoC run, no model)."""
    try:
        return server_of(request).cached(key, compute)
    except MetricError as exc:
        raise ApiError(404, "not_computed", str(exc)) from exc


@router.get("/v1/voc/satisfaction", operation_id="satisfaction", tags=["voice"])
def satisfaction(
    request: Request, who: Reader, by: Breakdown = "touchpoint"
) -> list[dict[str, Any]]:
    """NPS, CSAT and CES along the journey, with sample sizes (small samples flagged)."""
    del who
    voc = server_of(request).workspace.voc
    return records(_computed(request, f"satisfaction:{by}", lambda: voc.satisfaction(by=(by,))))


@router.get("/v1/voc/themes", operation_id="themes", tags=["voice"])
def themes(request: Request, who: Reader) -> list[dict[str, Any]]:
    del who
    voc = server_of(request).workspace.voc
    return records(_computed(request, "themes", voc.themes))


@router.get("/v1/voc/drivers", operation_id="drivers", tags=["voice"])
def drivers(
    request: Request, who: Reader, target: Literal["nps", "csat", "churn"] = "nps"
) -> list[dict[str, Any]]:
    """What drives dissatisfaction: each theme's and touchpoint's impact on the target."""
    del who
    voc = server_of(request).workspace.voc
    return records(_computed(request, f"drivers:{target}", lambda: voc.drivers(target)))


@router.get("/v1/voc/emerging", operation_id="emerging", tags=["voice"])
def emerging(
    request: Request, who: Reader, periods: Annotated[int, Query(ge=1, le=52)] = 3
) -> list[dict[str, Any]]:
    del who
    voc = server_of(request).workspace.voc
    return records(_computed(request, f"emerging:{periods}", lambda: voc.emerging(periods=periods)))


@router.get("/v1/risk/scores", operation_id="risk_scores", tags=["risk"])
def risk_scores(
    request: Request,
    who: Reader,
    owner: str | None = None,
    band: Literal["high", "medium", "low"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> list[dict[str, Any]]:
    """The latest churn scores with reasons, most revenue at risk first."""
    risk = server_of(request).workspace.risk
    frame = _computed(request, "risk_scores", risk.latest_scores)
    mine = book_owner(who, owner)
    if mine is not None:
        frame = frame[frame["owner"] == mine]
    if band is not None:
        frame = frame[frame["risk_band"] == band]
    return records(frame.head(limit))


@router.get("/v1/risk/at-risk", operation_id="revenue_at_risk", tags=["risk"])
def at_risk(
    request: Request,
    who: Reader,
    by: Literal["owner", "segment", "region", "month", "risk_band"] = "owner",
) -> list[dict[str, Any]]:
    """Revenue at risk: subscriptions (probability × ARR) and buyers ((1 − P(alive)) × CLV)."""
    del who
    risk = server_of(request).workspace.risk
    return records(_computed(request, f"at_risk:{by}", lambda: risk.revenue_at_risk(by)))


@router.get("/v1/risk/backtest", operation_id="backtest", tags=["risk"])
def backtest(request: Request, who: Reader) -> dict[str, Any]:
    """How the churn model and the health scorecard did on rolling past windows."""
    del who
    risk = server_of(request).workspace.risk
    report: dict[str, Any] = _computed(request, "backtest", risk.backtest_report)
    return report
