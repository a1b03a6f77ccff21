"""A customer's events across every department, and the words and numbers used to show them.

An account's events are those whose account record belongs to it, whose record is one of its
own, or whose person belongs to it; a person's events are those of their records. Every row
carries the master ids it maps to. Times are UTC without a zone, as the store keeps them.
Also here: which of a customer's events stand behind each reason of the churn model, and what
each kind of reason calls for.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from cxlens.store import Store

Kind = Literal["account", "person"]
TimeLike = dt.datetime | dt.date | str

_COLUMNS = (
    "SELECT e.event_id, e.occurred_at, e.kind, e.action, e.department, e.journey_stage, "
    "e.touchpoint, e.channel, e.reference, e.amount, e.currency, e.quantity, e.score, e.text, "
    "e.properties, e.source, e.record_id, "
    "CASE WHEN l.entity = 'person' THEN l.master_id END AS customer_id, "
    "c.name AS customer_name, "
    "coalesce(la.master_id, c.account_id, CASE WHEN l.entity = 'account' THEN l.master_id END) "
    "AS account_id "
)


@dataclass(frozen=True)
class Scope:
    """One master's events (`events`, a derived table) and the joins that map each event to
    its record's master, its account record's master and the person (`joins`, over tiny
    tables of this master's records only), with their parameters."""

    events: str
    events_params: list[Any]
    joins: str
    joins_params: list[Any]

    def sql(self) -> str:
        return f"FROM {self.events} AS e {self.joins}"

    @property
    def params(self) -> list[Any]:
        return [*self.events_params, *self.joins_params]


_NO_LINKS = "(SELECT CAST(NULL AS VARCHAR) AS record_id, CAST(NULL AS VARCHAR) AS entity, " \
    "CAST(NULL AS VARCHAR) AS master_id WHERE FALSE)"  # fmt: skip
_NO_PEOPLE = "(SELECT CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS name, " \
    "CAST(NULL AS VARCHAR) AS account_id WHERE FALSE)"  # fmt: skip


def _values(
    rows: list[tuple[Any, ...]], columns: tuple[str, ...], empty: str
) -> tuple[str, list[Any]]:
    if not rows:
        return empty, []
    row = "(" + ", ".join("?" for _ in columns) + ")"
    table = f"(VALUES {', '.join(row for _ in rows)}) AS v({', '.join(columns)})"
    return f"(SELECT * FROM {table})", [x for r in rows for x in r]


#: The last customer whose events were gathered, per store, and when: a page asks for the
#: same customer's events several times within a second.
_GATHERED: weakref.WeakKeyDictionary[Store, tuple[tuple[str, str], float, Scope]] = (
    weakref.WeakKeyDictionary()
)
_FRESH_SECONDS = 2.0
_TABLE = "cx_customer_events"


def _gather(store: Store, kind: Kind, master_id: str, own: list[str], accounts: list[str]) -> str:
    """Copy the master's events into a temporary table (one indexed look-up per record set)
    and name it; queries then join a few hundred rows, not millions."""
    marks = ", ".join("?" for _ in own) or "NULL"
    with store.transaction():
        store.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        store.execute(
            f"CREATE TEMPORARY TABLE {_TABLE} AS SELECT * FROM events WHERE record_id IN ({marks})",
            own,
        )
        if accounts:
            # Events of other records filed under the account (its record named on them).
            # The look-up stays one indexed predicate; those already copied are skipped after.
            account_marks = ", ".join("?" for _ in accounts)
            store.execute(
                f"INSERT INTO {_TABLE} SELECT * FROM (SELECT * FROM events WHERE "
                f"account_record_id IN ({account_marks})) AS x "
                f"WHERE x.event_id NOT IN (SELECT event_id FROM {_TABLE})",
                accounts,
            )
    return _TABLE


def scope(store: Store, kind: Kind, master_id: str) -> Scope:
    """The master's events and how they map to masters, found by record id.

    The master's records are looked up first, then its events by record id, so the engine
    answers from its record indexes (the server creates them) instead of scanning every
    event; the mapping joins only this master's few records, not every link. That is what
    keeps a 360 fast among millions of events."""
    key = (kind, master_id)
    last = _GATHERED.get(store)
    if last is not None and last[0] == key and time.monotonic() - last[1] < _FRESH_SECONDS:
        return last[2]
    if kind == "person":
        links = store.rows(
            "SELECT record_id, entity, master_id FROM record_links WHERE master_id = ?",
            [master_id],
        )
        people = store.rows(
            "SELECT customer_id, name, account_id FROM customers WHERE customer_id = ?",
            [master_id],
        )
    else:
        people = store.rows(
            "SELECT customer_id, name, account_id FROM customers WHERE account_id = ?",
            [master_id],
        )
        masters = [master_id, *(str(p["customer_id"]) for p in people)]
        marks = ", ".join("?" for _ in masters)
        links = store.rows(
            f"SELECT record_id, entity, master_id FROM record_links WHERE master_id IN ({marks})",
            masters,
        )
    own = [str(r["record_id"]) for r in links]
    accounts = [str(r["record_id"]) for r in links if r["master_id"] == master_id]
    if kind == "person":
        accounts = []
    events = _gather(store, kind, master_id, own, accounts)
    link_sql, link_params = _values(
        [(r["record_id"], r["entity"], r["master_id"]) for r in links],
        ("record_id", "entity", "master_id"), _NO_LINKS,
    )  # fmt: skip
    people_sql, people_params = _values(
        [(p["customer_id"], p["name"], p["account_id"]) for p in people],
        ("customer_id", "name", "account_id"), _NO_PEOPLE,
    )  # fmt: skip
    joins = (
        f"LEFT JOIN {link_sql} AS l ON l.record_id = e.record_id "
        f"LEFT JOIN {link_sql} AS la ON la.record_id = e.account_record_id "
        f"LEFT JOIN {people_sql} AS c ON c.customer_id = l.master_id "
    )
    found = Scope(events, [], joins, [*link_params, *link_params, *people_params])
    _GATHERED[store] = (key, time.monotonic(), found)
    return found


def as_time(value: TimeLike | None) -> dt.datetime | None:
    """A bound given as a datetime, a date or ISO text, as the store's naive UTC time."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join('?' for _ in values)})"


def events(
    store: Store,
    kind: Kind,
    master_id: str,
    *,
    departments: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    actions: Sequence[str] | None = None,
    exclude_kinds: Sequence[str] | None = None,
    event_ids: Sequence[str] | None = None,
    since: TimeLike | None = None,
    until: TimeLike | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """The master's events (`since` inclusive, `until` exclusive), properties parsed, in time
    order; ties are broken by event id so every page is stable."""
    found = scope(store, kind, master_id)
    params = found.params
    where = ["TRUE"]
    for column, values, negate in (
        ("e.department", departments, False),
        ("e.kind", kinds, False),
        ("e.action", actions, False),
        ("e.kind", exclude_kinds, True),
        ("e.event_id", event_ids, False),
    ):
        if values is None:
            continue
        if not values:
            if negate:
                continue
            return []  # an empty filter keeps nothing
        where.append(("NOT " if negate else "") + _in(column, values))
        params.extend(values)
    for bound, operator in ((as_time(since), ">="), (as_time(until), "<")):
        if bound is not None:
            where.append(f"e.occurred_at {operator} ?")
            params.append(bound)
    direction = "DESC" if newest_first else "ASC"
    sql = (
        _COLUMNS + found.sql() + "WHERE " + " AND ".join(where)
        + f" ORDER BY e.occurred_at {direction}, e.event_id {direction}"
    )  # fmt: skip
    if limit is not None:
        sql += f" LIMIT {max(int(limit), 0)}"
    if offset:
        sql += f" OFFSET {max(int(offset), 0)}"
    rows = store.rows(sql, params)
    for row in rows:
        raw = row.get("properties")
        row["properties"] = json.loads(raw) if isinstance(raw, str) and raw else {}
    return rows


# ---- words and numbers -----------------------------------------------------------------------
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(amount: float | None, currency: str | None) -> str:
    """An amount as people read it: symbol or code, thousands separators, cents only when small
    and not whole."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "an unknown amount"
    value = float(amount)
    digits = 0 if abs(value) >= 1000 or value == round(value) else 2
    number = f"{abs(value):,.{digits}f}"
    sign = "-" if value < 0 else ""
    code = (currency or "").upper()
    if code in _SYMBOLS:
        return f"{sign}{_SYMBOLS[code]}{number}"
    return f"{sign}{number} {code}".strip()


def number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value) == round(float(value)) else f"{value:,.1f}"


