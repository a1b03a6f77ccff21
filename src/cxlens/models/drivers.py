"""Key drivers: how far an outcome (NPS, CSAT, churn) would move if a factor were fixed.

The outcome is coded per answer so that its mean *is* the metric: NPS as +100 / 0 / −100 per
promoter / passive / detractor, CSAT as 100 per satisfied answer, churn as 100 per customer
who left. A linear model of the outcome on every factor at once (plus controls such as the
touchpoint) gives each factor's effect net of the others; fixing factor j, i.e. giving the
answers that show it the outcome they would have had without it, moves the metric by
−effect_j × share_j. Intervals come from a bootstrap over answers, so they include the
uncertainty of both the effect and the share.

Touchpoints are compared differently (`group_gaps`): bringing a touchpoint up to the level of
the others moves the overall metric by share_g × (mean of the others − mean_g).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import ModelError


@dataclass(frozen=True)
class DriverSettings:
    bootstrap: int = 300
    level: float = 0.9
    min_n: int = 10  # factors seen fewer times are left out: their effect is noise
    seed: int = 0


def nps_outcome(score: np.ndarray) -> np.ndarray:
    """+100 for a promoter (9–10), −100 for a detractor (0–6), 0 for a passive."""
    s = np.asarray(score, dtype=float)
    return np.where(s >= 9, 100.0, np.where(s <= 6, -100.0, 0.0))


def csat_outcome(score: np.ndarray) -> np.ndarray:
    """100 for a satisfied answer (4–5 on a 1–5 scale), else 0."""
    return np.where(np.asarray(score, dtype=float) >= 4, 100.0, 0.0)


def _design(factors: pd.DataFrame, controls: pd.DataFrame | None) -> np.ndarray:
    parts = [np.ones((len(factors), 1)), factors.to_numpy(dtype=float)]
    if controls is not None and len(controls.columns):
        dummies = pd.get_dummies(controls.astype("string").fillna("(none)"), drop_first=True)
        parts.append(dummies.to_numpy(dtype=float))
    return np.hstack(parts)


def _effects(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return np.asarray(beta[1 : 1 + k])


def key_drivers(
    outcome: np.ndarray,
    factors: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    settings: DriverSettings | None = None,
) -> pd.DataFrame:
    """Effect and impact of each factor (a boolean column of `factors`) on the outcome.

    Returns one row per factor kept: factor, n, share, effect (with interval) and impact, the
    points the metric gains if the factor is fixed (with interval); sorted by impact, largest
    gain first. Factors that only ever occur with a better outcome get a negative impact:
    removing praise would lower the metric.
    """
    s = settings or DriverSettings()
    y = np.asarray(outcome, dtype=float)
    if len(y) != len(factors):
        raise ModelError(f"{len(y)} outcomes but {len(factors)} rows of factors")
    if len(y) < 2 * s.min_n:
        raise ModelError(f"key drivers need at least {2 * s.min_n} answers; got {len(y)}")
    present = factors.astype(bool)
    n = present.sum(axis=0)
    kept = present.loc[:, (n >= s.min_n) & (n <= len(y) - s.min_n)]
    if kept.empty:
        raise ModelError(f"no factor is shown by at least {s.min_n} answers and missed by as many")
    x = _design(kept, controls)
    k = kept.shape[1]
    flags = kept.to_numpy(dtype=float)
    effect = _effects(x, y, k)
    share = flags.mean(axis=0)
    rng = np.random.default_rng(s.seed)
    boot_effect = np.empty((s.bootstrap, k))
    boot_impact = np.empty((s.bootstrap, k))
    for b in range(s.bootstrap):
        rows = rng.integers(0, len(y), len(y))
        e = _effects(x[rows], y[rows], k)
        boot_effect[b] = e
        boot_impact[b] = -e * flags[rows].mean(axis=0)
    tail = (1 - s.level) / 2 * 100
    low_e, high_e = np.percentile(boot_effect, [tail, 100 - tail], axis=0)
    low_i, high_i = np.percentile(boot_impact, [tail, 100 - tail], axis=0)
    table = pd.DataFrame(
        {
            "factor": kept.columns.astype(str),
            "n": n[kept.columns].to_numpy(dtype=np.int64),
            "share": share,
            "effect": effect,
            "effect_low": low_e,
            "effect_high": high_e,
            "impact": -effect * share,
            "impact_low": low_i,
            "impact_high": high_i,
        }
    )
    return table.sort_values("impact", ascending=False, ignore_index=True)


def group_gaps(
    outcome: np.ndarray, groups: np.ndarray, settings: DriverSettings | None = None
) -> pd.DataFrame:
    """Points the overall metric gains if each group did as well as all the others together."""
    s = settings or DriverSettings()
    y = np.asarray(outcome, dtype=float)
    labels = pd.Series(groups, dtype="string").fillna("(none)").to_numpy(dtype=object)
    names, codes = np.unique(labels, return_inverse=True)
    counts = np.bincount(codes, minlength=len(names))
    keep = counts >= s.min_n
    if keep.sum() < 2:
        raise ModelError(f"need two groups with at least {s.min_n} answers each")

    def gaps(y_: np.ndarray, codes_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sums = np.bincount(codes_, weights=y_, minlength=len(names))
        cnt = np.bincount(codes_, minlength=len(names)).astype(float)
        mean = np.divide(sums, cnt, out=np.zeros(len(names)), where=cnt > 0)
        others = np.divide(
            sums.sum() - sums, cnt.sum() - cnt, out=np.zeros(len(names)), where=cnt < cnt.sum()
        )
        share = cnt / cnt.sum()
        return share * (others - mean), mean

    impact, mean = gaps(y, codes)
    rng = np.random.default_rng(s.seed)
    boot = np.empty((s.bootstrap, len(names)))
    for b in range(s.bootstrap):
        rows = rng.integers(0, len(y), len(y))
        boot[b] = gaps(y[rows], codes[rows])[0]
    tail = (1 - s.level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    table = pd.DataFrame(
        {
            "factor": names.astype(str),
            "n": counts.astype(np.int64),
            "share": counts / counts.sum(),
            "effect": mean - float(y.mean()),
            "effect_low": np.nan,
            "effect_high": np.nan,
            "impact": impact,
            "impact_low": low,
            "impact_high": high,
        }
    )[keep]
    return table.sort_values("impact", ascending=False, ignore_index=True)
