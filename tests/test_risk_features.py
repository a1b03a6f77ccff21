"""Point-in-time churn features: nothing at or after the cutoff may move them (leakage guard)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.risk import features as F
from cxlens.risk import frames
from cxlens.workspace import Workspace
from workspaces import demo_workspace

pytestmark = pytest.mark.slow
DAY = pd.Timedelta(days=1)


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


def reference_features_at(
    activity: pd.DataFrame, accounts: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """The features computed the plain pandas way, row by row of the definitions: an
    independent check of the SQL."""
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
    nps = nps.sort_values(["occurred_at", "score"], ascending=[True, False], kind="stable")
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
    out: pd.DataFrame = frame[list(F.FEATURES)]
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root: Path = tmp_path_factory.mktemp("risk_demo")
    ws = demo_workspace(root, customers=200, seed=11)
    yield ws
    ws.close()


def test_no_feature_uses_data_after_the_cutoff(demo: Workspace) -> None:
    activity = frames.activity(demo.store)
    accounts = frames.accounts(demo.store)
    checked = 0
    for cutoff in pd.to_datetime(["2024-09-01", "2025-06-15", "2026-03-01"]):
        everything = F.features_at(activity, accounts, cutoff)
        known_then = F.features_at(activity[activity["occurred_at"] < cutoff], accounts, cutoff)
        pd.testing.assert_frame_equal(everything, known_then)
        # Planting a burst of alarming events right at and after the cutoff changes nothing.
        future = activity[activity["occurred_at"] >= cutoff].copy()
        future["occurred_at"] = cutoff + (future["occurred_at"] - future["occurred_at"].min())
        poisoned = pd.concat([activity[activity["occurred_at"] < cutoff], future])
        pd.testing.assert_frame_equal(everything, F.features_at(poisoned, accounts, cutoff))
        checked += len(everything)
    assert checked > 200


def test_sql_features_equal_the_plain_definitions(demo: Workspace) -> None:
    activity = frames.activity(demo.store)
    accounts = frames.accounts(demo.store)
    cutoffs = list(pd.to_datetime(["2024-09-01", "2025-06-15", "2026-03-01"]))
    together = F.features(activity, accounts, cutoffs)
    for cutoff in cutoffs:
        expected = reference_features_at(activity, accounts, cutoff)
        got = together[together["cutoff"] == cutoff].drop(columns="cutoff").set_index("account")
        assert len(expected) > 20
        pd.testing.assert_frame_equal(
            got.drop(columns="segment"), expected.drop(columns="segment"), check_dtype=False
        )
        assert (got["segment"].astype(str) == expected["segment"].astype(str)).all()


def test_labels_look_only_forward_and_eligibility_is_the_active_base(demo: Workspace) -> None:
    activity = frames.activity(demo.store)
    accounts = frames.accounts(demo.store)
    cutoffs = F.monthly_cutoffs(
        activity["occurred_at"].min(), activity["occurred_at"].max(), horizon_days=60
    )
    assert cutoffs[-1] + pd.Timedelta(days=60) <= activity["occurred_at"].max()
    data = F.training_set(activity, accounts, cutoffs[-6:], 60)
    churns = activity[(activity["kind"] == "subscription") & (activity["action"] == "churn")]
    for row in data.sample(200, random_state=0).itertuples():
        mine = churns[churns["account"] == row.account]["occurred_at"]
        window = (mine >= row.cutoff) & (mine < row.cutoff + pd.Timedelta(days=60))
        assert bool(row.churned) == bool(window.any())
    # Nobody is scored after they left: an account churned before a cutoff (and not back) is
    # not in that cutoff's rows.
    status = status_at(activity, cutoffs[-1])
    gone = set(status.index[~status["active"]])
    last = set(data.loc[data["cutoff"] == cutoffs[-1], "account"])
    assert gone and not gone & last
    assert set(F.FEATURES) <= set(data.columns) and data["churned"].dtype == bool
    numeric = data[[f for f in F.FEATURES if f not in F.CATEGORICAL]]
    assert np.isfinite(numeric.to_numpy(dtype=float)[~numeric.isna().to_numpy()]).all()