def percent(value: float | None) -> str:
    if value is None:
        return "?"
    return "under 1%" if 0 < value < 0.005 else f"{value:.0%}"


def day(value: TimeLike | None) -> str:
    """A date as people write it: 3 May 2025."""
    moment = as_time(value)
    if moment is None:
        return "an unknown date"
    return f"{moment.day} {moment:%b %Y}"


def quote(text: str | None, limit: int = 90) -> str:
    """A short quote of a text, cut at a word boundary."""
    clean = " ".join((text or "").split())
    if len(clean) <= limit:
        return clean
    cut = clean[:limit].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def summary(event: Mapping[str, Any]) -> str:
    """One line that says what an event was."""
    kind, action = str(event.get("kind") or ""), str(event.get("action") or "")
    props: Mapping[str, Any] = event.get("properties") or {}
    amount = money(event.get("amount"), event.get("currency"))
    text = quote(event.get("text"), 70)
    said = f": “{text}”" if text else ""
    if kind == "subscription":
        plan = f" ({props['plan']} plan)" if props.get("plan") else ""
        return f"Subscription {action.replace('_', ' ')}, {amount} MRR{plan}"
    if kind == "order":
        product = f" for {props['product']}" if props.get("product") else ""
        return f"Order {action} {event.get('reference') or ''}".rstrip() + f", {amount}{product}"
    if kind == "invoice":
        return f"Invoice {action}, {amount}"
    if kind == "ticket":
        priority = f" ({props['priority']})" if props.get("priority") else ""
        return f"Ticket {event.get('reference') or ''} {action.replace('_', ' ')}{priority}{said}"
    if kind == "survey":
        return f"{action.upper()} answer {number(event.get('score'))}{said}"
    if kind == "usage":
        feature = f" ({props['feature']})" if props.get("feature") else ""
        return f"Usage: {number(event.get('quantity'))} {action.replace('_', ' ')}{feature}"
    if kind == "social":
        where = f" on {props['platform']}" if props.get("platform") else ""
        return f"Social {action}{where}{said}"
    if kind == "note":
        subject = props.get("subject") or text
        return f"{action.capitalize()} note" + (f": {subject}" if subject else "")
    if kind == "relationship":
        who = f": {props['contact']}" if props.get("contact") else ""
        role = f" ({props['role']})" if props.get("role") else ""
        return f"{action.replace('_', ' ').capitalize()}{who}{role}"
    if kind == "opportunity":
        name = f" {text}" if text else ""
        return f"Opportunity {action.replace('_', ' ')}{name}, {amount}"
    if kind == "delivery":
        service = f" {props['service']}" if props.get("service") else ""
        return f"Delivery{service} {action}"
    if kind == "community":
        title = props.get("title") or text
        return f"Community {action}" + (f": {quote(str(title), 70)}" if title else "")
    return f"{kind} {action}".strip().capitalize() + said


