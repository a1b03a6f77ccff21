"""Health scorecards: hand-checkable scores, missing-value policies, segments, validation
messages, YAML loading, the packaged default, trends, and a million customers at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from cxlens.errors import ModelError
from cxlens.models.health import (
    INSUFFICIENT,
    Measure,
    Scorecard,
    default_scorecard,
    load_scorecard,
    measure_score,
    score,
    trend,
)


def card(**extra: object) -> Scorecard:
    """Two measures, weights 3 and 1: usage (higher is better) and tickets (lower is better)."""
    spec: dict[str, object] = {
        "name": "t",
        "measures": [
            {"name": "usage", "weight": 3, "thresholds": {"green": 1.0, "red": 0.0}},
            {"name": "tickets", "weight": 1, "thresholds": {"green": 0, "red": 10}},
        ],
    }
    spec.update(extra)
    return Scorecard.model_validate(spec)


def rule(**spec: object) -> Measure:
    return Measure.model_validate({"name": "m", "weight": 1, **spec})


# ---- scoring rules --------------------------------------------------------------------------
def test_thresholds_higher_is_better() -> None:
    m = rule(thresholds={"green": 0.7, "red": 0.2})
    got = measure_score(m, pd.Series([0.1, 0.2, 0.45, 0.7, 0.9, None]))
    np.testing.assert_allclose(got, [0, 0, 50, 100, 100, np.nan])


def test_thresholds_lower_is_better() -> None:
    m = rule(thresholds={"green": 2, "red": 10})
    got = measure_score(m, pd.Series([0, 2, 4, 10, 50]))
    np.testing.assert_allclose(got, [100, 100, 75, 0, 0])


def test_points_interpolate_and_hold_flat_beyond_the_ends() -> None:
    m = rule(points=[[0, 100], [1, 40], [3, 0]])
    got = measure_score(m, pd.Series([-1.0, 0.0, 0.5, 2.0, 9.0, np.nan]))
    np.testing.assert_allclose(got, [100, 100, 70, 20, 0, np.nan])


def test_categories_match_yes_no_spellings_and_unknown_labels_are_missing() -> None:
    m = rule(categories={"no": 100, "yes": 0, "Maybe": 50})
    values = pd.Series(["yes", "No", True, False, 1, " maybe ", "other", None], dtype=object)
    got = measure_score(m, values)
    np.testing.assert_allclose(got, [0, 100, 0, 100, 0, 50, np.nan, np.nan])


def test_categories_read_boolean_integer_and_categorical_columns() -> None:
    m = rule(categories={"yes": 0, "no": 100})
    for column in (
        pd.Series([True, False, None], dtype="boolean"),
        pd.Series([1.0, 0.0, np.nan]),
        pd.Series(pd.Categorical(["Yes", "no", None])),
    ):
        np.testing.assert_allclose(measure_score(m, column), [0, 100, np.nan])


def test_unquoted_yaml_yes_no_keys_still_mean_yes_and_no(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "measures:\n  - {name: champion_left, weight: 1, categories: {yes: 0, no: 100}}\n"
    )
    loaded = load_scorecard(path)
    assert loaded.name == "c"
    got = score(pd.DataFrame({"champion_left": ["yes", "no"]}), loaded)
    np.testing.assert_allclose(got.score, [0, 100])


def test_text_in_a_numeric_measure_is_an_error_that_names_the_column() -> None:
    with pytest.raises(ModelError, match="measure 'usage': column 'usage'.*'lots'"):
        score(pd.DataFrame({"usage": ["0.5", "lots"], "tickets": [1, 2]}), card())


# ---- the score ------------------------------------------------------------------------------
def test_weighted_score_contributions_sum_and_bands() -> None:
    frame = pd.DataFrame(
        {"usage": [1.0, 0.5, 0.0, 0.2], "tickets": [0, 5, 10, 2]}, index=["a", "b", "c", "d"]
    )
    got = score(frame, card())
    # a: (3*100 + 1*100)/4 = 100; b: (3*50 + 1*50)/4 = 50; c: 0; d: (3*20 + 80)/4 = 35
    np.testing.assert_allclose(got.score, [100, 50, 0, 35])
    assert list(got.status) == ["green", "amber", "red", "red"]
    np.testing.assert_allclose(got.contributions.sum(axis=1), got.score)
    np.testing.assert_allclose(got.contributions.loc["b"], [37.5, 12.5])
    np.testing.assert_allclose(got.measure_scores.loc["d"], [20, 80])
    np.testing.assert_allclose(got.coverage, 1.0)
    assert not got.missing.to_numpy().any()
    assert list(got.contributions.index) == ["a", "b", "c", "d"]


def test_band_edges_are_inclusive() -> None:
    # usage 0.7 and 0.4 with tickets 3 and 6 give exactly 70 and 40 (float sums rounded).
    got = score(pd.DataFrame({"usage": [0.7, 0.4], "tickets": [3, 6]}), card())
    np.testing.assert_allclose(got.score, [70, 40])
    assert list(got.status) == ["green", "amber"]


def test_missing_measure_is_reweighted_and_flagged_never_zero() -> None:
    frame = pd.DataFrame({"usage": [1.0, np.nan], "tickets": [np.nan, 0]})
    got = score(frame, card(min_coverage=0.2))
    # Row 0: only usage (weight 3 of 4) → 100, not 75. Row 1: only tickets (1 of 4) → 100.
    np.testing.assert_allclose(got.score, [100, 100])
    np.testing.assert_allclose(got.coverage, [0.75, 0.25])
    assert got.missing.to_dict("list") == {"usage": [False, True], "tickets": [True, False]}
    assert np.isnan(got.contributions.loc[0, "tickets"])
    assert np.isnan(got.measure_scores.loc[0, "tickets"])
    np.testing.assert_allclose(got.contributions.sum(axis=1), got.score)


def test_absent_column_is_missing_for_everyone() -> None:
    got = score(pd.DataFrame({"usage": [0.5, 1.0]}), card())
    np.testing.assert_allclose(got.score, [50, 100])
    assert got.missing["tickets"].all()
    np.testing.assert_allclose(got.coverage, 0.75)


def test_neutral_and_worst_policies_impute_but_still_flag() -> None:
    measures = [
        {"name": "usage", "weight": 1, "thresholds": {"green": 1, "red": 0}},
        {"name": "nps", "weight": 1, "points": [[0, 0], [10, 100]], "missing": "neutral"},
        {"name": "csat", "weight": 2, "thresholds": {"green": 5, "red": 1}, "missing": "worst"},
    ]
    c = Scorecard.model_validate({"name": "p", "measures": measures, "min_coverage": 0.25})
    got = score(pd.DataFrame({"usage": [1.0], "nps": [np.nan], "csat": [np.nan]}), c)
    # (1*100 + 1*50 + 2*0) / 4 = 37.5; measured share is only usage's 1 of 4.
    np.testing.assert_allclose(got.score, [37.5])
    np.testing.assert_allclose(got.coverage, [0.25])
    assert got.missing.loc[0].to_dict() == {"usage": False, "nps": True, "csat": True}
    np.testing.assert_allclose(got.measure_scores.loc[0], [100, 50, 0])
    np.testing.assert_allclose(got.contributions.loc[0], [25, 12.5, 0])


def test_coverage_below_minimum_is_insufficient_data() -> None:
    frame = pd.DataFrame({"usage": [np.nan, np.nan], "tickets": [0, np.nan]})
    got = score(frame, card())  # min_coverage 0.5; tickets alone is 0.25
    assert list(got.status) == [INSUFFICIENT, INSUFFICIENT]
    assert np.isnan(got.score).all()
    assert got.contributions.isna().all().all()
    np.testing.assert_allclose(got.coverage, [0.25, 0.0])
    np.testing.assert_allclose(got.measure_scores["tickets"], [100, np.nan])


def test_segment_override_changes_weights_and_bands() -> None:
    c = card(
        segments={
            "enterprise": {"weights": {"tickets": 3}, "bands": {"green": 90, "amber": 60}},
            "smb": {"weights": {"tickets": 0}},
        }
    )
    frame = pd.DataFrame(
        {
            "usage": [0.8, 0.8, 0.8, 0.8],
            "tickets": [10, 10, 10, np.nan],
            "segment": ["mid", "Enterprise ", "smb", "smb"],
        }
    )
    got = score(frame, c)
    # mid: (3*80 + 0)/4 = 60; enterprise: (3*80 + 3*0)/6 = 40 → red under its bands;
    # smb: tickets do not count, so 80, and a missing ticket count is not "missing".
    np.testing.assert_allclose(got.score, [60, 40, 80, 80])
    assert list(got.status) == ["amber", "red", "green", "green"]
    np.testing.assert_allclose(got.coverage, [1, 1, 1, 1])
    assert not got.missing.to_numpy().any()
    assert np.isnan(got.contributions.loc[2, "tickets"])
    # Without the segment column every row uses the scorecard's own weights.
    plain = score(frame, c, segment_column=None)
    np.testing.assert_allclose(plain.score, [60, 60, 60, 80])


def test_segment_can_replace_a_measure_rule() -> None:
    c = card(
        segments={
            "smb": {
                "measures": [{"name": "usage", "weight": 1, "thresholds": {"green": 0.5, "red": 0}}]
            }
        }
    )
    frame = pd.DataFrame({"usage": [0.5, 0.5], "tickets": [0, 0], "segment": ["x", "smb"]})
    got = score(frame, c)
    # x: (3*50 + 100)/4 = 62.5; smb: usage scores 100 with weight 1 → 100.
    np.testing.assert_allclose(got.score, [62.5, 100])


def test_to_frame_is_json_ready() -> None:
    frame = pd.DataFrame(
        {"usage": [0.5, np.nan, np.nan]}, index=pd.Index(["a", "b", "c"], name="account")
    )
    frame["tickets"] = [5, 0, np.nan]
    out = score(frame, card(min_coverage=0.25)).to_frame()
    assert list(out.columns) == ["score", "status", "coverage", "contributions", "missing"]
    assert out.index.name == "account"
    assert out.loc["a", "contributions"] == {"usage": 37.5, "tickets": 12.5}
    assert out.loc["b", "contributions"] == {"tickets": 100.0}
    assert out.loc["b", "missing"] == ["usage"]
    assert out.loc["c", "contributions"] == {}
    assert out.loc["c", "missing"] == ["usage", "tickets"]
    assert out.loc["c", "status"] == INSUFFICIENT
    json.dumps(out["contributions"].tolist(), allow_nan=False)
    json.dumps(out["missing"].tolist())


def test_empty_frame() -> None:
    got = score(pd.DataFrame({"usage": [], "tickets": []}), card())
    assert len(got.score) == 0
    assert got.to_frame().empty


# ---- validation -----------------------------------------------------------------------------
def _problems(spec: dict[str, object]) -> str:
    with pytest.raises(ModelError) as info:
        load_scorecard(spec)
    return str(info.value)


def test_two_rules_or_none_name_the_measure() -> None:
    both = {
        "name": "nps",
        "weight": 1,
        "thresholds": {"green": 9, "red": 6},
        "points": [[0, 0], [10, 100]],
    }
    none = {"name": "csat", "weight": 1}
    msg = _problems({"name": "x", "measures": [both, none]})
    assert (
        "measure 'nps': give exactly one of thresholds, points or categories (found thresholds and points)"
        in msg
    )
    assert "measure 'csat': give exactly one of thresholds, points or categories" in msg


def test_negative_weight_names_measure_and_field() -> None:
    m = {"name": "nps", "weight": -1, "thresholds": {"green": 9, "red": 6}}
    msg = _problems({"name": "x", "measures": [m]})
    assert "measure 'nps', weight: Input should be greater than 0 (got -1)" in msg


def test_typo_in_a_field_is_reported() -> None:
    m = {"name": "nps", "weight": 1, "tresholds": {"green": 9, "red": 6}}
    msg = _problems({"name": "x", "measures": [m]})
    assert "measure 'nps', tresholds: Extra inputs are not permitted" in msg


def test_unknown_segment_measure_is_reported() -> None:
    m = {"name": "nps", "weight": 1, "thresholds": {"green": 9, "red": 6}}
    msg = _problems({"name": "x", "measures": [m], "segments": {"smb": {"weights": {"npss": 2}}}})
    assert "segment 'smb': weights name unknown measure(s) ['npss']" in msg
    assert "['nps']" in msg


def test_other_rule_problems() -> None:
    bad = [
        ({"thresholds": {"green": 1, "red": 1}}, "must differ"),
        ({"points": [[1, 0], [0, 100]]}, "sorted by value"),
        ({"points": [[0, 0], [1, 120]]}, "between 0 and 100"),
        ({"categories": {"Yes": 0, "yes": 100}}, "same value twice"),
        ({"thresholds": {"green": 1, "red": 0}, "missing": "zero"}, "missing"),
    ]
    for spec, text in bad:
        with pytest.raises(ValidationError, match=text):
            rule(**spec)
    with pytest.raises(ValidationError, match="listed more than once"):
        card(measures=[{"name": "a", "weight": 1, "thresholds": {"green": 1, "red": 0}}] * 2)
    with pytest.raises(ValidationError, match="differ only in case"):
        card(segments={"SMB": {}, "smb ": {}})
    with pytest.raises(ValidationError, match="amber"):
        card(bands={"green": 40, "amber": 70})


def test_yaml_file_loads_and_reports_problems(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\n"
        "bands: {green: 80, amber: 50}\n"
        "measures:\n"
        "  - name: usage_trend\n"
        "    label: Usage\n"
        "    weight: 2\n"
        "    thresholds: {green: 0, red: -0.5}\n"
        "  - name: payment_failures\n"
        "    weight: 1\n"
        "    points: [[0, 100], [2, 0]]\n"
        "segments:\n"
        "  enterprise: {weights: {payment_failures: 2}}\n"
    )
    c = load_scorecard(path)
    assert c.name == "mine" and c.bands.green == 80
    assert c.measures[1].label == "Payment failures"
    got = score(pd.DataFrame({"usage_trend": [-0.25], "payment_failures": [1]}), c)
    np.testing.assert_allclose(got.score, [50])
    path.write_text("measures: [{name: a, weight: 0, points: [[0, 0], [1, 100]]}]\n")
    with pytest.raises(ModelError, match=r"mine.yaml is not valid:\n  - measure 'a', weight"):
        load_scorecard(path)
    with pytest.raises(ModelError, match="does not exist"):
        load_scorecard(tmp_path / "nope.yaml")


# ---- the packaged default -------------------------------------------------------------------
def test_default_scorecard_scores_a_small_base() -> None:
    c = default_scorecard()
    expected = {
        "usage_trend", "active_users_ratio", "support_burden", "unresolved_p1", "nps_last",
        "csat_avg", "sentiment", "payment_failures", "csm_touches", "champion_left",
        "days_to_renewal",
    }  # fmt: skip
    assert {m.name for m in c.measures} == expected
    frame = pd.DataFrame(
        {
            "usage_trend": [0.1, -0.5, np.nan],
            "active_users_ratio": [0.9, 0.1, np.nan],
            "support_burden": [1, 12, np.nan],
            "unresolved_p1": [0, 2, np.nan],
            "nps_last": [10, 3, 9],
            "csat_avg": [4.8, 2.5, np.nan],
            "sentiment": [0.5, -0.6, np.nan],
            "payment_failures": [0, 3, np.nan],
            "csm_touches": [4, 0, np.nan],
            "champion_left": ["no", "yes", None],
            "days_to_renewal": [300, 10, np.nan],
            "segment": ["enterprise", "smb", "mid-market"],
        }
    )
    got = score(frame, c)
    assert got.score[0] == pytest.approx(100)
    assert got.status[0] == "green"
    assert got.score[1] < 10 and got.status[1] == "red"
    assert got.status[2] == INSUFFICIENT
    assert not got.missing.loc[1, "csm_touches"]  # counts, it is just 0 weight for smb
    assert np.isnan(got.contributions.loc[1, "csm_touches"])


# ---- trend ----------------------------------------------------------------------------------
def test_trend_direction() -> None:
    days = pd.date_range("2026-01-01", periods=41, freq="D")
    rows = [
        *({"customer": "up", "date": d, "score": 40 + i} for i, d in enumerate(days)),
        *({"customer": "down", "date": d, "score": 90 - i} for i, d in enumerate(days)),
        *({"customer": "flat", "date": d, "score": 60 + (i % 3)} for i, d in enumerate(days)),
        {"customer": "new", "date": days[-1], "score": 50},
        {"customer": "young", "date": days[-11], "score": 50},
        {"customer": "young", "date": days[-1], "score": 30},
        {"customer": "gap", "date": days[0], "score": 80},
        {"customer": "gap", "date": days[-5], "score": np.nan},
        {"customer": "gap", "date": days[-1], "score": 70},
    ]
    out = trend(pd.DataFrame(rows), days=30).set_index("customer")
    assert out.loc["up", "change"] == 30 and out.loc["up", "direction"] == "improving"
    assert out.loc["down", "change"] == -30 and out.loc["down", "direction"] == "declining"
    assert out.loc["flat", "direction"] == "stable"
    assert out.loc["new", "direction"] == "not enough history"
    assert out.loc["young", "days"] == 10 and out.loc["young", "direction"] == "declining"
    assert out.loc["gap", "score"] == 70 and out.loc["gap", "days"] == 40
    assert out.loc["up", "days"] == 30


def test_trend_names_missing_columns() -> None:
    with pytest.raises(ModelError, match="customer_column="):
        trend(pd.DataFrame({"account_id": ["a"], "day": ["2026-01-01"], "score": [1.0]}))
    frame = pd.DataFrame(
        {"account_id": ["a", "a"], "day": ["2026-01-01", "2026-02-15"], "score": [50.0, 80.0]}
    )
    out = trend(frame, customer_column="account_id", date_column="day")
    assert out.loc[0, "direction"] == "improving"


# ---- scale ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_million_customers_score_in_one_pass() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "usage_trend": rng.normal(0, 0.3, n),
            "active_users_ratio": rng.uniform(0, 1, n),
            "support_burden": rng.poisson(3, n).astype(float),
            "unresolved_p1": rng.poisson(0.2, n),
            "nps_last": rng.integers(0, 11, n).astype(float),
            "csat_avg": rng.uniform(1, 5, n),
            "sentiment": rng.uniform(-1, 1, n),
            "payment_failures": rng.poisson(0.3, n),
            "csm_touches": rng.poisson(2, n),
            "champion_left": rng.choice(["yes", "no"], n, p=[0.1, 0.9]),
            "days_to_renewal": rng.integers(0, 365, n),
            "segment": rng.choice(["enterprise", "mid-market", "smb"], n),
        }
    )
    frame.loc[rng.random(n) < 0.2, "nps_last"] = np.nan
    started = time.perf_counter()
    got = score(frame, default_scorecard())
    seconds = time.perf_counter() - started
    assert len(got.score) == n and not np.isnan(got.score).any()
    np.testing.assert_allclose(got.contributions.sum(axis=1).to_numpy(), got.score)
    print(f"scored {n:,} customers in {seconds:.2f}s")  # noqa: T201 - visible with -s
