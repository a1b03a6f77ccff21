"""Turning a ranking score into a probability that means what it says.

Boosted trees with strong regularisation and a blend of log-odds rank well but their raw
scores are not probabilities: a customer scored 0.3 should leave three times in ten. The
calibrator is fitted on out-of-fold scores (rows the scoring model never saw), because
in-sample scores are over-confident. "sigmoid" (Platt scaling) is monotone, so it never changes
the ranking (ROC-AUC is unchanged); "isotonic" is more flexible but flattens ties into steps.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from cxlens.errors import ModelError
from cxlens.models.churn.features import F64

Method = Literal["sigmoid", "isotonic"]


@dataclass(frozen=True)
class Calibrator:
    method: Method
    slope: float = 1.0
    intercept: float = 0.0
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()

    def apply(self, score: F64) -> F64:
        if self.method == "sigmoid":
            z = np.clip(self.slope * score + self.intercept, -500, 500)
            return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)
        return np.asarray(np.interp(score, self.knots_x, self.knots_y), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "slope": self.slope,
            "intercept": self.intercept,
            "knots_x": list(self.knots_x),
            "knots_y": list(self.knots_y),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Calibrator:
        return cls(
            state["method"],
            float(state["slope"]),
            float(state["intercept"]),
            tuple(state["knots_x"]),
            tuple(state["knots_y"]),
        )


def fit_calibrator(score: F64, y: F64, method: Method) -> Calibrator:
    if method == "sigmoid":
        model = LogisticRegression(C=1e6, max_iter=1_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(score.reshape(-1, 1), y)
        return Calibrator("sigmoid", float(model.coef_[0, 0]), float(model.intercept_[0]))
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y)
        return Calibrator(
            "isotonic",
            knots_x=tuple(float(v) for v in iso.X_thresholds_),
            knots_y=tuple(float(v) for v in iso.y_thresholds_),
        )
    raise ModelError(f"unknown calibration '{method}'; use 'sigmoid' or 'isotonic'")
