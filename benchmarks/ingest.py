"""Ingestion speed against raw DuckDB, and demo-generator speed.

    python benchmarks/ingest.py                  # 10M events, demo at 100k customers
    python benchmarks/ingest.py --events 1000000 --demo-customers 10000

Generates a Parquet file of product events (usage, orders, tickets) with their own ids, loads it
through a cxlens source (validation, mapping, dedupe, one transaction) into a fresh DuckDB
store, and loads the same file into a fresh DuckDB file with a raw
`INSERT INTO ... SELECT * FROM read_parquet(...)`. Prints events/s of both and their ratio
(target: cxlens ≥ 0.5 × raw). Each side runs `--repeat` times on fresh stores; medians are shown.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cxlens.workspace import Workspace

KINDS = np.array(["usage", "order", "ticket"])


def make_events(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    chunk = 1_000_000
    start = np.datetime64("2023-01-01T00:00:00", "us")
    for offset in range(0, n, chunk):
        m = min(chunk, n - offset)
        ids = np.arange(offset, offset + m)
        kind_idx = rng.choice(3, size=m, p=[0.8, 0.1, 0.1])
        table = pa.table(
            {
                "event_id": pa.array(np.char.add("e", ids.astype(str))),
                "customer_id": pa.array(np.char.add("c", rng.integers(0, 100_000, m).astype(str))),
                "occurred_at": pa.array(start + rng.integers(0, 3 * 365 * 86_400, m) * 1_000_000),
                "kind": pa.array(KINDS[kind_idx]),
                "action": pa.array(np.array(["active_users", "placed", "opened"])[kind_idx]),
                "quantity": pa.array(rng.integers(1, 50, m).astype(float)),
                "amount": pa.array(np.round(rng.gamma(2.0, 40.0, m), 2)),
                "currency": pa.array(
                    np.array(["USD", "EUR", "GBP"])[rng.choice(3, m, p=[0.8, 0.1, 0.1])]
                ),
                "reference": pa.array(np.char.add("r", rng.integers(0, 10_000_000, m).astype(str))),
                "priority": pa.array(
                    np.array(["low", "normal", "high", "urgent"])[rng.integers(0, 4, m)]
                ),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


SOURCE = {
    "path": "events.parquet",
    "system": "bench",
    "events": [
        {
            "kind": {"column": "kind"},
            "action": "action",
            "id": "event_id",
            "time": "occurred_at",
            "record": "customer_id",
            "fields": {
                "quantity": "quantity",
                "amount": "amount",
                "currency": "currency",
                "reference": "reference",
            },
            "properties": {"priority": "priority"},
        }
    ],
}


def run_cxlens(data: Path, workdir: Path) -> float:
    if workdir.exists():
        shutil.rmtree(workdir)
    ws = Workspace.init(workdir)
    ws.add_source("events", {**SOURCE, "path": str(data)})
    started = time.perf_counter()
    [report] = ws.ingest(["events"])
    elapsed = time.perf_counter() - started
    assert report.events_loaded > 0 and report.rows_rejected == 0, report
    ws.close()
    return elapsed


def run_raw(data: Path, workdir: Path) -> float:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    con = duckdb.connect(str(workdir / "raw.duckdb"))
    started = time.perf_counter()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{data}') LIMIT 0")
    con.execute(f"INSERT INTO events SELECT * FROM read_parquet('{data}')")
    con.close()
    return time.perf_counter() - started


def bench_demo(customers: int, workdir: Path) -> float:
    from cxlens.demo import generate_demo

    if workdir.exists():
        shutil.rmtree(workdir)
    started = time.perf_counter()
    generate_demo(workdir, customers=customers, seed=7)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--demo-customers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    base = args.workdir or Path(tempfile.mkdtemp(prefix="cxlens-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    data = base / "events.parquet"
    if not data.exists() or pq.ParquetFile(data).metadata.num_rows != args.events:
        t = time.perf_counter()
        make_events(data, args.events)
        print(f"generated {args.events:,} events in {time.perf_counter() - t:.1f} s ({data})")
    cx, raw = [], []
    for i in range(args.repeat):
        raw.append(run_raw(data, base / f"raw{i}"))
        cx.append(run_cxlens(data, base / f"cx{i}"))
        print(f"run {i + 1}: raw DuckDB {raw[-1]:.2f} s, cxlens {cx[-1]:.2f} s")
    cx_s, raw_s = statistics.median(cx), statistics.median(raw)
    print(f"\ningest {args.events:,} events from Parquet (median of {args.repeat}):")
    print(
        f"  raw DuckDB INSERT ... read_parquet: {raw_s:.2f} s  {args.events / raw_s:,.0f} events/s"
    )
    print(
        f"  cxlens ingest (validate, map, dedupe, atomic): {cx_s:.2f} s  "
        f"{args.events / cx_s:,.0f} events/s"
    )
    print(f"  ratio cxlens / raw DuckDB: {raw_s / cx_s:.2f}  (target >= 0.50)")
    if args.demo_customers:
        seconds = bench_demo(args.demo_customers, base / "demo")
        print(f"\ndemo generator, {args.demo_customers:,} customer accounts: {seconds:.1f} s")
    if args.workdir is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