def amount(event: Mapping[str, Any]) -> str:
    return money(event.get("amount"), event.get("currency"))


def join_words(parts: Sequence[str]) -> str:
    """a, b and c"""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def totals(events: Sequence[Mapping[str, Any]]) -> str:
    """The events' amounts summed per currency: "$1,200 and €300"."""
    by_currency: dict[str, float] = {}
    for e in events:
        key = str(e.get("currency") or "")
        by_currency[key] = by_currency.get(key, 0.0) + float(e.get("amount") or 0.0)
    return join_words([money(v, k or None) for k, v in sorted(by_currency.items())])


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def plain(value: Any) -> Any:
    """The value with times as ISO text and non-finite numbers as None: ready for JSON."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    return value


def public(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Timeline rows as callers get them: each with its summary, JSON-ready."""
    return [plain({**row, "summary": summary(row)}) for row in rows]


# ---- which events stand behind a figure -------------------------------------------------------
Event = Mapping[str, Any]
ESCALATED = ("urgent", "high")


def occurred(event: Event) -> dt.datetime:
    moment = as_time(event["occurred_at"])
    assert moment is not None  # noqa: S101 - occurred_at is required by the schema
    return moment


def is_(event: Event, kind: str, *actions: str) -> bool:
    return event["kind"] == kind and (not actions or event["action"] in actions)


def prop(event: Event, key: str) -> Any:
    return (event.get("properties") or {}).get(key)


def opened(e: Event) -> bool:
    return is_(e, "ticket", "opened")


def escalated(e: Event) -> bool:
    return opened(e) and prop(e, "priority") in ESCALATED


def detractor(e: Event) -> bool:
    return is_(e, "survey", "nps") and e.get("score") is not None and float(e["score"]) <= 6


def before(events: Iterable[Event], as_of: dt.datetime, days: int | None = None) -> list[Event]:
    """Events strictly before `as_of` (and within `days` of it), as the churn model sees them."""
    start = as_of - dt.timedelta(days=days) if days is not None else None
    return [e for e in events if occurred(e) < as_of and (start is None or occurred(e) >= start)]


