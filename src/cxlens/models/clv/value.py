"""Expected customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

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
    total = np.zeros(len(x), dtype=np.float64)
    before = np.zeros_like(total)
    for i in range(1, periods + 1):
        by_now = purchases.expected_purchases(i * period_length, x, t_x, t)
        total += (by_now - before) / (1 + discount_rate) ** i
        before = by_now
    return np.asarray(total[inverse] * spend_each, dtype=np.float64)
