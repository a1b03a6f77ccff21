"""Shared fixtures: a real store per backend, and the throwaway PostgreSQL server behind it.

`store` runs a test once per backend (DuckDB in a temp file, PostgreSQL in a fresh schema of a
server this test process starts). The PostgreSQL parameters carry the `postgres` marker; they fail
when no server binaries are found, unless CXLENS_SKIP_POSTGRES=1 asks to skip them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxlens.store import Store
from pg import PostgresUnavailable, ThrowawayPostgres, find_bindir, server_version

SKIP_ENV = "CXLENS_SKIP_POSTGRES"

BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def _skip_postgres() -> bool:
    return os.environ.get(SKIP_ENV) == "1"


def pytest_report_header(config: pytest.Config) -> str:
    if _skip_postgres():
        return f"postgres: skipped ({SKIP_ENV}=1)"
    bindir = find_bindir()
    if bindir is None:
        return "postgres: server binaries NOT FOUND"
    return f"postgres: {server_version(bindir)} ({bindir})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _skip_postgres():
        return
    skip = pytest.mark.skip(reason=f"{SKIP_ENV}=1: PostgreSQL tests skipped on request")
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server for this test process (each xdist worker gets its own)."""
    if _skip_postgres():
        pytest.skip(f"{SKIP_ENV}=1: PostgreSQL tests skipped on request")
    bindir = find_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: looked at "
            "$CXLENS_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH. "
            "Install them with scripts/ensure-system-packages.sh (Debian package `postgresql`), "
            f"or set {SKIP_ENV}=1 to skip the PostgreSQL tests.",
            pytrace=False,
        )
    server = ThrowawayPostgres(bindir)
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"the throwaway PostgreSQL server did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: ThrowawayPostgres) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL namespace (a schema of its own), dropped after the test."""
    url = postgres_server.create_schema()
    yield url
    postgres_server.drop_schema(url)


def open_test_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A new, not yet initialised store of `backend` that lives as long as the test."""
    if backend == "duckdb":
        from cxlens.store.duckdb_backend import DuckDBStore

        return DuckDBStore(tmp_path / "store.duckdb")
    if backend == "postgres":
        from cxlens.store.postgres_backend import PostgresStore

        return PostgresStore(request.getfixturevalue("pg_url"))
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a store backend; tests using it (or `store`) run once per backend."""
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An initialised store, once per backend, closed after the test."""
    opened = open_test_store(backend, request, tmp_path)
    try:
        opened.initialize()
        yield opened
    finally:
        opened.close()
