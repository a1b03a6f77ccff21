"""RFM scores and segments on small hand-checked cases."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from cxlens.errors import ModelError
from cxlens.models.rfm import SEGMENTS, rfm, segment_of


def _base() -> pd.DataFrame:
    days = [1, 5, 30, 90, 200, 400, 2, 60, 10, 365]
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(10)],
            "last_purchase_at": [pd.Timestamp("2026-06-30") - pd.Timedelta(days=d) for d in days],
            "orders": [20, 12, 3, 1, 2, 1, 15, 4, 8, 1],
            "revenue": [5000.0, 2400, 300, 50, 120, 40, 3000, 500, 900, 60],
        }
    )


def test_scores_rank_customers_into_fifths() -> None:
    out = rfm(_base(), as_of=pd.Timestamp("2026-06-30"))
    by_id = out.set_index("customer_id")
    assert by_id.loc["c0", "recency_days"] == 1
    # Two customers per fifth: the two most recent get R=5, the two least recent R=1.
    assert sorted(by_id["r"].tolist()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert by_id.loc["c0", ["r", "f", "m"]].tolist() == [5, 5, 5]
    assert by_id.loc["c0", "segment"] == "Champions"
    assert by_id.loc["c5", ["r", "f", "m"]].tolist()[0] == 1
    assert by_id.loc["c5", "segment"] == "Lost"
    assert by_id.loc["c0", "rfm"] == "555"


def test_ties_share_a_score() -> None:
    base = _base().assign(orders=1)
    out = rfm(base)
    assert out["f"].nunique() == 1  # everyone bought once: no arbitrary split


def test_every_score_pair_has_exactly_one_segment() -> None:
    for r, fm in itertools.product(range(1, 6), range(1, 6)):
        owners = [name for name, rs, fms in SEGMENTS if r in rs and fm in fms]
        assert len(owners) == 1, (r, fm, owners)
        assert segment_of(r, fm) == owners[0]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ModelError, match="revenue"):
        rfm(_base().drop(columns=["revenue"]))
