"""Validate and normalise one batch of source rows into canonical records, events and rejects.

A row is accepted whole or rejected whole: if any field of any mapping fails, none of what the
row would have produced is loaded, and every failing field is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from cxlens.errors import ConfigError
from cxlens.ingest.coerce import (
    Coerced,
    _no_reasons,
    _reason_where,
    blank_to_null,
    coerce,
    json_objects,
    row_hashes,
    to_text,
)
from cxlens.schema import (
    EVENT_FIELDS,
    EVENTS,
    KIND_SPECS,
    RECORD_FIELDS,
    REJECTS,
    SOURCE_RECORDS,
    Channel,
    ColumnType,
    Department,
    EventKind,
    JourneyStage,
)
from cxlens.sources.mapping import EventMapping, FieldSpec, RecordMapping, as_spec
from cxlens.sources.readers import PARSE_ERROR, ROW_NUMBER
from cxlens.store import arrow_schema

_ENUMS: dict[str, list[str]] = {
    "department": [d.value for d in Department],
    "journey_stage": [j.value for j in JourneyStage],
    "channel": [c.value for c in Channel],
}
_VALID_ACTIONS = sorted(f"{k.value}|{a}" for k, s in KIND_SPECS.items() for a in s.actions)


@dataclass(frozen=True)
class CompiledSource:
    """A source's mappings with the preset applied and names resolved."""

    name: str
    system: str
    timezone: str
    records: list[RecordMapping]
    events: list[EventMapping]

    def required_columns(self) -> set[str]:
        cols: set[str] = set()
        for m in self.records:
            cols |= m.columns()
        for e in self.events:
            cols |= e.columns()
        return cols

    def check_columns(self, available: list[str], location: str) -> None:
        missing = sorted(self.required_columns() - set(available))
        if missing:
            raise ConfigError(
                f"source '{self.name}': {location} lacks column(s) the mapping reads: "
                f"{', '.join(repr(m) for m in missing)}. Columns in the file: "
                f"{', '.join(repr(a) for a in available)}. Fix the mapping or add `rename:`."
            )


@dataclass
class BatchResult:
    records: pa.Table
    events: pa.Table
    rejects: pa.Table
    rows_read: int
    rows_rejected: int


@dataclass
class _Problems:
    """Reasons per (field) for the rows of one batch."""

    n: int
    by_field: list[tuple[str, pa.Array, pa.Array]] = field(default_factory=list)
    #: Rows that could not be parsed at all: their fields are not judged one by one.
    unparsed: pa.Array | None = None

    def add(self, name: str, values: pa.Array, reasons: pa.Array, applies: pa.Array) -> None:
        if self.unparsed is not None:
            applies = pc.and_(applies, pc.invert(self.unparsed))
        reasons = pc.if_else(applies, reasons, pa.scalar(None, pa.string()))
        if pc.any(pc.is_valid(reasons)).as_py():
            self.by_field.append((name, to_text(values), reasons))

    def rejected_rows(self) -> pa.Array:
        mask = pa.array([False] * self.n)
        for _, _, reasons in self.by_field:
            mask = pc.or_(mask, pc.is_valid(reasons))
        return mask


def _outside(values: pa.Array, valid: list[str]) -> pa.Array:
    """True where a value is present and not one of `valid`."""
    return pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=pa.array(valid))))


def _label(field_name: str, spec: FieldSpec | None) -> str:
    if spec is not None and spec.column is not None:
        return f"{field_name} (column '{spec.column}')"
    return field_name


def _present(table: pa.Table, column: str | None) -> pa.Array:
    n = table.num_rows
    if column is None:
        return pa.array([True] * n)
    return pc.is_valid(blank_to_null(to_text(table.column(column).combine_chunks())))


def _prefixed(system: str, keys: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(system + ":"), to_text(keys), "")


