"""How good a churn score is, in the terms a retention team uses.

ROC-AUC (does it rank leavers above stayers), PR-AUC (how precise is the top when churn is
rare), top-decile lift (how many more leavers a campaign reaches by calling the riskiest 10%
instead of a random 10%), Brier score and a calibration table (does 30% mean 30%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from cxlens.errors import ModelError


@dataclass(frozen=True)
class Evaluation:
    roc_auc: float
    pr_auc: float
    top_decile_lift: float
    brier: float
    base_rate: float
    n: int
    #: One row per non-empty equal-width bin of predicted probability:
    #: bin (0 = [0, 1/bins)), n, mean_predicted, observed_rate.
    calibration: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "roc_auc": self.roc_auc,
            "pr_auc": self.pr_auc,
            "top_decile_lift": self.top_decile_lift,
            "brier": self.brier,
            "base_rate": self.base_rate,
            "n": self.n,
            "calibration": [
                {
                    "bin": int(b),
                    "n": int(k),
                    "mean_predicted": float(m),
                    "observed_rate": float(o),
                }
                for b, k, m, o in zip(
                    self.calibration["bin"].to_numpy(),
                    self.calibration["n"].to_numpy(),
                    self.calibration["mean_predicted"].to_numpy(),
                    self.calibration["observed_rate"].to_numpy(),
                    strict=True,
                )
            ],
        }


def evaluate(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> Evaluation:
    """Scores of predicted churn probabilities `p` against outcomes `y` (1 = left)."""
    truth = np.asarray(y, dtype=np.float64).ravel()
    prob = np.asarray(p, dtype=np.float64).ravel()
    if len(truth) != len(prob):
        raise ModelError(f"{len(truth)} outcomes but {len(prob)} predictions")
    if np.isnan(truth).any() or not np.isin(truth, (0.0, 1.0)).all():
        raise ModelError("outcomes must be 0 (stayed) or 1 (left), without missing values")
    if np.isnan(prob).any() or (prob < 0).any() or (prob > 1).any():
        raise ModelError("predictions must be probabilities in [0, 1], without missing values")
    if truth.min() == truth.max():
        raise ModelError("outcomes hold one class only; ROC-AUC needs leavers and stayers")
    if bins < 1:
        raise ModelError(f"bins must be at least 1; got {bins}")
    n = len(truth)
    base = float(truth.mean())
    top = math.ceil(n / 10)
    riskiest = np.argsort(-prob, kind="stable")[:top]
    which = np.minimum((prob * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sums_p = np.bincount(which, weights=prob, minlength=bins)
    sums_y = np.bincount(which, weights=truth, minlength=bins)
    used = counts > 0
    table = pd.DataFrame(
        {
            "bin": np.flatnonzero(used).astype(np.int64),
            "n": counts[used].astype(np.int64),
            "mean_predicted": sums_p[used] / counts[used],
            "observed_rate": sums_y[used] / counts[used],
        }
    )
    return Evaluation(
        roc_auc=float(roc_auc_score(truth, prob)),
        pr_auc=float(average_precision_score(truth, prob)),
        top_decile_lift=float(truth[riskiest].mean() / base),
        brier=float(np.mean((prob - truth) ** 2)),
        base_rate=base,
        n=n,
        calibration=table,
    )
