"""Emerging issues: a theme whose volume or negativity rises above its own recent baseline.

Volume is tested as a *share* of all texts in the period, so a busy week (a campaign, a
product launch) does not make every theme look emerging. Each period is compared with the
`baseline` periods before it by a one-sided binomial test; p-values are adjusted for the
number of themes tested in that period (Benjamini-Hochberg). A theme is *emerging* when the
rise is significant and large enough to act on (`min_ratio`, `min_count`): significance alone
fires on tiny shifts once volumes are large.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cxlens.errors import ModelError

SIGNALS = ("volume", "negativity")


@dataclass(frozen=True)
class EmergingSettings:
    freq: str = "W"  # pandas period alias: D, W or M
    baseline: int = 8  # periods before the one tested
    min_count: int = 5  # texts of the theme in the period
    min_ratio: float = 1.5  # observed over expected
    # On the FDR-adjusted q-value. Strict, because every period of every theme is tested and an
    # alert that cries wolf weekly gets muted.
    alpha: float = 0.01
    periods: int | None = None  # test only the last N periods (all when None)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """q-values: the smallest false-discovery rate at which each test would be rejected."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def _upper_tail(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    return np.asarray(stats.binom.sf(k - 1, n, p), dtype=float)


def emerging_issues(texts: pd.DataFrame, settings: EmergingSettings | None = None) -> pd.DataFrame:
    """Test every theme in every period against its baseline.

    `texts` has one row per text: `theme` (key; missing for texts without a theme),
    `occurred_at` and `negative` (bool; missing when sentiment was not scored). Returns one
    row per (theme, period, signal) with observed and expected counts, ratio, p and q values
    and the `emerging` flag; periods without a full baseline are not tested.
    """
    s = settings or EmergingSettings()
    missing = {"theme", "occurred_at", "negative"} - set(texts.columns)
    if missing:
        raise ModelError(f"emerging issues need columns {sorted(missing)}")
    if texts.empty:
        return _empty()
    period = pd.to_datetime(texts["occurred_at"]).dt.to_period(s.freq)
    frame = pd.DataFrame(
        {
            "theme": texts["theme"].to_numpy(),
            "period": period.to_numpy(),
            "negative": texts["negative"].astype("boolean").to_numpy(),
        }
    )
    all_periods = pd.period_range(period.min(), period.max(), freq=s.freq)
    index = pd.Index(all_periods, name="period")
    total = frame.groupby("period").size().reindex(index, fill_value=0).to_numpy()
    themed = frame.dropna(subset=["theme"])
    count = themed.pivot_table(
        index="period", columns="theme", values="negative", aggfunc="size", fill_value=0
    ).reindex(index, fill_value=0)
    scored = themed.dropna(subset=["negative"])
    scored_count = scored.pivot_table(
        index="period", columns="theme", values="negative", aggfunc="size", fill_value=0
    ).reindex(index=index, columns=count.columns, fill_value=0)
    negative_count = (
        scored[scored["negative"].astype(bool)]
        .pivot_table(
            index="period", columns="theme", values="negative", aggfunc="size", fill_value=0
        )
        .reindex(index=index, columns=count.columns, fill_value=0)
    )
    rows = []
    first = s.baseline
    if s.periods is not None:
        first = max(first, len(index) - s.periods)
    for t in range(first, len(index)):
        window = slice(t - s.baseline, t)
        rows.append(
            _test(
                "volume",
                index[t],
                count.to_numpy()[t],
                np.full(count.shape[1], total[t]),
                count.to_numpy()[window].sum(axis=0),
                np.full(count.shape[1], total[window].sum()),
                count.columns,
                s,
            )
        )
        rows.append(
            _test(
                "negativity",
                index[t],
                negative_count.to_numpy()[t],
                scored_count.to_numpy()[t],
                negative_count.to_numpy()[window].sum(axis=0),
                scored_count.to_numpy()[window].sum(axis=0),
                count.columns,
                s,
            )
        )
    if not rows:
        return _empty()
    return pd.concat(rows, ignore_index=True)


def _test(
    signal: str,
    period: pd.Period,
    k: np.ndarray,
    n: np.ndarray,
    base_k: np.ndarray,
    base_n: np.ndarray,
    themes: pd.Index,
    s: EmergingSettings,
) -> pd.DataFrame:
    # Half a count of prior keeps a theme that is new this period testable (p0 > 0) without
    # letting one stray text look like an explosion.
    rate = (base_k + 0.5) / (base_n + 1.0)
    expected = n * rate
    tested = n > 0
    p = np.ones(len(k))
    p[tested] = _upper_tail(k[tested], n[tested], rate[tested])
    q = np.ones(len(k))
    q[tested] = benjamini_hochberg(p[tested])
    ratio = np.divide(k, expected, out=np.zeros(len(k)), where=expected > 0)
    emerging = tested & (q < s.alpha) & (k >= s.min_count) & (ratio >= s.min_ratio)
    return pd.DataFrame(
        {
            "theme": themes.to_numpy(),
            "period_start": period.start_time,
            "signal": signal,
            "observed": k.astype(np.int64),
            "expected": expected,
            "ratio": ratio,
            "p_value": p,
            "q_value": q,
            "emerging": emerging,
        }
    )[tested]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "theme": pd.Series(dtype=object),
            "period_start": pd.Series(dtype="datetime64[ns]"),
            "signal": pd.Series(dtype=object),
            "observed": pd.Series(dtype=np.int64),
            "expected": pd.Series(dtype=float),
            "ratio": pd.Series(dtype=float),
            "p_value": pd.Series(dtype=float),
            "q_value": pd.Series(dtype=float),
            "emerging": pd.Series(dtype=bool),
        }
    )
