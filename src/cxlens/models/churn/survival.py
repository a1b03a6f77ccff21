"""`SurvivalModel`: not only whether a customer leaves, but when.

A Weibull accelerated-failure-time model (lifelines' `WeibullAFTFitter`, ridge-penalised):
each customer's time to churn is Weibull with a scale set by their features, so a riskier
customer's whole survival curve is compressed in time. Customers still active are censored,
not dropped, so the model does not think everyone leaves. Predictions are computed here from
the fitted coefficients (closed forms), so a saved model is plain JSON and scoring a million
customers is a matrix product.

`expected_months` is the restricted mean over a horizon (the area under the survival curve up
to it): always finite, unlike a Weibull mean or a median far beyond the data.
"""

from __future__ import annotations

import json
import warnings
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gamma, gammainc

from cxlens.errors import ModelError
from cxlens.models.churn.features import F64, Schema

FORMAT = "cxlens-survival/1"


class SurvivalModel:
    """Time to churn in months (or whatever unit `duration` is in)."""

    def __init__(self, *, penalizer: float = 0.01, horizon: float = 60.0) -> None:
        if penalizer < 0:
            raise ModelError(f"penalizer must be >= 0; got {penalizer}")
        if horizon <= 0:
            raise ModelError(f"horizon must be positive; got {horizon}")
        self.penalizer = penalizer
        self.horizon = horizon
        self.features: list[str] = []
        self._state: dict[str, Any] | None = None

    # -- design ----------------------------------------------------------------------------

    def _design(self, X: pd.DataFrame, state: Mapping[str, Any]) -> F64:
        schema = Schema.from_dict(state["schema"])
        schema.check(X)
        cols: list[F64] = []
        for name in schema.features:
            if name in schema.categories:
                codes = schema.codes(X, name)
                for level in range(1, len(schema.categories[name])):  # first level is baseline
                    cols.append((codes == level).astype(np.float64))
            else:
                x = schema.numeric(X, name)
                cols.append(np.where(np.isnan(x), state["median"][name], x))
        design = np.column_stack(cols) if cols else np.zeros((len(X), 0))
        scaled = (design - np.asarray(state["mean"])) / np.asarray(state["scale"])
        return np.asarray(scaled, dtype=np.float64)

    def fit(self, X: pd.DataFrame, duration: np.ndarray, event: np.ndarray) -> SurvivalModel:
        """`duration`: months observed (to churn, or to now for customers still active);
        `event`: 1 when the customer churned at that time, 0 when still a customer."""
        from lifelines import WeibullAFTFitter
        from lifelines.exceptions import ConvergenceError

        t = np.asarray(duration, dtype=np.float64).ravel()
        e = np.asarray(event, dtype=np.float64).ravel()
        if not len(t) == len(e) == len(X):
            raise ModelError(
                f"{len(X)} rows, {len(t)} durations and {len(e)} events; need one each"
            )
        if np.isnan(t).any() or (t <= 0).any():
            raise ModelError(
                "durations must be positive and present; count months from 1 or add half a "
                "period to whole-period tenures that start at 0"
            )
        if not np.isin(e, (0.0, 1.0)).all():
            raise ModelError("events must be 1 (churned) or 0 (still a customer)")
        if e.sum() < 2:
            raise ModelError("a survival model needs at least two customers who churned")
        schema = Schema.learn(X)
        median = {
            n: float(np.nan_to_num(np.nanmedian(schema.numeric(X, n))))
            for n in schema.features
            if n not in schema.categories
        }
        draft = {"schema": schema.to_dict(), "median": median, "mean": 0.0, "scale": 1.0}
        raw = self._design(X, draft)
        mean = raw.mean(axis=0)
        scale = raw.std(axis=0)
        scale[scale == 0] = 1.0  # constant columns stay 0 and get no weight
        state: dict[str, Any] = {
            **draft,
            "mean": mean.tolist(),
            "scale": scale.tolist(),
        }
        design = (raw - mean) / scale
        varying = raw.std(axis=0) > 0
        frame = pd.DataFrame(design[:, varying], columns=[f"x{j}" for j in np.flatnonzero(varying)])
        frame["duration"] = t
        frame["event"] = e
        fitter = WeibullAFTFitter(penalizer=self.penalizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' convergence and approximation notes
            try:
                fitter.fit(frame, duration_col="duration", event_col="event")
            except ConvergenceError as exc:
                raise ModelError(
                    f"the survival model did not converge ({exc}); drop near-duplicate "
                    "features or raise the penalizer"
                ) from exc
        params = fitter.params_
        weights = np.zeros(design.shape[1])
        for j in np.flatnonzero(varying):
            weights[j] = float(params[("lambda_", f"x{j}")])
        state["weights"] = weights.tolist()
        state["intercept"] = float(params[("lambda_", "Intercept")])
        state["log_rho"] = float(params[("rho_", "Intercept")])
        state["concordance"] = float(fitter.concordance_index_)
        self._state = state
        self.features = list(schema.features)
        return self

    # -- predictions -----------------------------------------------------------------------

    def _fitted(self) -> dict[str, Any]:
        if self._state is None:
            raise ModelError("the survival model is not fitted; call fit() or from_bytes() first")
        return self._state

    def _scale_shape(self, X: pd.DataFrame) -> tuple[F64, float]:
        state = self._fitted()
        design = self._design(X, state)
        log_scale = design @ np.asarray(state["weights"]) + state["intercept"]
        return np.exp(log_scale), float(np.exp(state["log_rho"]))

    def expected_months(self, X: pd.DataFrame, *, horizon: float | None = None) -> F64:
        """Expected months as a customer within the next `horizon` (default: the model's):
        the area under the survival curve up to it. Riskier customers get fewer."""
        h = self.horizon if horizon is None else horizon
        if h <= 0:
            raise ModelError(f"horizon must be positive; got {h}")
        lam, rho = self._scale_shape(X)
        # integral_0^h exp(-(t/lam)^rho) dt = lam * Gamma(1 + 1/rho) * P(1/rho, (h/lam)^rho)
        area = lam * gamma(1 + 1 / rho) * gammainc(1 / rho, (h / lam) ** rho)
        return np.asarray(np.minimum(area, h), dtype=np.float64)

    def survival_curve(
        self, X: pd.DataFrame, months: Sequence[float] = (1, 3, 6, 12)
    ) -> pd.DataFrame:
        """P(still a customer) after each of `months`; one column per month, one row per row
        of `X`."""
        lam, rho = self._scale_shape(X)
        at = np.asarray(months, dtype=np.float64)
        if (at < 0).any():
            raise ModelError("months must not be negative")
        values = np.exp(-((at[None, :] / lam[:, None]) ** rho))
        return pd.DataFrame(values, columns=list(months), index=X.index)

    def concordance(self) -> float:
        """Harrell's C on the training data: the share of comparable pairs ordered right."""
        return float(self._fitted()["concordance"])

    # -- persistence -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        state = {
            "format": FORMAT,
            "penalizer": self.penalizer,
            "horizon": self.horizon,
            "state": self._fitted(),
        }
        return zlib.compress(json.dumps(state).encode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes) -> SurvivalModel:
        try:
            saved = json.loads(zlib.decompress(data).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"not a saved survival model: {exc}") from exc
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise ModelError(f"not a saved survival model (expected format {FORMAT})")
        model = cls(penalizer=float(saved["penalizer"]), horizon=float(saved["horizon"]))
        model._state = saved["state"]
        model.features = list(saved["state"]["schema"]["features"])
        return model
