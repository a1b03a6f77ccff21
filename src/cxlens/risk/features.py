"""Churn features as of a cutoff, from events strictly before it; labels from after it.

Every feature is computed from `activity` rows with `occurred_at < cutoff` only (the leakage
guard test deletes everything from the cutoff on and checks the features do not move). The
label looks only forward: did the account churn within the horizon after the cutoff. Training
sets stack many monthly cutoffs, so the model sees accounts at every stage of their life.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlens.models.churn.explain import Template

DAY = pd.Timedelta(days=1)

URGENT = "urgent or high-priority ticket"


def _count(one: str, many: str, rest: str = "") -> Template:
    """A template for a count: "1 ticket still unresolved", "3 tickets still unresolved"."""

    def text(value: object) -> str:
        n = round(float(value))  # type: ignore[arg-type]
        return f"{n} {one if n == 1 else many}{rest}"

    return text


#: Plain-language templates for the reasons shown with each score ({value} is the feature's,
#: or a function of it for counts).
TEMPLATES: dict[str, Template] = {
    "usage_trend": "active users {value:+.0%} over the last 30 days against the 90 before",
    "active_users_30d": _count("active user", "active users", " a week lately"),
    "active_users_ratio": "active users at {value:.0%} of their peak of the last year",
    "usage_trend_14d": "active users {value:+.0%} in the last two weeks against the 90 days before",
    "sessions_30d": _count("session", "sessions", " a week lately"),
    "tickets_90d": _count("support ticket", "support tickets", " in 90 days"),
    "urgent_tickets_90d": _count(URGENT, URGENT + "s", " in 90 days"),
    "unresolved_tickets": _count("ticket", "tickets", " still unresolved"),
    "unresolved_urgent": _count(URGENT, URGENT + "s", " unresolved"),
    "sentiment_90d": "their texts' sentiment {value:+.2f} on average over 90 days",
    "nps_last": "last NPS answer {value:.0f}",
    "days_since_detractor": "an NPS detractor answer {value:.0f} days ago",
    "days_since_payment_failure": "a failed payment {value:.0f} days ago",
    "days_since_champion_left": "their champion left {value:.0f} days ago",
    "urgent_tickets_30d": _count(URGENT, URGENT + "s", " in 30 days"),
    "detractor_90d": "an NPS detractor answer in the last 90 days",
    "csat_avg_180d": "CSAT {value:.1f} on average over 180 days",
    "payment_failures_90d": _count("failed payment", "failed payments", " in 90 days"),
    "csm_touches_90d": _count("CSM meeting or note", "CSM meetings or notes", " in 90 days"),
    "champion_left_180d": "their champion left in the last 180 days",
    "contacts_left_180d": _count("contact", "contacts", " left in 180 days"),
    "mrr_change_90d": "MRR {value:+.0%} in 90 days",
    "mrr": "MRR {value:,.0f}",
    "tenure_months": "a customer for {value:.0f} months",
    "days_to_renewal": "renewal in {value:.0f} days",
    "segment": "segment {value}",
}
FEATURES = tuple(TEMPLATES)
CATEGORICAL = ("segment",)


_USAGE = "kind = 'usage' AND action = 'active_users'"
_OPENED = "kind = 'ticket' AND action = 'opened'"
_URGENT = f"{_OPENED} AND priority IN ('urgent', 'high')"
_UNRESOLVED = "(resolved_at IS NULL OR resolved_at >= cutoff)"
_NPS = "kind = 'survey' AND action = 'nps'"
_FAILED = "kind = 'invoice' AND action = 'failed'"
_CHAMPION = "kind = 'relationship' AND action = 'champion_left'"

#: Aggregates over each account's events in the year before the cutoff (`age` in days).
_AGGREGATES = f"""
    avg(quantity) FILTER (WHERE {_USAGE} AND age <= 30) AS active_users_30d,
    avg(quantity) FILTER (WHERE {_USAGE} AND age > 30 AND age <= 120) AS users_before,
    avg(quantity) FILTER (WHERE {_USAGE} AND age <= 14) AS users_14d,
    avg(quantity) FILTER (WHERE {_USAGE} AND age > 14 AND age <= 104) AS users_before_14d,
    max(quantity) FILTER (WHERE {_USAGE}) AS users_peak,
    avg(quantity) FILTER (WHERE kind = 'usage' AND action = 'session' AND age <= 30)
        AS sessions_30d,
    count(*) FILTER (WHERE {_OPENED} AND age <= 90) AS tickets_90d,
    count(*) FILTER (WHERE {_URGENT} AND age <= 90) AS urgent_tickets_90d,
    count(*) FILTER (WHERE {_URGENT} AND age <= 30) AS urgent_tickets_30d,
    count(*) FILTER (WHERE {_OPENED} AND age <= 180 AND {_UNRESOLVED}) AS unresolved_tickets,
    count(*) FILTER (WHERE {_URGENT} AND age <= 180 AND {_UNRESOLVED}) AS unresolved_urgent,
    avg(score) FILTER (WHERE kind = 'text' AND age <= 90) AS sentiment_90d,
    -- On a tie (several contacts answering the same wave) the lowest answer counts.
    arg_max(score, {{'at': occurred_at, 'worst': -score}})
        FILTER (WHERE {_NPS} AND score IS NOT NULL) AS nps_last,
    count(*) FILTER (WHERE {_NPS} AND score <= 6 AND age <= 90) AS detractors_90d,
    max(occurred_at) FILTER (WHERE {_NPS} AND score <= 6) AS last_detractor,
    max(occurred_at) FILTER (WHERE {_FAILED}) AS last_payment_failure,
    max(occurred_at) FILTER (WHERE {_CHAMPION}) AS last_champion_left,
    avg(score) FILTER (WHERE kind = 'survey' AND action = 'csat' AND age <= 180)
        AS csat_avg_180d,
    count(*) FILTER (WHERE {_FAILED} AND age <= 90) AS payment_failures_90d,
    count(*) FILTER (WHERE kind = 'note' AND age <= 90) AS csm_touches_90d,
    count(*) FILTER (WHERE {_CHAMPION} AND age <= 180) AS champions_left_180d,
    count(*) FILTER (WHERE kind = 'relationship' AND action = 'contact_left' AND age <= 180)
        AS contacts_left_180d
