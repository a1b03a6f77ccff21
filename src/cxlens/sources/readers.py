"""Readers: a source's rows as Arrow batches, and nothing else (sources only read).

Text formats (CSV, JSON Lines, Excel) arrive as string columns, so no value is silently
reinterpreted (a key like "00123" stays "00123"); Parquet and databases keep their own types.
A file that cannot be read as a whole raises one `SourceError` naming the file and the cause.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxlens.errors import SourceError
from cxlens.sources.mapping import Format, SourceConfig

#: Name of the column readers add: 1-based data row number in the source (header excluded).
ROW_NUMBER = "__row"
#: Column that JSON Lines readers fill with why a line could not be parsed...
PARSE_ERROR = "__parse_error"
#: ...and with the line itself.
RAW_LINE = "__line"


@dataclass
class SourceReader:
    """An opened source: where it is, its columns, and its rows in batches."""

    source: str
    location: str
    format: Format
    columns: list[str]
    batches: Iterator[pa.Table]
    _digest: Any = field(default_factory=hashlib.sha256)
    #: The file, for stores that can scan it themselves instead of taking batches.
    path: Path | None = None
    #: Rows in the file, where its format says so without reading it.
    rows: int | None = None
    #: The batches' schema (row number included), where known before reading.
    schema: pa.Schema | None = None

    def checksum(self) -> str:
        """SHA-256 of what was read; complete once `batches` is exhausted."""
        return str(self._digest.hexdigest())


def open_source(name: str, cfg: SourceConfig, root: Path, batch_rows: int) -> SourceReader:
    fmt = cfg.resolved_format()
    if fmt == "sql":
        from cxlens.sources.database import open_database

        return open_database(name, cfg, batch_rows)
    assert cfg.path is not None  # noqa: S101 - SourceConfig guarantees a path for files
    path = Path(cfg.path)
    path = path if path.is_absolute() else root / path
    if not path.exists():
        raise SourceError(name, str(path), "no such file")
    if path.stat().st_size == 0:
        raise SourceError(name, str(path), "the file is empty")
    openers = {
        "csv": _open_csv,
        "parquet": _open_parquet,
        "jsonl": _open_jsonl,
        "excel": _open_excel,
    }
    reader = openers[fmt](name, cfg, path, batch_rows)
    _hash_file(reader, path)
    return reader


def _hash_file(reader: SourceReader, path: Path) -> None:
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            reader._digest.update(chunk)


def _with_row_numbers(table: pa.Table, start: int) -> pa.Table:
    rows = pa.array(np.arange(start, start + table.num_rows, dtype=np.int64))
    return table.append_column(ROW_NUMBER, rows)


# ---- CSV ----------------------------------------------------------------------------------
def _csv_header(name: str, path: Path, encoding: str, delimiter: str) -> list[str]:
    try:
        with path.open(encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), None)
    except UnicodeDecodeError as exc:
        raise SourceError(
            name,
            str(path),
            f"not valid {encoding} text ({exc.reason} at byte {exc.start}); "
            "set `encoding:` for this source (for example latin-1 or cp1252)",
        ) from None
    if not header or not any(h.strip() for h in header):
        raise SourceError(name, str(path), "no header row")
    header = [h.lstrip("\ufeff").strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise SourceError(name, str(path), f"repeated column name(s) {', '.join(dupes)}")
    return header


def _open_csv(name: str, cfg: SourceConfig, path: Path, batch_rows: int) -> SourceReader:
    delimiter = cfg.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    header = _csv_header(name, path, cfg.encoding, delimiter)
    read_opts = pacsv.ReadOptions(
        column_names=header, skip_rows=1, encoding=cfg.encoding, block_size=16 << 20
    )
    parse_opts = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert_opts = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )

    def batches() -> Iterator[pa.Table]:
        try:
            stream = pacsv.open_csv(path, read_opts, parse_opts, convert_opts)
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            raise SourceError(name, str(path), _arrow_reason(exc, cfg.encoding)) from None
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        start = 1
        while True:
            try:
                batch = stream.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise SourceError(name, str(path), _arrow_reason(exc, cfg.encoding)) from None
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= batch_rows:
                table = pa.Table.from_batches(pending)
                full = table.num_rows - table.num_rows % batch_rows
                for offset in range(0, full, batch_rows):
                    yield _with_row_numbers(table.slice(offset, batch_rows), start)
                    start += batch_rows
                pending = table.slice(full).to_batches()
                pending_rows = table.num_rows - full
        if pending_rows:
            yield _with_row_numbers(pa.Table.from_batches(pending), start)

    return SourceReader(name, str(path), "csv", header, batches())


def _arrow_reason(exc: BaseException, encoding: str) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "invalid UTF8" in text or isinstance(exc, UnicodeDecodeError):
        return (
            f"not valid {encoding} text; set `encoding:` for this source "
            "(for example latin-1 or cp1252)"
        )
    if "Expected" in text and "columns" in text:
        # Arrow says "CSV parse error: Row #12: Expected 5 columns, got 3: ..."
        return f"ragged CSV: {text.removeprefix('CSV parse error: ')}"
    return text


# ---- Parquet ------------------------------------------------------------------------------
def _open_parquet(name: str, cfg: SourceConfig, path: Path, batch_rows: int) -> SourceReader:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(name, str(path), f"not a readable Parquet file ({exc})") from None
    columns = list(pf.schema_arrow.names)

    def batches() -> Iterator[pa.Table]:
        start = 1
        try:
            for batch in pf.iter_batches(batch_size=batch_rows):
                table = pa.Table.from_batches([batch])
                yield _with_row_numbers(table, start)
                start += table.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(name, str(path), f"damaged Parquet data ({exc})") from None

    schema = pf.schema_arrow.append(pa.field(ROW_NUMBER, pa.int64()))
    return SourceReader(
        name,
        str(path),
        "parquet",
        columns,
        batches(),
        path=path,
        rows=pf.metadata.num_rows,
        schema=schema,
    )


# ---- JSON Lines ---------------------------------------------------------------------------
def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    flat: dict[str, str | None] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif value is None:
            flat[name] = None
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = str(value)
    return flat


def _open_jsonl(name: str, cfg: SourceConfig, path: Path, batch_rows: int) -> SourceReader:
    columns: list[str] = []
    seen: set[str] = set()
    try:
        with path.open(encoding=cfg.encoding) as fh:
            for line in fh:
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(obj, dict):
                        for key in _flatten(obj):
                            if key not in seen:
                                seen.add(key)
                                columns.append(key)
    except UnicodeDecodeError as exc:
        raise SourceError(
            name, str(path), f"not valid {cfg.encoding} text ({exc.reason})"
        ) from None
    if not columns:
        raise SourceError(name, str(path), "no JSON object on any line")

    def batches() -> Iterator[pa.Table]:
        rows: list[dict[str, Any]] = []
        start = 1
        with path.open(encoding=cfg.encoding) as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    row = (
                        _flatten(obj)
                        if isinstance(obj, dict)
                        else {PARSE_ERROR: "line is JSON but not an object"}
                    )
                except json.JSONDecodeError as exc:
                    row = {
                        PARSE_ERROR: f"not valid JSON ({exc.msg} at column {exc.colno})",
                        RAW_LINE: line.strip()[:500],
                    }
                rows.append(row)
                if len(rows) >= batch_rows:
                    yield _rows_to_table(rows, columns, start)
                    start += len(rows)
                    rows = []
        if rows:
            yield _rows_to_table(rows, columns, start)

    return SourceReader(name, str(path), "jsonl", columns, batches())


def _rows_to_table(rows: list[dict[str, Any]], columns: list[str], start: int) -> pa.Table:
    data = {c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns}
    data[PARSE_ERROR] = pa.array([r.get(PARSE_ERROR) for r in rows], type=pa.string())
    data[RAW_LINE] = pa.array([r.get(RAW_LINE) for r in rows], type=pa.string())
    return _with_row_numbers(pa.table(data), start)


# ---- Excel --------------------------------------------------------------------------------
def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _open_excel(name: str, cfg: SourceConfig, path: Path, batch_rows: int) -> SourceReader:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise SourceError(name, str(path), f"not a readable Excel workbook ({exc})") from None
    if cfg.sheet is not None and cfg.sheet not in book.sheetnames:
        raise SourceError(
            name, str(path), f"no sheet '{cfg.sheet}'; sheets: {', '.join(book.sheetnames)}"
        )
    sheet = book[cfg.sheet] if cfg.sheet else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if not header_row or all(v is None for v in header_row):
        raise SourceError(name, str(path), "no header row")
    header = [
        str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header_row)
    ]

    def batches() -> Iterator[pa.Table]:
        buffer: list[tuple[Any, ...]] = []
        start = 1
        for row in rows:
            if all(v is None for v in row):
                continue
            buffer.append(row)
            if len(buffer) >= batch_rows:
                yield _excel_table(buffer, header, start)
                start += len(buffer)
                buffer = []
        if buffer:
            yield _excel_table(buffer, header, start)
        book.close()

    return SourceReader(name, str(path), "excel", header, batches())


def _excel_table(rows: list[tuple[Any, ...]], header: list[str], start: int) -> pa.Table:
    data = {
        h: pa.array([_cell_text(r[i]) if i < len(r) else None for r in rows], type=pa.string())
        for i, h in enumerate(header)
    }
    return _with_row_numbers(pa.table(data), start)
