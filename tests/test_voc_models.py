"""Key drivers and emerging-issue detection on data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ModelError
from cxlens.models.drivers import (
    DriverSettings,
    csat_outcome,
    group_gaps,
    key_drivers,
    nps_outcome,
)
from cxlens.models.emerging import EmergingSettings, benjamini_hochberg, emerging_issues


def test_outcome_coding_makes_the_mean_the_metric() -> None:
    scores = np.array([10, 9, 8, 7, 6, 0])
    assert nps_outcome(scores).mean() == pytest.approx((2 - 2) / 6 * 100)
    assert csat_outcome(np.array([5, 4, 3, 1])).mean() == 50.0


def _answers(n: int, seed: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Answers where billing complaints cost 60 points each and praise adds 30."""
    rng = np.random.default_rng(seed)
    billing = rng.random(n) < 0.2
    praise = rng.random(n) < 0.3
    noise_theme = rng.random(n) < 0.25
    touchpoint = rng.choice(["web", "support"], n)
    latent = 20 - 60 * billing + 30 * praise + np.where(touchpoint == "support", -10, 0)
    y = np.clip(latent + rng.normal(0, 40, n), -100, 100)
    factors = pd.DataFrame({"billing": billing, "praise": praise, "other": noise_theme})
    return y, factors, pd.DataFrame({"touchpoint": touchpoint})


def test_key_drivers_recover_the_planted_effects_with_intervals() -> None:
    y, factors, controls = _answers(4000, seed=1)
    table = key_drivers(y, factors, controls, DriverSettings(bootstrap=200)).set_index("factor")
    billing = table.loc["billing"]
    # Fixing billing gives back 60 points to the ~20% who complain: about +12.
    assert billing["effect"] == pytest.approx(-60, abs=6)
    assert billing["impact_low"] < 0.2 * 60 < billing["impact_high"] + 2
    assert billing["impact"] == pytest.approx(-billing["effect"] * billing["share"])
    assert table.index[0] == "billing"  # sorted by impact, the biggest gain first
    assert table.loc["praise", "impact"] < 0
    other = table.loc["other"]
    assert other["impact_low"] < 0 < other["impact_high"]


def test_key_drivers_refuse_too_few_answers_and_drop_rare_factors() -> None:
    y, factors, _ = _answers(30, seed=2)
    with pytest.raises(ModelError, match="at least 20"):
        key_drivers(y[:15], factors.iloc[:15])
    factors["rare"] = False
    factors.loc[0, "rare"] = True
    table = key_drivers(y, factors, settings=DriverSettings(bootstrap=20, min_n=2))
    assert "rare" not in set(table["factor"])
    with pytest.raises(ModelError, match="outcomes but"):
        key_drivers(y[:-1], factors)


def test_group_gaps_price_the_gap_to_the_other_touchpoints() -> None:
    y = np.array([100.0] * 60 + [-100.0] * 20 + [0.0] * 20)
    groups = np.array(["web"] * 60 + ["support"] * 40)
    table = group_gaps(y, groups, DriverSettings(bootstrap=100)).set_index("factor")
    # support averages -50, web 100: lifting support to web's level adds 0.4 * 150 = 60 points.
    assert table.loc["support", "impact"] == pytest.approx(60.0)
    assert table.loc["support", "impact_low"] <= 60.0 <= table.loc["support", "impact_high"]
    assert table.loc["web", "impact"] == pytest.approx(0.6 * (-50 - 100))


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])


def _weekly_texts(spike_week: int, spike: int, seed: int, busy_week: int = -1) -> pd.DataFrame:
    """Twelve weeks of 200 texts a week (600 in `busy_week`) over four themes, plus `spike`
    extra texts of theme 'outage' (all negative) in week `spike_week`."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2026-01-05")  # a Monday
    for week in range(12):
        n = 600 if week == busy_week else 200
        themes = rng.choice(["billing", "bugs", "praise", "outage"], n, p=[0.3, 0.3, 0.35, 0.05])
        when = start + pd.to_timedelta(week * 7 + rng.random(n) * 6.9, unit="D")
        negative = np.where(themes == "praise", False, rng.random(n) < 0.5)
        rows.append(pd.DataFrame({"theme": themes, "occurred_at": when, "negative": negative}))
        if week == spike_week:
            when = start + pd.to_timedelta(week * 7 + rng.random(spike) * 6.9, unit="D")
            rows.append(
                pd.DataFrame({"theme": "outage", "occurred_at": when, "negative": [True] * spike})
            )
    return pd.concat(rows, ignore_index=True)


def test_a_planted_spike_is_emerging_and_nothing_else_is() -> None:
    texts = _weekly_texts(spike_week=10, spike=40, seed=3)
    out = emerging_issues(texts, EmergingSettings(baseline=8))
    flagged = out[out["emerging"]]
    assert not flagged.empty
    assert set(flagged["theme"]) == {"outage"}
    assert set(flagged["period_start"]) == {pd.Timestamp("2026-03-16")}
    volume = flagged[flagged["signal"] == "volume"].iloc[0]
    assert volume["ratio"] > 3 and volume["q_value"] < 0.001
    assert out["period_start"].min() == pd.Timestamp("2026-03-02")  # 8 weeks of baseline first


def test_quiet_weeks_raise_few_false_alarms() -> None:
    # 20 companies x 4 tested weeks x 4 themes x 2 signals = 640 tests of no change.
    alarms = sum(
        int(emerging_issues(_weekly_texts(-1, 0, seed=seed))["emerging"].sum())
        for seed in range(20)
    )
    assert alarms <= 2


def test_a_busy_week_is_not_an_issue_by_volume_alone() -> None:
    for seed in range(5):
        out = emerging_issues(_weekly_texts(-1, 0, seed=seed, busy_week=10))
        assert not out[out["signal"] == "volume"]["emerging"].any(), seed


def test_missing_columns_and_empty_input() -> None:
    with pytest.raises(ModelError, match="negative"):
        emerging_issues(pd.DataFrame({"theme": [], "occurred_at": []}))
    empty = emerging_issues(pd.DataFrame({"theme": [], "occurred_at": [], "negative": []}))
    assert empty.empty and "q_value" in empty.columns
