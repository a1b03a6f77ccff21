"""Rules and the engine without a store: parsing with actionable errors, windows, changes,
cool-downs, value escalation, and the effect statistics against published values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxlens.errors import ConfigError
from cxlens.signals.effect import mean_difference, rate_difference, wilson
from cxlens.signals.engine import RuleEngine, alert_id
from cxlens.signals.playbooks import TaskError, check_transition, held_out
from cxlens.signals.profiles import Profiles
from cxlens.signals.rules import Condition, Playbook, RulesFile, load_rules

T0 = dt.datetime(2026, 6, 1, 9)


def _rules(raw: dict[str, Any]) -> RulesFile:
    return RulesFile.model_validate(raw)


def _profiles() -> Profiles:
    profiles = Profiles()
    profiles.accounts["acc_big"] = {
        "customer_id": "acc_big", "account_id": "acc_big", "name": "Big Co", "owner": "ana",
        "value": 120_000.0, "value_percentile": 97.0, "value_tier": "top10", "segment": "ent",
    }  # fmt: skip
    profiles.accounts["acc_small"] = {
        "customer_id": "acc_small", "account_id": "acc_small", "name": "Small Co",
        "owner": "bo", "value": 900.0, "value_percentile": 20.0, "value_tier": "rest",
    }  # fmt: skip
    return profiles


def _event(n: int, account: str, at: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"e{n}", "occurred_at": at, "account_id": account,
            "customer_id": None, **fields}  # fmt: skip


def test_the_packaged_rules_load_and_reference_their_playbooks() -> None:
    rules = load_rules(None)
    assert {r.id for r in rules.rules} >= {"negative_social_mention", "third_urgent_ticket",
                                           "nps_detractor", "usage_drop"}  # fmt: skip
    assert all(r.playbook in rules.playbooks for r in rules.rules if r.playbook)
    assert rules.playbooks["detractor_recovery"].holdout > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("event.kind social", "write `<field> <op> <value>`"),
        ("customer.mood = sad", "unknown field 'customer.mood'"),
        ("event.kind in social", "needs a list"),
        ("account.segment = x", "event.… or customer.…"),
    ],
)
def test_bad_conditions_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("`", ".")):
        Condition(text)


def test_a_rules_file_with_mistakes_names_them(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {id: a, name: A, when: ['event.kind = social'], playbook: nope}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"rules.yaml.*playbook 'nope'.*defined: none"):
        load_rules(path)
    path.write_text("rules:\n  - {id: a, name: A, when: ['event.kind ~ social']}\n")
    with pytest.raises(ConfigError, match="rules.0.when"):
        load_rules(path)
    path.write_text("rules:\n  - {id: a, name: A}\n")
    with pytest.raises(ConfigError, match="would fire on everything"):
        load_rules(path)


def test_conditions_compare_and_treat_missing_as_no_match() -> None:
    profile = {"value_tier": "top10", "churn_probability": None}
    event = {"kind": "ticket", "score": None, "properties": {"priority": "urgent"}}
    assert Condition("event.properties.priority in [urgent, high]")(event, profile)
    assert Condition("customer.value_tier = top10")(event, profile)
    assert not Condition("event.score < 3")(event, profile)
    assert not Condition("customer.churn_probability >= 0.2")(event, profile)
    assert Condition("event.text contains refund")({"text": "I want a REFUND now"}, {})


def test_third_urgent_ticket_in_30_days_with_cool_down_and_value_escalation() -> None:
    rules = _rules(
        {
            "rules": [
                {
                    "id": "third_urgent", "name": "Third urgent ticket",
                    "when": ["event.kind = ticket", "event.action = opened"],
                    "window": {"match": ["event.properties.priority in [urgent, high]"],
                               "days": 30, "at_least": 3},
                    "severity": "P3", "cooldown_hours": 240,
                    "escalate": [{"when": ["customer.value_tier = top10"], "severity": "P1"}],
                }
            ]
        }
    )  # fmt: skip
    engine = RuleEngine(rules, _profiles())
    urgent = {"kind": "ticket", "action": "opened", "properties": {"priority": "urgent"}}
    normal = {"kind": "ticket", "action": "opened", "properties": {"priority": "normal"}}
    fired = []
    days = [0, 5, 8, 9, 50, 55, 61, 100]
    for n, day in enumerate(days):
        fields = normal if day == 8 else urgent
        fired.append(engine.observe(_event(n, "acc_big", T0 + dt.timedelta(days=day), **fields)))
    # Day 9 is the third urgent one within 30 days (day 8 was normal); day 61 the third of
    # 50, 55, 61; the day-0..9 alert's cool-down (10 days) has passed by then.
    hits = [(days[i], f[0].suppressed) for i, f in enumerate(fired) if f]
    assert hits == [(9, False), (61, False)]
    assert fired[3][0].severity == "P1" and fired[3][0].priority == 8 * 120_000.0
    assert "3 in 30 days" in fired[3][0].summary and "Big Co" in fired[3][0].summary
    # The same pattern at a small customer stays P3, and a second burst inside the
    # cool-down is marked suppressed.
    small = RuleEngine(rules, _profiles())
    out = [small.observe(_event(n, "acc_small", T0 + dt.timedelta(days=n), **urgent))
           for n in range(5)]  # fmt: skip
    assert [len(o) for o in out] == [0, 0, 1, 1, 1]
    assert out[2][0].severity == "P3" and [o[0].suppressed for o in out[2:]] == [False, True, True]
    assert out[2][0].alert_id == alert_id("third_urgent", "e2")


def test_usage_down_by_half_week_over_week() -> None:
    rules = _rules(
        {
            "rules": [
                {
                    "id": "usage_drop", "name": "Usage halved",
                    "when": ["event.kind = usage", "event.action = active_users"],
                    "change": {"field": "quantity", "period_days": 7, "drop_at_least": 0.5},
                    "severity": "P2",
                }
            ]
        }
    )  # fmt: skip
    engine = RuleEngine(rules, _profiles())
    levels = [40, 42, 41, 30, 14, 13]  # one reading a week
    out = []
    for n, level in enumerate(levels):
        event = _event(n, "acc_small", T0 + dt.timedelta(days=7 * n), kind="usage",
                       action="active_users", quantity=float(level))  # fmt: skip
        out.append(engine.observe(event))
    # Each week against the one before: 30 -> 14 is down 53%; 41 -> 30 (27%) is not enough.
    assert [n for n, o in enumerate(out) if o] == [4]
    figures = out[4][0].context["figures"]
    assert figures["previous"] == 30 and figures["current"] == 14
    assert "down 53%" in out[4][0].summary


def test_a_restarted_engine_remembers_windows_and_cool_downs() -> None:
    rules = _rules(
        {
            "rules": [
                {
                    "id": "third", "name": "Third ticket", "cooldown_hours": 24 * 60,
                    "when": ["event.kind = ticket"],
                    "window": {"days": 30, "at_least": 3},
                }
            ]
        }
    )  # fmt: skip
    history = [_event(n, "acc_big", T0 + dt.timedelta(days=n), kind="ticket") for n in range(2)]
    engine = RuleEngine(rules, _profiles())
    engine.warm(history, [])
    assert engine.observe(_event(9, "acc_big", T0 + dt.timedelta(days=3), kind="ticket"))
    fresh = RuleEngine(rules, _profiles())
    fresh.warm(history, [("third", "acc_big", T0 - dt.timedelta(days=10))])
    # Same third ticket, but the rule fired for this customer 13 days ago: cooling down.
    again = fresh.observe(_event(9, "acc_big", T0 + dt.timedelta(days=3), kind="ticket"))
    assert len(again) == 1 and again[0].suppressed


def test_hold_out_is_stable_per_customer_and_near_its_share() -> None:
    playbook = Playbook(name="Recover", steps=[{"title": "Call"}], holdout=0.2)
    groups = [held_out("recover", playbook, f"acc_{i}") for i in range(5000)]
    assert 0.18 < np.mean(groups) < 0.22
    assert groups == [held_out("recover", playbook, f"acc_{i}") for i in range(5000)]
    none = Playbook(name="All", steps=[{"title": "Call"}])
    assert not any(held_out("all", none, f"acc_{i}") for i in range(100))


def test_task_transitions_are_checked() -> None:
    check_transition("t", "open", "in_progress", None)
    check_transition("t", "done", "open", None)
    with pytest.raises(TaskError, match="needs a reason"):
        check_transition("t", "open", "dismissed", " ")
    with pytest.raises(TaskError, match="can go to open, not in_progress"):
        check_transition("t", "done", "in_progress", None)
    with pytest.raises(TaskError, match="unknown status"):
        check_transition("t", "open", "finished", None)


def test_effect_intervals_match_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10: example (a)
    # 56/70 - 48/80 gives 0.0524 to 0.3339; example (d) 5/56 - 0/29 gives -0.0381 to 0.1926.
    diff, low, high = rate_difference(56, 70, 48, 80)
    assert diff == pytest.approx(0.2)
    assert (low, high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    _, low, high = rate_difference(5, 56, 0, 29)
    assert (low, high) == (pytest.approx(-0.0381, abs=1e-4), pytest.approx(0.1926, abs=1e-4))
    # Wilson (1927) score interval for 0/10 stays inside [0, 1] and is not degenerate.
    low0, high0 = wilson(0, 10)
    assert low0 == pytest.approx(0.0, abs=1e-12) and high0 == pytest.approx(0.2775, abs=1e-4)
    rng = np.random.default_rng(0)
    a, b = rng.normal(8, 2, 400), rng.normal(7, 2, 300)
    est, lo, hi = mean_difference(a, b)
    assert lo < est < hi and lo < 1 < hi and hi - lo < 0.8
