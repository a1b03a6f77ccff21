"""The one place that knows a database: DuckDB (embedded default) and PostgreSQL (server)."""

from __future__ import annotations

from pathlib import Path

from cxlens.config import StoreSettings
from cxlens.store.base import BatchCounts, Store, arrow_schema, arrow_type


def open_store(settings: StoreSettings, root: Path) -> Store:
    """Open (and create if missing) the store a workspace's settings name."""
    if settings.backend == "postgres":
        from cxlens.store.postgres_backend import PostgresStore

        assert settings.url is not None  # noqa: S101 - guaranteed by StoreSettings validation
        store: Store = PostgresStore(settings.url.get_secret_value())
    else:
        from cxlens.store.duckdb_backend import DuckDBStore

        path = settings.path if settings.path.is_absolute() else root / settings.path
        store = DuckDBStore(path)
    store.initialize()
    return store


__all__ = ["BatchCounts", "Store", "arrow_schema", "arrow_type", "open_store"]
