"""Scoring a customer base against a scorecard, one numpy pass per measure.

Each measure turns its column into 0–100 (NaN where the value is unknown); the score is the
weighted mean of the measures that count for the customer's segment. A missing measure is
never read as zero: under `reweight` it drops out and the other weights are renormalised,
under `neutral` / `worst` it is imputed 50 / 0, and either way it is flagged in `missing`
and lowers `coverage`, the share of the weight that was actually measured. Below the
scorecard's `min_coverage` there is no score, only the status "insufficient data".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import ModelError
from cxlens.models.health.spec import IMPUTED, Measure, Scorecard, category_key

INSUFFICIENT = "insufficient data"
_EPS = 1e-9  # weights are user decimals: 0.3 + 0.2 must reach a min_coverage of 0.5


@dataclass(frozen=True)
class HealthScores:
    """Scores of a frame, row for row; the frames are indexed like the input.

    `contributions` are the points each measure added to the 0–100 score after re-weighting
    (a row sums to `score`; NaN for a measure left out). `measure_scores` are the 0–100 of
    each measure before weighting: NaN when missing and re-weighted, the imputed 50 or 0 when
    missing under the `neutral` or `worst` policy. `missing` flags every measure without a
    value, whatever its policy; `coverage` is the share of the weight that was measured.
    """

    score: np.ndarray
    status: np.ndarray
    contributions: pd.DataFrame
    measure_scores: pd.DataFrame
    missing: pd.DataFrame
    coverage: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per customer for storage: score, status, coverage, `contributions` as a
        {measure: points} dict of the measures that counted, and `missing` as a list of names.
        Both are plain Python values, ready for `json.dumps` (no NaN inside)."""
        index = self.contributions.index
        return pd.DataFrame(
            {
                "score": self.score,
                "status": self.status,
                "coverage": self.coverage,
                "contributions": _row_dicts(self.contributions),
                "missing": _row_lists(self.missing),
            },
            index=index,
        )


def _patterns(mask: np.ndarray) -> list[tuple[np.ndarray, list[int]]]:
    """The distinct rows of a boolean matrix, each with the rows that show it.

    Customers share few patterns (which measures are known), so the per-row Python work of
    `to_frame` is building the dict, not finding its keys. Rows are hashed as packed bits.
    """
    n = mask.shape[0]
    if n == 0:
        return []
    packed = np.packbits(mask, axis=1)
    code = np.zeros(n, dtype=np.int64)
    for byte in packed.T:  # one pass per 8 measures, codes stay below n * 256
        code = pd.factorize(code * 256 + byte.astype(np.int64))[0]
    order = np.argsort(code, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(code[order])) + 1]
    groups = np.split(order, starts[1:])
    return [(mask[rows[0]], rows.tolist()) for rows in groups]


def _row_dicts(points: pd.DataFrame) -> list[dict[str, float]]:
    values = points.to_numpy(dtype=float)
    names = [str(c) for c in points.columns]
    out: list[dict[str, float]] = [{} for _ in range(len(values))]
    for kind, rows in _patterns(~np.isnan(values)):
        keys = [n for n, k in zip(names, kind, strict=True) if k]
        if not keys:
            continue
        picked = np.round(values[np.ix_(np.asarray(rows), np.flatnonzero(kind))], 4).tolist()
        for r, v in zip(rows, picked, strict=True):
            out[r] = dict(zip(keys, v, strict=True))
    return out


def _row_lists(flags: pd.DataFrame) -> list[list[str]]:
    names = [str(c) for c in flags.columns]
    out: list[list[str]] = [[] for _ in range(len(flags))]
    for kind, rows in _patterns(flags.to_numpy(dtype=bool)):
        keys = [n for n, k in zip(names, kind, strict=True) if k]
        if keys:
            for r in rows:
                out[r] = list(keys)  # one list per row: editing one row's list leaves the rest
    return out


