"""Turn source values into canonical types, cell by cell, without losing track of failures.

Every function works on whole Arrow columns (fast on millions of rows) and returns, beside the
values, a column of reasons: null where the cell was fine, a sentence where it was not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cxlens.schema import ColumnType
from cxlens.sources.mapping import FieldSpec

TIMESTAMP = pa.timestamp("us")

#: Tried in order when a time field names no format.
DEFAULT_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_INTEGER = r"^[+-]?\d+$"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_PLAUSIBLE_YEARS = (1900, 2200)


@dataclass(frozen=True)
class Coerced:
    values: pa.Array
    #: Null where the cell is fine, else why it is not.
    reasons: pa.Array


def _null(type_: pa.DataType) -> pa.Scalar:
    return pa.scalar(None, type=type_)


def _no_reasons(n: int) -> pa.Array:
    return pa.nulls(n, type=pa.string())


def _reason_where(mask: pa.Array, reason: str, reasons: pa.Array) -> pa.Array:
    """Set `reason` where `mask` is true and no earlier reason is set."""
    mask = pc.fill_null(mask, False)
    return pc.if_else(pc.and_(mask, pc.is_null(reasons)), pa.scalar(reason), reasons)


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values


def blank_to_null(values: pa.Array) -> pa.Array:
    """Trim text and treat empty strings as missing."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return values
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), _null(values.type), trimmed)


def to_text(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_floating(values.type):
        integral = pc.equal(values, pc.floor(values))
        as_int = pc.cast(pc.if_else(integral, values, _null(values.type)), pa.int64(), safe=False)
        return pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
    if pa.types.is_timestamp(values.type):
        seconds = pc.cast(values, pa.timestamp("s", values.type.tz), safe=False)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(values, pa.string())


def source_values(table: pa.Table, spec: FieldSpec) -> pa.Array:
    """The raw values a field spec points at: a column, a constant or a template."""
    n = table.num_rows
    if spec.column is not None:
        return blank_to_null(as_array(table.column(spec.column)))
    if spec.template is not None:
        return _template(table, spec.template)
    return pa.array([spec.const] * n) if n else pa.array([], type=pa.string())


def _template(table: pa.Table, template: str) -> pa.Array:
    import string

    parts: list[pa.Array | pa.Scalar] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal))
        if field:
            parts.append(to_text(blank_to_null(as_array(table.column(field)))))
    if not parts:
        return pa.array([template] * table.num_rows, type=pa.string())
    if len(parts) == 1 and isinstance(parts[0], pa.Scalar):
        return pa.array([parts[0].as_py()] * table.num_rows, type=pa.string())
    # A missing placeholder makes the whole value missing (null), never a half-filled id.
    return pc.binary_join_element_wise(*parts, "")


def apply_map(values: pa.Array, mapping: dict[str, Any]) -> Coerced:
    keys = list(mapping)
    targets = pa.array([None if v is None else str(v) for v in mapping.values()], pa.string())
    text = to_text(values)
    index = pc.index_in(pc.utf8_lower(text), value_set=pa.array([k.lower() for k in keys]))
    mapped = pc.take(targets, index)
    shown = ", ".join(keys[:12]) + (" ..." if len(keys) > 12 else "")
    reasons = _reason_where(
        pc.and_(pc.is_valid(text), pc.is_null(index)),
        f"not one of the mapped values ({shown})",
        _no_reasons(len(values)),
    )
    return Coerced(mapped, reasons)


def parse_number(values: pa.Array, integer: bool) -> Coerced:
    n = len(values)
    reasons = _no_reasons(n)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        numbers = pc.cast(values, pa.float64())
    elif pa.types.is_boolean(values.type):
        numbers = pc.cast(values, pa.float64())
    else:
        text = to_text(values)
        ok = pc.match_substring_regex(text, _NUMBER)
        reasons = _reason_where(pc.invert(ok), "not a number", reasons)
        numbers = pc.cast(pc.if_else(ok, text, _null(pa.string())), pa.float64())
    nan = pc.is_nan(numbers)
    reasons = _reason_where(nan, "not a number", reasons)
    numbers = pc.if_else(pc.fill_null(nan, False), _null(pa.float64()), numbers)
    if integer:
        fractional = pc.not_equal(numbers, pc.floor(numbers))
        reasons = _reason_where(fractional, "not a whole number", reasons)
        clean = pc.if_else(pc.fill_null(fractional, False), _null(pa.float64()), numbers)
        return Coerced(pc.cast(clean, pa.int64(), safe=False), reasons)
    return Coerced(numbers, reasons)


