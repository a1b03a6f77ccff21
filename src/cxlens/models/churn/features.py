"""Columns a churn model can learn from: numbers stay numbers, labels become categories.

`Schema` remembers, from the training frame, which columns are numeric and which categorical
(with their levels), so scoring frames are read the same way: a level not seen in training
becomes missing instead of being silently given another level's code. `prepare` is an optional
convenience for raw exports (numbers stored as text with blanks, yes/no labels, id columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxlens.errors import ModelError

F64 = npt.NDArray[np.float64]


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


@dataclass(frozen=True)
class Schema:
    """Feature names in order, and the levels of each categorical one."""

    features: tuple[str, ...]
    categories: Mapping[str, tuple[Any, ...]]

    @classmethod
    def learn(cls, frame: pd.DataFrame) -> Schema:
        if frame.shape[1] == 0:
            raise ModelError("the feature frame has no columns")
        categories: dict[str, tuple[Any, ...]] = {}
        for name in frame.columns:
            column = frame[name]
            if pd.api.types.is_datetime64_any_dtype(column):
                raise ModelError(
                    f"feature '{name}' holds dates; turn it into a number first "
                    "(e.g. days since the date)"
                )
            if _is_numeric(column):
                continue
            if isinstance(column.dtype, pd.CategoricalDtype):
                levels = list(column.cat.categories)
            else:
                levels = sorted(pd.unique(column.dropna().astype(str)))
            categories[str(name)] = tuple(levels)
        return cls(tuple(str(c) for c in frame.columns), categories)

    def check(self, frame: pd.DataFrame) -> None:
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ModelError(f"the frame lacks feature(s) the model was trained on: {missing}")

    def codes(self, frame: pd.DataFrame, name: str) -> npt.NDArray[np.int64]:
        """Level index of each row of a categorical feature; -1 for missing or unseen."""
        column = frame[name]
        levels = self.categories[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype("string").astype(object)
            if levels and not isinstance(levels[0], str):
                levels = tuple(str(v) for v in levels)
        return np.asarray(pd.Categorical(column, categories=levels).codes, dtype=np.int64)

    def numeric(self, frame: pd.DataFrame, name: str) -> F64:
        return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)

    def matrix(self, frame: pd.DataFrame) -> F64:
        """Rows x features as floats; categorical features as level codes (NaN when missing)."""
        self.check(frame)
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            if name in self.categories:
                codes = self.codes(frame, name).astype(np.float64)
                codes[codes < 0] = np.nan
                out[:, j] = codes
            else:
                out[:, j] = self.numeric(frame, name)
        return out

    def categorical_indices(self) -> list[int]:
        return [j for j, name in enumerate(self.features) if name in self.categories]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Schema:
        return cls(
            tuple(state["features"]),
            {k: tuple(v) for k, v in state["categories"].items()},
        )


def prepare(
    frame: pd.DataFrame,
    *,
    drop: Iterable[str] = (),
    ratios: Mapping[str, tuple[str, str]] | None = None,
    max_levels: int = 50,
) -> pd.DataFrame:
    """A raw customer table made ready for `ChurnModel`: a copy without the `drop` columns
    (ids, the label), where text columns that hold only numbers (and blanks) become numbers,
    booleans become 0/1, other text becomes a category (levels beyond the `max_levels` most
    common are pooled as "(other)" so one-off values do not become features), and each
    `ratios` entry `name: (numerator, denominator)` adds numerator / denominator (missing when
    the denominator is 0). Nothing here knows any particular data set."""
    out = frame.drop(columns=list(drop)).copy()
    for name in list(out.columns):
        column = out[name]
        if pd.api.types.is_bool_dtype(column):
            out[name] = column.astype(float)
        elif not _is_numeric(column) and not isinstance(column.dtype, pd.CategoricalDtype):
            text = column.astype("string").str.strip()
            text = text.where(text != "")
            number = pd.to_numeric(text, errors="coerce")
            if text.notna().sum() and (number.notna() == text.notna()).all():
                out[name] = number.astype(float)
                continue
            counts = text.value_counts()
            if len(counts) > max_levels:
                text = text.where(text.isin(counts.index[:max_levels]) | text.isna(), "(other)")
            out[name] = text.astype(object).astype("category")
    for name, (numerator, denominator) in (ratios or {}).items():
        for c in (numerator, denominator):
            if c not in out.columns:
                raise ModelError(f"ratio '{name}' needs column '{c}', which is not in the frame")
        top = pd.to_numeric(out[numerator], errors="coerce").astype(float)
        bottom = pd.to_numeric(out[denominator], errors="coerce").astype(float)
        out[name] = top / bottom.where(bottom != 0)
    return out
