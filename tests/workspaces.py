"""The demo company loaded into a fresh workspace on either store backend, as tests need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.demo import demo_sources, demo_value, generate_demo
from cxlens.workspace import Workspace


def demo_workspace(
    root: Path,
    *,
    customers: int,
    seed: int,
    backend: str = "duckdb",
    request: pytest.FixtureRequest | None = None,
    value: bool = False,
) -> Workspace:
    """Generate the demo company under `root`, ingest every source and resolve identities;
    on PostgreSQL the workspace points at the test server (`request` gives its fixture);
    `value` configures the demo's currencies and rates."""
    generate_demo(root, customers=customers, seed=seed)
    ws = Workspace.init(root)
    if backend == "postgres":
        if request is None:
            raise ValueError("a PostgreSQL workspace needs the test request for its server")
        config = root / "cxlens.yaml"
        raw = config.read_text().replace("backend: duckdb", "backend: postgres")
        url = request.getfixturevalue("pg_url")
        config.write_text(raw.replace("path: cxlens.duckdb", f"url: {url}"))
        ws = Workspace(root)
    for name, settings in demo_sources().items():
        ws.add_source(name, settings)
    if value:
        ws.configure("value", demo_value())
    ws.ingest()
    ws.identity.resolve()
    return ws


def analysed_demo(root: Path, *, customers: int, seed: int) -> Workspace:
    """The demo company with every capability run, as `cxlens demo` leaves it: value, voice
    of the customer, churn model, scores, health history and the alerts of the last 30 days."""
    import datetime as dt

    ws = demo_workspace(root, customers=customers, seed=seed, value=True)
    ws.value.clv()
    ws.voc.load_library("saas", actor="test")
    ws.voc.analyse(actor="test")
    ws.risk.train()
    scores = ws.risk.score()
    ws.risk.health(days=3)
    ws.signals.backfill(since=scores["as_of"].iloc[0] - dt.timedelta(days=30))
    return ws
