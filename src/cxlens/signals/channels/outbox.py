"""The outbox: notifications waiting in the store until a channel accepts them.

An alert's notifications are enqueued in the transaction that stores the alert, so none is lost
and none is sent for an alert that was rolled back. `deliver_due` then tries each one, keeps
every try in the delivery log, backs off exponentially after transient failures and gives up
(status `dead`, the dead-letter list) after too many or on a terminal one. The `Dispatcher`
runs it in a background thread. One dispatcher per store: two would send a notification twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from cxlens.schema.signals import DELIVERIES, DELIVERY_ATTEMPTS
from cxlens.signals.channels.base import (
    ChannelError,
    ChannelSettings,
    DeliveryError,
    Notification,
    RetryPolicy,
    send,
)
from cxlens.store.base import Store, arrow_schema

log = logging.getLogger(__name__)

STATUSES = ("pending", "delivered", "dead")

Lock = AbstractContextManager[Any]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _fixed(moment: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: moment


@dataclass(frozen=True)
class DeliveryReport:
    """What one round of `deliver_due` did."""

    sent: int = 0
    failed: int = 0  # failed this time, tried again later
    dead: int = 0  # given up


def delivery_id(alert_id: str, channel_name: str) -> str:
    """One delivery per alert and channel, whoever enqueues it and however often."""
    digest = hashlib.sha256(f"{alert_id}\x1f{channel_name}".encode()).hexdigest()
    return "dlv_" + digest[:24]


def enqueue(
    store: Store,
    alert_id: str,
    channel_name: str,
    notification: Notification,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Queue a notification for a channel; returns its delivery id. Queuing it again is a no-op.

    Joins the caller's transaction, if one is open: the alert and its deliveries commit
    together (or neither does)."""
    did = delivery_id(alert_id, channel_name)
    if store.scalar("SELECT count(*) FROM deliveries WHERE delivery_id = ?", [did]):
        return did
    at = now or _utcnow()
    row = {
        "delivery_id": did,
        "alert_id": alert_id,
        "channel": channel_name,
        "payload": json.dumps(notification.to_dict(), ensure_ascii=False, allow_nan=False),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
        "delivered_at": None,
        "last_error": None,
    }
    with store.transaction():  # joins the caller's, if open; PostgreSQL stages rows in one
        store.append(DELIVERIES, pa.Table.from_pylist([row], schema=arrow_schema(DELIVERIES)))
    return did


def deliver_due(
    store: Store,
    channels: Mapping[str, ChannelSettings],
    *,
    now: dt.datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    limit: int = 100,
    lock: Lock | None = None,
) -> DeliveryReport:
    """Try every pending delivery whose time has come (at most `limit`, oldest first).

    `now` fixes the clock (tests, replays); otherwise each try is stamped when it is made.
    `lock`, when given, is held around each use of the store, never while sending."""
    guard: Lock = lock if lock is not None else nullcontext()
    clock = _utcnow if now is None else _fixed(now)
    with guard:
        due = store.rows(
            "SELECT d.delivery_id, d.channel, d.payload, d.attempts, "
            "(SELECT coalesce(max(a.attempt), 0) FROM delivery_attempts AS a "
            " WHERE a.delivery_id = d.delivery_id) AS logged "
            "FROM deliveries AS d WHERE d.status = 'pending' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at, d.delivery_id LIMIT ?",
            [clock(), limit],
        )
    done = Counter(_deliver_one(store, channels, row, clock, policy, guard) for row in due)
    return DeliveryReport(sent=done["delivered"], failed=done["pending"], dead=done["dead"])


