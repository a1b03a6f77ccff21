"""Read a table or a query from any database SQLAlchemy can reach."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from cxlens.errors import SourceError
from cxlens.sources.mapping import SourceConfig
from cxlens.sources.readers import ROW_NUMBER, SourceReader


def safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable database url>"


def _column(values: Sequence[Any]) -> pa.Array:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, decimal.Decimal):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if isinstance(sample, (dt.datetime, dt.date, int, float, bool)):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def open_database(name: str, cfg: SourceConfig, batch_rows: int) -> SourceReader:
    assert cfg.url is not None  # noqa: S101 - SourceConfig guarantees it for sql sources
    location = safe_url(cfg.url)
    try:
        engine = sa.create_engine(cfg.url)
    except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
        raise SourceError(name, location, f"cannot use this database URL ({exc})") from None
    if cfg.table is not None:
        statement: sa.Executable = sa.select(sa.text("*")).select_from(sa.table(cfg.table))
    else:
        statement = sa.text(cfg.query or "")
    try:
        conn = engine.connect()
        result = conn.execution_options(stream_results=True).execute(statement)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        orig = getattr(exc, "orig", None)
        reason = str(orig) if orig is not None else str(exc).splitlines()[0]
        raise SourceError(name, location, reason) from None
    columns = list(result.keys())
    reader = SourceReader(name, location, "sql", columns, iter(()))

    def batches() -> Iterator[pa.Table]:
        start = 1
        try:
            for chunk in result.partitions(batch_rows):
                data = {c: _column([row[i] for row in chunk]) for i, c in enumerate(columns)}
                table = pa.table(data)
                table = table.append_column(
                    ROW_NUMBER, pa.array(range(start, start + table.num_rows), type=pa.int64())
                )
                for batch in table.to_batches():
                    reader._digest.update(batch.serialize())
                start += table.num_rows
                yield table
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(name, location, str(exc).splitlines()[0]) from None
        finally:
            conn.close()
            engine.dispose()

    reader.batches = batches()
    return reader
