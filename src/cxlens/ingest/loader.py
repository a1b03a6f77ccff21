"""One load: read a source, validate and normalise it, and write it atomically.

The whole load runs in one store transaction: if it fails, or rejects more rows than allowed,
or the process is killed, the store is exactly as before. A failed load is still recorded
(with its rejects) in a transaction of its own, so users can see why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxlens.config import IngestSettings
from cxlens.errors import CxlensError, IngestError, RowProblem, TooManyRejects
from cxlens.identity.provisional import link_unlinked_records
from cxlens.schema import LoadStatus
from cxlens.sources.mapping import SourceConfig
from cxlens.sources.readers import open_source
from cxlens.sources.resolve import resolve_source
from cxlens.store import Store
from cxlens.store.base import FileScan
from cxlens.store.ingest_queries import QueryBuilder

#: Formats whose cells are text typed by people or spreadsheets, trimmed of blanks on load.
TEXT_FORMATS = frozenset({"csv", "jsonl", "excel"})
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
    resolved = resolve_source(name, cfg)
    reader = open_source(name, cfg, root, settings.batch_rows)
    resolved.check_columns(reader.columns, reader.location)
    queries: dict[pa.Schema, QueryBuilder] = {}
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
            fresh = store.count("events") == 0
            scan = store.file_scan(reader)
            batches: Iterable[pa.Table | FileScan] = [scan] if scan else reader.batches
            for batch_no, batch in enumerate(batches):
                if batch.schema not in queries:
                    # Text exports are trimmed of blanks; typed sources keep what they store.
                    queries[batch.schema] = QueryBuilder(
                        resolved, batch.schema, load_id, trim=reader.format in TEXT_FORMATS
                    )
                counts = store.load_batch(
                    queries[batch.schema], batch, reader.location, fresh=fresh
                )
                if counts.rejects is not None:
                    all_rejects.append(counts.rejects)
                totals["rows_read"] += counts.rows_read
                totals["records_loaded"] += counts.records_written
                totals["records_unchanged"] += counts.records_unchanged
                totals["events_loaded"] += counts.events_written
                totals["events_unchanged"] += counts.events_unchanged
                totals["rows_rejected"] += counts.rows_rejected
                if progress is not None:
                    progress(totals["rows_read"])
                if after_batch is not None:
                    after_batch(batch_no)
            # A repeat of an event within the load is already there: it counts as unchanged.
            removed = store.dedupe_load(load_id)
            totals["events_loaded"] -= removed
            totals["events_unchanged"] += removed
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
