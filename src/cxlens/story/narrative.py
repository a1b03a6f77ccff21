"""The story of a customer's journey in plain language, every sentence citing its events.

Sections, in order: who they are; how they came; what they bought and how their value moved;
key moments across departments; current health and risk with the top reasons; a suggested
next action. A sentence no event stands behind is dropped (profile sentences cite the earliest
event that shows the customer). The same data always gives the same story: events are taken
in time order with their ids breaking ties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cxlens.story import timeline as tl
from cxlens.story.customer360 import Customer360
from cxlens.story.timeline import Event, amount, day, is_, money, occurred, plural, prop

SECTIONS = ("who", "arrival", "value", "moments", "health", "next")
#: Subscription moves told one by one; more are told as totals.
MAX_MOVES = 6
#: Key moments told one by one (the latest); earlier ones are counted in one sentence.
MAX_MOMENTS = 8
#: A ticket resolved more than this many days after it opened, or more than `LATE` after its
#: SLA, is a slow resolution.
SLOW_DAYS = 14
LATE = dt.timedelta(days=2)


@dataclass
class Sentence:
    text: str
    event_ids: list[str]
    section: str


@dataclass
class Facts:
    """What the story is told from; `events` are every non-usage event, oldest first."""

    page: Customer360
    events: list[dict[str, Any]]
    first: dict[str, Any] | None = None
    #: The latest usage events (active users, sessions) tl.before the risk date, oldest first.
    usage: list[dict[str, Any]] = field(default_factory=list)
    #: Sentiment of the customer's texts in the latest text-analytics run, by event id.
    sentiments: dict[str, str] = field(default_factory=dict)
    #: Placed orders of at least this tl.amount are large (the top decile of all orders).
    big_order: float | None = None
    #: The customer's events that fired their alerts and tasks.
    triggers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def known(self) -> dict[str, dict[str, Any]]:
        """Every event the story may cite, by id."""
        found = [*self.events, *self.usage, *self.triggers, *([self.first] if self.first else [])]
        return {str(e["event_id"]): e for e in found}


def _ids(events: Iterable[Event | None]) -> list[str]:
    return list(dict.fromkeys(str(e["event_id"]) for e in events if e is not None))


def _who(facts: Facts, event: Event) -> str:
    if facts.page.kind == "person":
        return "they"
    return str(event.get("customer_name") or prop(event, "handle") or "a contact")


def _first(events: Sequence[Event], kind: str, action: str) -> Event | None:
    return next((e for e in events if is_(e, kind, action)), None)


def _stop(text: str) -> str:
    """End a sentence once, even when it ends with a tl.quote that has its own full stop."""
    return text[:-1] if text.endswith(("!”.", "?”.", ".”.", "…”.")) else text


def _for(event: Event, key: str, template: str) -> str:
    value = prop(event, key)
    return template.format(value) if value else ""


# ---- who they are and how they came -----------------------------------------------------------
def _who_they_are(facts: Facts) -> list[Sentence]:
    page, p = facts.page, facts.page.profile
    cite = _ids([facts.first])
    systems = sorted({str(r["record_id"]).split(":", 1)[0] for r in page.records})
    records = f"{plural(len(page.records), 'source record')} from {tl.join_words(systems or ['?'])}"
    verb = "makes" if len(page.records) == 1 else "make"
    if page.kind == "account":
        place = ", ".join(str(x) for x in dict.fromkeys((p.get("region"), p.get("country"))) if x)
        clauses = [
            f"works in {str(p['industry']).lower()}" if p.get("industry") else "",
            f"is based in {place}" if place else "",
            f"has {int(p['employees']):,} employees" if p.get("employees") else "",
            f"is in the {p['segment']} segment" if p.get("segment") else "",
        ]
        said = tl.join_words([c for c in clauses if c] or ["is an account"])
        text = f"{p.get('name') or page.master_id} {said}"
        text += f"; {p['owner']} owns the account." if p.get("owner") else "."
        crew = plural(len(page.people), "person", "people")
        second = f"We know {crew} there, and {records} {verb} up the account."
    else:
        name = p.get("name") or page.master_id
        where = f" at {p['account_name']}" if p.get("account_name") else ""
        text = f"{name} is {p['title']}{where}" if p.get("title") else f"{name} works{where}"
        text = (text if where or p.get("title") else f"{name} is a customer") + (
            f" ({p['email']})." if p.get("email") else "."
        )
        second = f"{records[0].upper()}{records[1:]} {verb} up this person."
    return [Sentence(text, cite, "who"), Sentence(second, cite, "who")]


def _arrival(facts: Facts) -> list[Sentence]:
    out = []
    if (e := facts.first) is not None:
        text = f"They first appear on {day(occurred(e))} in {e['source']}: "
        out.append(Sentence(text + tl.lower_first(tl.summary(e)) + ".", _ids([e]), "arrival"))
    if (won := _first(facts.events, "opportunity", "won")) is not None:
        deal = f"“{tl.quote(won.get('text'), 60)}”" if won.get("text") else "the deal"
        text = f"They signed on {day(occurred(won))}: {deal}, worth {amount(won)}."
        out.append(Sentence(text, _ids([won]), "arrival"))
    if (start := _first(facts.events, "subscription", "new")) is not None:
        seats = f" for {int(start['quantity']):,} seats" if start.get("quantity") else ""
        text = (
            f"Their subscription began on {day(occurred(start))} at {amount(start)} a month"
            f"{_for(start, 'plan', ' on the {} plan')}{seats}."
        )
        out.append(Sentence(text, _ids([start]), "arrival"))
    elif (order := _first(facts.events, "order", "placed")) is not None:
        product = _for(order, "product", " for {}")
        text = f"Their first order, on {day(occurred(order))}, was {amount(order)}{product}."
        out.append(Sentence(text, _ids([order]), "arrival"))
    return out


# ---- value ---------------------------------------------------------------------------------
_MOVE: dict[str, Callable[[str, str, str, str], str]] = {
    "expansion": lambda d, a, t, plan: f"On {d} they expanded by {a} a month{plan}, to {t} MRR.",
    "contraction": lambda d, a, t, _: f"On {d} they cut back by {a} a month, leaving MRR at {t}.",
    "churn": lambda d, a, _, __: f"On {d} they churned, cancelling {a} of MRR.",
    "reactivation": lambda d, a, _, __: f"On {d} they came back, at {a} a month.",
    "new": lambda d, a, t, _: f"On {d} they added a subscription at {a} a month ({t} in all).",
    "pause": lambda d, *_: f"On {d} they paused their subscription.",
    "resume": lambda d, *_: f"On {d} they resumed their subscription.",
    "renewal": lambda d, *_: f"On {d} they renewed.",
}  # fmt: skip
_GROUPED = {"expansion": ("expanded", "adding"), "contraction": ("cut back", "removing")}


def _moves(subs: Sequence[Event], start: Event | None) -> list[Sentence]:
    """Each change of recurring revenue after the start, or tl.totals when there are many."""
    running: dict[str, float] = {}
    told: list[tuple[Event, str, str]] = []
    plan = None
    for e in subs:
        currency = str(e.get("currency") or "")
        running[currency] = running.get(currency, 0.0) + float(e.get("amount") or 0.0)
        # Only a change of plan is news.
        changed = prop(e, "plan") not in (None, plan) and plan is not None
        if e is not start and e["action"] in _MOVE:
            total = money(running[currency], currency or None)
            told.append((e, total, _for(e, "plan", " (now on the {} plan)") if changed else ""))
        plan = prop(e, "plan") or plan
    grouped, out = len(told) > MAX_MOVES, []
    for action, (verb, gerund) in _GROUPED.items():
        group = [e for e, *_ in told if e["action"] == action]
        if grouped and group:
            text = (
                f"Between {day(occurred(group[0]))} and {day(occurred(group[-1]))} they {verb} "
                f"{plural(len(group), 'time')}, {gerund} {tl.totals(group).replace('-', '')} "
                "a month."
            )
            out.append(Sentence(text, _ids(group), "value"))
    for e, total, plan in told:
        if not (grouped and e["action"] in _GROUPED):
            delta = money(abs(float(e.get("amount") or 0.0)), e.get("currency"))
            text = _MOVE[str(e["action"])](day(occurred(e)), delta, total, plan)
            out.append(Sentence(text, _ids([e]), "value"))
    return out


def _value(facts: Facts) -> list[Sentence]:
    subs = [e for e in facts.events if is_(e, "subscription")]
    start = _first(subs, "subscription", "new")
    out = _moves(subs, start)
    v = facts.page.value
    if subs and v.get("mrr") and subs[-1]["action"] != "churn":
        mrr, arr = money(v["mrr"], v["currency"]), money(v["arr"], v["currency"])
        text = f"Today they pay {mrr} a month, {arr} a year."
        out.append(Sentence(text, _ids([subs[-1]]), "value"))
    placed = [e for e in facts.events if is_(e, "order", "placed")]
    if len(placed) > 1 or (placed and start is not None):
        last, product = placed[-1], _for(placed[-1], "product", " for {}")
        text = (
            f"In all they placed {plural(len(placed), 'order')} worth {tl.totals(placed)}; the "
            f"latest, on {day(occurred(last))}, was {amount(last)}{product}."
        )
        if len(placed) == 1:
            text = f"They placed one order, on {day(occurred(last))}: {amount(last)}{product}."
        out.append(Sentence(text, _ids([placed[0], last]), "value"))
    if refunds := [e for e in facts.events if is_(e, "order", "refunded")]:
        were = "was" if len(refunds) == 1 else "were"
        text = f"{plural(len(refunds), 'order')} {were} refunded, {tl.totals(refunds)} in all."
        out.append(Sentence(text[0].upper() + text[1:], _ids(refunds), "value"))
    clv = v.get("clv") or {}
    if placed and clv.get("total"):
        worth = money(clv["total"], clv.get("currency"))
        months = clv.get("horizon_months") or 12
        text = f"Their buyers are expected to bring {worth} over the next {months} months."
        if facts.page.kind == "person" and (mine := (clv.get("customers") or [{}])[0]):
            text = (
                f"They are expected to bring {worth} over the next {months} months; the chance "
                f"they are still buying is {tl.percent(mine.get('p_alive'))}"
                + (f" (RFM segment {mine['rfm_segment']})." if mine.get("rfm_segment") else ".")
            )
        out.append(Sentence(text, _ids([placed[-1]]), "value"))
    return out


# ---- key moments ---------------------------------------------------------------------------
def _ticket(facts: Facts, opened: Event, resolved: Event | None) -> tuple[str, str] | None:
    priority = str(prop(opened, "priority") or "")
    due = tl.as_time(prop(opened, "sla_due_at"))
    late = resolved is not None and due is not None and occurred(resolved) > due
    days = (occurred(resolved) - occurred(opened)).days if resolved is not None else None
    overdue = resolved is not None and due is not None and occurred(resolved) - due > LATE
    if priority not in tl.ESCALATED and not (overdue or (days or 0) > SLOW_DAYS):
        return None
    subject = f", “{tl.quote(opened.get('text'), 70)}”" if opened.get("text") else ""
    outcome = "it is still unresolved"
    if resolved is not None:
        outcome = "it was resolved " + (f"{plural(days, 'day')} later" if days else "the same day")
        outcome += ", past its SLA" if late else ""
    article = "an" if priority[:1] in ("a", "e", "i", "o", "u") else "a"
    level = f"{priority} " if priority else ""
    who = _who(facts, opened)
    text = f"On {day(occurred(opened))} {who} opened {article} {level}ticket{subject}; {outcome}."
    return text, ("escalated ticket" if priority in tl.ESCALATED else "slow ticket")


def _moment(facts: Facts, e: Event, resolved: dict[str, Event]) -> tuple[str, str] | None:
    """The sentence and the kind of moment an event is, when it is a key moment."""
    when, who = day(occurred(e)), _who(facts, e)
    said = f": “{tl.quote(e.get('text'))}”" if e.get("text") else ""
    if is_(e, "ticket", "opened"):
        return _ticket(facts, e, resolved.get(str(e.get("reference"))))
    if is_(e, "survey", "nps") and e.get("score") is not None and float(e["score"]) <= 6:
        return f"On {when} {who} gave an NPS of {float(e['score']):.0f}{said}.", "detractor answer"
    if is_(e, "relationship", "champion_left"):
        champion = "their champion" + _for(e, "contact", " {}") + _for(e, "role", " ({})")
        return f"On {when} {champion} left.", "champion change"
    big = facts.big_order
    if is_(e, "order", "placed") and big is not None and float(e.get("amount") or 0.0) >= big:
        product = _for(e, "product", " for {}")
        return f"On {when} {who} placed a large order: {amount(e)}{product}.", "large order"
    if is_(e, "social"):
        mood = facts.sentiments.get(str(e["event_id"]))
        if mood == "negative" or (mood is None and float(e.get("score") or 0.0) < 0):
            where = _for(e, "platform", " on {}")
            return f"On {when} {who} posted a negative {e['action']}{where}{said}.", "negative post"
    if is_(e, "invoice", "failed"):
        return f"On {when} a payment of {amount(e)} failed.", "failed payment"
    return None


def _moments(facts: Facts) -> list[Sentence]:
    resolved: dict[str, Event] = {}
    for e in facts.events:
        if is_(e, "ticket", "resolved") and e.get("reference") is not None:
            resolved.setdefault(str(e["reference"]), e)
    found = []
    for e in facts.events:
        if (told := _moment(facts, e, resolved)) is not None:
            closed = resolved.get(str(e.get("reference"))) if is_(e, "ticket", "opened") else None
            found.append((*told, _ids([e, closed])))
    out = []
    earlier, recent = found[:-MAX_MOMENTS], found[-MAX_MOMENTS:]
    if earlier:
        kinds: dict[str, int] = {}
        for _, label, _ in earlier:
            kinds[label] = kinds.get(label, 0) + 1
        listed = tl.join_words([plural(n, label) for label, n in kinds.items()])
        ids = list(dict.fromkeys(i for *_, cited in earlier for i in cited))
        out.append(Sentence(f"Earlier key moments: {listed}.", ids, "moments"))
    out.extend(Sentence(text, ids, "moments") for text, _, ids in recent)
    return out


# ---- health, risk and the next action ---------------------------------------------------------
def support(facts: Facts, feature: str, as_of: dt.datetime) -> list[Event]:
    """The customer's events that show a churn reason, as the model counted them."""
    if feature == "segment":
        return [facts.first] if facts.first is not None else []
    return tl.evidence(feature, as_of, facts.events, usage=facts.usage, sentiments=facts.sentiments)


