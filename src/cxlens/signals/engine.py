"""Judging events as they come: each rule's conditions over the event and its customer's
profile, aggregates over windows of the customer's recent events, cool-down per customer and
rule, and the severity a customer's value earns.

The engine holds only memory (recent matching events per rule and customer, when each rule
last fired for each customer); the server warms it from the store when it starts, so a
restart judges the next event exactly as if it had not stopped. Replaying history through a
fresh engine is the dry run."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cxlens.signals.profiles import Profile, Profiles
from cxlens.signals.rules import SEVERITY_WEIGHT, Condition, Rule, RulesFile

Event = Mapping[str, Any]


@dataclass(frozen=True)
class Firing:
    alert_id: str
    rule_id: str
    rule_name: str
    severity: str
    priority: float
    subject: str
    customer_id: str | None
    account_id: str | None
    owner: str | None
    event_id: str
    occurred_at: dt.datetime
    summary: str
    context: dict[str, Any]
    playbook: str | None
    notify: tuple[str, ...]
    suppressed: bool = False  # within the rule's cool-down for this customer


def alert_id(rule_id: str, event_id: str) -> str:
    """The same rule on the same event is the same alert, however often the event arrives."""
    digest = hashlib.sha256(f"{rule_id}\x1f{event_id}".encode()).hexdigest()
    return "alr_" + digest[:20]


@dataclass
class _Compiled:
    rule: Rule
    when: list[Condition]
    match: list[Condition]
    escalate: list[tuple[list[Condition], str]]
    history: dict[str, deque[tuple[dt.datetime, float]]] = field(default_factory=dict)
    last_fired: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def keep(self) -> dt.timedelta:
        if self.rule.window:
            return dt.timedelta(days=self.rule.window.days)
        if self.rule.change:
            return dt.timedelta(days=2 * self.rule.change.period_days)
        return dt.timedelta(0)


def _money(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "value unknown"


class RuleEngine:
    def __init__(self, rules: RulesFile, profiles: Profiles) -> None:
        self.rules = rules
        self.profiles = profiles
        self._rules = [
            _Compiled(
                rule=r,
                when=r.conditions(),
                match=[Condition(c) for c in (r.window or r.change).match]  # type: ignore[union-attr]
                if (r.window or r.change)
                else [],
                escalate=[([Condition(c) for c in e.when], e.severity) for e in r.escalate],
            )
            for r in rules.rules
            if r.enabled
        ]

    @property
    def lookback(self) -> dt.timedelta:
        """How much history the windows need: what `warm` should be given."""
        return max((c.keep for c in self._rules), default=dt.timedelta(0))

    def warm(self, events: Iterable[Event], fired: Iterable[tuple[str, str, dt.datetime]]) -> None:
        """Fill the windows from past events (oldest first) and the cool-downs from past
        alerts (rule id, subject, event time), without firing."""
        for event in events:
            profile = self.profiles.of(event.get("customer_id"), event.get("account_id"))
            for compiled in self._rules:
                self._accumulate(compiled, event, profile)
        by_id = {c.rule.id: c for c in self._rules}
        for rule_id, subject, at in fired:
            known = by_id.get(rule_id)
            if known is not None:
                last = known.last_fired.get(subject)
                known.last_fired[subject] = at if last is None else max(last, at)

    def _accumulate(
        self, compiled: _Compiled, event: Event, profile: Profile
    ) -> tuple[str, deque[tuple[dt.datetime, float]]] | None:
        if not (compiled.match or compiled.rule.window or compiled.rule.change):
            return None
        if not all(c(event, profile) for c in compiled.when):
            return None
        if not all(c(event, profile) for c in compiled.match):
            return None
        subject = _subject(event)
        at: dt.datetime = event["occurred_at"]
        value = 1.0
        if compiled.rule.change is not None:
            raw = event.get(compiled.rule.change.field)
            value = float(raw) if isinstance(raw, int | float) else 0.0
        history = compiled.history.setdefault(subject, deque())
        history.append((at, value))
        while history and history[0][0] <= at - compiled.keep:
            history.popleft()
        return subject, history

    def observe(self, event: Event) -> list[Firing]:
        """The rules this event fires (in the engine's memory from now on), including those a
        cool-down suppresses (marked), so a dry run can show them."""
        profile = self.profiles.of(event.get("customer_id"), event.get("account_id"))
        out = []
        for compiled in self._rules:
            rule = compiled.rule
            figures: dict[str, Any] = {}
            if rule.window or rule.change:
                found = self._accumulate(compiled, event, profile)
                if found is None:
                    continue
                subject, history = found
                if not self._aggregate_fires(compiled, history, event["occurred_at"], figures):
                    continue
            else:
                if not all(c(event, profile) for c in compiled.when):
                    continue
                subject = _subject(event)
            out.append(self._fire(compiled, event, profile, subject, figures))
        return out

    def _aggregate_fires(
        self,
        compiled: _Compiled,
        history: deque[tuple[dt.datetime, float]],
        at: dt.datetime,
        figures: dict[str, Any],
    ) -> bool:
        window, change = compiled.rule.window, compiled.rule.change
        if window is not None:
            figures.update(count=len(history), days=window.days)
            return len(history) >= window.at_least
        if change is None:
            return False
        period = dt.timedelta(days=change.period_days)
        now = sum(v for t, v in history if t > at - period)
        before = sum(v for t, v in history if at - 2 * period < t <= at - period)
        if before <= 0:
            return False
        drop = (before - now) / before
        figures.update(current=now, previous=before, drop=drop, period_days=change.period_days)
        return drop >= change.drop_at_least

    def _fire(
        self,
        compiled: _Compiled,
        event: Event,
        profile: Profile,
        subject: str,
        figures: dict[str, Any],
    ) -> Firing:
        rule = compiled.rule
        at: dt.datetime = event["occurred_at"]
        severity = next(
            (sev for conds, sev in compiled.escalate if all(c(event, profile) for c in conds)),
            rule.severity,
        )
        last = compiled.last_fired.get(subject)
        suppressed = last is not None and at - last < dt.timedelta(hours=rule.cooldown_hours)
        if not suppressed:
            compiled.last_fired[subject] = at
        value = profile.get("value")
        weight = max(float(value), 1.0) if isinstance(value, int | float) else 1.0
        return Firing(
            alert_id=alert_id(rule.id, str(event["event_id"])),
            rule_id=rule.id,
            rule_name=rule.name,
            severity=severity,
            priority=SEVERITY_WEIGHT[severity] * weight,
            subject=subject,
            customer_id=event.get("customer_id") or profile.get("customer_id"),
            account_id=event.get("account_id") or profile.get("account_id"),
            owner=profile.get("owner") or rule.queue,
            event_id=str(event["event_id"]),
            occurred_at=at,
            summary=_summary(rule, profile, figures),
            context=_context(event, profile, figures),
            playbook=rule.playbook,
            notify=tuple(rule.notify),
            suppressed=suppressed,
        )


def _subject(event: Event) -> str:
    """Windows and cool-downs count per account when there is one, else per person."""
    return str(event.get("account_id") or event.get("customer_id") or event["event_id"])


def _summary(rule: Rule, profile: Profile, figures: Mapping[str, Any]) -> str:
    who = profile.get("name") or profile.get("customer_id") or "unknown customer"
    facts = []
    if "count" in figures:
        facts.append(f"{figures['count']} in {figures['days']:g} days")
    if "drop" in figures:
        facts.append(
            f"down {figures['drop']:.0%} ({figures['previous']:,.0f} → {figures['current']:,.0f} "
            f"over {figures['period_days']:g} days)"
        )
    if profile.get("value") is not None:
        tier = profile.get("value_tier")
        facts.append(f"value {_money(profile['value'])}" + (f", {tier}" if tier else ""))
    if profile.get("churn_probability") is not None:
        facts.append(f"churn risk {profile['churn_probability']:.0%}")
    return f"{rule.name}: {who}" + (f" ({'; '.join(facts)})" if facts else "")


def _context(event: Event, profile: Profile, figures: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("name", "segment", "owner", "region", "arr", "clv", "value", "value_percentile",
            "value_tier", "health", "health_status", "churn_probability", "risk_band",
            "provisional")  # fmt: skip
    text = event.get("text")
    return {
        "customer": {k: profile.get(k) for k in keep},
        "event": {
            "kind": event.get("kind"),
            "action": event.get("action"),
            "score": event.get("score"),
            "text": text[:280] if isinstance(text, str) else None,
            "properties": event.get("properties") or {},
        },
        "figures": dict(figures),
    }
