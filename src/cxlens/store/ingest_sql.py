"""Compile a source's mappings into the SQL the ingest engine runs over one Arrow batch.

The ingest engine is always an embedded DuckDB connection (the store's own for a DuckDB store,
an in-memory one otherwise): it reads Arrow zero-copy and evaluates every check vectorised on
all cores. The query is built in three layers over the registered batch:

- `l1`: the batch plus `s<k>`, the source value of each field (column, constant or template),
  and `a<m>`, whether mapping m applies to the row;
- `l2`: `l1` plus `x<k>`, each value mapped, defaulted and typed;
- `l3`: `l2` plus `v<k>`, the final value, and `r<k>`, why the cell fails (null when it is fine).

Rejects, records and events are then selected from `l3`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from cxlens.schema import Channel, ColumnType, Department, EventKind, JourneyStage
from cxlens.sources.mapping import FieldSpec, as_spec
from cxlens.sources.resolve import ResolvedSource

#: Tried in order when a time field names no format; a trailing "Z" is read as +0000.
DEFAULT_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
PLAUSIBLE_YEARS = (1900, 2200)
#: Trimmed from both ends of every text cell: space, tab, newline, carriage return, VT, FF.
_BLANKS = "' \t\n\r\x0b\x0c'"
ENUMS: dict[str, list[str]] = {
    "department": [d.value for d in Department],
    "journey_stage": [j.value for j in JourneyStage],
    "channel": [c.value for c in Channel],
}
KINDS = [k.value for k in EventKind]
EVENT_CORE = (
    "department",
    "journey_stage",
    "touchpoint",
    "channel",
    "reference",
    "amount",
    "currency",
    "quantity",
    "score",
    "text",
)
EVENT_TYPES = {"amount": ColumnType.FLOAT, "quantity": ColumnType.FLOAT, "score": ColumnType.FLOAT}


def lit(value: Any) -> str:
    """A SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_in(expr: str, values: list[str]) -> str:
    # Not IN nor list_contains: inside large projections DuckDB turns those into one join per
    # list, which costs more than checking the value in place.
    return f"(list_position([{', '.join(lit(v) for v in values)}], {expr}) IS NOT NULL)"


def as_text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


@dataclass
class Field:
    """One canonical field of one mapping, compiled."""

    k: int
    label: str
    mapping: int
    source: str  # s<k> expression over the batch
    typed: str  # x<k> expression over l1
    final: str  # v<k> expression over l2
    checks: list[tuple[str, str]] = field(default_factory=list)  # (condition over l2, reason)
    raw: str = ""  # what the reject shows as the value


