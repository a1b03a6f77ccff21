"""Satisfaction along the journey: NPS, CSAT and CES with their sample sizes and intervals.

* **NPS** (0–10): % promoters (9–10) − % detractors (0–6), from −100 to 100. Its interval uses
  the variance of a difference of two shares of one sample:
  (p + d − (p − d)²) / n.
* **CSAT** (1–5): % satisfied (4 or 5), with a Wilson score interval.
* **CES** (1–7): the mean effort score (higher = easier), with a normal interval on the mean.

Every figure carries its sample size `n`; below `min_sample` it is flagged `low_sample`,
never hidden, so a small touchpoint still shows — with the warning it deserves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from cxlens.errors import MetricError

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _nps(scores: pd.Series, z: float) -> tuple[float, float, float]:
    n = len(scores)
    promoters = float((scores >= 9).mean())
    detractors = float((scores <= 6).mean())
    value = promoters - detractors
    se = np.sqrt(max(promoters + detractors - value**2, 0.0) / n)
    return 100 * value, 100 * max(value - z * se, -1.0), 100 * min(value + z * se, 1.0)


def _csat(scores: pd.Series, z: float) -> tuple[float, float, float]:
    n = len(scores)
    share = float((scores >= 4).mean())
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return 100 * share, 100 * (centre - half), 100 * (centre + half)


def _ces(scores: pd.Series, z: float) -> tuple[float, float, float]:
    mean = float(scores.mean())
    se = float(scores.std(ddof=1)) / np.sqrt(len(scores)) if len(scores) > 1 else np.nan
    return mean, mean - z * se, mean + z * se


_MEASURES = {"nps": _nps, "csat": _csat, "ces": _ces}


def satisfaction(
    responses: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    min_sample: int = 30,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per measure and group: value, interval, n, low_sample.

    `responses`: measure (nps / csat / ces), score, and the `by` columns (touchpoint, journey
    stage, channel, segment, owner, period...)."""
    missing = [c for c in ("measure", "score", *by) if c not in responses]
    if missing:
        raise MetricError(f"survey responses need the columns {missing}")
    unknown = sorted(set(responses["measure"].dropna()) - set(SCALES))
    if unknown:
        raise MetricError(f"unknown measures {unknown}; known: {sorted(SCALES)}")
    data = responses.dropna(subset=["score"])
    for measure, (low, high) in SCALES.items():
        bad = data[(data["measure"] == measure) & ~data["score"].between(low, high)]
        if len(bad):
            raise MetricError(
                f"{measure} scores run from {low} to {high}; found {bad['score'].iloc[0]}"
            )
    z = float(norm.ppf(0.5 + level / 2))
    rows = []
    keys = ["measure", *by]
    for key, group in data.groupby(keys, sort=True, dropna=False):
        values = key if isinstance(key, tuple) else (key,)
        value, low_end, high_end = _MEASURES[str(values[0])](group["score"], z)
        rows.append(
            {
                **dict(zip(keys, values, strict=True)),
                "value": value,
                "low": low_end,
                "high": high_end,
                "n": len(group),
                "low_sample": len(group) < min_sample,
            }
        )
    return pd.DataFrame(rows)


def trend(
    responses: pd.DataFrame,
    *,
    period: str = "M",
    by: Sequence[str] = (),
    min_sample: int = 30,
    level: float = 0.95,
) -> pd.DataFrame:
    """`satisfaction` per period of `occurred_at` (months by default), oldest first."""
    if "occurred_at" not in responses:
        raise MetricError("a trend needs the responses' occurred_at")
    data = responses.assign(period=pd.to_datetime(responses["occurred_at"]).dt.to_period(period))
    out = satisfaction(data, by=("period", *by), min_sample=min_sample, level=level)
    return out.sort_values(["period", "measure"], kind="stable").reset_index(drop=True)