def _deliver_one(
    store: Store,
    channels: Mapping[str, ChannelSettings],
    row: dict[str, Any],
    clock: Callable[[], dt.datetime],
    policy: RetryPolicy,
    guard: Lock,
) -> str | None:
    did = str(row["delivery_id"])
    channel = channels.get(row["channel"])
    if channel is None:
        known = ", ".join(sorted(channels)) or "none"
        error = f"channel {row['channel']!r} is not configured (configured: {known})"
        with guard, store.transaction():
            store.execute(
                "UPDATE deliveries SET status = 'dead', next_attempt_at = NULL, last_error = ? "
                "WHERE delivery_id = ? AND status = 'pending'",
                [error, did],
            )
        log.warning("delivery %s: %s", did, error)
        return "dead"

    attempt_at = clock()
    started = time.perf_counter()
    status_code: int | None = None
    error_text: str | None = None
    transient = True
    try:
        status_code = send(channel, Notification.from_dict(json.loads(row["payload"])), did)
    except DeliveryError as exc:
        status_code, error_text, transient = exc.status_code, str(exc), exc.transient
    except Exception as exc:  # a bug must not lose the notification: log it, try again later
        log.exception("delivery %s: unexpected failure", did)
        error_text = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started

    tries = int(row["attempts"]) + 1
    if error_text is None:
        outcome = "delivered"
        sets = "status = 'delivered', delivered_at = ?, next_attempt_at = NULL, last_error = NULL"
        params: list[Any] = [attempt_at]
    elif not transient or tries >= policy.max_attempts:
        outcome = "dead"
        sets = "status = 'dead', next_attempt_at = NULL, last_error = ?"
        params = [error_text]
    else:
        outcome = "pending"
        retry_at = attempt_at + dt.timedelta(seconds=policy.delay(tries))
        sets = "next_attempt_at = ?, last_error = ?"
        params = [retry_at, error_text]
    attempt = {
        "delivery_id": did,
        "attempt": int(row["logged"]) + 1,
        "attempted_at": attempt_at,
        "ok": error_text is None,
        "status_code": status_code,
        "error": error_text,
        "seconds": seconds,
    }
    with guard, store.transaction():
        # Guarded on the count read before sending: if another writer recorded this try
        # meanwhile, nothing is written twice.
        changed = store.execute(
            f"UPDATE deliveries SET {sets}, attempts = ? "
            "WHERE delivery_id = ? AND status = 'pending' AND attempts = ?",
            [*params, tries, did, int(row["attempts"])],
        )
        if changed == 0:
            log.warning("delivery %s changed while it was being sent; try not recorded", did)
            return None
        store.append(
            DELIVERY_ATTEMPTS,
            pa.Table.from_pylist([attempt], schema=arrow_schema(DELIVERY_ATTEMPTS)),
        )
    if outcome == "dead":
        log.warning("delivery %s given up after %d tries: %s", did, tries, error_text)
    return outcome


def retry_dead(
    store: Store, delivery_id: str | None = None, *, now: dt.datetime | None = None
) -> int:
    """Put dead deliveries (one, or all) back in the queue with a fresh round of tries;
    returns how many. Their earlier tries stay in the delivery log."""
    where = "status = 'dead'" + (" AND delivery_id = ?" if delivery_id is not None else "")
    params: list[Any] = [now or _utcnow()]
    if delivery_id is not None:
        params.append(delivery_id)
    with store.transaction():
        return store.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ? "
            f"WHERE {where}",
            params,
        )


def deliveries(store: Store, status: str | None = None, limit: int = 100) -> pd.DataFrame:
    """The newest deliveries, of one status if given (`dead` is the dead-letter list)."""
    if status is not None and status not in STATUSES:
        raise ChannelError(f"unknown delivery status {status!r}; use one of {', '.join(STATUSES)}")
    where = "WHERE status = ? " if status is not None else ""
    params: list[Any] = [status] if status is not None else []
    frame: pd.DataFrame = store.query(
        f"SELECT {', '.join(DELIVERIES.column_names)} FROM deliveries {where}"
        "ORDER BY created_at DESC, delivery_id LIMIT ?",
        [*params, limit],
    ).to_pandas()
    return frame


def attempts(store: Store, delivery_id: str) -> pd.DataFrame:
    """Every try of one delivery, first to last."""
    frame: pd.DataFrame = store.query(
        f"SELECT {', '.join(DELIVERY_ATTEMPTS.column_names)} FROM delivery_attempts "
        "WHERE delivery_id = ? ORDER BY attempt",
        [delivery_id],
    ).to_pandas()
    return frame


class Dispatcher:
    """Runs `deliver_due` in a background thread every `interval_seconds` until stopped.

    `lock` guards every use of the store, so the thread can share it with, say, an API server
    holding the same lock. A failed round is logged and the next one runs as usual."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, ChannelSettings],
        *,
        lock: Lock | None = None,
        interval_seconds: float = 0.5,
        policy: RetryPolicy = RetryPolicy(),
        limit: int = 100,
    ) -> None:
        self.store = store
        self.channels = channels  # read every round: a caller may swap what it holds
        self.lock: Lock = lock if lock is not None else threading.Lock()
        self.interval_seconds = interval_seconds
        self.policy = policy
        self.limit = limit
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> DeliveryReport:
        """One round, in the calling thread."""
        report = deliver_due(
            self.store, self.channels, policy=self.policy, limit=self.limit, lock=self.lock
        )
        self.rounds += 1
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
                if report.sent or report.failed or report.dead:
                    log.info("dispatcher: %s", report)
            except Exception:
                log.exception("dispatcher: a round failed; trying again next round")
            self._stop.wait(self.interval_seconds)

    def start(self) -> Dispatcher:
        if self._thread is not None and self._thread.is_alive():
            raise ChannelError("the dispatcher is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cxlens-dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the thread to finish its round and wait for it (at most `timeout` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("dispatcher: still sending after %s s; left to finish", timeout)
            else:
                self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Dispatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
