"""The scorecard as data: measures, their scoring rules and weights, bands and segment overrides.

A scorecard is configuration a customer-success team edits, so every rule is validated when
it is read and every message names the measure and the field at fault. Scoring itself lives
in `scoring`; nothing here touches a frame.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MissingPolicy = Literal["reweight", "neutral", "worst"]

#: Score a measure gets when it is missing under the `neutral` and `worst` policies.
IMPUTED: dict[str, float] = {"neutral": 50.0, "worst": 0.0}

#: Spellings of yes / no that YAML, spreadsheets and CRMs use for the same answer.
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def category_key(value: object) -> str:
    """The form category labels and input values are compared in.

    Case and surrounding space do not matter, yes/true/y/1 (and no/false/n/0) are one answer,
    and a whole number matches its label (2.0 matches "2"). YAML reads an unquoted `yes:` key as
    a boolean, so without this `{yes: 0}` would never match the text "yes".
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    """Score 100 at or beyond `green`, 0 at or beyond `red`, linear in between.

    The direction follows from the two values: green above red means higher is better.
    """

    green: float
    red: float

    @model_validator(mode="after")
    def _distinct(self) -> Thresholds:
        if self.green == self.red:
            raise ValueError(
                f"green and red are both {self.green}: they must differ (green above red when "
                "higher is better, below it when lower is better)"
            )
        return self


class Bands(_Strict):
    """Status cut-offs on the 0–100 score: >= green is green, >= amber is amber, else red."""

    green: float = Field(70.0, ge=0.0, le=100.0)
    amber: float = Field(40.0, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.amber > self.green:
            raise ValueError(f"amber ({self.amber}) must not be above green ({self.green})")
        return self


class Measure(_Strict):
    """One line of the scorecard: the input column it reads, how a value becomes 0–100, and
    its weight. Exactly one rule: `thresholds`, `points` or `categories`."""

    name: str = Field(min_length=1)
    label: str = ""
    weight: float = Field(gt=0.0)
    thresholds: Thresholds | None = None
    points: list[tuple[float, float]] | None = None
    categories: dict[str, float] | None = None
    missing: MissingPolicy = "reweight"

    @model_validator(mode="before")
    @classmethod
    def _default_label(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("label") and isinstance(data.get("name"), str):
            return {**data, "label": data["name"].replace("_", " ").capitalize()}
        return data

    @field_validator("categories", mode="before")
    @classmethod
    def _labels_as_text(cls, value: object) -> object:
        # YAML turns unquoted yes/no/true/false keys into booleans; keep what the user meant.
        if isinstance(value, dict):
            return {category_key(k) if isinstance(k, bool) else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> Measure:
        where = f"measure '{self.name}'"
        rules = [r for r in ("thresholds", "points", "categories") if getattr(self, r) is not None]
        if len(rules) != 1:
            found = f" (found {' and '.join(rules)})" if rules else ""
            raise ValueError(
                f"{where}: give exactly one of thresholds, points or categories{found}"
            )
        if self.points is not None:
            xs = [x for x, _ in self.points]
            if len(xs) < 2:
                raise ValueError(f"{where}: points need at least two [value, score] pairs")
            if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
                raise ValueError(f"{where}: points must be sorted by value, each value once: {xs}")
            bad = [s for _, s in self.points if not 0.0 <= s <= 100.0]
            if bad:
                raise ValueError(f"{where}: point scores must be between 0 and 100, got {bad}")
        if self.categories is not None:
            if not self.categories:
                raise ValueError(f"{where}: categories must list at least one value")
            bad_c = {k: s for k, s in self.categories.items() if not 0.0 <= s <= 100.0}
            if bad_c:
                raise ValueError(f"{where}: category scores must be between 0 and 100, got {bad_c}")
            keys = [category_key(k) for k in self.categories]
            if len(set(keys)) != len(keys):
                raise ValueError(
                    f"{where}: categories {list(self.categories)} name the same value twice "
                    "(case, spaces and yes/true are not told apart)"
                )
        return self


class SegmentOverride(_Strict):
    """What changes for customers of one segment; anything left out is the scorecard's own.

    `weights` re-weights measures by name (0 leaves a measure out for the segment), `measures`
    replaces whole measures (rule, weight and missing policy) by name.
    """

    weights: dict[str, float] = Field(default_factory=dict)
    measures: list[Measure] = Field(default_factory=list)
    bands: Bands | None = None
    min_coverage: float | None = Field(None, ge=0.0, le=1.0)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in value.items() if w < 0}
        if bad:
            raise ValueError(f"weights must be 0 (leave the measure out) or more, got {bad}")
        return value


class Scorecard(_Strict):
    """Measures and weights → a 0–100 score and a green / amber / red status per customer."""

    name: str = Field(min_length=1)
    description: str = ""
    measures: list[Measure] = Field(min_length=1)
    bands: Bands = Field(default_factory=lambda: Bands())
    segments: dict[str, SegmentOverride] = Field(default_factory=dict)
    min_coverage: float = Field(0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _consistent(self) -> Scorecard:
        names = [m.name for m in self.measures]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"measures {twice} are listed more than once")
        known = set(names)
        folded = [str(s).strip().lower() for s in self.segments]
        clash = sorted({s for s in self.segments if folded.count(str(s).strip().lower()) > 1})
        if clash:
            raise ValueError(
                f"segments {clash} differ only in case or spaces; segment values are matched "
                "ignoring both, so give each segment once"
            )
        for segment, override in self.segments.items():
            where = f"segment '{segment}'"
            for field, used in (
                ("weights", list(override.weights)),
                ("measures", [m.name for m in override.measures]),
            ):
                unknown = [n for n in used if n not in known]
                if unknown:
                    raise ValueError(
                        f"{where}: {field} name unknown measure(s) {unknown}; the scorecard's "
                        f"measures are {names}"
                    )
            weights = [w for _, w, _ in self.resolve(segment)]
            if sum(weights) <= 0:
                raise ValueError(f"{where}: every measure has weight 0, nothing is left to score")
        return self

    def resolve(self, segment: str | None) -> list[tuple[Measure, float, int]]:
        """The measures in force for a segment: (measure, weight, position in `measures`)."""
        override = self.segments.get(segment) if segment is not None else None
        if override is None:
            return [(m, m.weight, i) for i, m in enumerate(self.measures)]
        replaced = {m.name: m for m in override.measures}
        out = []
        for i, base in enumerate(self.measures):
            measure = replaced.get(base.name, base)
            out.append((measure, override.weights.get(base.name, measure.weight), i))
        return out

    def bands_for(self, segment: str | None) -> Bands:
        override = self.segments.get(segment) if segment is not None else None
        return override.bands if override is not None and override.bands else self.bands

    def min_coverage_for(self, segment: str | None) -> float:
        override = self.segments.get(segment) if segment is not None else None
        if override is not None and override.min_coverage is not None:
            return override.min_coverage
        return self.min_coverage
