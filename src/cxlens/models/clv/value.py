"""Expected customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from cxlens.errors import ModelError
from cxlens.models.clv.bgnbd import BetaGeo
from cxlens.models.clv.fitting import F64, distinct
from cxlens.models.clv.gamma_gamma import GammaGamma


class PurchaseModel(Protocol):
    def expected_purchases(self, horizon: float, frequency: F64, recency: F64, age: F64) -> F64: ...


def expected_clv(
    purchases: PurchaseModel,
    spend: GammaGamma,
    frequency: F64,
    recency: F64,
    age: F64,
    monetary_value: F64,
    *,
    periods: int = 12,
    period_length: float = 4.345,
    discount_rate: float = 0.01,
) -> F64:
    """Discounted value of each customer's expected purchases over `periods` periods.

    `period_length` is a period in the models' time unit (4.345 weeks = a month) and
    `discount_rate` the rate per period: value = Σ_i spend × (E[purchases by i] − E[by i−1])
    / (1 + d)^i, the standard discrete approximation."""
    spend_each = spend.expected_spend(frequency, monetary_value)
    # Customers with the same (frequency, recency, age) expect the same purchases: compute
    # each distinct history once (dates make them few) and spread the result back.
    (x, t_x, t), inverse = distinct(frequency, recency, age)
    total = _discounted_purchases(purchases, x, t_x, t, periods, period_length, discount_rate)
    return np.asarray(total[inverse] * spend_each, dtype=np.float64)


def _discounted_purchases(
    purchases: PurchaseModel,
    x: F64,
    t_x: F64,
    t: F64,
    periods: int,
    period_length: float,
    discount_rate: float,
) -> F64:
    """Σ_i (E[purchases by period i] − E[by i − 1]) / (1 + d)^i for each history."""
    total = np.zeros(len(x), dtype=np.float64)
    before = np.zeros_like(total)
    for i in range(1, periods + 1):
        by_now = purchases.expected_purchases(i * period_length, x, t_x, t)
        total += (by_now - before) / (1 + discount_rate) ** i
        before = by_now
    return total


def clv_interval(
    purchases: BetaGeo,
    spend: GammaGamma,
    frequency: F64,
    recency: F64,
    age: F64,
    monetary_value: F64,
    *,
    periods: int = 12,
    period_length: float = 4.345,
    discount_rate: float = 0.01,
    draws: int = 100,
    level: float = 0.9,
    seed: int = 0,
) -> tuple[F64, F64]:
    """Each customer's CLV interval from the uncertainty of the fitted parameters: CLV under
    `draws` parameter sets from their asymptotic distribution, and its (1 ± level) / 2
    quantiles. It does not include the randomness of the customer's own future purchases.
    Both ends are NaN when the data are too few to estimate the parameters' uncertainty."""
    if purchases.fit_result is None or spend.fit_result is None:
        raise ModelError("fit both models before asking for CLV intervals")
    if purchases.fit_result.covariance is None or spend.fit_result.covariance is None:
        # Too little data for the likelihood to be curved at its top: no honest interval.
        unknown = np.full(len(np.asarray(frequency)), np.nan)
        return unknown, unknown.copy()
    (x, t_x, t), inverse = distinct(frequency, recency, age)
    (fx, fm), spend_inverse = distinct(frequency, monetary_value)
    values = np.empty((draws, len(np.asarray(frequency))))
    for i, (p_bg, p_gg) in enumerate(
        zip(
            purchases.fit_result.draws(draws, seed),
            spend.fit_result.draws(draws, seed + 1),
            strict=True,
        )
    ):
        model = BetaGeo(r=p_bg["r"], alpha=p_bg["alpha"], a=p_bg["a"], b=p_bg["b"])
        money = GammaGamma(p=p_gg["p"], q=p_gg["q"], gamma=p_gg["gamma"]).expected_spend(fx, fm)[
            spend_inverse
        ]
        total = _discounted_purchases(model, x, t_x, t, periods, period_length, discount_rate)
        values[i] = total[inverse] * money
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
