"""Event API under load: 1,000 events/s for 60 s through `cxlens serve` with the rules active.

    python benchmarks/events.py                          # demo company of 500 accounts
    python benchmarks/events.py --rate 2000 --seconds 30 --batch 20

Builds a demo workspace (value scored, so rules see value tiers), starts `cxlens serve` as its
own process on loopback, and drives it open-loop from an asyncio load generator: every
`batch / rate` seconds a request of `--batch` events leaves whether or not earlier ones have
been answered. The mix is what a customer base sends: logins and active-user counts, tickets
(some urgent), NPS answers (some detractors), social mentions (some angry), CSM notes, for
known customers and a few new ones. A request is answered only once its events and the alerts
they raise are committed, so send → answer is send → alert stored. Prints sustained
throughput, p50 / p95 / p99 latency (all requests, and those that raised alerts), and the
baseline: the same batches appended straight into the store with no API, rules or matching.

Target: 1,000 events/s sustained, p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from serving import served

from cxlens.api.keys import create_key
from cxlens.demo import demo_sources, demo_value, generate_demo
from cxlens.signals.intake import Directory, EventIn, event_rows, match
from cxlens.workspace import Workspace

ANGRY = ["Third outage this week, your support is useless", "Cancelling, the app is broken",
         "Worst billing experience ever, charged twice"]  # fmt: skip
CALM = ["Loving the new dashboards", "Quick question about exports", "Thanks for the help!"]


def build(root: Path, customers: int) -> tuple[str, list[str]]:
    generate_demo(root, customers=customers, seed=7)
    with Workspace.init(root) as ws:
        for name, settings in demo_sources().items():
            ws.add_source(name, settings)
        ws.configure("value", demo_value())
        ws.ingest()
        ws.identity.resolve()
        ws.value.clv()
        key = create_key(ws.store, "load generator", "ingest")
        emails = [
            str(r["email"])
            for r in ws.store.rows("SELECT email FROM customers WHERE email IS NOT NULL")
        ]
    return key, emails


def make_event(n: int, emails: list[str], rng: random.Random) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC).isoformat()
    known = rng.random() < 0.98
    customer: dict[str, Any] = (
        {"email": rng.choice(emails)}
        if known
        else {"email": f"new{n}@prospect{n % 500}.example",
              "account": {"domain": f"prospect{n % 500}.example"}}
    )  # fmt: skip
    base = {"event_id": f"bench-{n}", "occurred_at": at, "customer": customer}
    roll = rng.random()
    if roll < 0.55:
        return {**base, "kind": "usage", "action": "login", "quantity": 1}
    if roll < 0.70:
        return {**base, "kind": "usage", "action": "active_users",
                "quantity": rng.randint(1, 60)}  # fmt: skip
    if roll < 0.85:
        priority = rng.choice(["urgent", "high", "normal", "normal", "low"])
        return {**base, "kind": "ticket", "action": "opened", "reference": f"BT-{n}",
                "text": "Cannot export", "properties": {"priority": priority}}  # fmt: skip
    if roll < 0.92:
        return {**base, "kind": "survey", "action": "nps", "score": rng.randint(0, 10)}
    if roll < 0.97:
        text = rng.choice(ANGRY if rng.random() < 0.4 else CALM)
        return {**base, "kind": "social", "action": "mention", "text": text}
    return {**base, "kind": "note", "action": "success", "text": "QBR scheduled"}


async def drive(
    url: str, key: str, emails: list[str], rate: float, seconds: float, batch: int
) -> tuple[list[tuple[float, int, int]], int, float]:
    rng = random.Random(0)
    interval = batch / rate
    results: list[tuple[float, int, int]] = []  # latency s, accepted, alerts
    failures = 0
    counter = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        headers = {"Authorization": f"Bearer {key}"}

        async def one(events: list[dict[str, Any]]) -> None:
            nonlocal failures
            sent = time.perf_counter()
            try:
                answer = await http.post("/v1/events", json={"events": events}, headers=headers)
                answer.raise_for_status()
            except httpx.HTTPError:
                failures += 1
                return
            body = answer.json()
            results.append((time.perf_counter() - sent, body["accepted"], len(body["alerts"])))

        tasks = []
        start = time.perf_counter()
        tick = 0
        while (now := time.perf_counter()) - start < seconds:
            due = start + tick * interval
            if now < due:
                await asyncio.sleep(due - now)
            events = [make_event(counter + i, emails, rng) for i in range(batch)]
            counter += batch
            tasks.append(asyncio.create_task(one(events)))
            tick += 1
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return results, failures, elapsed


def baseline(root: Path, emails: list[str], batches: int, batch: int) -> float:
    """The same kind of batches appended straight into the store: matching and the insert
    only, no HTTP, no rules, no alerts. Events per second."""
    rng = random.Random(1)
    with Workspace(root) as ws:
        directory = Directory(ws.store)
        start = time.perf_counter()
        for b in range(batches):
            events = [EventIn.model_validate(make_event(10**8 + b * batch + i, emails, rng))
                      for i in range(batch)]  # fmt: skip
            with ws.store.transaction():
                matched = match(events, directory, ws.store, "baseline")
                ws.store.append_new_events(event_rows(matched, "baseline"))
        return batches * batch / (time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0, help="Events per second.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=10, help="Events per request.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        key, emails = build(root, args.customers)
        print(f"demo workspace of {args.customers:,} accounts built in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        with served(root) as url:
            results, failures, elapsed = asyncio.run(
                drive(url, key, emails, args.rate, args.seconds, args.batch)
            )
        with Workspace(root) as ws:
            stored = ws.store.scalar("SELECT count(*) FROM events WHERE source = 'api'")
            alerts = ws.store.scalar("SELECT count(*) FROM alerts")
        accepted = sum(r[1] for r in results)
        latencies = [r[0] for r in results]
        alerting = [r[0] for r in results if r[2]]
        print(
            f"offered {args.rate:,.0f} events/s in requests of {args.batch} for "
            f"{args.seconds:.0f} s: {accepted:,} events acknowledged in {elapsed:.1f} s = "
            f"{accepted / elapsed:,.0f} events/s sustained; {failures} requests failed; "
            f"{stored:,} stored, {alerts:,} alerts"
        )
        print(
            f"send → stored (with its alerts): p50 {pct(latencies, 50):.0f} ms, "
            f"p95 {pct(latencies, 95):.0f} ms, p99 {pct(latencies, 99):.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies):,} requests"
        )
        if alerting:
            print(
                f"requests that raised alerts ({len(alerting):,}): p50 {pct(alerting, 50):.0f} ms, "
                f"p99 {pct(alerting, 99):.0f} ms"
            )
        direct = baseline(root, emails, batches=300, batch=args.batch)
        print(
            f"baseline, same batches appended straight to the store (no HTTP, no rules): "
            f"{direct:,.0f} events/s; the API sustained {accepted / elapsed / direct:.2f}x that, "
            f"at the offered rate"
        )
        verdict = (
            "within" if accepted / elapsed >= 0.98 * args.rate and pct(latencies, 99) <= 250
            else "OUTSIDE"
        )  # fmt: skip
        print(f"target 1,000 events/s sustained with p99 <= 250 ms: {verdict}")


if __name__ == "__main__":
    main()
