"""The server store: PostgreSQL through psycopg 3."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlglot
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader
from sqlglot import exp

from cxlens.errors import StoreError
from cxlens.schema import ColumnType, Table
from cxlens.store.base import Store

_TYPES = {
    ColumnType.TEXT: "TEXT",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE PRECISION",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
    ColumnType.JSON: "JSON",
}

_PLACEHOLDER = "cx_param_placeholder_7f3a"
# PostgreSQL type OIDs of the results cxlens reads; others (numeric) are inferred from values.
_OID_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    25: pa.string(),
    114: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    3802: pa.string(),
}

_ARROW_TO_PG = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
}


class PostgresStore(Store):
    dialect = "postgres"
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        try:
            self._con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.location}: {exc}") from exc
        self._engine: duckdb.DuckDBPyConnection | None = None
        # JSON columns come back as text, as they do from DuckDB.
        self._con.adapters.register_loader("json", TextLoader)
        self._con.adapters.register_loader("jsonb", TextLoader)

    @property
    def location(self) -> str:
        try:
            parts = conninfo_to_dict(self.url)
        except psycopg.Error:
            return "postgresql://<unparsable url>"
        host = parts.get("host", "localhost")
        return f"postgresql://{parts.get('user', '')}@{host}:{parts.get('port', 5432)}/" + str(
            parts.get("dbname", "")
        )

    def _translate(self, sql: str) -> str:
        # psycopg reads every "%" as a placeholder when parameters are passed, so literal ones
        # are doubled and only the canonical "?" placeholders become "%s".
        def mark(node: exp.Expression) -> exp.Expression:
            return exp.var(_PLACEHOLDER) if isinstance(node, exp.Placeholder) else node

        statements = [
            tree.transform(mark).sql(dialect=self.dialect)
            for tree in sqlglot.parse(sql, read="duckdb")
            if tree is not None
        ]
        text = ";\n".join(statements).replace("%", "%%")
        return text.replace(_PLACEHOLDER, "%s")

    def _column_type(self, type_: ColumnType) -> str:
        return _TYPES[type_]

    def _render_keys(self, table: Table) -> bool:
        return True

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self._con.cursor() as cur:
                cur.execute(sql.encode(), list(params) if params else None)
                return cur.rowcount
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL statement failed: {exc}\n{sql}") from exc

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        try:
            with self._con.cursor() as cur:
                cur.execute(sql.encode(), list(params) if params else None)
                description = list(cur.description or [])
                rows = cur.fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL query failed: {exc}\n{sql}") from exc
        columns: list[list[Any]] = (
            [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in description]
        )
        # Types come from the result's own description, so empty and all-NULL columns keep them.
        return pa.table(
            {
                d.name: pa.array(c, type=_OID_TYPES.get(d.type_code))
                for d, c in zip(description, columns, strict=True)
            }
        )

    def _begin(self) -> None:
        self._con.execute("BEGIN")

    def _commit(self) -> None:
        self._con.execute("COMMIT")

    def _rollback(self) -> None:
        self._con.execute("ROLLBACK")

    def _stage(self, name: str, like: Table, data: pa.Table) -> None:
        cols = ", ".join(f"{f.name} {self._staged_type(like, f)}" for f in data.schema)
        self._execute(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP")
        if data.num_rows == 0:
            return
        buffer = io.BytesIO()
        pacsv.write_csv(
            data, buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        )
        try:
            with self._con.cursor() as cur:
                copy_sql = f"COPY {name} FROM STDIN (FORMAT csv, NULL '')"
                with cur.copy(copy_sql.encode()) as copy:
                    copy.write(buffer.getbuffer())
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL COPY into {name} failed: {exc}") from exc

    def _staged_type(self, like: Table, field: pa.Field) -> str:
        if field.name in like.column_names:
            return _TYPES[like.column(field.name).type]
        return _ARROW_TO_PG.get(field.type, "TEXT")

    def ingest_engine(self) -> duckdb.DuckDBPyConnection:
        # Mappings run in an embedded engine; their results reach PostgreSQL through COPY.
        if self._engine is None:
            self._engine = duckdb.connect(config={"autoinstall_known_extensions": False})
            self._engine.execute("SET TimeZone = 'UTC'")
        return self._engine

    def _unstage(self, name: str) -> None:
        self._execute(f"DROP TABLE IF EXISTS {name}")

    def _existing_tables(self) -> set[str]:
        rows = self._fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return set(rows.column("table_name").to_pylist()) if rows.num_rows else set()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        self._con.close()
