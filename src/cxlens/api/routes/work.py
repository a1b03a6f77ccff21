"""Alerts and tasks: the front line's inbox, limited to their own book for CSM keys."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from cxlens.api.errors import ApiError
from cxlens.api.server import Reader, Worker, book_owner, server_of

router = APIRouter(tags=["alerts and tasks"])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON records (ISO dates, null for missing)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))  # type: ignore[no-any-return]


class TaskChange(BaseModel):
    status: str
    reason: str | None = None
    outcome: str | None = None


@router.get("/v1/alerts", operation_id="list_alerts")
def list_alerts(
    request: Request,
    who: Reader,
    status: str | None = None,
    owner: str | None = None,
    rule: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    with server_of(request).store() as signals:
        frame = signals.alerts(
            status=status, owner=book_owner(who, owner), rule_id=rule, limit=limit
        )
    return records(frame)


@router.get("/v1/tasks", operation_id="list_tasks")
def list_tasks(
    request: Request,
    who: Reader,
    status: str | None = None,
    owner: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    with server_of(request).store() as signals:
        frame = signals.tasks(owner=book_owner(who, owner), status=status, limit=limit)
    return records(frame)


@router.post("/v1/tasks/{task_id}", operation_id="update_task")
def update_task(request: Request, task_id: str, change: TaskChange, who: Worker) -> dict[str, Any]:
    with server_of(request).store() as signals:
        if who.role == "csm":
            rows = signals.store.rows("SELECT owner FROM tasks WHERE task_id = ?", [task_id])
            if rows and rows[0]["owner"] != who.owner:
                raise ApiError(403, "forbidden", f"task {task_id} is not in your book")
        row = signals.update_task(
            task_id, change.status, actor=who.name, reason=change.reason, outcome=change.outcome
        )
    return json.loads(json.dumps(row, default=str))  # type: ignore[no-any-return]
