"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves
for customer base analysis", Journal of Marketing Research 42(4); Fader & Hardie (2013),
"The Gamma-Gamma model of monetary value". A customer's transaction values are Gamma(p, nu)
around their mean; nu varies across customers as Gamma(q, gamma). Fitted on customers with at
least one repeat purchase, on the average value of those purchases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from cxlens.errors import ModelError
from cxlens.models.clv.fitting import F64, MAX_LOG, Fit, fit_positive, grouped


@dataclass
class GammaGamma:
    p: float = float("nan")
    q: float = float("nan")
    gamma: float = float("nan")
    fit_result: Fit | None = None

    @staticmethod
    def _objective(log_params: F64, x: F64, m: F64, weights: F64) -> tuple[float, F64]:
        """Negative log-likelihood and its analytic gradient in the log parameters."""
        p, q, gamma = np.exp(np.clip(log_params, -MAX_LOG, MAX_LOG))
        px = p * x
        log_spent = np.log(gamma + m * x)
        ll = (
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * log_spent
        )  # fmt: skip
        d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_spent)
        d_q = digamma(px + q) - digamma(q) + np.log(gamma) - log_spent
        d_gamma = q / gamma - (px + q) / (gamma + m * x)
        grad = -np.array(
            [
                p * np.sum(weights * d_p),
                q * np.sum(weights * d_q),
                gamma * np.sum(weights * d_gamma),
            ]
        )
        return -float(np.sum(weights * ll)), grad

    def fit(self, frequency: F64, monetary_value: F64) -> GammaGamma:
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        keep = x > 0
        if not keep.any():
            raise ModelError("Gamma-Gamma needs customers with at least one repeat purchase")
        if (m[keep] <= 0).any():
            raise ModelError("Gamma-Gamma needs a positive average spend for every repeat buyer")
        (gx, gm), weights = grouped(x[keep], m[keep])
        self.fit_result = fit_positive(
            ("p", "q", "gamma"),
            lambda params: self._objective(params, gx, gm, weights),
            np.array([1.0, 1.0, float(np.mean(gm))]),
            model="Gamma-Gamma",
            gradient=True,
        )
        fitted = self.fit_result.params
        self.p, self.q, self.gamma = fitted["p"], fitted["q"], fitted["gamma"]
        return self

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def expected_spend(self, frequency: F64, monetary_value: F64) -> F64:
        """Expected average transaction value of each customer (the population mean for those
        without repeat purchases)."""
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        p, q, gamma = self.p, self.q, self.gamma
        population = p * gamma / (q - 1)
        individual = p * (gamma + x * m) / (p * x + q - 1)
        return np.asarray(np.where(x > 0, individual, population), dtype=np.float64)
