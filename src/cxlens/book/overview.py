"""The state of the customer base at a glance: ARR, NRR, GRR, logo churn, NPS, CSAT and revenue
at risk, each with its monthly trend, plus the breakdowns the overview page draws."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from cxlens.errors import MetricError
from cxlens.metrics.service import Value
from cxlens.store import Store

_SURVEYS = (
    "SELECT date_trunc('month', occurred_at) AS month, action, count(*) AS answers, "
    "avg(score) AS mean, "
    "sum(CASE WHEN action = 'nps' AND score >= 9 THEN 1 ELSE 0 END) AS promoters, "
    "sum(CASE WHEN action = 'nps' AND score <= 6 THEN 1 ELSE 0 END) AS detractors, "
    "sum(CASE WHEN action = 'csat' AND score >= 4 THEN 1 ELSE 0 END) AS satisfied "
    "FROM events WHERE kind = 'survey' AND action IN ('nps', 'csat') AND score IS NOT NULL "
    "GROUP BY 1, 2 ORDER BY 1"
)


@dataclass
class Kpi:
    name: str
    label: str
    value: float | None
    format: str  # money, pct, num
    trend: list[tuple[str, float | None]] = field(default_factory=list)
    href: str = "/customers"
    note: str = ""


@dataclass
class Overview:
    currency: str
    as_of: str | None
    kpis: list[Kpi]
    arr_by_month: list[tuple[str, float]]
    at_risk_by_owner: list[tuple[str, float]]
    health_counts: dict[str, int]

    def kpi(self, name: str) -> Kpi:
        return next(k for k in self.kpis if k.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _series(frame: pd.DataFrame, column: str, months: int) -> list[tuple[str, float | None]]:
    tail = frame.tail(months)
    return [
        (str(m), None if pd.isna(v) else float(v))
        for m, v in zip(tail["month"], tail[column], strict=True)
    ]


def _last(series: list[tuple[str, float | None]]) -> float | None:
    return series[-1][1] if series else None


def overview(store: Store, value: Value, *, months: int = 12) -> Overview:
    """Every figure of the overview, computed from the store as it is now."""
    kpis: list[Kpi] = []
    arr_by_month: list[tuple[str, float]] = []
    try:
        revenue = value.revenue()
        flow, kept = revenue.waterfall, revenue.retention
        arr = _series(flow, "arr", months)
        arr_by_month = [(m, v or 0.0) for m, v in _series(flow, "arr", 36)]
        kpis += [
            Kpi("arr", "ARR", _last(arr), "money", arr, "/customers?sort=-arr"),
            Kpi("nrr", "Net revenue retention (12 m)", _last(_series(kept, "nrr_t12m", months)),
                "pct", _series(kept, "nrr_t12m", months), "/customers?sort=-arr"),
            Kpi("grr", "Gross revenue retention (12 m)", _last(_series(kept, "grr_t12m", months)),
                "pct", _series(kept, "grr_t12m", months), "/customers?risk_band=high"),
            Kpi("logo_churn", "Logo churn (month)", _last(_series(flow, "logo_churn", months)),
                "pct", _series(flow, "logo_churn", months), "/customers?risk_band=high"),
        ]  # fmt: skip
        currency = revenue.currency
    except MetricError as exc:
        currency = value.settings.currency
        kpis.append(Kpi("arr", "ARR", None, "money", note=str(exc)))

    surveys: pd.DataFrame = store.query(_SURVEYS).to_pandas()
    surveys["month"] = pd.to_datetime(surveys["month"]).dt.to_period("M").astype(str)
    nps = surveys[surveys["action"] == "nps"].copy()
    nps["nps"] = 100 * (nps["promoters"] - nps["detractors"]) / nps["answers"]
    csat = surveys[surveys["action"] == "csat"].copy()
    csat["csat"] = csat["satisfied"] / csat["answers"]
    kpis.append(Kpi("nps", "NPS (month)", _last(_series(nps, "nps", months)), "num",
                    _series(nps, "nps", months), "/voc"))  # fmt: skip
    kpis.append(Kpi("csat", "CSAT, share satisfied (month)", _last(_series(csat, "csat", months)),
                    "pct", _series(csat, "csat", months), "/voc"))  # fmt: skip

    at_risk = store.query(
        "SELECT as_of, sum(revenue_at_risk) AS at_risk FROM risk_scores GROUP BY as_of "
        "ORDER BY as_of"
    ).to_pandas()
    at_risk["month"] = pd.to_datetime(at_risk["as_of"]).dt.to_period("M").astype(str)
    monthly = at_risk.groupby("month", as_index=False)["at_risk"].last()
    kpis.append(Kpi("revenue_at_risk", "Revenue at risk (subscriptions)",
                    _last(_series(monthly, "at_risk", months)), "money",
                    _series(monthly, "at_risk", months),
                    "/customers?sort=-revenue_at_risk"))  # fmt: skip
    owners = store.rows(
        "SELECT coalesce(a.owner, '(none)') AS owner, sum(s.revenue_at_risk) AS at_risk "
        "FROM risk_scores AS s LEFT JOIN accounts AS a ON a.account_id = s.account_id "
        "WHERE s.as_of = (SELECT max(as_of) FROM risk_scores) "
        "GROUP BY 1 ORDER BY 2 DESC NULLS LAST LIMIT 12"
    )
    health = store.rows(
        "SELECT status, count(*) AS n FROM health_scores "
        "WHERE day = (SELECT max(day) FROM health_scores) GROUP BY status"
    )
    as_of = store.scalar("SELECT max(as_of) FROM risk_scores")
    return Overview(
        currency=currency,
        as_of=as_of.date().isoformat() if isinstance(as_of, dt.datetime) else None,
        kpis=kpis,
        arr_by_month=arr_by_month,
        at_risk_by_owner=[(str(r["owner"]), float(r["at_risk"] or 0.0)) for r in owners],
        health_counts={str(r["status"]): int(r["n"]) for r in health},
    )