def _latest_before(facts: Facts, as_of: dt.datetime) -> list[str]:
    found = tl.before([*facts.events, *facts.usage], as_of)
    return _ids(sorted(found, key=lambda e: (occurred(e), e["event_id"]))[-1:])


def _churn(facts: Facts) -> Event | None:
    life = [e for e in facts.events if is_(e, "subscription", "new", "churn", "reactivation")]
    return life[-1] if life and life[-1]["action"] == "churn" else None


def _health(facts: Facts) -> list[Sentence]:
    page, churn = facts.page, _churn(facts)
    if churn is not None:
        text = f"They are no longer a customer: they churned on {day(occurred(churn))}."
        return [Sentence(text, _ids([churn]), "health")]
    latest = page.health[-1] if page.health else {}
    health = ""
    if latest.get("score") is not None:
        health = f"health is {latest['status']} at {latest['score']:.0f}/100"
    if (risk := page.risk) is None:
        if not health:
            return []
        cite = _latest_before(
            facts, (tl.as_time(latest["day"]) or dt.datetime.min) + dt.timedelta(1)
        )
        return [Sentence(f"On {day(latest['day'])} their {health}.", cite, "health")]
    as_of, currency = tl.as_time(risk["as_of"]) or dt.datetime.min, page.value.get("currency")
    whose = "their churn risk"
    if page.kind == "person":
        whose = f"the churn risk of {page.profile.get('account_name') or 'their account'}"
    text = (
        f"As of {day(as_of)}, {whose} is {risk['risk_band']} at {tl.percent(risk['probability'])}"
    )
    if risk.get("arr"):
        at_risk = money(risk.get("revenue_at_risk"), currency)
        text += f", putting {at_risk} of {money(risk['arr'], currency)} a year at risk"
    text += f"; {health}." if health else "."
    reasons, cited = [], []
    for i, reason in enumerate(risk.get("reasons") or []):
        ids = _ids(support(facts, str(reason.get("feature")), as_of))
        lead = ("The main reason", "Another", "Also")[min(i, 2)]
        reasons.append(Sentence(f"{lead}: {reason.get('text')}.", ids, "health"))
        cited.extend(ids)
    cite = list(dict.fromkeys(cited)) or _latest_before(facts, as_of)
    return [Sentence(text, cite, "health"), *reasons]


