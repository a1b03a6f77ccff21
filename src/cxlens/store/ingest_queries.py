"""The queries one load runs per batch: problems, raw rows, records and events.

Built once per source and batch schema by `QueryBuilder` from the compiled fields of
`ingest_sql.Compiler`; every query reads the batch registered as `cx_batch`.
"""

from __future__ import annotations

import json

import pyarrow as pa

from cxlens.schema import EVENTS, KIND_SPECS, RECORD_FIELDS, SOURCE_RECORDS, ColumnType, EventKind
from cxlens.sources.mapping import EventMapping, RecordMapping, WhenValue, as_spec, as_when
from cxlens.sources.readers import PARSE_ERROR, RAW_LINE, ROW_NUMBER
from cxlens.sources.resolve import ResolvedSource
from cxlens.store.ingest_sql import (
    ENUMS,
    EVENT_CORE,
    EVENT_TYPES,
    KINDS,
    Compiler,
    as_text,
    ident,
    lit,
    sql_in,
)

BATCH = "cx_batch"
REJECTED = "cx_rejected"
_ROW = ident(ROW_NUMBER)
_PROPERTY_TYPES = {p: t for s in KIND_SPECS.values() for p, t in s.properties.items()}
_PROPERTY_VALUES = {p: sorted(v) for s in KIND_SPECS.values() for p, v in s.property_values.items()}
_SPECS = {k: KIND_SPECS[EventKind(k)] for k in KINDS}
_KIND_DEFAULTS: dict[str, dict[str, str | None]] = {
    "department": {k: s.department.value for k, s in _SPECS.items()},
    "journey_stage": {
        k: s.journey_stage.value if s.journey_stage else None for k, s in _SPECS.items()
    },
}


def _json(pairs: list[tuple[str, str, ColumnType]]) -> str:
    """A JSON object of named values; null members are left out, an empty object is NULL."""
    if not pairs:
        return "CAST(NULL AS VARCHAR)"
    members = []
    for key, expr, type_ in sorted(pairs):
        value = f"strftime({expr}, '%Y-%m-%dT%H:%M:%S')" if type_ is ColumnType.TIMESTAMP else expr
        members.append(f"{lit(json.dumps(key) + ':')} || CAST(to_json({value}) AS VARCHAR)")
    # concat_ws skips NULL members, so a missing value leaves no key behind.
    return f"nullif('{{' || concat_ws(',', {', '.join(members)}) || '}}', '{{}}')"


def _valid_action(kind: object, kind_sql: str, action_sql: str) -> str:
    """Whether an action belongs to the event's kind (unknown kinds are reported apart)."""
    if isinstance(kind, EventKind):
        return sql_in(action_sql, sorted(KIND_SPECS[kind].actions))
    cases = " ".join(
        f"WHEN {lit(k)} THEN {sql_in(action_sql, sorted(s.actions))}" for k, s in _SPECS.items()
    )
    return f"(CASE {kind_sql} {cases} ELSE TRUE END)"


def _hash(exprs: list[str]) -> str:
    parts = ", ".join(f"coalesce({as_text(e)}, chr(0))" for e in exprs)
    return f"md5(concat_ws(chr(31), {parts}))"