"""


def _days(later: str, earlier: str) -> str:
    return f"date_diff('microsecond', {earlier}, {later}) / 86400e6"


def _ratio(numerator: str, denominator: str) -> str:
    return f"CASE WHEN {denominator} > 0 THEN {numerator} / {denominator} - 1 END"


_FEATURE_SQL = f"""
WITH cut AS (SELECT unnest($cutoffs::TIMESTAMP[]) AS cutoff),
subs AS (
    SELECT c.cutoff, a.account,
        min(a.occurred_at) FILTER (WHERE a.action = 'new') AS start,
        arg_max(a.action, a.occurred_at)
            FILTER (WHERE a.action IN ('new', 'churn', 'reactivation')) AS life,
        coalesce(sum(a.amount), 0) AS mrr,
        min(a.occurred_at)
            FILTER (WHERE a.action = 'new' AND a.occurred_at < c.cutoff - INTERVAL 90 DAY)
            AS start_then,
        coalesce(sum(a.amount) FILTER (WHERE a.occurred_at < c.cutoff - INTERVAL 90 DAY), 0)
            AS mrr_then
    FROM activity AS a JOIN cut AS c ON a.occurred_at < c.cutoff
    WHERE a.kind = 'subscription'
    GROUP BY c.cutoff, a.account
),
active AS (SELECT * FROM subs WHERE start IS NOT NULL AND life IS DISTINCT FROM 'churn'),
resolutions AS (
    SELECT reference, min(occurred_at) AS resolved_at FROM activity
    WHERE kind = 'ticket' AND action = 'resolved' AND reference IS NOT NULL
    GROUP BY reference
),
recent AS (
    SELECT s.cutoff, s.account, a.kind, a.action, a.quantity, a.score, a.priority,
        a.occurred_at, r.resolved_at, {_days("s.cutoff", "a.occurred_at")} AS age
    FROM active AS s
    JOIN activity AS a ON a.account = s.account AND a.occurred_at < s.cutoff
        AND a.occurred_at >= s.cutoff - INTERVAL 365 DAY AND a.kind <> 'subscription'
    LEFT JOIN resolutions AS r ON a.kind = 'ticket' AND r.reference = a.reference
),
agg AS (SELECT cutoff, account, {_AGGREGATES} FROM recent GROUP BY cutoff, account)
SELECT s.account, s.cutoff,
    {_ratio("g.active_users_30d", "g.users_before")} AS usage_trend,
    g.active_users_30d,
    CASE WHEN g.users_peak > 0 THEN g.active_users_30d / g.users_peak END AS active_users_ratio,
    {_ratio("g.users_14d", "g.users_before_14d")} AS usage_trend_14d,
    g.sessions_30d,
    coalesce(g.tickets_90d, 0) AS tickets_90d,
    coalesce(g.urgent_tickets_90d, 0) AS urgent_tickets_90d,
    coalesce(g.unresolved_tickets, 0) AS unresolved_tickets,
    coalesce(g.unresolved_urgent, 0) AS unresolved_urgent,
    g.sentiment_90d,
    g.nps_last,
    {_days("s.cutoff", "g.last_detractor")} AS days_since_detractor,
    {_days("s.cutoff", "g.last_payment_failure")} AS days_since_payment_failure,
    {_days("s.cutoff", "g.last_champion_left")} AS days_since_champion_left,
    coalesce(g.urgent_tickets_30d, 0) AS urgent_tickets_30d,
    CASE WHEN g.detractors_90d > 0 THEN 1 ELSE 0 END AS detractor_90d,
    g.csat_avg_180d,
    coalesce(g.payment_failures_90d, 0) AS payment_failures_90d,
    coalesce(g.csm_touches_90d, 0) AS csm_touches_90d,
    CASE WHEN g.champions_left_180d > 0 THEN 1 ELSE 0 END AS champion_left_180d,
    coalesce(g.contacts_left_180d, 0) AS contacts_left_180d,
    CASE WHEN s.start_then IS NOT NULL THEN {_ratio("s.mrr", "s.mrr_then")} END
        AS mrr_change_90d,
    s.mrr,
    {_days("s.cutoff", "s.start")} / 30.44 AS tenure_months,
    365 - ({_days("s.cutoff", "s.start")}) % 365 AS days_to_renewal,
    coalesce(CAST(n.segment AS VARCHAR), '(unknown)') AS segment
