"""Survey answers as free sentiment labels, and the metric to judge models by.

A comment written beside an NPS, CSAT or CES answer comes with the customer's own rating, so
every survey is a labelled training set in the company's own words. The bands follow how each
survey is read: NPS detractors 0-6, passives 7-8, promoters 9-10 (Reichheld 2003); CSAT 1-2
dissatisfied, 3 neutral, 4-5 satisfied; CES on the 7-point "easy" scale, 1-3 hard, 4-5 neither,
6-7 easy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: Per survey kind: the (low, high) bounds of the neutral band; below is negative, above
#: positive, and answers outside (lowest, highest) are not labels.
BANDS: dict[str, tuple[float, float, float, float]] = {
    "nps": (0, 7, 8, 10),
    "csat": (1, 3, 3, 5),
    "ces": (1, 4, 5, 7),
}


def labels_from_scores(
    kind: npt.NDArray[np.object_] | Sequence[str] | str, score: npt.ArrayLike
) -> npt.NDArray[np.int8]:
    """Sentiment class (0 negative, 1 neutral, 2 positive) of each survey answer; -1 when the
    kind is unknown or the score is missing or out of range."""
    values = np.asarray(score, dtype=np.float64)
    kinds = np.broadcast_to(np.asarray(kind, dtype=object), values.shape)
    out = np.full(values.shape, -1, dtype=np.int8)
    lowered = np.array([str(k).strip().lower() for k in kinds.ravel()], dtype=object).reshape(
        values.shape
    )
    for name, (lowest, low, high, highest) in BANDS.items():
        mine = (lowered == name) & (values >= lowest) & (values <= highest)
        out[mine & (values < low)] = 0
        out[mine & (values >= low) & (values <= high)] = 1
        out[mine & (values > high)] = 2
    return out


def macro_f1(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean F1 over the three classes (a class absent from both counts as 0, like sklearn's
    default on the labels present); predictions of -1 (not scored) count as wrong."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    present = [c for c in range(3) if (t == c).any() or (p == c).any()]
    scores = []
    for c in present:
        tp = float(((t == c) & (p == c)).sum())
        denominator = float((t == c).sum() + (p == c).sum())
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores)) if scores else float("nan")