class BatchTransformer:
    def __init__(self, source: CompiledSource, load_id: str, location: str) -> None:
        self.source = source
        self.load_id = load_id
        self.location = location

    # ---- one field --------------------------------------------------------------------------
    def _field(
        self,
        table: pa.Table,
        problems: _Problems,
        applies: pa.Array,
        name: str,
        value: str | FieldSpec,
        type_: ColumnType,
        *,
        required: bool = False,
    ) -> pa.Array:
        spec = as_spec(value)
        result: Coerced = coerce(table, spec, type_, self.source.timezone)
        reasons = result.reasons
        if required:
            reasons = _reason_where(pc.is_null(result.values), "missing value", reasons)
        if pc.any(pc.is_valid(reasons)).as_py():
            raw = (
                to_text(table.column(spec.column).combine_chunks())
                if spec.column
                else result.values
            )
            problems.add(_label(name, spec), raw, reasons, applies)
        return result.values

    # ---- records ----------------------------------------------------------------------------
    def _records(
        self, table: pa.Table, m: RecordMapping, problems: _Problems
    ) -> tuple[pa.Table, pa.Array]:
        n = table.num_rows
        applies = _present(table, m.when)
        system = m.system or self.source.system
        key = self._field(table, problems, applies, "key", m.key, ColumnType.TEXT, required=True)
        cols: dict[str, pa.Array] = {}
        for name, type_ in RECORD_FIELDS.items():
            if name in m.fields:
                cols[name] = self._field(table, problems, applies, name, m.fields[name], type_)
        if "email" in cols:
            cols["email"] = pc.utf8_lower(cols["email"])
        out: dict[str, pa.Array] = {
            "record_id": _prefixed(system, key),
            "system": pa.array([system] * n, pa.string()),
            "source_key": key,
            "source": pa.array([self.source.name] * n, pa.string()),
            "entity": pa.array([m.entity.value] * n, pa.string()),
        }
        account_key = cols.pop("account_key", None)
        for c in SOURCE_RECORDS.columns:
            if c.name in out:
                continue
            if c.name == "account_record_id":
                out[c.name] = (
                    _prefixed(m.account_system or system, account_key)
                    if account_key is not None
                    else pa.nulls(n, pa.string())
                )
            elif c.name == "external_ids":
                out[c.name] = json_objects(
                    [
                        (
                            s,
                            to_text(
                                self._field(
                                    table,
                                    problems,
                                    applies,
                                    f"external_ids.{s}",
                                    v,
                                    ColumnType.TEXT,
                                )
                            ),
                        )
                        for s, v in m.external_ids.items()
                    ],
                    n,
                )
            elif c.name == "attributes":
                out[c.name] = json_objects(
                    [
                        (a, to_text(blank_to_null(table.column(a).combine_chunks())))
                        for a in m.attributes
                    ],
                    n,
                )
            elif c.name in cols:
                out[c.name] = cols[c.name]
            elif c.name in ("content_hash", "load_id"):
                continue
            else:
                out[c.name] = pa.nulls(n, type=arrow_schema(SOURCE_RECORDS).field(c.name).type)
        hashed = [
            out[c]
            for c in SOURCE_RECORDS.column_names
            if c not in ("content_hash", "load_id", "source")
        ]
        out["content_hash"] = row_hashes(hashed)
        out["load_id"] = pa.array([self.load_id] * n, pa.string())
        return pa.table(out, schema=arrow_schema(SOURCE_RECORDS)), applies

    # ---- events -----------------------------------------------------------------------------
    def _events(
        self, table: pa.Table, m: EventMapping, problems: _Problems
    ) -> tuple[pa.Table, pa.Array]:
        n = table.num_rows
        applies = _present(table, m.when)
        if m.optional:
            # The event exists only where every column its time is read from is filled in.
            for column in as_spec(m.time).columns:
                applies = pc.and_(applies, _present(table, column))
        if isinstance(m.kind, EventKind):
            kind = pa.array([m.kind.value] * n, pa.string())
        else:
            kind = self._field(
                table, problems, applies, "kind", m.kind, ColumnType.TEXT, required=True
            )
            kind = pc.utf8_lower(kind)
            bad = _outside(kind, [k.value for k in EventKind])
            problems.add(
                _label("kind", m.kind),
                kind,
                _reason_where(
                    bad,
                    "unknown kind (valid: " + ", ".join(k.value for k in EventKind) + ")",
                    _no_reasons(n),
                ),
                applies,
            )
        action = (
            self._field(
                table, problems, applies, "action", m.action, ColumnType.TEXT, required=True
            )
            if m.action is not None
            else pa.nulls(n, pa.string())
        )
        action = pc.utf8_lower(action)
        pair = pc.binary_join_element_wise(kind, action, "|")
        problems.add(
            _label("action", as_spec(m.action) if m.action else None),
            action,
            _reason_where(
                _outside(pair, _VALID_ACTIONS),
                "not an action of this kind of event",
                _no_reasons(n),
            ),
            pc.and_(applies, pc.is_valid(kind)),
        )
        occurred = self._field(
            table, problems, applies, "time", m.time, ColumnType.TIMESTAMP, required=True
        )
        record_key = self._field(
            table, problems, applies, "record", m.record, ColumnType.TEXT, required=True
        )
        out: dict[str, pa.Array] = {}
        record_system = m.record_system or self.source.system
        out["record_id"] = _prefixed(record_system, record_key)
        out["account_record_id"] = (
            _prefixed(
                m.account_system or record_system,
                self._field(table, problems, applies, "account", m.account, ColumnType.TEXT),
            )
            if m.account is not None
            else pa.nulls(n, pa.string())
        )
        out["occurred_at"] = occurred
        out["kind"] = kind
        out["action"] = action
        for name in (
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
        ):
            type_ = EVENT_FIELDS[name]
            if name in m.fields:
                values = self._field(table, problems, applies, name, m.fields[name], type_)
            else:
                values = pa.nulls(n, pa.float64() if type_ is ColumnType.FLOAT else pa.string())
            out[name] = values
        out["currency"] = pc.utf8_upper(out["currency"])
        problems.add(
            "currency",
            out["currency"],
            _reason_where(
                pc.invert(pc.match_substring_regex(out["currency"], r"^[A-Z]{3}$")),
                "not an ISO 4217 currency code",
                _no_reasons(n),
            ),
            applies,
        )
        self._defaults_and_rules(out, kind, problems, applies)
        props = []
        for pname, pvalue in m.properties.items():
            ptype = next(s.properties[pname] for s in KIND_SPECS.values() if pname in s.properties)
            values = self._field(table, problems, applies, f"properties.{pname}", pvalue, ptype)
            allowed = next(
                (
                    s.property_values[pname]
                    for s in KIND_SPECS.values()
                    if pname in s.property_values
                ),
                None,
            )
            if allowed is not None:
                values = pc.utf8_lower(values)
                problems.add(
                    f"properties.{pname}",
                    values,
                    _reason_where(
                        _outside(values, sorted(allowed)),
                        "not one of " + ", ".join(sorted(allowed)),
                        _no_reasons(n),
                    ),
                    applies,
                )
            props.append((pname, values))
        out["properties"] = json_objects(props, n)
        if m.id is not None:
            ids = self._field(table, problems, applies, "id", m.id, ColumnType.TEXT, required=True)
            out["event_id"] = _prefixed(record_system, ids)
        else:
            content = [
                out[c]
                for c in (
                    "record_id",
                    "occurred_at",
                    "kind",
                    "action",
                    "reference",
                    "amount",
                    "score",
                    "text",
                    "properties",
                )
            ]
            out["event_id"] = row_hashes(content, prefix=f"{record_system}:h:")
        out["source"] = pa.array([self.source.name] * n, pa.string())
        out["load_id"] = pa.array([self.load_id] * n, pa.string())
        schema = arrow_schema(EVENTS)
        return pa.table({c: out[c] for c in schema.names}, schema=schema), applies

    def _defaults_and_rules(
        self, out: dict[str, pa.Array], kind: pa.Array, problems: _Problems, applies: pa.Array
    ) -> None:
        n = len(kind)
        kinds = [k.value for k in EventKind]
        index = pc.index_in(kind, value_set=pa.array(kinds))
        specs = [KIND_SPECS[EventKind(k)] for k in kinds]
        kind_defaults = {
            "department": [s.department.value for s in specs],
            "journey_stage": [s.journey_stage.value if s.journey_stage else None for s in specs],
        }
        for name, per_kind in kind_defaults.items():
            defaults = pc.take(pa.array(per_kind, pa.string()), index)
            out[name] = pc.coalesce(pc.utf8_lower(out[name]), defaults)
        out["channel"] = pc.utf8_lower(out["channel"])
        for name, valid in _ENUMS.items():
            problems.add(
                name,
                out[name],
                _reason_where(
                    _outside(out[name], valid), "not one of " + ", ".join(valid), _no_reasons(n)
                ),
                applies,
            )
        for required_field in ("amount", "currency", "reference", "quantity", "score", "text"):
            needing = [k for k in kinds if required_field in KIND_SPECS[EventKind(k)].required]
            if not needing:
                continue
            must = pc.is_in(kind, value_set=pa.array(needing))
            problems.add(
                required_field,
                out[required_field],
                _reason_where(
                    pc.and_(must, pc.is_null(out[required_field])),
                    "missing value (required for this kind of event)",
                    _no_reasons(n),
                ),
                applies,
            )

    # ---- the batch --------------------------------------------------------------------------
    def transform(self, table: pa.Table) -> BatchResult:
        n = table.num_rows
        problems = _Problems(n)
        if PARSE_ERROR in table.column_names:
            errors = table.column(PARSE_ERROR).combine_chunks()
            problems.by_field.append(
                (
                    "(line)",
                    table.column("__line").combine_chunks()
                    if "__line" in table.column_names
                    else errors,
                    errors,
                )
            )
            problems.unparsed = pc.is_valid(errors)
        parts_r = [self._records(table, m, problems) for m in self.source.records]
        parts_e = [self._events(table, m, problems) for m in self.source.events]
        rejected = problems.rejected_rows()
        keep = pc.invert(rejected)
        records = _concat(
            [t.filter(pc.and_(a, keep)) for t, a in parts_r], arrow_schema(SOURCE_RECORDS)
        )
        events = _concat([t.filter(pc.and_(a, keep)) for t, a in parts_e], arrow_schema(EVENTS))
        return BatchResult(
            records=_last_per_key(records, "record_id"),
            events=_first_per_key(events, "event_id"),
            rejects=self._rejects(table, problems, rejected),
            rows_read=n,
            rows_rejected=pc.sum(pc.cast(rejected, pa.int64())).as_py() or 0,
        )

    def _rejects(self, table: pa.Table, problems: _Problems, rejected: pa.Array) -> pa.Table:
        schema = arrow_schema(REJECTS)
        if not problems.by_field:
            return schema.empty_table()
        raw_cols = [c for c in table.column_names if c not in (ROW_NUMBER, PARSE_ERROR)]
        raw = json_objects(
            [(c, to_text(table.column(c).combine_chunks())) for c in raw_cols], table.num_rows
        )
        rows = table.column(ROW_NUMBER).combine_chunks()
        pieces = []
        for name, values, reasons in problems.by_field:
            idx = pc.indices_nonzero(pc.is_valid(reasons))
            k = len(idx)
            pieces.append(
                pa.table(
                    {
                        "load_id": pa.array([self.load_id] * k, pa.string()),
                        "source": pa.array([self.source.name] * k, pa.string()),
                        "location": pa.array([self.location] * k, pa.string()),
                        "row_number": pc.take(rows, idx),
                        "field": pa.array([name] * k, pa.string()),
                        "value": pc.take(values, idx),
                        "reason": pc.take(reasons, idx),
                        "raw": pc.take(raw, idx),
                    },
                    schema=schema,
                )
            )
        # Several mappings read the same column: report each failing cell once.
        rejects = _first_per_key(_with_key(pa.concat_tables(pieces)), "__key").drop(["__key"])
        return rejects.sort_by([("row_number", "ascending"), ("field", "ascending")])


def _with_key(rejects: pa.Table) -> pa.Table:
    key = pc.binary_join_element_wise(
        pc.cast(rejects.column("row_number"), pa.string()), rejects.column("field"), "\x1f"
    )
    return rejects.append_column("__key", key)


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _one_per_key(table: pa.Table, key: str, keep: str) -> pa.Table:
    """Keep one row per key (`keep` is "min" for the first, "max" for the last), in order."""
    if table.num_rows == 0 or pc.count_distinct(table.column(key)).as_py() == table.num_rows:
        return table
    indexed = table.append_column("__i", pa.array(range(table.num_rows), pa.int64()))
    chosen = indexed.group_by(key, use_threads=False).aggregate([("__i", keep)])
    rows = chosen.column(f"__i_{keep}")
    return table.take(pc.take(rows, pc.sort_indices(rows)))


def _first_per_key(table: pa.Table, key: str) -> pa.Table:
    return _one_per_key(table, key, "min")


def _last_per_key(table: pa.Table, key: str) -> pa.Table:
    return _one_per_key(table, key, "max")