FROM active AS s
LEFT JOIN agg AS g ON g.cutoff = s.cutoff AND g.account = s.account
LEFT JOIN accounts AS n ON n.account = s.account
ORDER BY s.cutoff, s.account
"""

Frame: TypeAlias = pd.DataFrame | pa.Table


def features(activity: Frame, accounts: Frame, cutoffs: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Columns account, cutoff and every feature in FEATURES, one row per account active at
    each cutoff, from events strictly before it.

    Computed by an in-process DuckDB over the activity frame, whichever store it came from:
    one pass over the events for all cutoffs, fast enough for a million accounts."""
    columns = ["account", "cutoff", *FEATURES]
    if not len(cutoffs):
        return pd.DataFrame(columns=columns)
    with duckdb.connect() as con:
        con.register("activity_in", activity)
        con.register("accounts", accounts)
        present = set(con.sql("SELECT * FROM activity_in LIMIT 0").columns)
        # Sentiment rows carry no ticket columns; the query reads every column of the schema.
        missing = {"quantity": "DOUBLE", "amount": "DOUBLE", "score": "DOUBLE",
                   "reference": "VARCHAR", "priority": "VARCHAR"}  # fmt: skip
        extra = ", ".join(
            f"CAST(NULL AS {t}) AS {c}" for c, t in missing.items() if c not in present
        )
        con.execute(
            "CREATE TEMP VIEW activity AS SELECT *" + (f", {extra}" if extra else "")
            + " FROM activity_in"
        )  # fmt: skip
        stamps = [pd.Timestamp(c).to_pydatetime() for c in cutoffs]
        out: pd.DataFrame = con.execute(_FEATURE_SQL, {"cutoffs": stamps}).df()
    numeric = [f for f in FEATURES if f not in CATEGORICAL]
    out[numeric] = out[numeric].astype(float)
    out["cutoff"] = pd.to_datetime(out["cutoff"])
    out["segment"] = out["segment"].astype("category")
    return out[columns]


def features_at(activity: Frame, accounts: Frame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """One row per account active at `cutoff` (index: account), with every feature."""
    out = features(activity, accounts, [pd.Timestamp(cutoff)])
    frame: pd.DataFrame = out.drop(columns="cutoff").set_index("account")
    return frame


def churned_within(
    activity: pd.DataFrame, accounts: pd.Index, cutoff: pd.Timestamp, horizon_days: int
) -> np.ndarray:
    """Whether each account churned in [cutoff, cutoff + horizon)."""
    churns = activity[
        (activity["kind"] == "subscription")
        & (activity["action"] == "churn")
        & (activity["occurred_at"] >= cutoff)
        & (activity["occurred_at"] < cutoff + horizon_days * DAY)
    ]
    return np.asarray(accounts.isin(churns["account"]))


def training_set(
    activity: pd.DataFrame,
    accounts: pd.DataFrame,
    cutoffs: Sequence[pd.Timestamp],
    horizon_days: int,
) -> pd.DataFrame:
    """Features at each cutoff with the label after it: columns account, cutoff, FEATURES,
    churned. A cutoff needs a full horizon of history after it to be labelled."""
    out = features(activity, accounts, cutoffs)
    churned = np.zeros(len(out), dtype=bool)
    for cutoff in out["cutoff"].unique():
        rows = np.flatnonzero(out["cutoff"].to_numpy() == cutoff)
        accounts_then = pd.Index(out["account"].iloc[rows])
        churned[rows] = churned_within(activity, accounts_then, pd.Timestamp(cutoff), horizon_days)
    out["churned"] = churned
    return out


def monthly_cutoffs(
    first: pd.Timestamp, last: pd.Timestamp, *, horizon_days: int, warmup_days: int = 180
) -> list[pd.Timestamp]:
    """Month starts from `warmup_days` after the first event to one horizon before the last:
    every cutoff has history before it and a fully observed horizon after it."""
    start = (pd.Timestamp(first) + warmup_days * DAY).to_period("M").to_timestamp()
    end = pd.Timestamp(last) - horizon_days * DAY
    return list(pd.date_range(start, end, freq="MS"))
