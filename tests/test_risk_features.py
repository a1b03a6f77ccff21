"""Point-in-time churn features: nothing at or after the cutoff may move them (leakage guard)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.demo import demo_sources, generate_demo
from cxlens.risk import features as F
from cxlens.risk import frames
from cxlens.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root: Path = tmp_path_factory.mktemp("risk_demo")
    generate_demo(root, customers=200, seed=11)
    ws = Workspace.init(root)
    for name, settings in demo_sources().items():
        ws.add_source(name, settings)
    ws.ingest()
    ws.identity.resolve()
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
    status = F.status_at(activity, cutoffs[-1])
    gone = set(status.index[~status["active"]])
    last = set(data.loc[data["cutoff"] == cutoffs[-1], "account"])
    assert gone and not gone & last
    assert set(F.FEATURES) <= set(data.columns) and data["churned"].dtype == bool
    numeric = data[[f for f in F.FEATURES if f not in F.CATEGORICAL]]
    assert np.isfinite(numeric.to_numpy(dtype=float)[~numeric.isna().to_numpy()]).all()
