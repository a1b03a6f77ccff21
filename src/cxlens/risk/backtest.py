"""Rolling, time-based back-tests: train on what was known before a window, test inside it.

Window k holds the cutoffs of `fold_months` months; the model of window k trains only on
cutoffs whose whole label horizon ended before the window starts, so no outcome it is tested
on was visible when it was fitted. The health scorecard is scored on the same rows, as a
predictor (100 − score), so users see side by side whether their scorecard works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import ModelError
from cxlens.models.churn import ChurnModel, evaluate

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Window:
    start: pd.Timestamp
    end: pd.Timestamp
    train_rows: int
    test_rows: int
    churned: int


def windows(
    cutoffs: pd.Series, *, folds: int, fold_months: int, horizon_days: int
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The last `folds` windows of `fold_months` months each, oldest first."""
    last = pd.Timestamp(cutoffs.max()).to_period("M").to_timestamp()
    out = []
    for k in range(folds):
        end = last + pd.DateOffset(months=1 - k * fold_months)
        start = end - pd.DateOffset(months=fold_months)
        out.append((pd.Timestamp(start), pd.Timestamp(end)))
    earliest = pd.Timestamp(cutoffs.min()) + horizon_days * DAY
    kept = [(s, e) for s, e in out if s > earliest]
    if not kept:
        raise ModelError(
            "too little history to back-test: the first window must start one horizon after "
            "the first cutoff; load more history or lower risk.backtest_folds"
        )
    return sorted(kept)


def backtest(
    data: pd.DataFrame,
    features: list[str],
    scorecard_risk: Callable[[pd.DataFrame], np.ndarray],
    *,
    folds: int,
    fold_months: int,
    horizon_days: int,
    seed: int = 0,
) -> dict[str, object]:
    """Pooled and per-window metrics of the churn model and of the scorecard."""
    spans = windows(data["cutoff"], folds=folds, fold_months=fold_months, horizon_days=horizon_days)
    y_all, p_all, s_all, done = [], [], [], []
    for start, end in spans:
        train = data[data["cutoff"] + horizon_days * DAY <= start]
        test = data[(data["cutoff"] >= start) & (data["cutoff"] < end)]
        if train["churned"].nunique() < 2 or test["churned"].nunique() < 2:
            continue
        model = ChurnModel(random_state=seed).fit(
            train[features], train["churned"].to_numpy(), groups=train["account"].to_numpy()
        )
        y = test["churned"].to_numpy()
        p = model.predict_proba(test[features])
        s = scorecard_risk(test)
        y_all.append(y)
        p_all.append(p)
        s_all.append(s)
        done.append(
            {
                "start": start.date().isoformat(),
                "end": end.date().isoformat(),
                "train_rows": len(train),
                "test_rows": len(test),
                "churned": int(y.sum()),
                "model": evaluate(y, p).to_dict(),
                "scorecard": _scorecard_eval(y, s),
            }
        )
    if not done:
        raise ModelError("no back-test window had both churned and retained accounts")
    y, p, s = np.concatenate(y_all), np.concatenate(p_all), np.concatenate(s_all)
    return {
        "horizon_days": horizon_days,
        "windows": done,
        "model": evaluate(y, p).to_dict(),
        "scorecard": _scorecard_eval(y, s),
    }


def _scorecard_eval(y: np.ndarray, risk: np.ndarray) -> dict[str, object]:
    """The scorecard as a predictor: ranks by 100 − score; rows it cannot score are left out
    (and counted), and its 0–1 'probability' is only for the Brier score and calibration."""
    known = ~np.isnan(risk)
    if known.sum() == 0 or len(np.unique(y[known])) < 2:
        return {"scored_share": float(known.mean())}
    out = evaluate(y[known], risk[known] / 100.0).to_dict()
    out["scored_share"] = float(known.mean())
    return out