def _next(facts: Facts) -> list[Sentence]:
    page, out = facts.page, []
    known = facts.known
    alerts = [a for a in page.alerts if a["status"] == "open" and a["event_id"] in known]
    if alerts:
        n, latest = len(alerts), alerts[0]
        text = (
            f"{plural(n, 'alert')} {'is' if n == 1 else 'are'} open; the latest, "
            f"“{latest['rule_name']}”, fired on {day(latest['occurred_at'])}."
        )
        ids = list(dict.fromkeys(str(a["event_id"]) for a in alerts[:5]))
        out.append(Sentence(text, ids, "next"))
    if (churn := _churn(facts)) is not None:
        owner = page.profile.get("owner") or "the account team"
        text = f"Next: a win-back call; {owner} should learn why they left and what would help."
        return [*out, Sentence(text, _ids([churn]), "next")]
    tasks = [
        t for t in page.tasks
        if t["status"] in ("open", "in_progress") and t["event_id"] in known
    ]  # fmt: skip
    if tasks:
        t, owner = tasks[0], f"{tasks[0]['owner']}, " if tasks[0].get("owner") else ""
        text = (
            f"Next: {tl.lower_first(str(t['title']).rstrip('.'))} ({owner}due {day(t['due_at'])}), "
            f"from the alert “{t['rule_name']}”."
        )
        return [*out, Sentence(text, [str(t["event_id"])], "next")]
    risk = page.risk or {}
    as_of = tl.as_time(risk.get("as_of"))
    for reason in risk.get("reasons") or []:
        feature = str(reason.get("feature"))
        cited = support(facts, feature, as_of) if as_of is not None else []
        if not cited or (action := tl.action_for(feature, cited)) is None:
            continue
        text = f"Next: {action}."
        if risk.get("risk_band") == "low":
            text = f"Next: nothing urgent; keep the usual rhythm and watch this: {reason['text']}."
        return [*out, Sentence(text, _ids(cited), "next")]
    if touches := [e for e in facts.events if is_(e, "note")] or facts.events:
        e = touches[-1]
        what = f"{tl.lower_first(tl.summary(e))} on {day(occurred(e))}"
        out.append(
            Sentence(f"Next: keep the usual rhythm; the last touch: {what}.", _ids([e]), "next")
        )
    return out


def tell(facts: Facts) -> list[Sentence]:
    """The story, section by section; sentences without an event behind them are left out."""
    out: list[Sentence] = []
    for part in (_who_they_are, _arrival, _value, _moments, _health, _next):
        out.extend(part(facts))
    return [Sentence(_stop(s.text), s.event_ids, s.section) for s in out if s.event_ids]
