"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), "Counting your customers", Management
Science 33(1); likelihood as in Fader, Hardie & Lee (2005), "A note on implementing the
Pareto/NBD model in MATLAB". Purchases follow a Poisson process (rate ~ Gamma(r, alpha)) for
an exponentially distributed lifetime (dropout rate ~ Gamma(s, beta))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1

from cxlens.errors import ModelError
from cxlens.models.clv.fitting import F64, MAX_LOG, Fit, fit_positive, grouped


def _log_a0(r: float, alpha: float, s: float, beta: float, x: F64, t_x: F64, age: F64) -> F64:
    """log of A0 (the dropout-before-T part of the likelihood), split on alpha >= beta so the
    hypergeometric function's argument stays in [0, 1)."""
    rsx = r + s + x
    b_: F64 | float
    if alpha >= beta:
        b_, base, spread = s + 1, alpha, alpha - beta
    else:
        b_, base, spread = r + x, beta, beta - alpha
    first = np.log(hyp2f1(rsx, b_, rsx + 1, spread / (base + t_x))) - rsx * np.log(base + t_x)
    second = np.log(hyp2f1(rsx, b_, rsx + 1, spread / (base + age))) - rsx * np.log(base + age)
    # When recency equals age the two parts cancel: A0 = 0, its log -inf, which logaddexp takes.
    with np.errstate(divide="ignore"):
        return np.asarray(first + np.log1p(-np.exp(np.minimum(second - first, 0.0))))


@dataclass
class ParetoNBD:
    r: float = float("nan")
    alpha: float = float("nan")
    s: float = float("nan")
    beta: float = float("nan")
    fit_result: Fit | None = None

    @staticmethod
    def _log_likelihood(
        r: float, alpha: float, s: float, beta: float, x: F64, t_x: F64, age: F64
    ) -> tuple[F64, F64, F64]:
        """(log-likelihood per customer, log of the alive term, log of the dropout term)."""
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
        dropped = np.log(s / (r + s + x)) + _log_a0(r, alpha, s, beta, x, t_x, age)
        return np.asarray(head + np.logaddexp(alive, dropped)), alive, dropped

    def fit(self, frequency: F64, recency: F64, age: F64) -> ParetoNBD:
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, age))
        if len(x) == 0 or (t_x > t + 1e-9).any() or (x < 0).any():
            raise ModelError("Pareto/NBD needs 0 <= recency <= T and frequency >= 0")
        (gx, gt_x, gt), weights = grouped(x, t_x, t)

        def negative(log_params: F64) -> float:
            r, alpha, s, beta = np.exp(np.clip(log_params, -MAX_LOG, MAX_LOG))
            ll, _, _ = self._log_likelihood(r, alpha, s, beta, gx, gt_x, gt)
            return -float(np.sum(weights * ll))

        self.fit_result = fit_positive(
            ("r", "alpha", "s", "beta"),
            negative,
            np.array([1.0, float(np.mean(t)) or 1.0, 1.0, float(np.mean(t)) or 1.0]),
            model="Pareto/NBD",
        )
        p = self.fit_result.params
        self.r, self.alpha, self.s, self.beta = p["r"], p["alpha"], p["s"], p["beta"]
        return self

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def probability_alive(self, frequency: F64, recency: F64, age: F64) -> F64:
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, age))
        _, alive, dropped = self._log_likelihood(self.r, self.alpha, self.s, self.beta, x, t_x, t)
        return np.asarray(np.exp(alive - np.logaddexp(alive, dropped)), dtype=np.float64)

    def expected_purchases(self, horizon: float, frequency: F64, recency: F64, age: F64) -> F64:
        """Expected purchases in the next `horizon` time units (Schmittlein et al., eq. 22)."""
        x, t = np.asarray(frequency, dtype=np.float64), np.asarray(age, dtype=np.float64)
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        rate = (r + x) * (beta + t) / ((alpha + t) * (s - 1))
        share = 1 - ((beta + t) / (beta + t + horizon)) ** (s - 1)
        return np.asarray(
            rate * share * self.probability_alive(frequency, recency, age), dtype=np.float64
        )
