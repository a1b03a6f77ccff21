"""Shifted-beta-geometric retention: Fader & Hardie (2007), "How to project customer
retention", Journal of Interactive Marketing 21(1). Each customer renews each period with a
constant probability; churn probabilities vary across customers as Beta(alpha, beta), which is
why cohort retention rises over time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, hyp2f1

from cxlens.errors import ModelError
from cxlens.models.clv.fitting import F64, MAX_LOG, Fit, fit_positive


@dataclass
class ShiftedBetaGeometric:
    alpha: float = float("nan")
    beta: float = float("nan")
    fit_result: Fit | None = None

    @staticmethod
    def _negative_log_likelihood(log_params: F64, lost: F64, survivors: float) -> float:
        alpha, beta = np.exp(np.clip(log_params, -MAX_LOG, MAX_LOG))
        periods = np.arange(1, len(lost) + 1)
        log_churn_at = betaln(alpha + 1, beta + periods - 1) - betaln(alpha, beta)
        log_survive = betaln(alpha, beta + len(lost)) - betaln(alpha, beta)
        return -float(np.sum(lost * log_churn_at) + survivors * log_survive)

    def fit(self, active: F64) -> ShiftedBetaGeometric:
        """`active[t]`: customers of the cohort still active at the start of period t
        (`active[0]` is the cohort's size)."""
        counts = np.asarray(active, dtype=np.float64)
        if len(counts) < 2 or counts[0] <= 0 or (np.diff(counts) > 0).any() or (counts < 0).any():
            raise ModelError(
                "sBG needs a cohort's active counts over at least two periods, never rising"
            )
        lost = -np.diff(counts)
        self.fit_result = fit_positive(
            ("alpha", "beta"),
            lambda p: self._negative_log_likelihood(p, lost, float(counts[-1])),
            np.array([1.0, 1.0]),
            model="sBG",
        )
        self.alpha, self.beta = self.fit_result.params["alpha"], self.fit_result.params["beta"]
        return self

    def fit_cohorts(self, cohorts: list[F64]) -> ShiftedBetaGeometric:
        """One (alpha, beta) for several cohorts, each observed for as long as it has existed:
        the likelihood is the sum of the cohorts' likelihoods (each censored at its own end)."""
        usable = [np.asarray(c, dtype=np.float64) for c in cohorts if len(c) >= 2 and c[0] > 0]
        if not usable:
            raise ModelError("sBG needs at least one cohort observed over two periods or more")
        for counts in usable:
            if (np.diff(counts) > 0).any():
                raise ModelError("sBG needs each cohort's active counts never rising")
        parts = [(-np.diff(c), float(c[-1])) for c in usable]

        def negative(log_params: F64) -> float:
            return sum(
                self._negative_log_likelihood(log_params, lost, left) for lost, left in parts
            )

        self.fit_result = fit_positive(
            ("alpha", "beta"), negative, np.array([1.0, 1.0]), model="sBG"
        )
        self.alpha, self.beta = self.fit_result.params["alpha"], self.fit_result.params["beta"]
        return self

    @property
    def params(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta}

    def survival(self, periods: int) -> F64:
        """Share of the cohort still active after 0..`periods` periods."""
        t = np.arange(periods + 1)
        return np.asarray(
            np.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta)),
            dtype=np.float64,
        )

    def retention(self, periods: int) -> F64:
        """Renewal rate of period 1..`periods`: (beta + t - 1) / (alpha + beta + t - 1)."""
        t = np.arange(1, periods + 1)
        return np.asarray((self.beta + t - 1) / (self.alpha + self.beta + t - 1), dtype=np.float64)

    def discounted_expected_residual_lifetime(self, renewals: F64 | int, discount: float) -> F64:
        """DERL of customers who have renewed `renewals` times (Fader & Hardie 2010): the
        expected number of their further payments, discounted at `discount` per period."""
        n = np.asarray(renewals, dtype=np.float64)
        a, b, d = self.alpha, self.beta, discount
        return np.asarray(
            (b + n) / (a + b + n) * hyp2f1(1, b + n + 1, a + b + n + 1, 1 / (1 + d)),
            dtype=np.float64,
        )
