"""The HTTP server: the event API first, then alerts and tasks, over one workspace.

Everything that touches the store goes through one lock: DuckDB gives one connection per
process, and the event writer, the notification dispatcher and the request handlers share it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from cxlens.api.errors import HANDLERS, ApiError, validation_details
from cxlens.api.keys import Caller, KeyRing
from cxlens.signals.channels import Dispatcher
from cxlens.signals.intake import MAX_BATCH, EventBatch, EventIn
from cxlens.signals.service import Signals
from cxlens.signals.stream import EventStream
from cxlens.workspace import Workspace

_ONE_OR_MANY: TypeAdapter[EventIn | EventBatch] = TypeAdapter(EventIn | EventBatch)


class Server:
    """What the request handlers share: the workspace, its lock, the pipeline."""

    def __init__(self, root: Path) -> None:
        self.workspace = Workspace(root)
        self.lock = threading.Lock()
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


class Accepted(BaseModel):
    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events whose event_id was already stored.")
    alerts: list[str] = Field(description="Alerts these events raised.")


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def caller(roles: tuple[str, ...]) -> Callable[[Request], Caller]:
    def check(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ").strip() or request.headers.get("x-api-key", "")
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


class TaskChange(BaseModel):
    status: str
    reason: str | None = None
    outcome: str | None = None


def create_app(root: Path) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server = Server(root)
        server.start()
        app.state.server = server
        try:
            yield
        finally:
            server.stop()

    app = FastAPI(
        title="cxlens",
        summary="Customer intelligence: events in, alerts, tasks and the customer out.",
        version="1",
        lifespan=lifespan,
    )
    for exc, handler in HANDLERS.items():
        app.add_exception_handler(exc, handler)

    @app.get("/v1/health", operation_id="health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/v1/events",
        operation_id="send_events",
        tags=["events"],
        response_model=Accepted,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ONE_OR_MANY.json_schema()}},
            }
        },
    )
    async def send_events(request: Request, who: Ingest) -> Accepted:
        """One event, or `{"events": [...]}` (up to 1,000). Answered once the events are
        durably stored and judged; an `event_id` already stored is counted, not stored again."""
        del who
        server = server_of(request)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > server.max_request_bytes:
            raise ApiError(413, "too_large", f"request over {server.max_request_bytes:,} bytes")
        body = await request.body()
        if len(body) > server.max_request_bytes:
            raise ApiError(413, "too_large", f"request over {server.max_request_bytes:,} bytes")
        try:
            raw = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, "malformed_json", f"the body is not JSON: {exc}") from exc
        if isinstance(raw, dict) and isinstance(raw.get("events"), list):
            if len(raw["events"]) > MAX_BATCH:
                raise ApiError(
                    413,
                    "too_many_events",
                    f"{len(raw['events']):,} events: send at most {MAX_BATCH:,} per request",
                )
        try:
            parsed = (
                EventBatch.model_validate(raw)
                if isinstance(raw, dict) and "events" in raw
                else EventIn.model_validate(raw)
            )
        except ValidationError as exc:
            details = validation_details(exc.errors())
            message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
            raise ApiError(422, "invalid_event", message, details) from exc
        events = parsed.events if isinstance(parsed, EventBatch) else [parsed]
        result = await asyncio.wrap_future(server.stream.submit(events))
        return Accepted(
            accepted=result.accepted, duplicates=result.duplicates, alerts=result.alerts
        )

    @app.get("/v1/alerts", operation_id="list_alerts", tags=["alerts"])
    def list_alerts(
        request: Request,
        who: Reader,
        status: str | None = None,
        rule: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        owner = who.owner if who.role == "csm" else request.query_params.get("owner")
        with server_of(request).store() as signals:
            frame = signals.alerts(status=status, owner=owner, rule_id=rule, limit=limit)
        return json.loads(frame.to_json(orient="records", date_format="iso"))  # type: ignore[no-any-return]

    @app.get("/v1/tasks", operation_id="list_tasks", tags=["tasks"])
    def list_tasks(
        request: Request,
        who: Reader,
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        owner = who.owner if who.role == "csm" else request.query_params.get("owner")
        with server_of(request).store() as signals:
            frame = signals.tasks(owner=owner, status=status, limit=limit)
        return json.loads(frame.to_json(orient="records", date_format="iso"))  # type: ignore[no-any-return]

    @app.post("/v1/tasks/{task_id}", operation_id="update_task", tags=["tasks"])
    def update_task(
        request: Request, task_id: str, change: TaskChange, who: Worker
    ) -> dict[str, Any]:
        with server_of(request).store() as signals:
            if who.role == "csm":
                rows = signals.store.rows("SELECT owner FROM tasks WHERE task_id = ?", [task_id])
                if rows and rows[0]["owner"] != who.owner:
                    raise ApiError(403, "forbidden", f"task {task_id} is not in your book")
            row = signals.update_task(
                task_id, change.status, actor=who.name, reason=change.reason, outcome=change.outcome
            )
        return json.loads(json.dumps(row, default=str))  # type: ignore[no-any-return]

    return app
