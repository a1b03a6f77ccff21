"""The rules file: rules over an event and its customer's profile, the playbooks they open and
the channels that carry them, validated at load with messages a user can act on.

A condition is one line, `<field> <op> <value>`: fields are `event.<column>`,
`event.properties.<key>` or `customer.<profile field>`; ops are = != < <= > >= in, not in,
contains; values are YAML (`P1`, `-0.3`, `[urgent, high]`).

    rules:
      - id: social_complaint_top_value
        name: Negative social mention by a top-10% customer
        when: ["event.kind = social", "event.score < -0.3", "customer.value_percentile >= 90"]
        severity: P1
        playbook: social_recovery
        notify: [success-team]
      - id: third_urgent_ticket
        name: Third urgent ticket in 30 days
        when: ["event.kind = ticket", "event.action = opened"]
        window: {match: ["event.properties.priority in [urgent, high]"], days: 30, at_least: 3}
        severity: P2
        escalate: [{when: ["customer.value_tier = top10"], severity: P1}]
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxlens.errors import ConfigError
from cxlens.signals.channels import ChannelSettings

Severity = Literal["P1", "P2", "P3", "P4"]
#: How much more a P1 weighs than a P4 when alerts are ordered by priority.
SEVERITY_WEIGHT: dict[str, float] = {"P1": 8.0, "P2": 4.0, "P3": 2.0, "P4": 1.0}
#: Fields of the customer profile a condition may read (see signals.profiles).
PROFILE_FIELDS = frozenset(
    {
        "customer_id", "account_id", "name", "segment", "owner", "region", "provisional",
        "arr", "clv", "value", "value_percentile", "value_tier", "health", "health_status",
        "churn_probability", "risk_band",
    }
)  # fmt: skip
EVENT_FIELDS = frozenset(
    {
        "event_id", "kind", "action", "occurred_at", "channel", "touchpoint", "reference",
        "amount", "currency", "quantity", "score", "text", "source", "sentiment",
    }
)  # fmt: skip

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "contains": lambda a, b: isinstance(a, str) and str(b).lower() in a.lower(),
}
_CONDITION = re.compile(r"^\s*([\w.]+)\s+(not in|in|contains|!=|<=|>=|==|=|<|>)\s+(.+?)\s*$")


class Condition:
    """One parsed `<field> <op> <value>` line."""

    def __init__(self, text: str) -> None:
        found = _CONDITION.match(text)
        if not found:
            raise ValueError(
                f"cannot read condition {text!r}: write `<field> <op> <value>`, e.g. "
                "`event.kind = social` or `customer.value_percentile >= 90`"
            )
        self.text = text
        field, op, raw = found.groups()
        self.op = "=" if op == "==" else op
        self.value: Any = yaml.safe_load(raw)
        root, _, path = field.partition(".")
        self.root: str = root
        self.path: str = path
        if self.root == "event":
            known = self.path in EVENT_FIELDS or self.path.startswith("properties.")
            valid = f"event.{{{', '.join(sorted(EVENT_FIELDS))}}} or event.properties.<key>"
        elif self.root == "customer":
            known = self.path in PROFILE_FIELDS
            valid = f"customer.{{{', '.join(sorted(PROFILE_FIELDS))}}}"
        else:
            known, valid = False, "event.… or customer.…"
        if not known:
            raise ValueError(f"unknown field {field!r} in {text!r}: use {valid}")
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"{text!r}: `{self.op}` needs a list, e.g. [urgent, high]")
        self._test = _OPS[self.op]

    def __call__(self, event: Mapping[str, Any], profile: Mapping[str, Any]) -> bool:
        if self.root == "event":
            if self.path.startswith("properties."):
                props = event.get("properties") or {}
                actual = props.get(self.path.removeprefix("properties."))
            else:
                actual = event.get(self.path)
        else:
            actual = profile.get(self.path)
        if actual is None:
            # Unknown is not a match: a missing score is not "below -0.3".
            return self.op == "not in" or (self.op == "!=" and self.value is not None)
        try:
            return bool(self._test(actual, self.value))
        except TypeError:
            return False

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"


def _conditions(lines: list[str]) -> list[Condition]:
    return [Condition(line) for line in lines]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Window(_Strict):
    """Fires when the matching events of the customer within `days` (this one included)
    reach `at_least`: "the third urgent ticket in 30 days"."""

    match: list[str] = Field(default_factory=list)
    days: float = Field(gt=0, le=366)
    at_least: int = Field(ge=1)


class Change(_Strict):
    """Fires when `field` summed over the last `period_days` fell by `drop_at_least` (a share)
    against the period before: "usage down 50% week over week"."""

    match: list[str] = Field(default_factory=list)
    field: Literal["quantity", "amount", "score"] = "quantity"
    period_days: float = Field(7, gt=0, le=183)
    drop_at_least: float = Field(gt=0, le=1)


class Escalation(_Strict):
    when: list[str]
    severity: Severity


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    name: str
    description: str | None = None
    when: list[str] = Field(default_factory=list)
    window: Window | None = None
    change: Change | None = None
    severity: Severity = "P3"
    escalate: list[Escalation] = Field(default_factory=list)
    cooldown_hours: float = Field(24, ge=0, description="Quiet time per customer after firing.")
    playbook: str | None = None
    notify: list[str] = Field(default_factory=list, description="Channel names.")
    queue: str | None = Field(None, description="Owner when the customer has none.")
    enabled: bool = True

    @field_validator("when")
    @classmethod
    def _parse_when(cls, lines: list[str]) -> list[str]:
        _conditions(lines)
        return lines

    @model_validator(mode="after")
    def _parse_all(self) -> Rule:
        if self.window and self.change:
            raise ValueError("a rule has a window or a change, not both")
        for part in (self.window, self.change):
            if part is not None:
                _conditions(part.match)
        for step in self.escalate:
            _conditions(step.when)
        if not self.when and not self.window and not self.change:
            raise ValueError(
                "a rule needs `when`, `window` or `change`: it would fire on everything"
            )
        return self

    # Parsed once: conditions are evaluated for every event.
    def conditions(self) -> list[Condition]:
        return _conditions(self.when)


class Step(_Strict):
    title: str
    owner: str = Field("owner", description="`owner` (the customer's) or `queue:<name>`.")
    due_hours: dict[str, float] = Field(
        default_factory=lambda: {"P1": 4.0, "P2": 24.0, "P3": 72.0, "P4": 168.0},
        description="Hours to the due date by the alert's severity (`default` for the rest).",
    )

    def due_in(self, severity: str) -> float:
        return self.due_hours.get(severity, self.due_hours.get("default", 72.0))


class Playbook(_Strict):
    name: str
    steps: list[Step] = Field(min_length=1)
    holdout: float = Field(
        0.0, ge=0, le=0.5, description="Share of eligible customers held out to measure effect."
    )
    follow_up_days: int = Field(
        90, ge=1, description="Days after the alert in which churn and the next survey count."
    )


class RulesFile(_Strict):
    rules: list[Rule] = Field(default_factory=list)
    playbooks: dict[str, Playbook] = Field(default_factory=dict)
    channels: dict[str, Annotated[ChannelSettings, Field()]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
            if rule.playbook and rule.playbook not in self.playbooks:
                raise ValueError(
                    f"rule {rule.id!r} names playbook {rule.playbook!r}; defined: "
                    f"{sorted(self.playbooks) or 'none'}"
                )
            for channel in rule.notify:
                if channel not in self.channels:
                    raise ValueError(
                        f"rule {rule.id!r} notifies channel {channel!r}; defined: "
                        f"{sorted(self.channels) or 'none'}"
                    )
        return self


DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")


def load_rules(path: Path | None = None) -> RulesFile:
    """The rules file at `path` (the packaged default rules when None)."""
    path = path or DEFAULT_RULES
    if not path.exists():
        raise ConfigError(f"no rules file at {path}; see docs/signals.md for its format")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return RulesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