class Compiler:
    """Compiles the fields of a source's mappings, one at a time, into layered SQL columns."""

    def __init__(
        self, source: ResolvedSource, schema: pa.Schema, load_id: str, *, trim: bool = True
    ) -> None:
        self.source = source
        self.schema = schema
        self.load_id = load_id
        #: Trim blanks from text cells (text exports); typed sources keep values as stored.
        self.trim = trim
        self.fields: list[Field] = []
        self.applies: list[str] = []  # a<m> expressions over the batch, per mapping
        self.extras: dict[str, str] = {}  # more l1 columns some fields need
        #: Row-level rules beyond one field: (mapping, label, value shown, condition, reason).
        self.extra_reasons: list[tuple[int, str, str, str, str]] = []

    # ---- a field ----------------------------------------------------------------------------
    def _column_type(self, column: str) -> pa.DataType:
        return self.schema.field(column).type

    def _source(self, spec: FieldSpec) -> tuple[str, pa.DataType | None]:
        if spec.column is not None:
            return self.column(spec.column)
        if spec.columns is not None:
            filled = [self.column(c) for c in spec.columns]
            if len({str(t) for _, t in filled}) == 1:
                return f"coalesce({', '.join(e for e, _ in filled)})", filled[0][1]
            return f"coalesce({', '.join(as_text(e) for e, _ in filled)})", pa.string()
        if spec.template is not None:
            parts = []
            for literal, name, _, _ in string.Formatter().parse(spec.template):
                if literal:
                    parts.append(lit(literal))
                if name:
                    parts.append(as_text(self.column(name)[0]))
            return (" || ".join(parts) if parts else lit(spec.template)), pa.string()
        return lit(spec.const), None

    def column(self, column: str) -> tuple[str, pa.DataType]:
        """A source column as SQL, empty text as NULL (and trimmed, for text exports)."""
        type_ = self._column_type(column)
        col = ident(column)
        if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
            return col, type_
        if not self.trim:
            return f"nullif({col}, '')", type_
        # Trimming every cell is slow; only cells that start or end with a blank need it.
        return (
            f"(CASE WHEN {col} = '' THEN NULL WHEN ascii({col}) <= 32 OR "
            f"ascii(right({col}, 1)) <= 32 THEN nullif(trim({col}, {_BLANKS}), '') "
            f"ELSE {col} END)",
            type_,
        )

    def add(
        self,
        mapping: int,
        label: str,
        value: str | FieldSpec,
        type_: ColumnType,
        *,
        required: bool = False,
    ) -> Field:
        spec = as_spec(value)
        k = len(self.fields)
        source, arrow_type = self._source(spec)
        s = f"s{k}"
        checks: list[tuple[str, str]] = []
        typed = s
        if spec.map is not None:
            keys = [key.lower() for key in spec.map]
            cases = " ".join(
                f"WHEN {lit(key.lower())} THEN {lit(None if v is None else str(v))}"
                for key, v in spec.map.items()
            )
            typed = f"(CASE lower({as_text(s)}) {cases} END)"
            shown = ", ".join(list(spec.map)[:12]) + (" ..." if len(spec.map) > 12 else "")
            checks.append(
                (
                    f"{s} IS NOT NULL AND NOT {sql_in(f'lower({as_text(s)})', keys)}",
                    f"not one of the mapped values ({shown})",
                )
            )
            arrow_type = pa.string()
        if spec.default is not None:
            typed = f"coalesce({as_text(typed)}, {lit(str(spec.default))})"
            arrow_type = pa.string()
        typed, final, type_checks = self._typed(k, typed, arrow_type, spec, type_)
        checks += type_checks
        if required:
            checks.append((f"v{k} IS NULL", "missing value"))
        shown_label = f"{label} (column '{spec.column}')" if spec.column else label
        f = Field(k, shown_label, mapping, source, typed, final, checks, raw=as_text(s))
        self.fields.append(f)
        return f

    def _typed(
        self, k: int, expr: str, arrow_type: pa.DataType | None, spec: FieldSpec, type_: ColumnType
    ) -> tuple[str, str, list[tuple[str, str]]]:
        """(x expression over l1, v expression over l2, checks over l2)."""
        s, x = f"s{k}", f"x{k}"
        native_number = arrow_type is not None and (
            pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
        )
        if type_ in (ColumnType.FLOAT, ColumnType.INTEGER):
            number = f"CAST({expr} AS DOUBLE)" if native_number else f"TRY_CAST({expr} AS DOUBLE)"
            checks = [(f"{s} IS NOT NULL AND ({x} IS NULL OR NOT isfinite({x}))", "not a number")]
            value = f"CASE WHEN isfinite({x}) THEN {x} END"
            if type_ is ColumnType.INTEGER:
                checks.append((f"isfinite({x}) AND {x} <> floor({x})", "not a whole number"))
                value = f"CASE WHEN isfinite({x}) AND {x} = floor({x}) THEN CAST({x} AS BIGINT) END"
            elif spec.scale is not None:
                value = f"({value}) * {lit(spec.scale)}"
            return number, value, checks
        if type_ is ColumnType.TIMESTAMP:
            return self._time(k, expr, arrow_type, spec)
        return as_text(expr), x, []

    def _local(self, expr: str, tz: str) -> str:
        """A naive time written in `tz`, as naive UTC."""
        if tz in ("UTC", "Etc/UTC"):
            return expr
        return f"timezone('UTC', timezone({lit(tz)}, {expr}))"

    def _time(
        self, k: int, expr: str, arrow_type: pa.DataType | None, spec: FieldSpec
    ) -> tuple[str, str, list[tuple[str, str]]]:
        s, x = f"s{k}", f"x{k}"
        tz = spec.timezone or self.source.timezone
        if arrow_type is not None and pa.types.is_timestamp(arrow_type):
            typed = (
                f"timezone('UTC', {expr})"
                if arrow_type.tz
                else self._local(f"CAST({expr} AS TIMESTAMP)", tz)
            )
            expected = "time"
        elif arrow_type is not None and pa.types.is_date(arrow_type):
            typed = self._local(f"CAST({expr} AS TIMESTAMP)", tz)
            expected = "date"
        elif spec.format in ("epoch", "epoch_ms"):
            divisor = "" if spec.format == "epoch" else " / 1000.0"
            typed = f"timezone('UTC', to_timestamp(TRY_CAST({expr} AS DOUBLE){divisor}))"
            expected = f"Unix time ({spec.format})"
        else:
            formats = (
                list(DEFAULT_TIME_FORMATS)
                if spec.format is None
                else [spec.format]
                if isinstance(spec.format, str)
                else list(spec.format)
            )
            text = (
                f"regexp_replace(regexp_replace({as_text(expr)}, "
                r"'(\d{2}:\d{2}:\d{2})[.,]\d+', '\1'), 'Z$', '+0000')"
            )
            aware = [f for f in formats if "%z" in f or "%Z" in f]
            naive = [f for f in formats if f not in aware]
            parts = []
            if aware:
                parts.append(
                    f"timezone('UTC', try_strptime({text}, [{', '.join(lit(f) for f in aware)}]))"
                )
            if naive:
                parts.append(
                    self._local(f"try_strptime({text}, [{', '.join(lit(f) for f in naive)}])", tz)
                )
            typed = f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0]
            expected = "ISO 8601" if spec.format is None else " or ".join(formats)
        low, high = PLAUSIBLE_YEARS
        reason = f"not a time in {expected}" if expected not in ("time", "date") else "not a time"
        checks = [
            (f"{s} IS NOT NULL AND {x} IS NULL", reason),
            (f"year({x}) NOT BETWEEN {low} AND {high}", "implausible year"),
        ]
        value = f"CASE WHEN year({x}) BETWEEN {low} AND {high} THEN {x} END"
        if spec.add_minutes:
            raw_minutes = self.column(spec.add_minutes)[0]
            self.extras[f"m{k}"] = f"TRY_CAST({raw_minutes} AS DOUBLE)"
            self.extras[f"mr{k}"] = as_text(raw_minutes)
            checks.append(
                (
                    f"mr{k} IS NOT NULL AND m{k} IS NULL",
                    f"not a number of minutes ('{spec.add_minutes}')",
                )
            )
            value = f"({value}) + to_microseconds(CAST(round(m{k} * 60000000) AS BIGINT))"
        return typed, value, checks
