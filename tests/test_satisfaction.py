"""NPS, CSAT and CES with intervals, on answers counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.errors import MetricError
from cxlens.metrics.satisfaction import satisfaction, trend


def _answers() -> pd.DataFrame:
    nps = [10, 10, 9, 9, 9, 8, 7, 7, 3, 0]  # 5 promoters, 3 passives, 2 detractors → NPS 30
    csat = [5, 5, 4, 4, 4, 4, 4, 4, 2, 1]  # 8 of 10 satisfied → CSAT 80%
    ces = [7, 6, 6, 5, 5, 5, 4, 3]
    rows = (
        [("nps", s, "renewal", "2026-01-15") for s in nps]
        + [("csat", s, "onboarding", "2026-01-20") for s in csat]
        + [("ces", s, "checkout", "2026-02-03") for s in ces]
    )
    return pd.DataFrame(rows, columns=["measure", "score", "touchpoint", "occurred_at"])


def test_values_intervals_and_samples() -> None:
    out = satisfaction(_answers(), by=["touchpoint"], min_sample=30).set_index("measure")
    nps = out.loc["nps"]
    assert nps["value"] == pytest.approx(30.0) and nps["n"] == 10
    # se = sqrt((0.5 + 0.2 - 0.3²) / 10) = 0.2470 → 30 ± 1.96 × 24.70
    assert (nps["low"], nps["high"]) == pytest.approx((30 - 48.41, 30 + 48.41), abs=0.05)
    csat = out.loc["csat"]
    assert csat["value"] == pytest.approx(80.0)
    assert (csat["low"], csat["high"]) == pytest.approx((49.02, 94.33), abs=0.05)  # Wilson
    ces = out.loc["ces"]
    assert ces["value"] == pytest.approx(5.125) and ces["low"] < 5.125 < ces["high"]
    # Small samples are flagged, not hidden.
    assert out["low_sample"].all() and len(out) == 3


def test_trend_by_month_and_bad_scores() -> None:
    out = trend(_answers(), min_sample=5)
    assert list(out["period"].astype(str)) == ["2026-01", "2026-01", "2026-02"]
    assert not out["low_sample"].any()
    bad = _answers()
    bad.loc[0, "score"] = 11
    with pytest.raises(MetricError, match="nps scores run from 0 to 10"):
        satisfaction(bad)
    with pytest.raises(MetricError, match="touchpoint"):
        satisfaction(_answers().drop(columns=["touchpoint"]), by=["touchpoint"])
