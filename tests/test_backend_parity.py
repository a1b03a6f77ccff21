"""The same data loaded on DuckDB and on PostgreSQL gives the same store, row for row."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cxlens.demo import demo_sources, generate_demo
from cxlens.workspace import Workspace

FINGERPRINTS = {
    "events": "SELECT event_id, record_id, occurred_at, kind, action, department, "
    "journey_stage, channel, reference, amount, currency, quantity, score, text, properties "
    "FROM events ORDER BY event_id",
    "source_records": "SELECT record_id, entity, name, email, phone, account_record_id, "
    "external_ids, attributes, created_at, content_hash FROM source_records ORDER BY record_id",
    "customers": "SELECT customer_id, account_id, name, email FROM customers ORDER BY customer_id",
    "accounts": "SELECT account_id, name, domain, segment FROM accounts ORDER BY account_id",
}


def fingerprint(ws: Workspace, sql: str) -> tuple[int, str]:
    rows = ws.store.rows(sql)
    digest = hashlib.sha256(repr([tuple(r.values()) for r in rows]).encode()).hexdigest()
    return len(rows), digest


@pytest.mark.postgres
@pytest.mark.slow
def test_demo_company_loads_identically_on_duckdb_and_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    stores = {}
    for backend in ("duckdb", "postgres"):
        root = tmp_path / backend
        generate_demo(root, customers=40, seed=11)
        ws = Workspace.init(root)
        if backend == "postgres":
            raw = (root / "cxlens.yaml").read_text()
            raw = raw.replace("backend: duckdb", "backend: postgres")
            (root / "cxlens.yaml").write_text(raw.replace("path: cxlens.duckdb", f"url: {pg_url}"))
            ws = Workspace(root)
        for name, settings in demo_sources().items():
            ws.add_source(name, settings)
        reports = ws.ingest()
        assert all(r.rows_rejected == 0 for r in reports)
        stores[backend] = {t: fingerprint(ws, sql) for t, sql in FINGERPRINTS.items()}
        ws.close()
    assert stores["duckdb"]["events"][0] > 1_000
    assert stores["duckdb"] == stores["postgres"]
