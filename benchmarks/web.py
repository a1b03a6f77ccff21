"""Dashboard and API response times on a large customer base.

    python benchmarks/web.py                       # builds a 30,000-account demo (~10M events)
    python benchmarks/web.py --workspace DIR              # an existing `cxlens demo` workspace
    python benchmarks/web.py --customers 2000 --requests 30

The demo company at 30,000 accounts has about 135,000 master customers and 10 million events
(`cxlens demo --no-serve` builds it, every capability included). `cxlens serve` then runs as
its own process and each page and API call is requested `--requests` times, one after
another, each 360 for a different account (random, fixed seed); the first request of each kind
is a warm-up and not counted. Prints p50 / p95 per page and call, and as the baseline the
time of the plainest query the list page needs (one page of `accounts` straight from DuckDB).

Target: p95 <= 300 ms for the overview, list and 360 pages and the main API calls.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import numpy as np
from serving import served

from cxlens.api.keys import create_key
from cxlens.workspace import Workspace


def timed(http: httpx.Client, paths: Callable[[int], str], n: int) -> list[float]:
    http.get(paths(0)).raise_for_status()  # warm-up
    out = []
    for i in range(1, n + 1):
        start = time.perf_counter()
        answer = http.get(paths(i))
        out.append(time.perf_counter() - start)
        answer.raise_for_status()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--customers", type=int, default=30_000, help="Accounts of the demo.")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.workspace or Path(tmp) / "demo"
        if args.workspace is None:
            started = time.perf_counter()
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-c",
                    "from cxlens.cli import main; main()",
                    "demo",
                    "-w",
                    str(root),
                    "--customers",
                    str(args.customers),
                    "--no-serve",
                ],  # fmt: skip
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(f"demo company of {args.customers:,} accounts built in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        with Workspace(root) as ws:
            events = ws.store.scalar("SELECT count(*) FROM events")
            people = ws.store.scalar("SELECT count(*) FROM customers")
            accounts = [str(r["account_id"]) for r in ws.store.rows(
                "SELECT account_id FROM accounts ORDER BY account_id")]  # fmt: skip
            key = create_key(ws.store, "benchmark", "admin")
            database = ws.config.store.path
        print(f"{len(accounts):,} accounts, {people:,} master customers, {events:,} events")
        rng = random.Random(0)
        sample = [rng.choice(accounts) for _ in range(args.requests + 1)]

        # Baseline: one page of accounts straight from DuckDB, no API, no joins.
        with duckdb.connect(str(root / database), read_only=True) as con:
            floor = []
            for i in range(args.requests):
                start = time.perf_counter()
                con.sql(f"SELECT * FROM accounts ORDER BY name LIMIT 50 OFFSET {i * 50}").fetchall()
                floor.append(time.perf_counter() - start)

        checks: dict[str, Callable[[int], str]] = {
            "page  overview  /": lambda i: "/",
            "page  customers /customers": lambda i: f"/customers?page={1 + i % 20}",
            "page  customers filtered": lambda i: (
                "/customers?risk_band=high&sort=revenue_at_risk"
                if i % 2
                else "/customers?segment=Enterprise&sort=arr"
            ),  # fmt: skip
            "page  360 /customers/{id}": lambda i: f"/customers/{sample[i]}",
            "page  voice /voc": lambda i: "/voc",
            "page  alerts /alerts": lambda i: "/alerts",
            "api   GET /v1/customers": lambda i: f"/v1/customers?page={1 + i % 20}",
            "api   GET /v1/customers/{id}": lambda i: f"/v1/customers/{sample[i]}",
            "api   GET /v1/customers/{id}/timeline": lambda i: (
                f"/v1/customers/{sample[i]}/timeline"
            ),
            "api   GET /v1/customers/{id}/story": lambda i: f"/v1/customers/{sample[i]}/story",
            "api   GET /v1/metrics/overview": lambda i: "/v1/metrics/overview",
            "api   GET /v1/alerts": lambda i: "/v1/alerts",
        }
        worst = 0.0
        with (
            served(root) as url,
            httpx.Client(base_url=url, timeout=120, cookies={"cxlens_key": key}) as http,
        ):
            http.headers["Authorization"] = f"Bearer {key}"
            print(f"{'':40s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
            for name, paths in checks.items():
                times = timed(http, paths, args.requests)
                p50, p95 = (float(np.percentile(times, q)) * 1000 for q in (50, 95))
                worst = max(worst, p95)
                print(f"{name:40s} {p50:8.0f} {p95:8.0f} {max(times) * 1000:8.0f}")
        print(
            f"baseline: one page of accounts straight from DuckDB, median "
            f"{statistics.median(floor) * 1000:.1f} ms; worst p95 above {worst:.0f} ms "
            f"({worst / (statistics.median(floor) * 1000):.0f}x the floor)"
        )
        verdict = "within" if worst <= 300 else "OVER"
        print(f"target p95 <= 300 ms: {verdict} (worst p95 {worst:.0f} ms)")


if __name__ == "__main__":
    main()
