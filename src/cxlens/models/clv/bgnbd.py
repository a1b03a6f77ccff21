"""BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
Science 24(2). Transactions follow a Poisson process (rate ~ Gamma(r, alpha)); after each
purchase a customer drops out with probability p (~ Beta(a, b))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cxlens.errors import ModelError
from cxlens.models.clv.fitting import F64, MAX_LOG, Fit, fit_positive, grouped


def _check(frequency: F64, recency: F64, age: F64) -> None:
    if len(frequency) == 0:
        raise ModelError("BG/NBD needs at least one customer")
    if (frequency < 0).any() or (recency < 0).any() or (recency > age + 1e-9).any():
        raise ModelError("BG/NBD needs 0 <= recency <= T and frequency >= 0 for every customer")
    if ((frequency == 0) & (recency > 0)).any():
        raise ModelError("BG/NBD: a customer without repeat purchases must have recency 0")


@dataclass
class BetaGeo:
    """Fitted BG/NBD; time is in whatever unit frequency, recency and T were given in."""

    r: float = float("nan")
    alpha: float = float("nan")
    a: float = float("nan")
    b: float = float("nan")
    fit_result: Fit | None = None

    @staticmethod
    def _objective(log_params: F64, x: F64, t_x: F64, age: F64, weights: F64) -> tuple[float, F64]:
        """Negative log-likelihood and its gradient in the log parameters (analytic, so the
        optimiser needs one evaluation per step instead of five)."""
        r, alpha, a, b = np.exp(np.clip(log_params, -MAX_LOG, MAX_LOG))
        repeat = x > 0
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        beta_part = betaln(a, b + x) - betaln(a, b)
        alive = -(r + x) * np.log(alpha + age)
        dropped = np.full_like(x, -np.inf)
        dropped[repeat] = (
            np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
        )
        both = np.logaddexp(alive, dropped)
        w_alive = np.exp(alive - both)
        w_dropped = 1.0 - w_alive
        log_alpha_tx = np.log(alpha + t_x)
        d_r = (
            digamma(r + x) - digamma(r) + np.log(alpha)
            - w_alive * np.log(alpha + age) - w_dropped * log_alpha_tx
        )  # fmt: skip
        d_alpha = r / alpha - (r + x) * (w_alive / (alpha + age) + w_dropped / (alpha + t_x))
        d_a = digamma(a + b) - digamma(a + b + x) + w_dropped / a
        d_b = (
            digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)
            - np.where(repeat, w_dropped / np.maximum(b + x - 1, 1e-300), 0.0)
        )  # fmt: skip
        value = -float(np.sum(weights * (common + beta_part + both)))
        grad = -np.array(
            [
                r * np.sum(weights * d_r),
                alpha * np.sum(weights * d_alpha),
                a * np.sum(weights * d_a),
                b * np.sum(weights * d_b),
            ]
        )
        return value, grad

    def fit(self, frequency: F64, recency: F64, age: F64) -> BetaGeo:
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, age))
        _check(x, t_x, t)
        (gx, gt_x, gt), weights = grouped(x, t_x, t)
        self.fit_result = fit_positive(
            ("r", "alpha", "a", "b"),
            lambda p: self._objective(p, gx, gt_x, gt, weights),
            np.array([1.0, float(np.mean(t)) or 1.0, 1.0, 1.0]),
            model="BG/NBD",
            gradient=True,
        )
        p = self.fit_result.params
        self.r, self.alpha, self.a, self.b = p["r"], p["alpha"], p["a"], p["b"]
        return self

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def probability_alive(self, frequency: F64, recency: F64, age: F64) -> F64:
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, age))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = np.where(
            x > 0,
            (a / (b + np.maximum(x, 1) - 1)) * ((alpha + t) / (alpha + t_x)) ** (r + x),
            0.0,
        )
        return np.asarray(1.0 / (1.0 + ratio), dtype=np.float64)

    def expected_purchases(self, horizon: float, frequency: F64, recency: F64, age: F64) -> F64:
        """Expected number of purchases in the next `horizon` time units (eq. 10 of the paper)."""
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, age))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + t + horizon)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (
            (a + b + x - 1) / (a - 1) * (1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * hyp)
        )
        denominator = 1 + np.where(
            x > 0, a / (b + x - 1) * ((alpha + t) / (alpha + t_x)) ** (r + x), 0.0
        )
        return np.asarray(numerator / denominator, dtype=np.float64)

    def expected_purchases_new(self, horizon: F64) -> F64:
        """E[X(t)] for a customer just acquired: the tracking curve of the calibration period."""
        t = np.asarray(horizon, dtype=np.float64)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + t)
        return np.asarray(
            (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z)),
            dtype=np.float64,
        )
