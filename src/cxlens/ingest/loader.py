"""One load: read a source, validate and normalise it, and write it atomically.

The whole load runs in one store transaction: if it fails, or rejects more rows than allowed,
or the process is killed, the store is exactly as before. A failed load is still recorded
(with its rejects) in a transaction of its own, so users can see why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxlens.config import IngestSettings
from cxlens.errors import CxlensError, IngestError, RowProblem, TooManyRejects
from cxlens.identity.provisional import link_unlinked_records
from cxlens.ingest.transform import BatchTransformer, CompiledSource
from cxlens.schema import LoadStatus
from cxlens.sources.mapping import SourceConfig
from cxlens.sources.presets import load_preset
from cxlens.sources.readers import open_source
from cxlens.store import Store

#: Called after each batch with the number of rows read so far.
Progress = Callable[[int], None]
#: Called after each batch is written, inside the transaction (tests inject failures here).
AfterBatch = Callable[[int], None]


@dataclass(frozen=True)
class LoadReport:
    load_id: str
    source: str
    location: str
    status: LoadStatus
    rows_read: int
    records_loaded: int
    events_loaded: int
    records_unchanged: int
    events_unchanged: int
    rows_rejected: int
    started_at: dt.datetime
    finished_at: dt.datetime
    message: str | None = None

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


def new_load_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _renamed(data: Any, rename: dict[str, str]) -> Any:
    """Point a preset's mappings at the user's column names."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("column", "when", "add_minutes") and isinstance(value, str):
                out[key] = rename.get(value, value)
            elif key == "template" and isinstance(value, str):
                for old, new in rename.items():
                    value = value.replace("{" + old + "}", "{" + new + "}")
                out[key] = value
            elif key == "attributes" and isinstance(value, list):
                out[key] = [rename.get(v, v) for v in value]
            elif key in ("key", "time", "record", "account", "id", "action") and isinstance(
                value, str
            ):
                out[key] = rename.get(value, value)
            elif key in ("fields", "properties", "external_ids") and isinstance(value, dict):
                out[key] = {
                    k: rename.get(v, v) if isinstance(v, str) else _renamed(v, rename)
                    for k, v in value.items()
                }
            else:
                out[key] = _renamed(value, rename)
        return out
    if isinstance(data, list):
        return [_renamed(v, rename) for v in data]
    return data


def compile_source(name: str, cfg: SourceConfig) -> CompiledSource:
    from cxlens.sources.mapping import EventMapping, RecordMapping

    records = list(cfg.records or [])
    events = list(cfg.events or [])
    system = cfg.system or name
    if cfg.preset is not None:
        preset = load_preset(cfg.preset)
        records = records if cfg.records is not None else list(preset.records)
        events = events if cfg.events is not None else list(preset.events)
        system = cfg.system or preset.system
    if cfg.rename:
        records = [
            RecordMapping.model_validate(_renamed(r.model_dump(exclude_none=True), cfg.rename))
            for r in records
        ]
        events = [
            EventMapping.model_validate(_renamed(e.model_dump(exclude_none=True), cfg.rename))
            for e in events
        ]
    return CompiledSource(name, system, cfg.timezone, records, events)


def load_source(
    store: Store,
    name: str,
    cfg: SourceConfig,
    root: Path,
    settings: IngestSettings,
    *,
    progress: Progress | None = None,
    after_batch: AfterBatch | None = None,
) -> LoadReport:
    started = _utcnow()
    load_id = new_load_id(started)
    compiled = compile_source(name, cfg)
    reader = open_source(name, cfg, root, settings.batch_rows)
    compiled.check_columns(reader.columns, reader.location)
    transformer = BatchTransformer(compiled, load_id, reader.location)
    totals = dict.fromkeys(
        (
            "rows_read",
            "records_loaded",
            "events_loaded",
            "records_unchanged",
            "events_unchanged",
            "rows_rejected",
        ),
        0,
    )
    all_rejects: list[pa.Table] = []
    base_row = {
        "load_id": load_id,
        "source": name,
        "location": reader.location,
        "started_at": started,
    }
    try:
        with store.transaction():
            for batch_no, batch in enumerate(reader.batches):
                result = transformer.transform(batch)
                rec_w, rec_u = store.merge_records(result.records)
                ev_w, ev_u = store.append_new_events(result.events)
                store.append_rejects(result.rejects)
                if result.rejects.num_rows:
                    all_rejects.append(result.rejects)
                totals["rows_read"] += result.rows_read
                totals["records_loaded"] += rec_w
                totals["records_unchanged"] += rec_u
                totals["events_loaded"] += ev_w
                totals["events_unchanged"] += ev_u
                totals["rows_rejected"] += result.rows_rejected
                if progress is not None:
                    progress(totals["rows_read"])
                if after_batch is not None:
                    after_batch(batch_no)
            read, rejected = totals["rows_read"], totals["rows_rejected"]
            if read == 0:
                raise IngestError(f"source '{name}': {reader.location} holds no data rows", load_id)
            if rejected > settings.max_reject_share * read:
                raise TooManyRejects(
                    name,
                    rejected,
                    read,
                    settings.max_reject_share,
                    load_id,
                    _first_problem(all_rejects),
                )
            link_unlinked_records(store, load_id)
            finished = _utcnow()
            store.record_load(
                {
                    **base_row,
                    **totals,
                    "checksum": reader.checksum(),
                    "finished_at": finished,
                    "status": LoadStatus.COMMITTED.value,
                    "message": None,
                }
            )
    except CxlensError as exc:
        _record_failure(store, base_row, totals, reader.checksum(), all_rejects, str(exc))
        raise
    except Exception as exc:
        _record_failure(store, base_row, totals, reader.checksum(), all_rejects, repr(exc))
        raise IngestError(
            f"source '{name}': load failed and was rolled back: {exc}", load_id
        ) from exc
    return LoadReport(
        load_id=load_id,
        source=name,
        location=reader.location,
        status=LoadStatus.COMMITTED,
        started_at=started,
        finished_at=finished,
        rows_read=totals["rows_read"],
        records_loaded=totals["records_loaded"],
        events_loaded=totals["events_loaded"],
        records_unchanged=totals["records_unchanged"],
        events_unchanged=totals["events_unchanged"],
        rows_rejected=totals["rows_rejected"],
    )


def _first_problem(rejects: list[pa.Table]) -> str:
    for table in rejects:
        if table.num_rows:
            row = table.slice(0, 1).to_pylist()[0]
            return str(
                RowProblem(
                    row["location"], row["row_number"], row["field"], row["value"], row["reason"]
                )
            )
    return "none recorded"


def _record_failure(
    store: Store,
    base_row: dict[str, Any],
    totals: dict[str, int],
    checksum: str,
    rejects: list[pa.Table],
    message: str,
) -> None:
    row = {
        **base_row,
        **totals,
        "records_loaded": 0,
        "events_loaded": 0,
        "checksum": checksum,
        "finished_at": _utcnow(),
        "status": LoadStatus.FAILED.value,
        "message": message[:2000],
    }
    with store.transaction():
        for table in rejects:
            store.append_rejects(table)
        store.record_load(row)
