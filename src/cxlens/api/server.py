"""What every request handler shares: the workspace, the lock around its store, the event
pipeline, the notification dispatcher, the key ring and a small cache.

Everything that touches the store goes through one lock: DuckDB gives one connection per
process, and the event writer, the notification dispatcher and the request handlers share it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from cxlens.api.errors import ApiError
from cxlens.api.keys import Caller, KeyRing
from cxlens.signals.channels import Dispatcher
from cxlens.signals.service import Signals
from cxlens.signals.stream import EventStream
from cxlens.workspace import Workspace

T = TypeVar("T")
KEY_COOKIE = "cxlens_key"


class Server:
    """What the request handlers share: the workspace, its lock, the pipeline."""

    def __init__(self, root: Path) -> None:
        self.workspace = Workspace(root)
        self.lock = threading.Lock()
        # One customer's events are found by record id among millions: index look-ups.
        self.workspace.store.ensure_lookup_indexes()
        self.signals: Signals = self.workspace.signals
        settings = self.workspace.config.signals
        self.max_request_bytes = settings.max_request_bytes
        self.keys = KeyRing(self.workspace.store, self.lock)
        self.stream = EventStream(
            self.signals, self.lock, profile_refresh_seconds=settings.profile_refresh_seconds
        )
        self.dispatcher = Dispatcher(
            self.workspace.store, self.stream.engine.rules.channels, lock=self.lock
        )
        self._cache: dict[str, tuple[float, Any]] = {}

    def start(self) -> None:
        self.stream.start()
        self.dispatcher.start()

    def stop(self) -> None:
        self.stream.stop()
        self.dispatcher.stop()
        self.workspace.close()

    @contextmanager
    def store(self) -> Iterator[Signals]:
        with self.lock:
            yield self.signals

    def cached(self, key: str, compute: Callable[[], T], ttl: float = 60.0) -> T:
        """A figure recomputed at most every `ttl` seconds: the overview's revenue metrics
        take longer than a page may, and they move with nightly jobs, not by the second."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]  # type: ignore[no-any-return]
        with self.lock:
            value = compute()
        self._cache[key] = (now, value)
        return value


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def caller(roles: tuple[str, ...]) -> Callable[[Request], Caller]:
    def check(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        key = (
            header.removeprefix("Bearer ").strip()
            or request.headers.get("x-api-key", "")
            or request.cookies.get(KEY_COOKIE, "")  # the dashboard's session
        )
        if not key:
            raise ApiError(401, "unauthenticated", "send an API key: Authorization: Bearer <key>")
        found = server_of(request).keys.check(key)
        if found is None:
            raise ApiError(401, "unauthenticated", "unknown or revoked API key")
        if found.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"a {found.role} key cannot do this; needs {' or '.join(roles)}",
            )
        return found

    return check


Ingest = Annotated[Caller, Depends(caller(("admin", "ingest")))]
Reader = Annotated[Caller, Depends(caller(("admin", "analyst", "csm")))]
Worker = Annotated[Caller, Depends(caller(("admin", "csm")))]


def book_owner(who: Caller, asked: str | None) -> str | None:
    """A CSM sees their own book whatever they ask for; others see what they ask for."""
    return who.owner if who.role == "csm" else asked
