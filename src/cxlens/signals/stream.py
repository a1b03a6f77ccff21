"""The server's event pipeline: requests queue their events, one writer thread takes
everything waiting, stores and judges it in one transaction, and only then answers them.

Group commit is what makes "acknowledged means durable" cheap: under load one commit carries
many requests, so a thousand events a second cost tens of commits, not a thousand. The writer
is the only thread that touches the store besides the notification dispatcher, which shares
its lock."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import cast

import pyarrow as pa

from cxlens.schema.operations import LOADS
from cxlens.signals.engine import RuleEngine
from cxlens.signals.intake import API_SOURCE, Directory, EventIn
from cxlens.signals.profiles import Profiles
from cxlens.signals.service import Received, Signals
from cxlens.store.base import arrow_schema

log = logging.getLogger(__name__)
_STOP = object()


@dataclass
class _Request:
    events: Sequence[EventIn]
    future: Future[Received]


class EventStream:
    def __init__(
        self,
        signals: Signals,
        lock: threading.Lock,
        *,
        max_batch_events: int = 5000,
        profile_refresh_seconds: float = 300.0,
    ) -> None:
        self.signals = signals
        self.lock = lock
        self.max_batch_events = max_batch_events
        self.profile_refresh_seconds = profile_refresh_seconds
        self._queue: queue.Queue[_Request | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="cxlens-events", daemon=True)
        with self.lock:
            self.engine: RuleEngine = signals.engine()
            self.directory = Directory(signals.store)
            self.load_id = self._open_load()
        self._refreshed = time.monotonic()

    def _open_load(self) -> str:
        """One load row per server session: every event it writes carries the load id."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        load_id = "api_" + now.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
        row = {
            "load_id": load_id, "source": API_SOURCE, "location": "POST /v1/events",
            "checksum": None, "rows_read": 0, "records_loaded": 0, "events_loaded": 0,
            "events_unchanged": 0, "records_unchanged": 0, "rows_rejected": 0,
            "started_at": now, "finished_at": now, "status": "committed",
            "message": "event API session",
        }  # fmt: skip
        with self.signals.store.transaction():
            self.signals.store.append(LOADS, pa.Table.from_pylist([row], arrow_schema(LOADS)))
        return load_id

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def submit(self, events: Sequence[EventIn]) -> Future[Received]:
        future: Future[Received] = Future()
        self._queue.put(_Request(events, future))
        return future

    def _take(self) -> tuple[list[_Request], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        request = cast(_Request, first)
        batch, size = [request], len(request.events)
        while size < self.max_batch_events:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP:
                return batch, True
            batch.append(cast(_Request, more))
            size += len(batch[-1].events)
        return batch, False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            if batch:
                self._process(batch)
            if time.monotonic() - self._refreshed > self.profile_refresh_seconds:
                self._refresh()

    def _process(self, batch: list[_Request]) -> None:
        events = [e for r in batch for e in r.events]
        try:
            with self.lock:
                result = self.signals.receive(
                    events, self.engine, self.directory, load_id=self.load_id
                )
                self.signals.store.execute(
                    "UPDATE loads SET rows_read = rows_read + ?, events_loaded = "
                    "events_loaded + ?, events_unchanged = events_unchanged + ?, "
                    "finished_at = ? WHERE load_id = ?",
                    [len(events), result.accepted, result.duplicates,
                     dt.datetime.now(dt.UTC).replace(tzinfo=None), self.load_id],
                )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - every waiting request must get an answer
            log.exception("storing %d events failed", len(events))
            # The engine may have counted events that were rolled back: rebuild it from what
            # the store holds, so nothing is judged twice or missed.
            self._rebuild()
            for request in batch:
                request.future.set_exception(exc)
            return
        self._answer(batch, result)

    @staticmethod
    def _answer(batch: list[_Request], result: Received) -> None:
        """Each request learns what became of its own events."""
        for request in batch:
            mine = Received()
            seen: set[str] = set()
            for event in request.events:
                if event.event_id in result.new_ids and event.event_id not in seen:
                    mine.accepted += 1
                    mine.alerts.extend(result.alerts_of.get(event.event_id, []))
                else:
                    mine.duplicates += 1
                seen.add(event.event_id)
            mine.created_customers = result.created_customers
            request.future.set_result(mine)

    def _rebuild(self) -> None:
        try:
            with self.lock:
                self.engine = self.signals.engine(self.engine.rules)
                self.directory = Directory(self.signals.store)
        except Exception:  # noqa: BLE001
            log.exception("rebuilding the rule engine failed")

    def _refresh(self) -> None:
        """Re-read value, health and risk: scores change when the nightly jobs run."""
        try:
            with self.lock:
                self.engine.profiles = Profiles.load(self.signals.store)
        except Exception:  # noqa: BLE001
            log.exception("refreshing customer profiles failed")
        self._refreshed = time.monotonic()
