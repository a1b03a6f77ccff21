"""The workspace: one folder with `cxlens.yaml`, its store, and everything cxlens does there.

The CLI, the API and Python users all go through this object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

from cxlens.config import WORKSPACE_FILE, WorkspaceConfig, load_config, parse_config
from cxlens.errors import ConfigError, UnknownSource
from cxlens.identity import Identity
from cxlens.ingest.loader import AfterBatch, LoadReport, Progress, load_source
from cxlens.metrics.service import Value
from cxlens.store import Store, open_store

if TYPE_CHECKING:
    from cxlens.risk.service import Risk
    from cxlens.signals.service import Signals
    from cxlens.story.service import Story
    from cxlens.voc import Voice


class Workspace:
    """A cxlens workspace folder.

    >>> ws = Workspace.init("acme")            # doctest: +SKIP
    >>> ws.ingest()                              # doctest: +SKIP
    """

    def __init__(self, path: str | Path = ".") -> None:
        self.root = Path(path).resolve()
        self.config: WorkspaceConfig = load_config(self.root)
        self._store: Store | None = None

    # ---- life cycle ---------------------------------------------------------------------
    @classmethod
    def init(
        cls, path: str | Path = ".", *, name: str | None = None, exist_ok: bool = False
    ) -> Workspace:
        """Create `cxlens.yaml` (DuckDB store, no sources yet) and open the workspace."""
        root = Path(path).resolve()
        root.mkdir(parents=True, exist_ok=True)
        target = root / WORKSPACE_FILE
        if target.exists() and not exist_ok:
            raise ConfigError(f"{target} already exists")
        if not target.exists():
            data = {
                "name": name or root.name,
                "store": {"backend": "duckdb", "path": "cxlens.duckdb"},
                "ingest": {"max_reject_share": 0.05},
                "sources": {},
            }
            target.write_text(_dump(data), encoding="utf-8")
        return cls(root)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config.store, self.root)
        return self._store

    @property
    def identity(self) -> Identity:
        """Resolve, review, merge, split, undo and explain master customers and accounts."""
        return Identity(self.store, self.config.identity)

    @property
    def value(self) -> Value:
        """Revenue (MRR, waterfall, retention, cohorts) in the reporting currency."""
        return Value(self.store, self.config.value, self.root)

    @property
    def risk(self) -> Risk:
        """Health scorecards, churn models, back-tests, scores with reasons, revenue at risk."""
        # Imported here: churn models pull in LightGBM and lifelines.
        from cxlens.risk.service import Risk

        return Risk(self.store, self.config.risk, self.value, self.root)

    @property
    def voc(self) -> Voice:
        """The voice of the customer: satisfaction, sentiment, themes, drivers, emerging issues."""
        # Imported here: text analytics pulls in scikit-learn, which other commands never need.
        from cxlens.voc import Voice

        return Voice(self.store, self.config.voc)

    @property
    def story(self) -> Story:
        """Each customer's 360, timeline and story with every sentence's events."""
        from cxlens.story.service import Story

        return Story(self.store, self.config.story, self.value, self.identity)

    @property
    def signals(self) -> Signals:
        """Events over the API, rules, alerts, playbook tasks, notifications, effect."""
        from cxlens.signals.service import Signals

        return Signals(self.store, self.config.signals, self.root)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- configuration ------------------------------------------------------------------
    def _raw_config(self) -> dict[str, Any]:
        data = yaml.safe_load((self.root / WORKSPACE_FILE).read_text(encoding="utf-8")) or {}
        return dict(data)

    def add_source(self, name: str, settings: Mapping[str, Any], *, replace: bool = False) -> None:
        """Validate a source and save it to `cxlens.yaml`."""
        raw = self._raw_config()
        sources = dict(raw.get("sources") or {})
        if name in sources and not replace:
            raise ConfigError(f"source '{name}' already exists in {WORKSPACE_FILE}")
        sources[name] = dict(settings)
        raw["sources"] = sources
        self.config = parse_config(raw, str(self.root / WORKSPACE_FILE))
        (self.root / WORKSPACE_FILE).write_text(_dump(raw), encoding="utf-8")

    def configure(self, section: str, values: Mapping[str, Any]) -> None:
        """Validate and save settings of one section (`identity`, `ingest`) to `cxlens.yaml`."""
        if section in ("sources", "store"):
            raise ConfigError(f"use add_source or edit {WORKSPACE_FILE} to change `{section}`")
        raw = self._raw_config()
        raw[section] = {**dict(raw.get(section) or {}), **dict(values)}
        self.config = parse_config(raw, str(self.root / WORKSPACE_FILE))
        (self.root / WORKSPACE_FILE).write_text(_dump(raw), encoding="utf-8")

    def source_names(self) -> list[str]:
        return list(self.config.sources)

    # ---- ingestion ----------------------------------------------------------------------
    def ingest(
        self,
        sources: Iterable[str] | None = None,
        *,
        progress: Progress | None = None,
        after_batch: AfterBatch | None = None,
    ) -> list[LoadReport]:
        """Load the named sources (all, in file order, by default); one load each."""
        names = list(sources) if sources is not None else self.source_names()
        unknown = [n for n in names if n not in self.config.sources]
        if unknown:
            raise UnknownSource(
                f"unknown source(s) {', '.join(unknown)}; defined: "
                + (", ".join(self.source_names()) or "none (add them under `sources:`)")
            )
        self.store.prepare_bulk_load()
        return [
            load_source(
                self.store,
                name,
                self.config.sources[name],
                self.root,
                self.config.ingest,
                progress=progress,
                after_batch=after_batch,
            )
            for name in names
        ]

    def loads(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.store.rows(
            "SELECT load_id, source, status, rows_read, records_loaded, events_loaded, "
            "records_unchanged, events_unchanged, rows_rejected, started_at, finished_at, "
            "location, checksum, message FROM loads ORDER BY started_at DESC, load_id DESC "
            "LIMIT ?",
            [limit],
        )

    def rejects(
        self, *, load_id: str | None = None, source: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if load_id is not None:
            where.append("load_id = ?")
            params.append(load_id)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        return self.store.rows(
            f"SELECT load_id, source, location, row_number, field, value, reason, raw "
            f"FROM rejects {clause}ORDER BY load_id DESC, row_number, field LIMIT ?",
            [*params, limit],
        )

    def status(self) -> dict[str, Any]:
        """Counts per table, per source and per event kind."""
        from cxlens.schema import TABLES

        store = self.store
        tables = {t.name: store.count(t.name) for t in TABLES if t.name != "cxlens_meta"}
        by_source = store.rows(
            "SELECT source, count(*) AS events, min(occurred_at) AS first_event, "
            "max(occurred_at) AS last_event FROM events GROUP BY source ORDER BY source"
        )
        records = store.rows(
            "SELECT source, entity, count(*) AS records FROM source_records "
            "GROUP BY source, entity ORDER BY source, entity"
        )
        by_kind = store.rows(
            "SELECT kind, count(*) AS events FROM events GROUP BY kind ORDER BY events DESC, kind"
        )
        return {
            "workspace": str(self.root),
            "name": self.config.name,
            "store": {"backend": self.config.store.backend, "location": store.location},
            "tables": tables,
            "events_by_source": by_source,
            "records_by_source": records,
            "events_by_kind": by_kind,
        }


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
