"""Reasons in plain language: the few features that push one customer's churn risk up most.

A contribution matrix (tree SHAP, one column per feature) says how much each feature moved
each customer's log-odds. For a million customers only the top few per row are shown, so the
top is found with `argpartition` (linear per row, no full sort) and only the chosen cells are
formatted, each distinct value of a feature once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import ModelError

Template = Callable[[object], str] | str


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature that raises this customer's risk: how much (log-odds), its value, in words."""

    feature: str
    contribution: float
    value: object
    text: str


def _fallback(feature: str, value: object) -> str:
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{feature} = {shown}"


def _format(feature: str, template: Template | None, values: list[object]) -> list[str]:
    if template is None:
        return [_fallback(feature, v) for v in values]
    try:
        if isinstance(template, str):
            return [template.format(value=v) for v in values]
        return [template(v) for v in values]
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise ModelError(
            f"the reason template of feature '{feature}' failed ({exc!r}); a text template "
            "may only use {value} (with an optional format spec such as {value:.0f})"
        ) from exc


def _texts(
    feature: str, template: Template | None, column: np.ndarray
) -> tuple[list[object], list[str]]:
    """Python values and their texts for the chosen cells of one feature."""
    codes, uniques = pd.factorize(pd.Series(column), use_na_sentinel=False)
    unique_values = list(np.asarray(uniques, dtype=object))
    unique_values = [v.item() if isinstance(v, np.generic) else v for v in unique_values]
    unique_texts = _format(feature, template, unique_values)
    values = [unique_values[c] for c in codes.tolist()]
    texts = [unique_texts[c] for c in codes.tolist()]
    return values, texts


def reasons(
    X: pd.DataFrame,
    contributions: pd.DataFrame,
    templates: Mapping[str, Template],
    *,
    top: int = 3,
) -> list[list[Reason]]:
    """Per row of `X`, up to `top` features with the largest positive contribution, largest
    first. `templates` maps a feature to a `str.format` template using `{value}` (e.g.
    "{value:.0f} support tickets in 90 days") or to a function of the value; a feature without
    one reads "<feature> = <value>". Rows where nothing raises the risk get an empty list."""
    features = [str(c) for c in contributions.columns if c != "bias"]
    if len(X) != len(contributions):
        raise ModelError(f"{len(X)} rows of features but {len(contributions)} of contributions")
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise ModelError(f"the feature frame lacks contribution column(s) {missing}")
    n, f = len(X), len(features)
    k = min(max(top, 0), f)
    if n == 0 or k == 0:
        return [[] for _ in range(n)]
    matrix = contributions[features].to_numpy(dtype=np.float64)
    if k < f:
        chosen = np.argpartition(-matrix, k - 1, axis=1)[:, :k]
    else:
        chosen = np.broadcast_to(np.arange(f), (n, f)).copy()
    picked = np.take_along_axis(matrix, chosen, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    chosen = np.take_along_axis(chosen, order, axis=1)
    picked = np.take_along_axis(picked, order, axis=1)
    keep = picked > 0

    rows, slots = np.nonzero(keep)  # row-major: each row's reasons in order, largest first
    which = chosen[rows, slots]
    values: np.ndarray = np.empty(len(rows), dtype=object)
    texts: np.ndarray = np.empty(len(rows), dtype=object)
    for j, name in enumerate(features):
        at = np.flatnonzero(which == j)
        if len(at) == 0:
            continue
        column = X[name].to_numpy()[rows[at]]
        v, t = _texts(name, templates.get(name), column)
        values[at] = v
        texts[at] = t
    names = np.asarray(features, dtype=object)[which].tolist()
    flat = list(map(Reason, names, picked[rows, slots].tolist(), values.tolist(), texts.tolist()))
    ends = np.cumsum(keep.sum(axis=1)).tolist()
    starts = [0, *ends[:-1]]
    return [flat[a:b] for a, b in zip(starts, ends, strict=True)]