def parse_time(values: pa.Array, spec: FieldSpec, default_tz: str) -> Coerced:
    """Parse times to naive UTC; times written without a zone are in `timezone`."""
    tz = spec.timezone or default_tz
    n = len(values)
    reasons = _no_reasons(n)
    if pa.types.is_timestamp(values.type):
        parsed = _to_utc(values, tz)
    elif pa.types.is_date(values.type):
        parsed = _to_utc(pc.cast(values, TIMESTAMP), tz)
    elif spec.format in ("epoch", "epoch_ms"):
        num = parse_number(values, integer=False)
        reasons = num.reasons
        factor = 1_000_000 if spec.format == "epoch" else 1_000
        micros = pc.cast(pc.multiply(num.values, factor), pa.int64(), safe=False)
        parsed = pc.cast(micros, TIMESTAMP)
    else:
        text = to_text(values)
        # Sub-second precision adds nothing to customer events and varies between exports.
        text = pc.replace_substring_regex(text, r"(\d{2}:\d{2}:\d{2})[.,]\d+", r"\1")
        if spec.format is None:
            formats = list(DEFAULT_TIME_FORMATS)
        elif isinstance(spec.format, str):
            formats = [spec.format]
        else:
            formats = list(spec.format)
        parsed = pa.nulls(n, type=TIMESTAMP)
        for fmt in formats:
            remaining = pc.and_(pc.is_valid(text), pc.is_null(parsed))
            if not pc.any(remaining).as_py():
                break
            attempt = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
            attempt = _to_utc(attempt, tz)
            parsed = pc.coalesce(parsed, attempt)
        expected = "ISO 8601" if spec.format is None else " or ".join(formats)
        reasons = _reason_where(
            pc.and_(pc.is_valid(text), pc.is_null(parsed)), f"not a time in {expected}", reasons
        )
    years = pc.year(parsed)
    implausible = pc.or_(
        pc.less(years, _PLAUSIBLE_YEARS[0]), pc.greater(years, _PLAUSIBLE_YEARS[1])
    )
    reasons = _reason_where(implausible, "implausible year", reasons)
    parsed = pc.if_else(pc.fill_null(implausible, False), _null(TIMESTAMP), parsed)
    return Coerced(parsed, reasons)


def _to_utc(values: pa.Array, tz: str) -> pa.Array:
    if values.type.tz is not None:
        return pc.cast(values, TIMESTAMP)
    values = pc.cast(values, TIMESTAMP)
    if tz in ("UTC", "Etc/UTC"):
        return values
    aware = pc.assume_timezone(values, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    return pc.cast(aware, TIMESTAMP)


def coerce(table: pa.Table, spec: FieldSpec, type_: ColumnType, default_tz: str) -> Coerced:
    """Read one canonical field from a batch: source value, map, default, type, scale."""
    values = source_values(table, spec)
    n = table.num_rows
    reasons = _no_reasons(n)
    if spec.map is not None:
        mapped = apply_map(values, spec.map)
        values, reasons = mapped.values, mapped.reasons
    if spec.default is not None:
        values = pc.coalesce(to_text(values), pa.scalar(str(spec.default)))
    if type_ is ColumnType.TIMESTAMP:
        result = parse_time(values, spec, default_tz)
        if spec.add_minutes:
            minutes = parse_number(blank_to_null(as_array(table.column(spec.add_minutes))), False)
            micros = pc.cast(pc.multiply(minutes.values, 60_000_000), pa.int64(), safe=False)
            shifted = pc.cast(pc.add(pc.cast(result.values, pa.int64()), micros), TIMESTAMP)
            missing_minutes = pc.and_(pc.is_valid(result.values), pc.is_null(minutes.values))
            result = Coerced(
                pc.if_else(missing_minutes, _null(TIMESTAMP), shifted),
                pc.coalesce(result.reasons, minutes.reasons),
            )
    elif type_ in (ColumnType.FLOAT, ColumnType.INTEGER):
        result = parse_number(values, integer=type_ is ColumnType.INTEGER)
        if spec.scale is not None and result.values.type == pa.float64():
            result = Coerced(pc.multiply(result.values, spec.scale), result.reasons)
    else:
        result = Coerced(blank_to_null(to_text(values)) if n else values, _no_reasons(n))
    return Coerced(result.values, pc.coalesce(reasons, result.reasons))


# ---- JSON and hashing, vectorised ---------------------------------------------------------
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _json_value(values: pa.Array) -> pa.Array:
    """Each value as a JSON literal (text), null where missing."""
    if pa.types.is_floating(values.type):
        finite = pc.is_finite(values)
        return to_text(pc.if_else(finite, values, _null(values.type)))
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.string())
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, pa.scalar("true"), pa.scalar("false"))
    text = to_text(values)
    escaped = text
    for raw, esc in _ESCAPES:
        escaped = pc.replace_substring(escaped, raw, esc)
    quoted = pc.binary_join_element_wise(pa.scalar('"'), escaped, pa.scalar('"'), "")
    control = pc.fill_null(pc.match_substring_regex(text, _CONTROL), False)
    if pc.any(control).as_py():
        fallback = [
            json.dumps(v, ensure_ascii=False) if c and v is not None else None
            for v, c in zip(text.to_pylist(), control.to_pylist(), strict=True)
        ]
        quoted = pc.if_else(control, pa.array(fallback, pa.string()), quoted)
    return quoted


def json_objects(pairs: list[tuple[str, pa.Array]], n: int) -> pa.Array:
    """One JSON object per row from named columns; keys with null values are left out."""
    if not pairs:
        return pa.nulls(n, type=pa.string())
    fragments = [
        pc.binary_join_element_wise(pa.scalar(json.dumps(key) + ":"), _json_value(values), "")
        for key, values in sorted(pairs, key=lambda p: p[0])
    ]
    # Folded pairwise: pyarrow's null_handling="skip" drops all-null rows instead of joining.
    body = fragments[0]
    for fragment in fragments[1:]:
        both = pc.binary_join_element_wise(body, fragment, ",")
        body = pc.coalesce(both, body, fragment)
    return pc.binary_join_element_wise(pa.scalar("{"), body, pa.scalar("}"), "")


def row_hashes(columns: list[pa.Array], prefix: str = "") -> pa.Array:
    """A stable content hash per row over the given columns."""
    texts = [pc.fill_null(to_text(c), "\x00") for c in columns]
    joined = pc.binary_join_element_wise(*texts, "\x1f") if len(texts) > 1 else texts[0]
    return pa.array(
        [
            prefix + hashlib.blake2b(s.encode(), digest_size=16).hexdigest()
            for s in joined.to_pylist()
        ],
        type=pa.string(),
    )
