"""The store interface: the shared algorithms once, the engine-specific hooks in each backend.

Queries are written once in DuckDB's SQL dialect and transpiled with SQLGlot for the other
engines; nothing outside `cxlens.store` writes engine-specific SQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot

from cxlens.errors import SchemaMismatch, StoreError
from cxlens.schema import (
    EVENTS,
    LOADS,
    META,
    REJECTS,
    SCHEMA_VERSION,
    SOURCE_RECORDS,
    TABLES,
    ColumnType,
    Table,
)
from cxlens.sources.readers import SourceReader
from cxlens.store.ingest_queries import BATCH, REJECTED, QueryBuilder


@dataclass(frozen=True)
class FileScan:
    """A whole file the ingest engine reads itself, in place of Arrow batches."""

    sql: str  # yields the file's columns and the 1-based row number
    schema: pa.Schema
    rows: int


@dataclass(frozen=True)
class BatchCounts:
    rows_read: int
    rows_rejected: int
    records_written: int
    records_unchanged: int
    events_written: int
    events_unchanged: int
    rejects: pa.Table | None


#: The dialect every query in cxlens is written in.
CANONICAL_DIALECT = "duckdb"


class Store(ABC):
    """A database that holds a cxlens workspace."""

    #: SQLGlot dialect name of the engine.
    dialect: str
    #: Human name for messages.
    name: str
    #: Whether events repeated within a batch are removed once the load is written
    #: (`dedupe_load`), instead of before each batch is written.
    _dedupes_events_after_load: bool = False

    def __init__(self) -> None:
        self._in_transaction = False

    # ---- hooks each backend fills -------------------------------------------------------
    @abstractmethod
    def _column_type(self, type_: ColumnType) -> str: ...

    @abstractmethod
    def _render_keys(self, table: Table) -> bool:
        """Whether the engine should enforce the table's key with a constraint."""

    def _render_indexes(self) -> bool:
        """Whether secondary indexes help this engine (they slow DuckDB's bulk loads)."""
        return True

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement in the engine's dialect; return affected rows where known."""

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> pa.Table: ...

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _stage(self, name: str, like: Table, data: pa.Table) -> None:
        """Make `data` queryable as `name` until the transaction ends."""

    @abstractmethod
    def _unstage(self, name: str) -> None: ...

    @abstractmethod
    def _existing_tables(self) -> set[str]: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store lives, safe to print (no password)."""

    # ---- shared algorithms ---------------------------------------------------------------
    @final
    def sql(self, sql: str) -> str:
        """Translate a canonical (DuckDB-dialect) statement into this engine's dialect."""
        if self.dialect == CANONICAL_DIALECT:
            return sql
        return self._translate(sql)

    def _translate(self, sql: str) -> str:
        """Write a canonical statement in this engine's dialect (SQLGlot unless overridden)."""
        return ";\n".join(sqlglot.transpile(sql, read=CANONICAL_DIALECT, write=self.dialect))

    @final
    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run a canonical query and return its result as an Arrow table."""
        return self._fetch(self.sql(sql), params)

    @final
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._execute(self.sql(sql), params)

    @final
    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        result = self.query(sql, params)
        if result.num_rows == 0:
            return None
        return result.column(0)[0].as_py()

    @final
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        if self._in_transaction:
            yield
            return
        self._begin()
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            self._commit()
        finally:
            self._in_transaction = False

    @final
    def create_table_sql(self, table: Table) -> str:
        cols = [
            f"{c.name} {self._column_type(c.type)}{'' if c.nullable else ' NOT NULL'}"
            for c in table.columns
        ]
        if table.key and self._render_keys(table):
            cols.append(f"PRIMARY KEY ({', '.join(table.key)})")
        return f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)})"

    @final
    def initialize(self) -> None:
        """Create missing tables and refuse a store written by a newer cxlens."""
        existing = self._existing_tables()
        if META.name in existing:
            found = self.scalar("SELECT value FROM cxlens_meta WHERE key = 'schema_version'")
            if found is not None and int(found) > SCHEMA_VERSION:
                raise SchemaMismatch(
                    f"the store at {self.location} has schema version {found}, newer than this "
                    f"cxlens understands ({SCHEMA_VERSION}); upgrade cxlens."
                )
            if found is not None and set(t.name for t in TABLES) <= existing:
                return
        with self.transaction():
            for table in TABLES:
                self._execute(self.create_table_sql(table))
                for i, cols in enumerate(table.indexes if self._render_indexes() else ()):
                    self._execute(
                        f"CREATE INDEX IF NOT EXISTS ix_{table.name}_{i} "
                        f"ON {table.name} ({', '.join(cols)})"
                    )
            self._execute("DELETE FROM cxlens_meta WHERE key = 'schema_version'")
            self.execute(
                "INSERT INTO cxlens_meta (key, value) VALUES ('schema_version', ?)",
                [str(SCHEMA_VERSION)],
            )

    #: Indexes for finding one customer's events among millions: what the 360 page needs.
    LOOKUP_INDEXES = (
        ("ix_events_record", "events", "record_id"),
        ("ix_events_account_record", "events", "account_record_id"),
        ("ix_links_master", "record_links", "master_id"),
        ("ix_links_record", "record_links", "record_id"),
        ("ix_customers_account", "customers", "account_id"),
        ("ix_customers_id", "customers", "customer_id"),
        ("ix_accounts_id", "accounts", "account_id"),
    )

    @final
    def ensure_lookup_indexes(self) -> None:
        """Create the customer look-up indexes if missing (a server does, at start)."""
        with self.transaction():
            for name, table, column in self.LOOKUP_INDEXES:
                self._execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")

    def prepare_bulk_load(self) -> None:  # noqa: B027 - a hook; most engines need nothing
        """Called before a bulk load; engines whose indexes slow loads drop them here."""

    # ---- the load algorithm, one batch at a time inside `transaction()` --------------------
    @abstractmethod
    def ingest_engine(self) -> duckdb.DuckDBPyConnection:
        """The embedded DuckDB connection that evaluates mappings over Arrow batches."""

    def file_scan(self, reader: SourceReader) -> FileScan | None:
        """A scan of the reader's file by the ingest engine, where that beats Arrow batches."""
        return None

    @final
    def load_batch(
        self,
        queries: QueryBuilder,
        batch: pa.Table | FileScan,
        location: str,
        *,
        fresh: bool = False,
    ) -> BatchCounts:
        """Validate, normalise and write one batch: rejects kept, records merged on their key
        (changed ones updated), events appended when their id is new. Call inside
        `transaction()`; re-applying the same batch changes nothing.

        `fresh` says the store held no events when the load began: a backend that removes
        repeats at the end of the load (`dedupe_load`) then need not look ids up per batch."""
        engine = self.ingest_engine()
        rows_read = batch.rows if isinstance(batch, FileScan) else batch.num_rows
        optimistic = (
            fresh
            and self._dedupes_events_after_load
            and bool(queries.events)
            and not queries.records
        )
        with _registered(engine, BATCH, batch):
            if optimistic:
                return self._load_judged_as_written(queries, rows_read, location)
            problems = engine.sql(queries.problems()).to_arrow_table()
            rejected_rows = pc.unique(problems.column("row_number"))
            any_rejected = len(rejected_rows) > 0
            with _registered(engine, REJECTED, pa.table({"__row": rejected_rows})):
                [produced] = engine.execute(queries.produced_query(any_rejected)).fetchall()
                records_sql = queries.records_query(any_rejected)
                events_sql = queries.events_query(
                    any_rejected, dedupe=not self._dedupes_events_after_load
                )
                records_written = self._merge_records_query(records_sql) if records_sql else 0
                events_written = (
                    self._append_events_query(
                        events_sql, None if fresh else queries.event_ids_query(any_rejected)
                    )
                    if events_sql
                    else 0
                )
                rejects = self._rejects(queries, problems, location) if any_rejected else None
        if rejects is not None:
            self._append(REJECTS, rejects)
        return BatchCounts(
            rows_read=rows_read,
            rows_rejected=len(rejected_rows),
            records_written=records_written,
            records_unchanged=int(produced[0]) - records_written,
            events_written=events_written,
            events_unchanged=int(produced[1]) - events_written,
            rejects=rejects,
        )

    def _load_judged_as_written(
        self, queries: QueryBuilder, rows_read: int, location: str
    ) -> BatchCounts:
        """Events-only batch into a store that held no events: write the valid rows while
        judging them. If as many were written as rows yield events, no row failed and the
        pass that explains failures is not needed."""
        engine = self.ingest_engine()
        [produced] = engine.execute(queries.produced_query(False)).fetchall()
        written = self._append_events_query(queries.valid_events_query(), None)
        rejects = None
        rejected = 0
        if written != int(produced[1]):
            problems = engine.sql(queries.problems()).to_arrow_table()
            rejected_rows = pc.unique(problems.column("row_number"))
            rejected = len(rejected_rows)
            with _registered(engine, REJECTED, pa.table({"__row": rejected_rows})):
                [produced] = engine.execute(queries.produced_query(True)).fetchall()
                rejects = self._rejects(queries, problems, location)
            self._append(REJECTS, rejects)
        return BatchCounts(
            rows_read=rows_read,
            rows_rejected=rejected,
            records_written=0,
            records_unchanged=0,
            events_written=written,
            events_unchanged=int(produced[1]) - written,
            rejects=rejects,
        )

    def dedupe_load(self, load_id: str) -> int:
        """Remove events a load wrote twice (an id repeated within a batch); returns how many.

        Call inside the load's transaction, after its last batch."""
        return 0

    def _rejects(self, queries: QueryBuilder, problems: pa.Table, location: str) -> pa.Table:
        raw = self.ingest_engine().sql(queries.raw_rows()).to_arrow_table()
        # Several mappings may read the same cell: report each (row, field) once.
        problems = problems.group_by(["row_number", "field"], use_threads=False).aggregate(
            [("value", "first"), ("reason", "first")]
        )
        joined = problems.join(raw, "row_number", join_type="left outer")
        n = joined.num_rows
        table = pa.table(
            {
                "load_id": pa.array([queries.load_id] * n, pa.string()),
                "source": pa.array([queries.source.name] * n, pa.string()),
                "location": pa.array([location] * n, pa.string()),
                "row_number": joined.column("row_number"),
                "field": joined.column("field"),
                "value": joined.column("value_first"),
                "reason": joined.column("reason_first"),
                "raw": joined.column("raw"),
            },
            schema=arrow_schema(REJECTS),
        )
        return table.sort_by([("row_number", "ascending"), ("field", "ascending")])

    def _merge_records_query(self, sql: str) -> int:
        """Merge the records a query over the ingest engine yields; returns rows written."""
        with self._staged("staged_records", SOURCE_RECORDS, sql):
            return self._merge_staged_records("staged_records")

    def _append_events_query(self, sql: str, ids_sql: str | None) -> int:
        """Append the new events a query over the ingest engine yields; returns rows written.

        `ids_sql` yields just their ids, for engines that look them up before writing; None
        when the store held no events before this load."""
        data = self.ingest_engine().sql(sql).to_arrow_table()
        return self._append_new_events(data) if data.num_rows else 0

    def _stage_query(self, name: str, like: Table, sql: str) -> None:
        self._stage(name, like, self.ingest_engine().sql(sql).to_arrow_table())

    @contextmanager
    def _staged(self, name: str, like: Table, data: pa.Table | str) -> Iterator[None]:
        """Stage Arrow data (or a query over the ingest engine) as `name` for a statement.

        If the statement fails, the transaction is aborted and cleaning up would fail too: the
        rollback drops what was staged, and the original error is the one raised."""
        if isinstance(data, str):
            self._stage_query(name, like, data)
        else:
            self._stage(name, like, data)
        try:
            yield
        except BaseException:
            with suppress(Exception):
                self._unstage(name)
            raise
        self._unstage(name)

    @final
    def merge_records(self, records: pa.Table) -> tuple[int, int]:
        """Insert new records and update changed ones (by content hash).

        Returns (written, unchanged). Re-applying the same records changes nothing."""
        if records.num_rows == 0:
            return 0, 0
        with self.transaction(), self._staged("staged_records", SOURCE_RECORDS, records):
            written = self._merge_staged_records("staged_records")
        return written, records.num_rows - written

    @final
    def append_new_events(self, events: pa.Table) -> tuple[int, int]:
        """Append events whose `event_id` the store does not hold yet.

        Returns (written, unchanged). `events` must not repeat an `event_id` itself."""
        if events.num_rows == 0:
            return 0, 0
        with self.transaction():
            written = self._append_new_events(events)
        return written, events.num_rows - written

    @final
    def append_rejects(self, rejects: pa.Table) -> None:
        if rejects.num_rows:
            with self.transaction():
                self._append(REJECTS, rejects)

    @final
    def record_load(self, load_row: Mapping[str, Any]) -> None:
        with self.transaction():
            self._append(LOADS, pa.Table.from_pylist([dict(load_row)], schema=arrow_schema(LOADS)))

    @final
    def replace_rows(
        self, table: Table, data: pa.Table, where: str = "", params: Sequence[Any] = ()
    ) -> None:
        """Delete the rows of `table` matching `where` (all if empty), then append `data`.

        Runs inside the caller's transaction, so readers see the old rows or the new ones."""
        self.execute(f"DELETE FROM {table.name}" + (f" WHERE {where}" if where else ""), params)
        self.append(table, data)

    @final
    def append(self, table: Table, data: pa.Table) -> None:
        if data.num_rows:
            self._append(table, data.select(table.column_names).cast(arrow_schema(table)))

    def _append(self, table: Table, data: pa.Table) -> None:
        staged = f"staged_{table.name}"
        with self._staged(staged, table, data):
            cols = ", ".join(table.column_names)
            self.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {staged}")

    def _append_new_events(self, events: pa.Table) -> int:
        staged = "staged_events"
        with self._staged(staged, EVENTS, events):
            cols = ", ".join(EVENTS.column_names)
            return self.execute(
                f"INSERT INTO events ({cols}) SELECT {cols} FROM {staged} AS s "
                "WHERE NOT EXISTS (SELECT 1 FROM events AS e WHERE e.event_id = s.event_id)"
            )

    def _merge_staged_records(self, staged: str) -> int:
        cols = SOURCE_RECORDS.column_names
        changed = self.execute(
            "UPDATE source_records SET "
            + ", ".join(f"{c} = s.{c}" for c in cols if c != "record_id")
            + f" FROM {staged} AS s WHERE source_records.record_id = s.record_id "
            "AND source_records.content_hash <> s.content_hash"
        )
        inserted = self.execute(
            f"INSERT INTO source_records ({', '.join(cols)}) "
            f"SELECT {', '.join(cols)} FROM {staged} AS s WHERE NOT EXISTS "
            "(SELECT 1 FROM source_records AS r WHERE r.record_id = s.record_id)"
        )
        return changed + inserted

    # ---- reading -------------------------------------------------------------------------
    @final
    def count(self, table: str) -> int:
        if table not in {t.name for t in TABLES}:
            raise StoreError(f"unknown table {table!r}")
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    @final
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()  # type: ignore[no-any-return]


@contextmanager
def _registered(
    engine: duckdb.DuckDBPyConnection, name: str, data: pa.Table | FileScan
) -> Iterator[None]:
    """Make an Arrow table (or a file scan) queryable by name in the ingest engine a while."""
    if isinstance(data, FileScan):
        engine.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {data.sql}")
    else:
        engine.register(name, data)

    def release() -> None:
        if isinstance(data, FileScan):
            engine.execute(f"DROP VIEW IF EXISTS {name}")
        else:
            engine.unregister(name)

    try:
        yield
    except BaseException:
        with suppress(Exception):  # an aborted transaction refuses even this; rollback cleans
            release()
        raise
    release()


_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.TEXT: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
    ColumnType.DATE: pa.date32(),
    ColumnType.JSON: pa.string(),
}


def arrow_type(type_: ColumnType) -> pa.DataType:
    return _ARROW_TYPES[type_]


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in table.columns]
    )
