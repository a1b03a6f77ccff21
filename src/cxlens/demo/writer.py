"""Byte-for-byte reproducible writers for CSV, Parquet, JSON Lines and Excel files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxlens.demo import xlsx
from cxlens.demo.layout import BY_FILE
from cxlens.demo.xlsx import Column


def check_columns(file: str, columns: Sequence[str]) -> None:
    expected = BY_FILE[file].columns
    if tuple(columns) != expected:
        raise AssertionError(f"{file}: columns {list(columns)} differ from {list(expected)}")


def write_csv(path: Path, table: pa.Table) -> int:
    check_columns(path.name, table.column_names)
    with path.open("wb") as fh:
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=True, batch_size=65_536))
    return int(table.num_rows)


def write_parquet(path: Path, table: pa.Table) -> int:
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def write_parquet_batches(path: Path, schema: pa.Schema, batches: Iterable[pa.Table]) -> int:
    check_columns(path.name, schema.names)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd", store_schema=False) as writer:
        for batch in batches:
            writer.write_table(batch)
            rows += int(batch.num_rows)
    return rows


def write_jsonl(path: Path, records: list[dict[str, object]]) -> int:
    if records:
        check_columns(path.name, list(records[0]))
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
    return len(records)


def write_xlsx(path: Path, sheet: str, columns: Sequence[Column]) -> int:
    check_columns(path.name, [c[0] for c in columns])
    return xlsx.write_xlsx(path, sheet, columns)


def write_json(path: Path, payload: dict[str, object]) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