#: Events behind each reason of the churn model (features in cxlens.risk.features):
#: (which events, window in days before the score date or None for all time, keep only the
#: latest n or None for all).
_EVIDENCE: dict[str, tuple[Callable[[Event], bool], int | None, int | None]] = {
    "tickets_90d": (opened, 90, None),
    "urgent_tickets_90d": (escalated, 90, None),
    "urgent_tickets_30d": (escalated, 30, None),
    "nps_last": (lambda e: is_(e, "survey", "nps") and e.get("score") is not None, None, 1),
    "days_since_detractor": (detractor, None, 1),
    "detractor_90d": (detractor, 90, None),
    "days_since_payment_failure": (lambda e: is_(e, "invoice", "failed"), None, 1),
    "payment_failures_90d": (lambda e: is_(e, "invoice", "failed"), 90, None),
    "csat_avg_180d": (lambda e: is_(e, "survey", "csat"), 180, None),
    "days_since_champion_left": (lambda e: is_(e, "relationship", "champion_left"), None, 1),
    "champion_left_180d": (lambda e: is_(e, "relationship", "champion_left"), 180, None),
    "contacts_left_180d": (lambda e: is_(e, "relationship", "contact_left"), 180, None),
    "mrr": (lambda e: is_(e, "subscription"), None, 1),
}
#: Where none of the counted events happened, the latest such event shows the situation.
_LATEST_INSTEAD: dict[str, Callable[[Event], bool]] = {
    "csm_touches_90d": lambda e: is_(e, "note"),
    "mrr_change_90d": lambda e: is_(e, "subscription"),
}


def evidence(
    feature: str,
    as_of: dt.datetime,
    events: Sequence[Event],
    *,
    usage: Sequence[Event] = (),
    sentiments: Mapping[str, str] | None = None,
) -> list[Event]:
    """The events that show a churn reason as the model counted them before `as_of`.

    `events` are the customer's events oldest first; `usage` their latest usage events;
    `sentiments` the sentiment of their texts by event id."""
    events = before(events, as_of)
    if feature.startswith(("usage_trend", "active_users", "sessions")):
        action = "session" if feature.startswith("sessions") else "active_users"
        return [e for e in before(usage, as_of) if e["action"] == action][-3:]
    if feature in _EVIDENCE:
        test, days, keep = _EVIDENCE[feature]
        found = [e for e in before(events, as_of, days) if test(e)]
        return found[-keep:] if keep else found
    if feature in ("unresolved_tickets", "unresolved_urgent"):
        done = {str(e["reference"]) for e in events if is_(e, "ticket", "resolved")}
        test = escalated if feature == "unresolved_urgent" else opened
        recent = before(events, as_of, 180)
        return [e for e in recent if test(e) and str(e["reference"]) not in done]
    if feature == "sentiment_90d":
        moods = sentiments or {}
        texts = [e for e in before(events, as_of, 90) if str(e["event_id"]) in moods]
        return [e for e in texts if moods[str(e["event_id"])] == "negative"] or texts[-5:]
    if feature in _LATEST_INSTEAD:
        test = _LATEST_INSTEAD[feature]
        return [e for e in before(events, as_of, 90) if test(e)] or [e for e in events if test(e)][
            -1:
        ]
    if feature in ("tenure_months", "days_to_renewal"):
        return [e for e in events if is_(e, "subscription", "new")][:1]
    return []


#: What each kind of churn reason calls for, by the prefix of its feature.
ACTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("usage", "active_users", "sessions"), "offer an adoption session to the users who "
     "dropped off and find out what changed"),
    (("tickets", "urgent", "unresolved"), "go through their open and recent tickets with "
     "support, urgent ones first"),
    (("nps", "days_since_detractor", "detractor", "sentiment", "csat"), "call {who} about "
     "their feedback and agree on a fix"),
    (("days_since_payment", "payment"), "have finance contact them about the failed payment "
     "and confirm how they pay"),
    (("days_since_champion", "champion", "contacts"), "find a new champion and map who else "
     "matters at the account"),
    (("csm",), "book a check-in: they have not heard from us lately"),
    (("mrr",), "review their plan and the value they get before it shrinks further"),
    (("days_to_renewal", "tenure"), "prepare the renewal conversation early"),
)  # fmt: skip


def action_for(feature: str, cited: Sequence[Event]) -> str | None:
    """What to do about a churn reason; `cited` are the events that show it."""
    named = [str(e["customer_name"]) for e in cited if e.get("customer_name")]
    for prefixes, action in ACTIONS:
        if feature.startswith(prefixes):
            return action.format(who=named[-1] if named else "them")
    return None