def _numbers(column: pd.Series, measure: Measure) -> np.ndarray:
    """The column as floats; NaN and ±inf (a ratio over zero seats) count as missing."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
    else:
        coerced = pd.to_numeric(column, errors="coerce")
        bad = coerced.isna() & column.notna()
        if bad.any():
            raise ModelError(
                f"measure '{measure.name}': column '{measure.name}' holds values that are not "
                f"numbers (e.g. {column[bad].iloc[0]!r}); a thresholds or points rule needs "
                "numbers, a categories rule reads labels"
            )
        values = coerced.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)  # a new array: the frame stays as it was


def measure_score(measure: Measure, column: pd.Series) -> np.ndarray:
    """0–100 for every value of the column under the measure's rule, NaN where unknown
    (including a label the categories do not list)."""
    if measure.categories is not None:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        table = {category_key(k): s for k, s in measure.categories.items()}
        lookup = np.array([table.get(category_key(u), np.nan) for u in uniques] + [np.nan])
        return np.asarray(lookup[codes], dtype=float)  # code -1 (NA) reads the trailing NaN
    values = _numbers(column, measure)
    if measure.thresholds is not None:
        green, red = measure.thresholds.green, measure.thresholds.red
        return np.asarray(np.clip((values - red) / (green - red), 0.0, 1.0) * 100.0)
    if measure.points is None:  # the spec allows no measure without a rule; be explicit
        raise ModelError(f"measure '{measure.name}' has no scoring rule")
    xs = np.array([x for x, _ in measure.points])
    ys = np.array([y for _, y in measure.points])
    known = ~np.isnan(values)
    out = np.full(len(values), np.nan)
    out[known] = np.interp(values[known], xs, ys)
    return out


def _segment_groups(
    frame: pd.DataFrame, card: Scorecard, segment_column: str | None
) -> tuple[np.ndarray, list[str | None]]:
    """Row → group number (0 = the scorecard's own settings, then one per segment override).

    Segment values match override keys ignoring case and surrounding space; values without an
    override, empty values and a frame without the column all use the scorecard's settings.
    """
    groups: list[str | None] = [None, *card.segments]
    if not card.segments or segment_column is None or segment_column not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64), groups
    keys = {str(k).strip().lower(): i + 1 for i, k in enumerate(card.segments)}
    codes, uniques = pd.factorize(frame[segment_column], use_na_sentinel=True)
    lookup = np.array([keys.get(str(u).strip().lower(), 0) for u in uniques] + [0])
    return np.asarray(lookup[codes], dtype=np.int64), groups


def _raw_scores(
    frame: pd.DataFrame,
    base: Measure,
    in_force: list[Measure],
    group: np.ndarray,
) -> np.ndarray:
    """One measure's 0–100 per row, each row under the rule of its segment."""
    if base.name not in frame.columns:
        return np.full(len(frame), np.nan)
    column = frame[base.name]
    raw = measure_score(base, column)
    for g, measure in enumerate(in_force):
        if measure is not base:
            rows = group == g
            if rows.any():
                raw[rows] = measure_score(measure, column[rows])
    return raw


def score(
    frame: pd.DataFrame, card: Scorecard, *, segment_column: str | None = "segment"
) -> HealthScores:
    """Score every row of `frame` (one customer per row, one column per measure).

    A measure whose column is absent is missing for every row: flagged, never zero. Rows are
    scored with the override of their segment (`segment_column`) when the scorecard has one.
    Work is a handful of numpy operations per measure, never a Python loop over rows.
    """
    n, names = len(frame), [m.name for m in card.measures]
    group, groups = _segment_groups(frame, card, segment_column)
    resolved = [card.resolve(g) for g in groups]
    weights = np.array([[w for _, w, _ in r] for r in resolved])  # (groups, measures)
    impute = np.array([[IMPUTED.get(m.missing, np.nan) for m, _, _ in r] for r in resolved])

    # Rows of (measures, customers): each measure writes one contiguous row, and the frames
    # below are views of their transposes (no copy of a million-row matrix).
    used = np.empty((len(names), n))
    missing = np.empty((len(names), n), dtype=bool)
    counted_weight = np.empty((len(names), n))
    denominator = np.zeros(n)  # weight of the measures that enter the score
    measured = np.zeros(n)  # weight of the measures that have a value
    numerator = np.zeros(n)
    for j, base in enumerate(card.measures):
        raw = _raw_scores(frame, base, [r[j][0] for r in resolved], group)
        w = weights[group, j]
        unknown = np.isnan(raw)
        value = np.where(unknown, impute[group, j], raw)
        counted = (w > 0) & ~np.isnan(value)
        wc = np.where(counted, w, 0.0)
        denominator += wc
        measured += np.where(unknown, 0.0, w)
        numerator += np.where(counted, wc * value, 0.0)
        used[j], missing[j], counted_weight[j] = value, unknown & (w > 0), wc

    coverage = measured / weights.sum(axis=1)[group]
    min_coverage = np.array([card.min_coverage_for(g) for g in groups])[group]
    ok = (coverage >= min_coverage - _EPS) & (coverage > 0) & (denominator > 0)
    safe = np.where(ok, denominator, 1.0)
    total = np.where(ok, numerator / safe, np.nan)
    contributions = np.where(
        ok & (counted_weight > 0), counted_weight * np.nan_to_num(used) / safe, np.nan
    )

    bands = [card.bands_for(g) for g in groups]
    green = np.array([b.green for b in bands])[group]
    amber = np.array([b.amber for b in bands])[group]
    level = np.round(total, 9)  # 69.999999999 from float sums is a 70
    with np.errstate(invalid="ignore"):
        code = np.where(level >= green, 0, np.where(level >= amber, 1, 2))
    code[~ok] = 3
    status = np.array(["green", "amber", "red", INSUFFICIENT], dtype=object)[code]

    index = frame.index
    return HealthScores(
        score=total,
        status=status,
        contributions=pd.DataFrame(contributions.T, index=index, columns=names, copy=False),
        measure_scores=pd.DataFrame(used.T, index=index, columns=names, copy=False),
        missing=pd.DataFrame(missing.T, index=index, columns=names, copy=False),
        coverage=coverage,
    )
