"""The book of business: every master account with its value, health, churn risk and open
alerts, filtered, sorted and paginated in the store (one query, whatever the backend)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from cxlens.errors import CxlensError
from cxlens.store import Store

Sort = Literal["value", "arr", "clv", "health", "risk", "name", "alerts", "revenue_at_risk"]
SORTS: dict[str, str] = {
    "value": "value",
    "arr": "arr",
    "clv": "clv",
    "health": "health",
    "risk": "probability",
    "name": "name",
    "alerts": "open_alerts",
    "revenue_at_risk": "revenue_at_risk",
}
VALUE_TIERS = ("top10", "top25", "rest")

_BOOK = """
WITH risk AS (
    SELECT account_id, probability, risk_band, arr, revenue_at_risk FROM risk_scores
    WHERE as_of = (SELECT max(as_of) FROM risk_scores)
      AND model_id = (SELECT model_id FROM risk_models ORDER BY trained_at DESC LIMIT 1)
),
health AS (
    SELECT account_id, score AS health, status AS health_status FROM health_scores
    WHERE day = (SELECT max(day) FROM health_scores)
),
buyers AS (
    SELECT c.account_id, sum(v.clv) AS clv FROM customer_values AS v
    JOIN customers AS c ON c.customer_id = v.customer_id
    WHERE v.run_id = (SELECT run_id FROM value_runs ORDER BY fitted_at DESC LIMIT 1)
    GROUP BY c.account_id
),
open_alerts AS (
    SELECT account_id, count(*) AS open_alerts FROM alerts
    WHERE status <> 'closed' AND account_id IS NOT NULL GROUP BY account_id
),
base AS (
    SELECT a.account_id, a.name, a.segment, a.owner, a.region, a.industry, r.arr, b.clv,
        CASE WHEN r.arr IS NULL AND b.clv IS NULL THEN NULL
             ELSE coalesce(r.arr, 0) + coalesce(b.clv, 0) END AS value,
        h.health, h.health_status, r.probability, r.risk_band, r.revenue_at_risk,
        coalesce(o.open_alerts, 0) AS open_alerts
    FROM accounts AS a
    LEFT JOIN risk AS r ON r.account_id = a.account_id
    LEFT JOIN health AS h ON h.account_id = a.account_id
    LEFT JOIN buyers AS b ON b.account_id = a.account_id
    LEFT JOIN open_alerts AS o ON o.account_id = a.account_id
),
ranked AS (
    SELECT *, CASE WHEN value IS NULL THEN NULL
        WHEN cume_dist() OVER (PARTITION BY value IS NULL ORDER BY value) >= 0.9 THEN 'top10'
        WHEN cume_dist() OVER (PARTITION BY value IS NULL ORDER BY value) >= 0.75 THEN 'top25'
        ELSE 'rest' END AS value_tier
    FROM base
)
"""


class BookError(CxlensError):
    """A customer list request that cannot be answered (unknown sort, bad page)."""


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    segment: str | None = None
    owner: str | None = None
    region: str | None = None
    health_status: str | None = None
    risk_band: str | None = None
    value_tier: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.q:
            clauses.append("(lower(name) LIKE ? OR lower(account_id) LIKE ?)")
            needle = f"%{self.q.strip().lower()}%"
            params += [needle, needle]
        for column in ("segment", "owner", "region", "health_status", "risk_band", "value_tier"):
            value = getattr(self, column)
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


@dataclass
class CustomerPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int
    sort: str
    descending: bool
    filters: Filters = field(default_factory=Filters)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def customers(
    store: Store,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    *,
    sort: str = "value",
    descending: bool = True,
    page: int = 1,
    size: int = 50,
) -> CustomerPage:
    """One page of the book, best first by `sort`; nulls last whatever the direction."""
    if sort not in SORTS:
        raise BookError(f"cannot sort by {sort!r}: use one of {', '.join(SORTS)}")
    if page < 1 or not 1 <= size <= 1000:
        raise BookError("page starts at 1 and size is between 1 and 1000")
    if filters.value_tier and filters.value_tier not in VALUE_TIERS:
        raise BookError(f"value tier is one of {', '.join(VALUE_TIERS)}")
    where, params = filters.where()
    column = SORTS[sort]
    order = f"{column} IS NULL, {column} {'DESC' if descending else 'ASC'}, account_id"
    total = int(store.scalar(f"{_BOOK} SELECT count(*) FROM ranked{where}", params) or 0)
    rows = store.rows(
        f"{_BOOK} SELECT * FROM ranked{where} ORDER BY {order} "
        f"LIMIT {int(size)} OFFSET {int((page - 1) * size)}",
        params,
    )
    return CustomerPage(rows, total, page, size, sort, descending, filters)


def options(store: Store) -> dict[str, list[str]]:
    """The values each filter can take, for the filter form."""
    out: dict[str, list[str]] = {}
    for column in ("segment", "owner", "region"):
        out[column] = [
            str(r["v"])
            for r in store.rows(
                f"SELECT DISTINCT {column} AS v FROM accounts WHERE {column} IS NOT NULL ORDER BY v"
            )
        ]
    out["health_status"] = ["green", "amber", "red", "insufficient data"]
    out["risk_band"] = ["high", "medium", "low"]
    out["value_tier"] = list(VALUE_TIERS)
    return out
