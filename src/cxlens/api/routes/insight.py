"""Voice of the customer and early warning, as the dashboard and integrations read them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from cxlens.api.errors import ApiError
from cxlens.api.routes.work import records
from cxlens.api.server import Reader, book_owner, server_of
from cxlens.errors import MetricError

router = APIRouter()


def _missing(exc: MetricError) -> ApiError:
    return ApiError(404, "not_computed", str(exc))


@router.get("/v1/voc/satisfaction", operation_id="satisfaction", tags=["voice"])
def satisfaction(
    request: Request,
    who: Reader,
    by: Literal["touchpoint", "journey_stage", "channel", "segment", "region", "owner"] = (
        "touchpoint"
    ),
) -> list[dict[str, Any]]:
    """NPS, CSAT and CES along the journey, with sample sizes (small samples flagged)."""
    del who
    server = server_of(request)
    try:
        frame = server.cached(
            f"satisfaction:{by}", lambda: server.workspace.voc.satisfaction(by=(by,))
        )
    except MetricError as exc:
        raise _missing(exc) from exc
    return records(frame)


@router.get("/v1/voc/themes", operation_id="themes", tags=["voice"])
def themes(request: Request, who: Reader) -> list[dict[str, Any]]:
    del who
    server = server_of(request)
    try:
        frame = server.cached("themes", lambda: server.workspace.voc.themes())
    except MetricError as exc:
        raise _missing(exc) from exc
    return records(frame)


@router.get("/v1/voc/drivers", operation_id="drivers", tags=["voice"])
def drivers(
    request: Request, who: Reader, target: Literal["nps", "csat", "churn"] = "nps"
) -> list[dict[str, Any]]:
    """What drives dissatisfaction: each theme's and touchpoint's impact on the target."""
    del who
    server = server_of(request)
    try:
        frame = server.cached(f"drivers:{target}", lambda: server.workspace.voc.drivers(target))
    except MetricError as exc:
        raise _missing(exc) from exc
    return records(frame)


@router.get("/v1/voc/emerging", operation_id="emerging", tags=["voice"])
def emerging(
    request: Request, who: Reader, periods: Annotated[int, Query(ge=1, le=52)] = 3
) -> list[dict[str, Any]]:
    del who
    server = server_of(request)
    try:
        frame = server.cached(
            f"emerging:{periods}", lambda: server.workspace.voc.emerging(periods=periods)
        )
    except MetricError as exc:
        raise _missing(exc) from exc
    return records(frame)


@router.get("/v1/risk/scores", operation_id="risk_scores", tags=["risk"])
def risk_scores(
    request: Request,
    who: Reader,
    owner: str | None = None,
    band: Literal["high", "medium", "low"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> list[dict[str, Any]]:
    """The latest churn scores with reasons, most revenue at risk first."""
    server = server_of(request)
    try:
        frame = server.cached("risk_scores", lambda: server.workspace.risk.latest_scores())
    except MetricError as exc:
        raise _missing(exc) from exc
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
    server = server_of(request)
    try:
        frame = server.cached(f"at_risk:{by}", lambda: server.workspace.risk.revenue_at_risk(by))
    except MetricError as exc:
        raise _missing(exc) from exc
    return records(frame)


@router.get("/v1/risk/backtest", operation_id="backtest", tags=["risk"])
def backtest(request: Request, who: Reader) -> dict[str, Any]:
    """How the churn model and the health scorecard did on rolling past windows."""
    del who
    server = server_of(request)
    try:
        report: dict[str, Any] = server.cached(
            "backtest", lambda: server.workspace.risk.backtest_report()
        )
    except MetricError as exc:
        raise _missing(exc) from exc
    return report
