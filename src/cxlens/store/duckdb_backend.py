"""The embedded store: one DuckDB file in the workspace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cxlens.errors import StoreError
from cxlens.schema import EVENTS, ColumnType, Table
from cxlens.sources.readers import ROW_NUMBER, SourceReader
from cxlens.store.base import FileScan, Store
from cxlens.store.ingest_sql import lit

_TYPES = {
    ColumnType.TEXT: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
    ColumnType.JSON: "VARCHAR",
}


class DuckDBStore(Store):
    dialect = "duckdb"
    name = "DuckDB"
    # One pass over the load at its end costs far less than de-duplicating every batch.
    _dedupes_events_after_load = True

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        super().__init__()
        self.path = Path(path) if str(path) != ":memory:" else None
        try:
            self._con = duckdb.connect(
                str(path), read_only=read_only, config={"autoinstall_known_extensions": False}
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the DuckDB store at {path}: {exc}") from exc
        # Times are naive UTC everywhere; make DuckDB's own conversions agree.
        self._con.execute("SET TimeZone = 'UTC'")
        self._registered: set[str] = set()

    @property
    def location(self) -> str:
        return str(self.path) if self.path else ":memory:"

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for code inside `cxlens.store` and for benchmarks."""
        return self._con

    def _column_type(self, type_: ColumnType) -> str:
        return _TYPES[type_]

    def _render_keys(self, table: Table) -> bool:
        # DuckDB's key indexes slow bulk loads and updates a lot; the load algorithm is the only
        # writer and keeps keys unique itself (tested on every backend).
        return False

    def _render_indexes(self) -> bool:
        # Zone maps already prune scans; ART indexes would slow every bulk load several-fold.
        return False

    def prepare_bulk_load(self) -> None:
        # The look-up indexes cost a bulk load several-fold and take seconds to rebuild: the
        # server recreates them when it starts (DuckDB admits one writing process, so no
        # server runs during a load).
        for name, _, _ in self.LOOKUP_INDEXES:
            self._execute(f"DROP INDEX IF EXISTS {name}")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            result = self._con.execute(sql, list(params) if params else None)
            row = result.fetchone() if result.description else None
        except duckdb.Error as exc:
            raise StoreError(f"DuckDB statement failed: {exc}\n{sql}") from exc
        if row is not None and result.description and result.description[0][0] == "Count":
            return int(row[0])
        return -1

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        try:
            return self._con.sql(sql, params=list(params) if params else None).to_arrow_table()
        except duckdb.Error as exc:
            raise StoreError(f"DuckDB query failed: {exc}\n{sql}") from exc

    def _begin(self) -> None:
        self._con.begin()

    def _commit(self) -> None:
        self._con.commit()

    def _rollback(self) -> None:
        self._con.rollback()

    def ingest_engine(self) -> duckdb.DuckDBPyConnection:
        # Mappings run in the store's own connection: batches go straight into the tables.
        return self._con

    def file_scan(self, reader: SourceReader) -> FileScan | None:
        # DuckDB reads Parquet in parallel straight into the query: the whole file is one batch.
        if reader.format != "parquet" or reader.path is None or reader.schema is None:
            return None
        path = lit(str(reader.path))
        sql = (
            f'SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS "{ROW_NUMBER}" '
            f"FROM read_parquet({path}, file_row_number = true)"
        )
        return FileScan(sql=sql, schema=reader.schema, rows=reader.rows or 0)

    def _stage(self, name: str, like: Table, data: pa.Table) -> None:
        self._con.register(name, data)
        self._registered.add(name)

    def _stage_query(self, name: str, like: Table, sql: str) -> None:
        self._execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def _unstage(self, name: str) -> None:
        if name in self._registered:
            self._con.unregister(name)
            self._registered.discard(name)
        else:
            self._execute(f"DROP TABLE IF EXISTS {name}")

    def _append_events_query(self, sql: str, ids_sql: str | None) -> int:
        cols = ", ".join(EVENTS.column_names)
        insert = f"INSERT INTO events ({cols}) SELECT {cols} FROM ({sql}) AS s"
        if ids_sql is None:
            # Nothing stored before this load: repeats within it go at its end (dedupe_load).
            return self._execute(insert)
        # Look the batch's ids up in the table (a scan probing a hash of the batch) instead of
        # an anti-join that would hash the whole, growing table once per batch.
        return self._execute(
            f"{insert} WHERE s.event_id NOT IN (SELECT e.event_id FROM events AS e "
            f"WHERE e.event_id IN ({ids_sql}))"
        )

    def dedupe_load(self, load_id: str) -> int:
        # Grouping 64-bit hashes is cheaper than grouping the ids; the few hashes that repeat
        # are then checked on the ids themselves (two ids may share a hash).
        repeated = self._fetch(
            "SELECT event_id FROM events WHERE load_id = ? AND hash(event_id) IN ("
            "SELECT hash(event_id) AS h FROM events WHERE load_id = ? GROUP BY h "
            "HAVING count(*) > 1) GROUP BY event_id HAVING count(*) > 1",
            [load_id, load_id],
        )
        if repeated.num_rows == 0:
            return 0
        with self._staged("repeated_events", EVENTS, repeated):
            # The first row written wins, as it would have in the source file.
            return self._execute(
                "DELETE FROM events WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS n FROM events "
                "WHERE load_id = ? AND event_id IN (SELECT event_id FROM repeated_events)) "
                "WHERE n > 1)",
                [load_id],
            )

    def _existing_tables(self) -> set[str]:
        rows = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        self._con.close()
