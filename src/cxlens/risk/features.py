"""Churn features as of a cutoff, from events strictly before it; labels from after it.

Every feature is computed from `activity` rows with `occurred_at < cutoff` only (the leakage
guard test deletes everything from the cutoff on and checks the features do not move). The
label looks only forward: did the account churn within the horizon after the cutoff. Training
sets stack many monthly cutoffs, so the model sees accounts at every stage of their life.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)

#: Plain-language templates for the reasons shown with each score ({value} is the feature's).
TEMPLATES: dict[str, str] = {
    "usage_trend": "active users {value:+.0%} over the last 30 days against the 90 before",
    "active_users_30d": "{value:.0f} active users a week lately",
    "active_users_ratio": "active users at {value:.0%} of their peak of the last year",
    "usage_trend_14d": "active users {value:+.0%} in the last two weeks against the 90 days before",
    "sessions_30d": "{value:.0f} sessions a week lately",
    "tickets_90d": "{value:.0f} support tickets in 90 days",
    "urgent_tickets_90d": "{value:.0f} urgent or high-priority tickets in 90 days",
    "unresolved_tickets": "{value:.0f} tickets still unresolved",
    "unresolved_urgent": "{value:.0f} urgent or high-priority tickets unresolved",
    "sentiment_90d": "their texts' sentiment {value:+.2f} on average over 90 days",
    "nps_last": "last NPS answer {value:.0f}",
    "days_since_detractor": "an NPS detractor answer {value:.0f} days ago",
    "days_since_payment_failure": "a failed payment {value:.0f} days ago",
    "days_since_champion_left": "their champion left {value:.0f} days ago",
    "urgent_tickets_30d": "{value:.0f} urgent or high-priority tickets in 30 days",
    "detractor_90d": "an NPS detractor answer in the last 90 days",
    "csat_avg_180d": "CSAT {value:.1f} on average over 180 days",
    "payment_failures_90d": "{value:.0f} failed payments in 90 days",
    "csm_touches_90d": "{value:.0f} CSM meetings or notes in 90 days",
    "champion_left_180d": "their champion left in the last 180 days",
    "contacts_left_180d": "{value:.0f} contacts left in 180 days",
    "mrr_change_90d": "MRR {value:+.0%} in 90 days",
    "mrr": "MRR {value:,.0f}",
    "tenure_months": "a customer for {value:.0f} months",
    "days_to_renewal": "renewal in {value:.0f} days",
    "segment": "segment {value}",
}
FEATURES = tuple(TEMPLATES)
CATEGORICAL = ("segment",)


def _count(rows: pd.DataFrame, index: pd.Index) -> pd.Series:
    return rows.groupby("account").size().reindex(index, fill_value=0).astype(float)


def _mean(rows: pd.DataFrame, column: str, index: pd.Index) -> pd.Series:
    return rows.groupby("account")[column].mean().reindex(index)


def _days(delta: pd.Series) -> pd.Series:
    days: pd.Series = delta.dt.total_seconds() / 86_400
    return days


def _since(rows: pd.DataFrame, cutoff: pd.Timestamp, index: pd.Index) -> pd.Series:
    """Days since the latest such event (missing when there was none in the window)."""
    latest = rows.groupby("account")["occurred_at"].max().reindex(index)
    return _days(cutoff - latest)


def status_at(activity: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Accounts with a subscription before the cutoff: start, whether active at the cutoff,
    and MRR (sum of movements) at it."""
    subs = activity[(activity["kind"] == "subscription") & (activity["occurred_at"] < cutoff)]
    if subs.empty:
        return pd.DataFrame(columns=["start", "active", "mrr"]).rename_axis("account")
    grouped = subs.groupby("account")
    starts = subs[subs["action"] == "new"].groupby("account")["occurred_at"].min()
    life = subs[subs["action"].isin(["new", "churn", "reactivation"])]
    last = life.groupby("account")["action"].last()
    out = pd.DataFrame(
        {
            "start": starts.reindex(grouped.size().index),
            "active": last.reindex(grouped.size().index).ne("churn"),
            "mrr": grouped["amount"].sum(),
        }
    )
    return out.dropna(subset=["start"])


