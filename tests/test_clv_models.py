"""CLV models against the published estimates of each model's original paper, on its data.

The CDNOW data (2,357 customers of the March 1997 cohort, 39 weeks of calibration) is read from
the Lifetimes package's copy (a dev dependency; only its data files are used).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ModelError
from cxlens.models.clv import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
    clv_interval,
    expected_clv,
)
from cxlens.models.clv.fitting import Fit
from cxlens.models.clv.summary import summarise
from cxlens.models.clv.validation import validate


def _cdnow(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (CDNOW data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    return np.genfromtxt(path, delimiter=",", names=True)


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits - 1}e}")


def test_bgnbd_matches_fader_hardie_lee_2005_on_cdnow() -> None:
    data = _cdnow("cdnow_customers_summary.csv")
    model = BetaGeo().fit(data["frequency"], data["recency"], data["T"])
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 280.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: _sig(v) for k, v in model.params.items()} == {
        k: _sig(v) for k, v in published.items()
    }
    assert model.fit_result is not None
    assert model.fit_result.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    # Who bought recently and often is likely alive; a one-off buyer from long ago less so.
    alive = model.probability_alive(
        np.array([10.0, 1.0, 0.0]), np.array([38.0, 2.0, 0.0]), np.array([39.0, 39.0, 39.0])
    )
    assert alive[0] > 0.9 > alive[1] and alive[2] == 1.0
    # A customer just acquired (x = t_x = T = 0) expects what the unconditional curve says.
    horizon = np.array([13.0, 39.0, 78.0])
    fresh = model.expected_purchases(39.0, np.zeros(1), np.zeros(1), np.zeros(1))
    assert fresh[0] == pytest.approx(model.expected_purchases_new(horizon)[1], rel=1e-9)
    assert (np.diff(model.expected_purchases_new(horizon)) > 0).all()
    later = model.expected_purchases(39, data["frequency"], data["recency"], data["T"])
    assert (later >= 0).all() and later[data["frequency"] >= 10].mean() > later.mean()


def test_pareto_nbd_matches_fader_hardie_lee_2005_note_on_cdnow() -> None:
    data = _cdnow("cdnow_customers_summary.csv")
    model = ParetoNBD().fit(data["frequency"], data["recency"], data["T"])
    # Fader, Hardie & Lee (2005), "A note on implementing the Pareto/NBD model in MATLAB".
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert {k: _sig(v) for k, v in model.params.items()} == {
        k: _sig(v) for k, v in published.items()
    }
    assert model.fit_result is not None
    assert model.fit_result.log_likelihood == pytest.approx(-9595.0, abs=0.1)
    alive = model.probability_alive(
        np.array([10.0, 1.0]), np.array([38.0, 2.0]), np.array([39.0, 39.0])
    )
    assert alive[0] > 0.9 > alive[1] > 0.0
    later = model.expected_purchases(39, data["frequency"], data["recency"], data["T"])
    assert (later >= 0).all() and later[data["frequency"] >= 10].mean() > later.mean()


def test_gamma_gamma_matches_fader_hardie_lee_2005_on_cdnow() -> None:
    data = _cdnow("cdnow_customers_summary_with_transactions.csv")
    model = GammaGamma().fit(data["x"], data["zbar"])
    # Fader, Hardie & Lee (2005), JMR 42(4); Fader & Hardie (2013) note: p 6.25, q 3.74, γ 15.44.
    assert _sig(model.p) == 6.25 and _sig(model.q) == 3.74 and _sig(model.gamma) == 15.4
    spend = model.expected_spend(np.array([1.0, 10.0, 0.0]), np.array([100.0, 100.0, 0.0]))
    # Shrinkage: one purchase of 100 says less than ten; no purchase gives the population mean.
    assert spend[2] == pytest.approx(model.p * model.gamma / (model.q - 1))
    assert spend[2] < spend[0] < spend[1] < 100.0


@pytest.mark.parametrize(
    ("segment", "active", "alpha", "beta"),
    [
        # Fader & Hardie (2007), J. Interactive Marketing 21(1): 7 years of two cohorts.
        ("regular", [1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),
        ("high end", [1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),
    ],
)
def test_sbg_matches_fader_hardie_2007(
    segment: str, active: list[int], alpha: float, beta: float
) -> None:
    model = ShiftedBetaGeometric().fit(np.array(active, dtype=float))
    assert (_sig(model.alpha), _sig(model.beta)) == (_sig(alpha), _sig(beta)), segment
    survival = model.survival(12)
    assert survival[0] == 1.0 and (np.diff(survival) < 0).all()
    assert (np.diff(model.retention(12)) > 0).all()  # retention rises as the cohort sorts itself
    assert model.discounted_expected_residual_lifetime(0, 0.1) > 0


def test_models_refuse_data_they_cannot_fit() -> None:
    with pytest.raises(ModelError, match="recency"):
        BetaGeo().fit(np.array([1.0]), np.array([5.0]), np.array([3.0]))
    with pytest.raises(ModelError, match="repeat"):
        GammaGamma().fit(np.array([0.0]), np.array([10.0]))
    with pytest.raises(ModelError, match="never rising"):
        ShiftedBetaGeometric().fit(np.array([100.0, 120.0]))


def test_expected_clv_agrees_with_lifetimes_on_cdnow() -> None:
    """The same 12-month discounted CLV as the Lifetimes peer library, customer by customer."""
    pytest.importorskip("lifetimes")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    data = _cdnow("cdnow_customers_summary_with_transactions.csv")
    x, t_x, age, spend = data["x"], data["t_x"], data["T"], data["zbar"]
    ours = expected_clv(
        BetaGeo().fit(x, t_x, age), GammaGamma().fit(x, spend), x, t_x, age, spend,
        periods=12, discount_rate=0.01,
    )  # fmt: skip
    peer_bg = BetaGeoFitter().fit(x, t_x, age)
    peer_gg = GammaGammaFitter().fit(x[x > 0], spend[x > 0])
    theirs = peer_gg.customer_lifetime_value(
        peer_bg, pd.Series(x), pd.Series(t_x), pd.Series(age), pd.Series(spend),
        time=12, discount_rate=0.01, freq="W",
    ).to_numpy()  # fmt: skip
    assert np.allclose(ours, theirs, rtol=1e-3)
    # Honest uncertainty: an interval from the parameters' sampling distribution, around it.
    low, high = clv_interval(
        BetaGeo().fit(x, t_x, age), GammaGamma().fit(x, spend), x, t_x, age, spend, draws=60
    )
    assert (low <= ours + 1e-9).all() and (ours <= high + 1e-9).all()
    assert ((high - low) > 0).mean() > 0.99
    assert ours.max() > 10 * np.median(ours)  # value is concentrated, as in every customer base


def _cdnow_transactions() -> pd.DataFrame:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (CDNOW data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["customer", "id", "date", "qty", "amount"],
        dtype={"customer": str},
    )  # fmt: skip
    raw["occurred_at"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


def test_from_raw_cdnow_transactions_to_the_papers_estimates() -> None:
    """The real transactions (not a ready summary): summarise, fit, and the paper's numbers."""
    summary = summarise(_cdnow_transactions(), as_of=pd.Timestamp("1997-09-30"))
    assert len(summary) == 2_357 and int(summary["frequency"].sum()) == 2_457
    model = BetaGeo().fit(
        *(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    )
    assert {k: _sig(v) for k, v in model.params.items()} == {
        "r": 0.243, "alpha": 4.41, "a": 0.793, "b": 2.43,
    }  # fmt: skip


def test_calibration_holdout_and_tracking_on_cdnow() -> None:
    check = validate(
        _cdnow_transactions(),
        calibration_end=pd.Timestamp("1997-09-30"),
        holdout_end=pd.Timestamp("1998-06-30"),
    )
    track = check.tracking
    assert len(track) == 78 and track["holdout"].sum() == 39
    # Both curves only rise, and the model tracks the cohort closely over all 78 weeks.
    assert (np.diff(track["expected"]) >= 0).all() and (np.diff(track["actual"]) >= 0).all()
    end = track.iloc[-1]
    assert abs(end["expected"] - end["actual"]) / end["actual"] < 0.1
    # In the holdout, customers who bought more in calibration are expected to buy more.
    assert check.holdout_error < 0.15
    heavy = check.holdout[check.holdout["frequency"] >= 5]
    assert heavy["expected"].mean() > check.holdout["expected"].mean()
    assert heavy["actual"].mean() > check.holdout["actual"].mean()


def test_sbg_pooled_over_cohorts_recovers_the_process_that_made_them() -> None:
    rng = np.random.default_rng(1)
    cohorts = []
    for observed in range(2, 25):  # cohorts signed up month after month, observed until now
        churn = rng.beta(0.7, 3.0, 400)
        lifetimes = rng.geometric(churn)
        cohorts.append(np.array([(lifetimes > t).sum() for t in range(observed)], dtype=float))
    model = ShiftedBetaGeometric().fit_cohorts(cohorts)
    assert model.alpha == pytest.approx(0.7, rel=0.1) and model.beta == pytest.approx(3.0, rel=0.1)
    one = ShiftedBetaGeometric().fit_cohorts(
        [np.array([1000, 631, 468, 382, 326, 289, 262, 241.0])]
    )
    assert (_sig(one.alpha), _sig(one.beta)) == (0.704, 1.18)
    further = one.discounted_expected_residual_lifetime(np.array([0, 5, 20]), 0.1)
    assert (np.diff(further) > 0).all()  # who has stayed longer is expected to stay longer


def test_clv_interval_is_unknown_not_an_error_when_data_are_too_few() -> None:
    x = np.array([0.0, 1.0, 0.0])
    t_x, age, spend = np.array([0.0, 3.0, 0.0]), np.array([10.0, 10.0, 10.0]), x * 20 + 0.0
    purchases, money = BetaGeo(), GammaGamma()
    purchases.fit_result = Fit({"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}, -1.0, 1)
    money.fit_result = Fit({"p": 1.0, "q": 2.0, "gamma": 1.0}, -1.0, 1)
    low, high = clv_interval(purchases, money, x, t_x, age, spend)
    assert np.isnan(low).all() and np.isnan(high).all()
