"""`Workspace.signals`: events in, rules judged, alerts stored once, playbook tasks opened,
notifications queued; the dry run over history; alerts, tasks and whether playbooks work."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cxlens.config import SignalsSettings
from cxlens.errors import ConfigError
from cxlens.models.sentiment.lexicon import compound
from cxlens.schema.signals import ALERTS, TASK_HISTORY, TASKS
from cxlens.signals import effect as E
from cxlens.signals.channels import Notification, enqueue
from cxlens.signals.engine import Firing, RuleEngine
from cxlens.signals.intake import Directory, EventIn, as_rule_event, event_rows, match
from cxlens.signals.playbooks import TaskError, check_transition, held_out, open_tasks
from cxlens.signals.profiles import Profiles
from cxlens.signals.rules import RulesFile, load_rules
from cxlens.store import Store
from cxlens.store.base import arrow_schema

SENTIMENT_KINDS = frozenset({"social", "survey", "ticket", "community", "note"})
#: Event columns the rules read, with the masters they belong to.
_RULE_EVENTS = (
    "SELECT e.event_id, e.kind, e.action, e.occurred_at, e.channel, e.touchpoint, e.reference, "
    "e.amount, e.currency, e.quantity, e.score, e.text, e.source, e.properties, "
    "l.master_id AS customer_id, coalesce(la.master_id, c.account_id) AS account_id "
    "FROM events AS e LEFT JOIN record_links AS l ON l.record_id = e.record_id "
    "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
    "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
)


@dataclass
class Received:
    accepted: int = 0
    duplicates: int = 0
    created_customers: int = 0
    alerts: list[str] = field(default_factory=list)
    suppressed: int = 0
    new_ids: set[str] = field(default_factory=set)
    alerts_of: dict[str, list[str]] = field(default_factory=dict)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Signals:
    def __init__(self, store: Store, settings: SignalsSettings, root: Path) -> None:
        self.store = store
        self.settings = settings
        self.root = root

    # ---- rules ----------------------------------------------------------------------------
    def rules(self) -> RulesFile:
        path = self.settings.rules
        if path is None:
            return load_rules(None)
        full = path if path.is_absolute() else self.root / path
        if not full.exists():
            raise ConfigError(
                f"signals.rules names {full}, which does not exist; write it or remove the "
                "setting to use the packaged rules"
            )
        return load_rules(full)

    def engine(
        self, rules: RulesFile | None = None, *, now: dt.datetime | None = None
    ) -> RuleEngine:
        """An engine that judges the next event as if it had been running all along: windows
        filled with recent events, cool-downs with recent alerts."""
        engine = RuleEngine(rules or self.rules(), Profiles.load(self.store))
        now = now or _utcnow()
        since = now - engine.lookback
        if engine.lookback > dt.timedelta(0):
            engine.warm(self._events(since=since), [])
        fired = self.store.rows(
            "SELECT rule_id, coalesce(account_id, customer_id, event_id) AS subject, occurred_at "
            "FROM alerts WHERE occurred_at >= ?",
            [now - dt.timedelta(days=31)],
        )
        engine.warm([], [(str(r["rule_id"]), str(r["subject"]), r["occurred_at"]) for r in fired])
        return engine

    def _events(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        where, params = ["TRUE"], []
        if since is not None:
            where.append("e.occurred_at >= ?")
            params.append(since)
        if until is not None:
            where.append("e.occurred_at < ?")
            params.append(until)
        table = self.store.query(
            _RULE_EVENTS + "WHERE " + " AND ".join(where) + " ORDER BY e.occurred_at, e.event_id",
            params,
        )
        rows = table.to_pylist()
        for row in rows:
            raw = row.get("properties")
            row["properties"] = json.loads(raw) if isinstance(raw, str) and raw else {}
        yield from with_sentiment(rows)

    # ---- intake ---------------------------------------------------------------------------
    def receive(
        self,
        events: Sequence[EventIn],
        engine: RuleEngine,
        directory: Directory,
        *,
        load_id: str,
    ) -> Received:
        """Store the events not stored yet, match their customers, and act on the rules they
        fire, all in one transaction: either everything is kept or nothing is."""
        result = Received()
        unique: dict[str, EventIn] = {}
        for event in events:
            unique.setdefault(event.event_id, event)
        result.duplicates = len(events) - len(unique)
        with self.store.transaction():
            ids = list(unique)
            known = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                known |= {
                    str(r["event_id"])
                    for r in self.store.rows(
                        f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk
                    )
                }
            fresh = [e for i, e in unique.items() if i not in known]
            result.duplicates += len(unique) - len(fresh)
            if not fresh:
                return result
            matched = match(fresh, directory, self.store, load_id)
            for m in matched:
                if m.created:
                    result.created_customers += 1
                    account = m.event.customer.account
                    engine.profiles.add(
                        m.customer_id, m.account_id, account.model_dump() if account else {}
                    )
            self.store.append_new_events(event_rows(matched, load_id))
            firings = []
            judged = with_sentiment([as_rule_event(m) for m in matched])
            for rule_event in sorted(judged, key=lambda e: e["occurred_at"]):
                firings.extend(engine.observe(rule_event))
            result.suppressed = sum(f.suppressed for f in firings)
            result.alerts = self.act([f for f in firings if not f.suppressed], engine.rules)
            stored = set(result.alerts)
            for f in firings:
                if f.alert_id in stored:
                    result.alerts_of.setdefault(f.event_id, []).append(f.alert_id)
            result.accepted = len(fresh)
            result.new_ids = {e.event_id for e in fresh}
        return result

    def act(self, firings: Sequence[Firing], rules: RulesFile) -> list[str]:
        """Store the alerts (each once), open their playbooks' tasks unless the customer is
        held out, and queue their notifications. Runs inside the caller's transaction."""
        if not firings:
            return []
        now = _utcnow()
        ids = [f.alert_id for f in firings]
        marks = ", ".join("?" for _ in ids)
        existing = {
            str(r["alert_id"])
            for r in self.store.rows(
                f"SELECT alert_id FROM alerts WHERE alert_id IN ({marks})", ids
            )
        }
        alerts, tasks, stored = [], [], []
        for f in firings:
            if f.alert_id in existing:
                continue
            existing.add(f.alert_id)
            playbook = rules.playbooks.get(f.playbook) if f.playbook else None
            holdout = bool(playbook and held_out(str(f.playbook), playbook, f.subject))
            alerts.append(
                {
                    "alert_id": f.alert_id, "rule_id": f.rule_id, "rule_name": f.rule_name,
                    "severity": f.severity, "priority": f.priority, "customer_id": f.customer_id,
                    "account_id": f.account_id, "owner": f.owner, "event_id": f.event_id,
                    "occurred_at": f.occurred_at, "fired_at": now, "summary": f.summary,
                    "context": json.dumps(f.context, default=str), "playbook": f.playbook,
                    "holdout": holdout if playbook else None, "status": "open",
                }
            )  # fmt: skip
            if playbook is not None and not holdout:
                tasks.extend(open_tasks(f, playbook, now))
            stored.append(f.alert_id)
            for channel in f.notify:
                enqueue(self.store, f.alert_id, channel, _notification(f, now))
        self.store.append(ALERTS, pa.Table.from_pylist(alerts, arrow_schema(ALERTS)))
        if tasks:
            self.store.append(TASKS, pa.Table.from_pylist(tasks, arrow_schema(TASKS)))
        return stored

    # ---- dry run --------------------------------------------------------------------------
    def _history(
        self, rules: RulesFile, since: dt.datetime | None, until: dt.datetime | None
    ) -> list[Firing]:
        """Every firing of the rules over the stored events, through a fresh engine whose
        windows hold what came just before `since`."""
        engine = RuleEngine(rules, Profiles.load(self.store))
        if since is not None and engine.lookback > dt.timedelta(0):
            engine.warm(self._events(since=since - engine.lookback, until=since), [])
        return [f for e in self._events(since=since, until=until) for f in engine.observe(e)]

    def replay(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        rules: RulesFile | None = None,
        apply: bool = False,
    ) -> pd.DataFrame:
        """What the rules would have fired over the stored events (oldest first), with those
        a cool-down would have suppressed marked. Profiles are today's. Nothing is written
        unless `apply`: then those alerts are raised as if the rules had been running
        (tasks, hold-outs and notifications included), each once however often this runs;
        `raised` marks the ones new now."""
        rules = rules or self.rules()
        firings = self._history(rules, since, until)
        raised: set[str] = set()
        if apply:
            with self.store.transaction():
                raised = set(self.act([f for f in firings if not f.suppressed], rules))
        rows = [
            {
                "rule_id": f.rule_id, "severity": f.severity, "occurred_at": f.occurred_at,
                "customer_id": f.customer_id, "account_id": f.account_id, "owner": f.owner,
                "event_id": f.event_id, "suppressed": f.suppressed, "priority": f.priority,
                "summary": f.summary, "raised": f.alert_id in raised,
            }
            for f in firings
        ]  # fmt: skip
        columns = ["rule_id", "severity", "occurred_at", "customer_id", "account_id", "owner",
                   "event_id", "suppressed", "priority", "summary", "raised"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def backfill(self, *, since: dt.datetime, rules: RulesFile | None = None) -> int:
        """Raise the alerts of the events stored since `since` (see `replay`); returns how
        many are new."""
        return int(self.replay(since=since, rules=rules, apply=True)["raised"].sum())

    # ---- alerts and tasks -----------------------------------------------------------------
    def alerts(
        self,
        *,
        status: str | None = None,
        owner: str | None = None,
        rule_id: str | None = None,
        limit: int = 100,
    ) -> pd.DataFrame:
        where, params = ["TRUE"], []
        for column, value in (("status", status), ("owner", owner), ("rule_id", rule_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        frame: pd.DataFrame = self.store.query(
            f"SELECT * FROM alerts WHERE {' AND '.join(where)} "
            f"ORDER BY fired_at DESC, priority DESC LIMIT {int(limit)}",
            params,
        ).to_pandas()
        frame["context"] = frame["context"].map(lambda c: json.loads(c) if c else {})
        return frame

    def tasks(
        self, *, owner: str | None = None, status: str | None = None, limit: int = 100
    ) -> pd.DataFrame:
        where, params = ["TRUE"], []
        for column, value in (("t.owner", owner), ("t.status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        frame: pd.DataFrame = self.store.query(
            "SELECT t.*, a.severity, a.summary FROM tasks AS t "
            "JOIN alerts AS a ON a.alert_id = t.alert_id "
            f"WHERE {' AND '.join(where)} ORDER BY t.due_at, t.step LIMIT {int(limit)}",
            params,
        ).to_pandas()
        return frame

    def update_task(
        self,
        task_id: str,
        status: str,
        *,
        actor: str,
        reason: str | None = None,
        outcome: str | None = None,
    ) -> dict[str, Any]:
        """Move a task along its lifecycle (with who and why in its history)."""
        with self.store.transaction():
            rows = self.store.rows("SELECT status FROM tasks WHERE task_id = ?", [task_id])
            if not rows:
                raise TaskError(f"no task {task_id}; see `cxlens tasks`")
            current = str(rows[0]["status"])
            check_transition(task_id, current, status, reason)
            now = _utcnow()
            self.store.execute(
                "UPDATE tasks SET status = ?, updated_at = ?, reason = coalesce(?, reason), "
                "outcome = coalesce(?, outcome) WHERE task_id = ?",
                [status, now, reason, outcome, task_id],
            )
            history = {
                "task_id": task_id, "changed_at": now, "actor": actor, "from_status": current,
                "to_status": status, "note": reason or outcome,
            }  # fmt: skip
            self.store.append(
                TASK_HISTORY, pa.Table.from_pylist([history], arrow_schema(TASK_HISTORY))
            )
            # An alert is closed once none of its tasks is still to do.
            self.store.execute(
                "UPDATE alerts SET status = CASE WHEN EXISTS (SELECT 1 FROM tasks AS t WHERE "
                "t.alert_id = alerts.alert_id AND t.status IN ('open', 'in_progress')) "
                "THEN 'acknowledged' ELSE 'closed' END "
                "WHERE alert_id = (SELECT alert_id FROM tasks WHERE task_id = ?)",
                [task_id],
            )
        return self.store.rows("SELECT * FROM tasks WHERE task_id = ?", [task_id])[0]

    def task_history(self, task_id: str) -> list[dict[str, Any]]:
        return self.store.rows(
            "SELECT * FROM task_history WHERE task_id = ? ORDER BY changed_at", [task_id]
        )

    # ---- closed loop ----------------------------------------------------------------------
    def _outcomes(self, playbook: str, follow_up_days: int) -> pd.DataFrame:
        alerts: pd.DataFrame = self.store.query(
            "SELECT alert_id, customer_id, account_id, occurred_at, holdout FROM alerts "
            "WHERE playbook = ?",
            [playbook],
        ).to_pandas()
        subject = "coalesce(la.master_id, c.account_id, l.master_id)"
        joins = (
            "FROM events AS e LEFT JOIN record_links AS l ON l.record_id = e.record_id "
            "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
            "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
        )
        churns: pd.DataFrame = self.store.query(
            f"SELECT {subject} AS subject, e.occurred_at {joins}"
            "WHERE e.kind = 'subscription' AND e.action = 'churn'"
        ).to_pandas()
        surveys: pd.DataFrame = self.store.query(
            f"SELECT {subject} AS subject, e.occurred_at, e.score {joins}"
            "WHERE e.kind = 'survey' AND e.action = 'nps'"
        ).to_pandas()
        return E.outcomes(alerts, churns, surveys, follow_up_days)

    def effect(self, playbook: str) -> E.Effect:
        """Treated against held-out customers of a playbook: churn and next NPS, with 95%
        intervals on the differences."""
        rules = self.rules()
        if playbook not in rules.playbooks:
            raise ConfigError(f"no playbook {playbook!r}; defined: {sorted(rules.playbooks)}")
        days = rules.playbooks[playbook].follow_up_days
        return E.effect(playbook, self._outcomes(playbook, days), days)

    def loop(self, playbook: str) -> pd.DataFrame:
        """Each alert of a playbook with its tasks' outcome and the customer's next survey."""
        days = self.rules().playbooks[playbook].follow_up_days
        rows = self._outcomes(playbook, days)
        tasks: pd.DataFrame = self.store.query(
            "SELECT alert_id, string_agg(DISTINCT status, ',') AS task_status, "
            "max(outcome) AS outcome FROM tasks WHERE playbook = ? GROUP BY alert_id",
            [playbook],
        ).to_pandas()
        return rows.merge(tasks, on="alert_id", how="left")


def with_sentiment(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each event with words in it a sentiment (-1 .. 1) the rules can test: the lexicon
    model, which needs no training and scores a text in well under a millisecond."""
    texts = [
        (i, e["text"])
        for i, e in enumerate(events)
        if e.get("kind") in SENTIMENT_KINDS and isinstance(e.get("text"), str) and e["text"].strip()
    ]
    for e in events:
        e.setdefault("sentiment", None)
    if texts:
        scores = compound([t for _, t in texts])
        for (i, _), value in zip(texts, scores, strict=True):
            events[i]["sentiment"] = float(value)
    return events


def _notification(f: Firing, now: dt.datetime) -> Notification:
    customer = f.context.get("customer", {})
    value = customer.get("value")
    return Notification(
        alert_id=f.alert_id,
        rule_id=f.rule_id,
        rule_name=f.rule_name,
        severity=f.severity,
        customer_id=f.customer_id or f.subject,
        customer_name=customer.get("name"),
        account_id=f.account_id,
        owner=f.owner,
        value=float(value) if isinstance(value, int | float) else None,
        summary=f.summary,
        context=f.context,
        fired_at=now,
        link=None,
    )