def features_at(
    activity: pd.DataFrame, accounts: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """One row per account active at `cutoff`, with every feature in FEATURES."""
    cutoff = pd.Timestamp(cutoff)
    status = status_at(activity, cutoff)
    status = status[status["active"]]
    index = status.index
    past = activity[(activity["occurred_at"] < cutoff) & activity["account"].isin(index)]
    age = _days(cutoff - past["occurred_at"])
    kind, action = past["kind"], past["action"]

    def window(days: float, k: str, actions: Sequence[str] | None = None) -> pd.DataFrame:
        mask = (age <= days) & (kind == k)
        if actions is not None:
            mask &= action.isin(actions)
        return past[mask]

    frame = pd.DataFrame(index=index)
    active = window(30, "usage", ["active_users"])
    before = past[(age > 30) & (age <= 120) & (kind == "usage") & (action == "active_users")]
    frame["active_users_30d"] = _mean(active, "quantity", index)
    prior = _mean(before, "quantity", index)
    frame["usage_trend"] = (frame["active_users_30d"] / prior - 1).where(prior > 0)
    last14 = _mean(window(14, "usage", ["active_users"]), "quantity", index)
    base = past[(age > 14) & (age <= 104) & (kind == "usage") & (action == "active_users")]
    base_mean = _mean(base, "quantity", index)
    frame["usage_trend_14d"] = (last14 / base_mean - 1).where(base_mean > 0)
    year = past[(age <= 365) & (kind == "usage") & (action == "active_users")]
    peak = year.groupby("account")["quantity"].max().reindex(index)
    frame["active_users_ratio"] = (frame["active_users_30d"] / peak).where(peak > 0)
    frame["sessions_30d"] = _mean(window(30, "usage", ["session"]), "quantity", index)

    opened = window(90, "ticket", ["opened"])
    frame["tickets_90d"] = _count(opened, index)
    frame["urgent_tickets_90d"] = _count(opened[opened["priority"].isin(["urgent", "high"])], index)
    recent = window(180, "ticket", ["opened"])
    resolved = past.loc[(kind == "ticket") & (action == "resolved"), "reference"]
    open_now = recent[~recent["reference"].isin(resolved)]
    frame["unresolved_tickets"] = _count(open_now, index)
    frame["unresolved_urgent"] = _count(
        open_now[open_now["priority"].isin(["urgent", "high"])], index
    )
    frame["sentiment_90d"] = _mean(window(90, "text"), "score", index)

    nps = past[(kind == "survey") & (action == "nps") & (age <= 365)]
    frame["nps_last"] = nps.groupby("account")["score"].last().reindex(index)
    frame["detractor_90d"] = _count(nps[(age[nps.index] <= 90) & (nps["score"] <= 6)], index)
    frame["detractor_90d"] = (frame["detractor_90d"] > 0).astype(float)
    frame["days_since_detractor"] = _since(nps[nps["score"] <= 6], cutoff, index)
    frame["days_since_payment_failure"] = _since(window(365, "invoice", ["failed"]), cutoff, index)
    frame["days_since_champion_left"] = _since(
        window(365, "relationship", ["champion_left"]), cutoff, index
    )
    month = window(30, "ticket", ["opened"])
    frame["urgent_tickets_30d"] = _count(month[month["priority"].isin(["urgent", "high"])], index)
    frame["csat_avg_180d"] = _mean(window(180, "survey", ["csat"]), "score", index)

    frame["payment_failures_90d"] = _count(window(90, "invoice", ["failed"]), index)
    frame["csm_touches_90d"] = _count(window(90, "note"), index)
    frame["champion_left_180d"] = (
        _count(window(180, "relationship", ["champion_left"]), index) > 0
    ).astype(float)
    frame["contacts_left_180d"] = _count(window(180, "relationship", ["contact_left"]), index)

    mrr_then = status_at(activity, cutoff - 90 * DAY)["mrr"].reindex(index)
    frame["mrr"] = status["mrr"]
    frame["mrr_change_90d"] = (status["mrr"] / mrr_then - 1).where(mrr_then > 0)
    tenure_days = _days(cutoff - status["start"])
    frame["tenure_months"] = tenure_days / 30.44
    frame["days_to_renewal"] = 365 - np.mod(tenure_days, 365)

    segment = accounts.set_index("account")["segment"].reindex(index)
    frame["segment"] = pd.Categorical(segment.fillna("(unknown)").astype(str))
    frame.index.name = "account"
    out: pd.DataFrame = frame[list(FEATURES)]
    return out


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
    parts = []
    for cutoff in cutoffs:
        x = features_at(activity, accounts, cutoff)
        if x.empty:
            continue
        x = x.reset_index()
        x.insert(1, "cutoff", pd.Timestamp(cutoff))
        x["churned"] = churned_within(activity, pd.Index(x["account"]), cutoff, horizon_days)
        x["segment"] = x["segment"].astype(str)
        numeric = [f for f in FEATURES if f not in CATEGORICAL]
        x[numeric] = x[numeric].astype(float)
        parts.append(x)
    if not parts:
        return pd.DataFrame(columns=["account", "cutoff", *FEATURES, "churned"])
    out = pd.concat(parts, ignore_index=True)
    out["segment"] = out["segment"].astype("category")
    return out


def monthly_cutoffs(
    first: pd.Timestamp, last: pd.Timestamp, *, horizon_days: int, warmup_days: int = 180
) -> list[pd.Timestamp]:
    """Month starts from `warmup_days` after the first event to one horizon before the last:
    every cutoff has history before it and a fully observed horizon after it."""
    start = (pd.Timestamp(first) + warmup_days * DAY).to_period("M").to_timestamp()
    end = pd.Timestamp(last) - horizon_days * DAY
    return list(pd.date_range(start, end, freq="MS"))