class QueryBuilder:
    """Per-batch queries for one source and one batch schema."""

    def __init__(
        self, source: ResolvedSource, schema: pa.Schema, load_id: str, *, trim: bool = True
    ) -> None:
        self.source = source
        self.load_id = load_id
        self.c = Compiler(source, schema, load_id, trim=trim)
        self.raw_columns = [n for n in schema.names if n not in (ROW_NUMBER, PARSE_ERROR, RAW_LINE)]
        self.has_parse_errors = PARSE_ERROR in schema.names
        self.records = [self._record(i, m) for i, m in enumerate(source.records)]
        offset = len(source.records)
        self.events = [self._event(offset + j, m) for j, m in enumerate(source.events)]
        self.layers = self._layers()

    # ---- mappings ---------------------------------------------------------------------------
    def _applies(self, when: WhenValue | None, also: list[str]) -> int:
        """Compile which rows a mapping applies to; returns the mapping's number."""
        conds = [f"{self.c.column(c)[0]} IS NOT NULL" for c in also]
        spec = as_when(when)
        if spec is not None:
            value = self.c.column(spec.column)[0]
            conds.append(f"{value} IS NOT NULL")
            lowered = f"lower({as_text(value)})"
            if spec.in_ is not None:
                conds.append(sql_in(lowered, [v.lower() for v in spec.in_]))
            if spec.not_in is not None:
                conds.append(f"NOT {sql_in(lowered, [v.lower() for v in spec.not_in])}")
        self.c.applies.append(" AND ".join(conds) if conds else "TRUE")
        return len(self.c.applies) - 1

    def _record(self, index: int, rec: RecordMapping) -> dict[str, str]:
        c = self.c
        m = self._applies(rec.when, [])
        system = rec.system or self.source.system
        key = c.add(m, "key", rec.key, ColumnType.TEXT, required=True)
        out: dict[str, str] = {
            "record_id": f"{lit(system + ':')} || v{key.k}",
            "system": lit(system),
            "source_key": f"v{key.k}",
            "source": lit(self.source.name),
            "entity": lit(rec.entity.value),
        }
        for name, value in rec.fields.items():
            f = c.add(m, name, value, RECORD_FIELDS[name])
            out[name] = f"lower(v{f.k})" if name == "email" else f"v{f.k}"
        if "account_key" in out:
            prefix = lit((rec.account_system or system) + ":")
            out["account_record_id"] = f"{prefix} || {out.pop('account_key')}"
        ext = [
            (s, f"v{c.add(m, f'external_ids.{s}', v, ColumnType.TEXT).k}", ColumnType.TEXT)
            for s, v in rec.external_ids.items()
        ]
        out["external_ids"] = _json(ext)
        out["attributes"] = _json(
            [(a, as_text(c.column(a)[0]), ColumnType.TEXT) for a in rec.attributes]
        )
        hashed = [
            out.get(n, "NULL")
            for n in SOURCE_RECORDS.column_names
            if n not in ("content_hash", "load_id", "source")
        ]
        out["content_hash"] = _hash(hashed)
        out["load_id"] = lit(self.load_id)
        out["__m"] = str(m)
        return out

    def _event(self, index: int, ev: EventMapping) -> dict[str, str]:
        c = self.c
        m = self._applies(ev.when, as_spec(ev.time).source_columns if ev.optional else [])
        if isinstance(ev.kind, EventKind):
            kind = lit(ev.kind.value)
        else:
            kf = c.add(m, "kind", ev.kind, ColumnType.TEXT, required=True)
            kind = f"lower(v{kf.k})"
            kf.checks.append(
                (
                    f"v{kf.k} IS NOT NULL AND NOT {sql_in(kind, KINDS)}",
                    "unknown kind (valid: " + ", ".join(KINDS) + ")",
                )
            )
        action = "CAST(NULL AS VARCHAR)"
        if ev.action is not None:
            af = c.add(m, "action", ev.action, ColumnType.TEXT, required=True)
            action = f"lower(v{af.k})"
            af.checks.append(
                (
                    f"v{af.k} IS NOT NULL AND NOT {_valid_action(ev.kind, kind, action)}",
                    "not an action of this kind of event",
                )
            )
        time = c.add(m, "time", ev.time, ColumnType.TIMESTAMP, required=True)
        record = c.add(m, "record", ev.record, ColumnType.TEXT, required=True)
        system = ev.record_system or self.source.system
        out: dict[str, str] = {
            "record_id": f"{lit(system + ':')} || v{record.k}",
            "occurred_at": f"v{time.k}",
            "kind": kind,
            "action": action,
            "source": lit(self.source.name),
            "load_id": lit(self.load_id),
        }
        if ev.account is not None:
            acc = c.add(m, "account", ev.account, ColumnType.TEXT)
            out["account_record_id"] = f"{lit((ev.account_system or system) + ':')} || v{acc.k}"
        for name in EVENT_CORE:
            out[name] = "NULL"
            if name in ev.fields:
                f = c.add(m, name, ev.fields[name], EVENT_TYPES.get(name, ColumnType.TEXT))
                out[name] = f"v{f.k}"
                if name == "currency":
                    f.final = f"upper(x{f.k})"
                    f.checks.append(
                        (
                            f"v{f.k} IS NOT NULL AND NOT regexp_full_match(v{f.k}, '[A-Z]{{3}}')",
                            "not an ISO 4217 currency code",
                        )
                    )
                elif name in ENUMS:
                    f.final = f"lower(x{f.k})"
                    f.checks.append(
                        (
                            f"v{f.k} IS NOT NULL AND NOT {sql_in(f'v{f.k}', ENUMS[name])}",
                            "not one of " + ", ".join(ENUMS[name]),
                        )
                    )
        for name, defaults in _KIND_DEFAULTS.items():
            cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in defaults.items())
            out[name] = f"coalesce({out[name]}, CASE {kind} {cases} END)"
        for required in ("amount", "currency", "reference", "quantity", "score", "text"):
            needing = [k for k, s in _SPECS.items() if required in s.required]
            if needing:
                c.extra_reasons.append(
                    (
                        m,
                        required,
                        as_text(out[required]),
                        f"{sql_in(kind, needing)} AND {out[required]} IS NULL",
                        "missing value (required for this kind of event)",
                    )
                )
        props = []
        for pname, pvalue in ev.properties.items():
            f = c.add(m, f"properties.{pname}", pvalue, _PROPERTY_TYPES[pname])
            expr = f"v{f.k}"
            if pname in _PROPERTY_VALUES:
                expr = f"lower(v{f.k})"
                f.checks.append(
                    (
                        f"v{f.k} IS NOT NULL AND NOT {sql_in(expr, _PROPERTY_VALUES[pname])}",
                        "not one of " + ", ".join(_PROPERTY_VALUES[pname]),
                    )
                )
            props.append((pname, expr, _PROPERTY_TYPES[pname]))
        out["properties"] = _json(props)
        if ev.id is not None:
            idf = c.add(m, "id", ev.id, ColumnType.TEXT, required=True)
            out["event_id"] = f"{lit(system + ':')} || v{idf.k}"
        else:
            content = [
                out[n]
                for n in (
                    "record_id",
                    "occurred_at",
                    "kind",
                    "action",
                    "reference",
                    "amount",
                    "quantity",
                    "score",
                    "text",
                    "properties",
                )
            ]
            out["event_id"] = f"{lit(system + ':h:')} || {_hash(content)}"
        out["__m"] = str(m)
        return out

    # ---- queries ----------------------------------------------------------------------------
    def _layers(self) -> str:
        c = self.c
        l1 = (
            [f"{f.source} AS s{f.k}" for f in c.fields]
            + [f"{e} AS {n}" for n, e in c.extras.items()]
            + [f"{a} AS a{m}" for m, a in enumerate(c.applies)]
        )
        l2 = [f"{f.typed} AS x{f.k}" for f in c.fields]
        l3 = [f"{f.final} AS v{f.k}" for f in c.fields]
        unparsed = f"{ident(PARSE_ERROR)} IS NULL AND " if self.has_parse_errors else ""
        l4 = []
        for f in c.fields:
            cases = " ".join(f"WHEN {cond} THEN {lit(reason)}" for cond, reason in f.checks)
            l4.append(
                f"CASE WHEN {unparsed}a{f.mapping} THEN CASE {cases} END END AS r{f.k}"
                if f.checks
                else f"CAST(NULL AS VARCHAR) AS r{f.k}"
            )
        for i, (m, _, _, cond, reason) in enumerate(c.extra_reasons):
            l4.append(f"CASE WHEN {unparsed}a{m} AND {cond} THEN {lit(reason)} END AS e{i}")
        layer = "SELECT *, {} FROM {}"
        return (
            f"WITH l1 AS ({layer.format(', '.join(l1) or '1 AS _', BATCH)}), "
            f"l2 AS ({layer.format(', '.join(l2) or '1 AS _2', 'l1')}), "
            f"l3 AS ({layer.format(', '.join(l3) or '1 AS _3', 'l2')}), "
            f"l4 AS ({layer.format(', '.join(l4) or '1 AS _4', 'l3')}) "
        )

    def problems(self) -> str:
        """Every failing cell: row number, field, value as read, reason."""
        c = self.c
        items = [
            f"{{'field': {lit(f.label)}, 'value': {f.raw}, 'reason': r{f.k}}}" for f in c.fields
        ]
        items += [
            f"{{'field': {lit(label)}, 'value': {value}, 'reason': e{i}}}"
            for i, (_, label, value, _, _) in enumerate(c.extra_reasons)
        ]
        if self.has_parse_errors:
            line = ident(RAW_LINE)
            items.append(f"{{'field': '(line)', 'value': {line}, 'reason': {ident(PARSE_ERROR)}}}")
        if not items:
            return (
                f"SELECT {_ROW} AS row_number, '' AS field, '' AS value, '' AS reason "
                f"FROM {BATCH} WHERE FALSE"
            )
        listed = f"list_filter([{', '.join(items)}], lambda p: p.reason IS NOT NULL)"
        # Most rows are fine: find the failing ones cheaply before building their lists.
        failing = self._failing()
        return (
            f"{self.layers} SELECT row_number, p.field AS field, p.value AS value, "
            f"p.reason AS reason FROM (SELECT {_ROW} AS row_number, unnest({listed}) AS p "
            f"FROM l4 WHERE {failing}) ORDER BY row_number, field"
        )

    def _failing(self) -> str:
        """Over l4: whether any field of any mapping fails on the row."""
        c = self.c
        reasons = [f"r{f.k}" for f in c.fields if f.checks]
        reasons += [f"e{i}" for i in range(len(c.extra_reasons))]
        if self.has_parse_errors:
            reasons.append(ident(PARSE_ERROR))
        return f"coalesce({', '.join(reasons)}) IS NOT NULL" if reasons else "FALSE"

    def raw_rows(self) -> str:
        """The rejected rows as they were read, as JSON objects."""
        pairs = ", ".join(f"{lit(col)}, {as_text(ident(col))}" for col in self.raw_columns)
        return (
            f"SELECT {_ROW} AS row_number, CAST(json_object({pairs}) AS VARCHAR) AS raw "
            f"FROM {BATCH} WHERE {_ROW} IN (SELECT __row FROM {REJECTED})"
        )

    def _union(
        self,
        outputs: list[dict[str, str]],
        columns: list[str],
        any_rejected: bool,
        *,
        only_valid: bool = False,
    ) -> str:
        # From l3 unless the rows are judged here: DuckDB would compute l4's reasons otherwise.
        keep = f" AND {_ROW} NOT IN (SELECT __row FROM {REJECTED})" if any_rejected else ""
        layer = "l3"
        if only_valid:
            keep, layer = f" AND NOT ({self._failing()})", "l4"
        parts = []
        for out in outputs:
            cols = ", ".join(f"{out.get(n, 'NULL')} AS {n}" for n in columns)
            parts.append(
                f"SELECT {cols}, {_ROW} AS __row, {out['__m']} AS __m FROM {layer} "
                f"WHERE a{out['__m']}{keep}"
            )
        return " UNION ALL ".join(parts)

    def valid_events_query(self) -> str:
        """Events of the rows no field fails on, judged as they are written (no dedupe)."""
        cols = EVENTS.column_names
        union = self._union(self.events, cols, False, only_valid=True)
        return f"{self.layers} SELECT {', '.join(cols)} FROM ({union})"

    def records_query(self, any_rejected: bool) -> str | None:
        """Records, the last row winning when a key repeats."""
        if not self.records:
            return None
        cols = SOURCE_RECORDS.column_names
        union = self._union(self.records, cols, any_rejected)
        return (
            f"{self.layers} SELECT {', '.join(cols)} FROM ({union}) QUALIFY row_number() "
            "OVER (PARTITION BY record_id ORDER BY __row DESC, __m DESC) = 1"
        )

    def events_query(self, any_rejected: bool, dedupe: bool) -> str | None:
        """Events; with `dedupe`, the first row wins when an id repeats within the batch."""
        if not self.events:
            return None
        cols = EVENTS.column_names
        union = self._union(self.events, cols, any_rejected)
        if not dedupe:
            return f"{self.layers} SELECT {', '.join(cols)} FROM ({union})"
        return (
            f"{self.layers} SELECT {', '.join(cols)} FROM ({union}) QUALIFY row_number() "
            "OVER (PARTITION BY event_id ORDER BY __row, __m) = 1"
        )

    def event_ids_query(self, any_rejected: bool) -> str:
        """Just the ids of the events the batch yields (cheap: no other field is computed)."""
        union = self._union(self.events, ["event_id"], any_rejected)
        return f"{self.layers} SELECT event_id FROM ({union})"

    def produced_query(self, any_rejected: bool) -> str:
        """Distinct records the batch yields, and rows that yield an event (repeats included).

        Only the mappings' row filters are evaluated for events, so this stays cheap."""
        if self.records:
            union = self._union(self.records, ["record_id"], any_rejected)
            records = f"(SELECT count(DISTINCT record_id) FROM ({self.layers} {union}))"
        else:
            records = "0"
        keep = f" AND {_ROW} NOT IN (SELECT __row FROM {REJECTED})" if any_rejected else ""
        applies = ", ".join(f"{a} AS a{m}" for m, a in enumerate(self.c.applies)) or "1 AS _"
        events = " + ".join(f"count(*) FILTER (WHERE a{o['__m']}{keep})" for o in self.events)
        events_count = (
            f"(SELECT {events} FROM (SELECT *, {applies} FROM {BATCH}))" if events else "0"
        )
        return f"SELECT {records} AS records, {events_count} AS events"
