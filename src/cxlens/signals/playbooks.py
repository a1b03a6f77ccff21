"""From alert to action: the tasks a playbook opens (owner, due date by severity), the
customers held out to measure whether it works, and the task lifecycle."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cxlens.errors import CxlensError
from cxlens.signals.engine import Firing
from cxlens.signals.rules import Playbook

TASK_STATUSES = ("open", "in_progress", "done", "dismissed")
#: Which status may follow which: done and dismissed tasks may be reopened, nothing else jumps.
TRANSITIONS: dict[str, set[str]] = {
    "open": {"in_progress", "done", "dismissed"},
    "in_progress": {"open", "done", "dismissed"},
    "done": {"open"},
    "dismissed": {"open"},
}


class TaskError(CxlensError):
    """A task change that cannot be made (unknown task, forbidden transition, no reason)."""


def held_out(playbook_id: str, playbook: Playbook, subject: str) -> bool:
    """Whether the customer is in the playbook's hold-out group. Decided by a hash, so a
    customer stays in the same group for every alert of the playbook, across restarts."""
    if playbook.holdout <= 0:
        return False
    digest = hashlib.sha256(f"{playbook_id}\x1f{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < playbook.holdout


def open_tasks(firing: Firing, playbook: Playbook, fired_at: dt.datetime) -> list[dict[str, Any]]:
    """One task per step, owned by the customer's owner (or the step's queue)."""
    rows = []
    for number, step in enumerate(playbook.steps, start=1):
        if step.owner.startswith("queue:"):
            owner = step.owner.removeprefix("queue:")
        else:
            owner = firing.owner or "unassigned"
        task_id = (
            "tsk_" + hashlib.sha256(f"{firing.alert_id}\x1f{number}".encode()).hexdigest()[:20]
        )
        rows.append(
            {
                "task_id": task_id,
                "alert_id": firing.alert_id,
                "playbook": firing.playbook,
                "step": number,
                "title": step.title,
                "customer_id": firing.customer_id,
                "owner": owner,
                "status": "open",
                "due_at": fired_at + dt.timedelta(hours=step.due_in(firing.severity)),
                "created_at": fired_at,
                "updated_at": fired_at,
                "reason": None,
                "outcome": None,
            }
        )
    return rows


def check_transition(task_id: str, current: str, target: str, reason: str | None) -> None:
    if target not in TASK_STATUSES:
        raise TaskError(f"unknown status {target!r}: use one of {', '.join(TASK_STATUSES)}")
    if target not in TRANSITIONS[current]:
        raise TaskError(
            f"task {task_id} is {current}; it can go to "
            f"{', '.join(sorted(TRANSITIONS[current]))}, not {target}"
        )
    if target == "dismissed" and not (reason and reason.strip()):
        raise TaskError(f"dismissing task {task_id} needs a reason (--reason)")
