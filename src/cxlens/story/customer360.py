"""The customer 360: everything the company knows about one account or person, on one page.

Profile and people, the source records and why identity resolution united them, value (MRR and
ARR with their history, lifetime value, RFM), churn risk with its reasons and the health
history, the voice of the customer, open alerts and tasks, and how many interactions each
department had. The risk, voice and signal tables are read with SQL, so this package needs only
the store, identity and metrics. Everything is plain data, ready for JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from cxlens.errors import MetricError
from cxlens.identity.service import Identity
from cxlens.metrics.frames import plan_of
from cxlens.metrics.service import Value
from cxlens.store import Store
from cxlens.story.timeline import Kind, plain, scope

_ACCOUNT_FIELDS = "account_id, name, domain, segment, industry, owner, region, country, employees"
_PERSON_FIELDS = "customer_id, account_id, name, email, phone, title, country"
#: Newest texts and survey answers kept on the page; the counts cover every one.
VOICE_LIMIT = 200


@dataclass
class Customer360:
    kind: Kind
    master_id: str
    requested_id: str
    profile: dict[str, Any]
    #: People of the account (for a person: the other people of their account).
    people: list[dict[str, Any]]
    #: Source records united in the master, and the links (with their reasons) that hold them.
    records: list[dict[str, Any]]
    links: list[dict[str, Any]]
    identity_summary: str
    value: dict[str, Any]
    #: Latest churn score of the account (None when it has none), and its daily health.
    risk: dict[str, Any] | None
    health: list[dict[str, Any]]
    voice: dict[str, Any]
    alerts: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    #: Interactions per department, and in all.
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    first_seen_at: str | None = None
    last_seen_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(asdict(self))
        return out


def _json(raw: Any, default: Any) -> Any:
    if isinstance(raw, str) and raw:
        return json.loads(raw)
    return default


def account_of(store: Store, kind: Kind, master_id: str) -> str | None:
    """The master account a page is about: the account itself, or the person's account."""
    if kind == "account":
        return master_id
    found = store.scalar("SELECT account_id FROM customers WHERE customer_id = ?", [master_id])
    return str(found) if found is not None else None


def profile(store: Store, kind: Kind, master_id: str) -> dict[str, Any]:
    if kind == "account":
        rows = store.rows(
            f"SELECT {_ACCOUNT_FIELDS} FROM accounts WHERE account_id = ?", [master_id]
        )
        return plain(rows[0]) if rows else {"account_id": master_id}
    rows = store.rows(
        f"SELECT {', '.join('c.' + f.strip() for f in _PERSON_FIELDS.split(','))}, "
        "a.name AS account_name FROM customers AS c "
        "LEFT JOIN accounts AS a ON a.account_id = c.account_id WHERE c.customer_id = ?",
        [master_id],
    )
    return plain(rows[0]) if rows else {"customer_id": master_id}


def people(store: Store, account_id: str | None) -> list[dict[str, Any]]:
    if account_id is None:
        return []
    rows = store.rows(
        f"SELECT {_PERSON_FIELDS} FROM customers WHERE account_id = ? "
        "ORDER BY name NULLS LAST, customer_id",
        [account_id],
    )
    return [plain(r) for r in rows]


def latest_risk(store: Store, account_id: str | None) -> dict[str, Any] | None:
    if account_id is None:
        return None
    rows = store.rows(
        "SELECT r.model_id, r.as_of, r.probability, r.risk_band, r.reasons, r.expected_months, "
        "r.survival, r.arr, r.revenue_at_risk, r.health_score FROM risk_scores AS r "
        "LEFT JOIN risk_models AS m ON m.model_id = r.model_id WHERE r.account_id = ? "
        "ORDER BY r.as_of DESC, m.trained_at DESC NULLS LAST, r.model_id DESC LIMIT 1",
        [account_id],
    )
    if not rows:
        return None
    row = rows[0]
    row["reasons"] = _json(row["reasons"], [])
    row["survival"] = _json(row["survival"], None)
    out: dict[str, Any] = plain(row)
    return out


def health(store: Store, account_id: str | None) -> list[dict[str, Any]]:
    if account_id is None:
        return []
    rows = store.rows(
        "SELECT day, scorecard, score, status, coverage, contributions, missing "
        "FROM health_scores WHERE account_id = ? ORDER BY day",
        [account_id],
    )
    for row in rows:
        row["contributions"] = _json(row["contributions"], {})
        row["missing"] = _json(row["missing"], [])
    return [plain(r) for r in rows]


def value(
    store: Store, metrics: Value, kind: Kind, master_id: str, account_id: str | None
) -> dict[str, Any]:
    """MRR now and by month (the account's), and lifetime value of the account's people (or
    of the person) from the latest value run."""
    out: dict[str, Any] = {"currency": metrics.settings.currency, "account_id": account_id}
    out.update(mrr=None, arr=None, mrr_history=[], clv=_clv(store, kind, master_id))
    if account_id is None:
        return out
    found = scope(store, "account", account_id)
    mine: pd.DataFrame = store.query(
        f"SELECT e.occurred_at, e.amount, e.currency, e.action, e.properties {found.sql()}"
        "WHERE e.kind = 'subscription' ORDER BY e.occurred_at, e.event_id",
        found.params,
    ).to_pandas()
    if mine.empty:
        return out
    mine["plan"] = mine.pop("properties").map(plan_of)
    mine.insert(0, "customer", account_id)
    try:
        # The account's movements only: the MRR of one customer needs no other customer's.
        monthly = metrics.monthly_mrr(mine).sort_values("month")
    except MetricError as error:
        out["error"] = str(error)
        return out
    paying = monthly["mrr"].to_numpy() > 0
    # Months before the first payment say nothing about this customer; after the last
    # movement MRR stays as it was, up to the store's latest month.
    start = int(paying.argmax()) if paying.any() else len(monthly)
    history = [
        {"month": str(m), "mrr": float(v)}
        for m, v in zip(monthly["month"].iloc[start:], monthly["mrr"].iloc[start:], strict=True)
    ]
    latest = store.scalar(
        "SELECT max(occurred_at) FROM events WHERE kind = 'subscription' AND occurred_at >= ?",
        [mine["occurred_at"].max()],
    )
    last = pd.Timestamp(latest).to_period("M")
    mrr, month = float(monthly["mrr"].iloc[-1]), monthly["month"].iloc[-1]
    if history:
        history.extend({"month": str(m), "mrr": mrr} for m in pd.period_range(month, last)[1:])
    out.update(mrr=mrr, arr=mrr * 12.0, month=str(max(month, last)), mrr_history=history)
    return out


def _clv(store: Store, kind: Kind, master_id: str) -> dict[str, Any] | None:
    runs = store.rows(
        "SELECT run_id, as_of, currency, horizon_months FROM value_runs "
        "ORDER BY fitted_at DESC, run_id DESC LIMIT 1"
    )
    if not runs:
        return None
    run = runs[0]
    if kind == "account":
        who, params = "(v.customer_id = ? OR c.account_id = ?)", [master_id, master_id]
    else:
        who, params = "v.customer_id = ?", [master_id]
    rows = store.rows(
        "SELECT v.customer_id, c.name, v.clv, v.clv_low, v.clv_high, v.p_alive, "
        "v.expected_purchases, v.monetary_value, v.rfm, v.rfm_segment, v.revenue_at_risk "
        "FROM customer_values AS v LEFT JOIN customers AS c ON c.customer_id = v.customer_id "
        f"WHERE v.run_id = ? AND {who} ORDER BY v.clv DESC NULLS LAST, v.customer_id",
        [run["run_id"], *params],
    )
    total = sum(float(r["clv"]) for r in rows if r["clv"] is not None)
    out: dict[str, Any] = plain({**run, "total": total, "customers": rows})
    return out


def voice(store: Store, kind: Kind, master_id: str) -> dict[str, Any]:
    """Texts of the latest text-analytics run with sentiment and theme; survey answers."""
    found = scope(store, kind, master_id)
    out: dict[str, Any] = {"run_id": None, "texts": [], "sentiment": {}}
    run = store.scalar("SELECT run_id FROM voc_runs ORDER BY ran_at DESC, run_id DESC LIMIT 1")
    if run is not None:
        texts = store.rows(
            "SELECT t.event_id, t.occurred_at, t.kind, e.text, t.language, t.sentiment, "
            "t.sentiment_score, t.theme_key, th.label AS theme, t.customer_id "
            f"FROM voc_texts AS t JOIN {found.events} AS e ON e.event_id = t.event_id "
            f"{found.joins}"
            "LEFT JOIN voc_themes AS th ON th.run_id = t.run_id AND th.theme_key = t.theme_key "
            "WHERE t.run_id = ? ORDER BY t.occurred_at DESC, t.event_id DESC",
            [*found.params, run],
        )
        counts: dict[str, int] = {}
        for row in texts:
            label = row["sentiment"] or "not scored"
            counts[label] = counts.get(label, 0) + 1
        out.update(run_id=run, texts=[plain(r) for r in texts[:VOICE_LIMIT]])
        out.update(sentiment=dict(sorted(counts.items())), text_count=len(texts))
        # Every text's sentiment, not only those shown: the story quotes from all of them.
        out["sentiment_by_event"] = {
            str(r["event_id"]): str(r["sentiment"]) for r in texts if r["sentiment"]
        }
    answers = store.rows(
        "SELECT e.event_id, e.occurred_at, e.action AS measure, e.score, e.text, "
        "CASE WHEN l.entity = 'person' THEN l.master_id END AS customer_id, "
        f"c.name AS customer_name {found.sql()}WHERE e.kind = 'survey' "
        "ORDER BY e.occurred_at DESC, e.event_id DESC",
        found.params,
    )
    out["surveys"] = [plain(r) for r in answers[:VOICE_LIMIT]]
    nps = [float(r["score"]) for r in answers if r["measure"] == "nps" and r["score"] is not None]
    promoters = sum(s >= 9 for s in nps)
    detractors = sum(s <= 6 for s in nps)
    out["nps"] = {
        "answers": len(nps),
        "promoters": promoters,
        "passives": len(nps) - promoters - detractors,
        "detractors": detractors,
        "score": 100.0 * (promoters - detractors) / len(nps) if nps else None,
    }
    csat = [float(r["score"]) for r in answers if r["measure"] == "csat" and r["score"] is not None]
    out["csat"] = {"answers": len(csat), "average": sum(csat) / len(csat) if csat else None}
    return out


def _alert_condition(kind: Kind, master_id: str) -> tuple[str, list[Any]]:
    if kind == "person":
        return "a.customer_id = ?", [master_id]
    return (
        "(a.account_id = ? OR a.customer_id = ? OR a.customer_id IN "
        "(SELECT customer_id FROM customers WHERE account_id = ?))",
        [master_id] * 3,
    )


def alerts(store: Store, kind: Kind, master_id: str) -> list[dict[str, Any]]:
    condition, params = _alert_condition(kind, master_id)
    rows = store.rows(
        "SELECT a.alert_id, a.rule_id, a.rule_name, a.severity, a.priority, a.customer_id, "
        "a.account_id, a.owner, a.event_id, a.occurred_at, a.fired_at, a.summary, a.context, "
        "a.playbook, a.holdout, a.status FROM alerts AS a "
        f"WHERE {condition} ORDER BY a.occurred_at DESC, a.alert_id",
        params,
    )
    for row in rows:
        row["context"] = _json(row["context"], {})
    return [plain(r) for r in rows]


def tasks(store: Store, kind: Kind, master_id: str) -> list[dict[str, Any]]:
    condition, params = _alert_condition(kind, master_id)
    rows = store.rows(
        "SELECT t.task_id, t.alert_id, t.playbook, t.step, t.title, t.customer_id, t.owner, "
        "t.status, t.due_at, t.created_at, t.updated_at, t.reason, t.outcome, a.severity, "
        "a.rule_name, a.event_id FROM tasks AS t JOIN alerts AS a ON a.alert_id = t.alert_id "
        f"WHERE {condition} ORDER BY t.due_at, t.step, t.task_id",
        params,
    )
    return [plain(r) for r in rows]


def counts(store: Store, kind: Kind, master_id: str) -> tuple[dict[str, int], int, Any, Any]:
    found = scope(store, kind, master_id)
    rows = store.rows(
        "SELECT coalesce(e.department, '(none)') AS department, count(*) AS n, "
        f"min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at {found.sql()}"
        "GROUP BY coalesce(e.department, '(none)') ORDER BY 1",
        found.params,
    )
    by_department = {str(r["department"]): int(r["n"]) for r in rows}
    first = min((r["first_at"] for r in rows), default=None)
    last = max((r["last_at"] for r in rows), default=None)
    return by_department, sum(by_department.values()), first, last


def build(
    store: Store,
    metrics: Value,
    identity: Identity,
    kind: Kind,
    master_id: str,
    requested_id: str,
) -> Customer360:
    account_id = account_of(store, kind, master_id)
    explained = identity.explain(master_id)
    links = [
        {
            "record_id_l": link.record_id_l,
            "record_id_r": link.record_id_r,
            "method": link.method,
            "rule": link.rule,
            "probability": link.probability,
            "reason": link.sentence,
            "weights": [asdict(w) for w in link.weights],
        }
        for link in explained.links
    ]
    by_department, total, first, last = counts(store, kind, master_id)
    crew = people(store, account_id)
    if kind == "person":
        crew = [p for p in crew if p["customer_id"] != master_id]
    return Customer360(
        kind=kind,
        master_id=master_id,
        requested_id=requested_id,
        profile=profile(store, kind, master_id),
        people=crew,
        records=[plain(r) for r in explained.records],
        links=plain(links),
        identity_summary=explained.summary,
        value=value(store, metrics, kind, master_id, account_id),
        risk=latest_risk(store, account_id),
        health=health(store, account_id),
        voice=voice(store, kind, master_id),
        alerts=alerts(store, kind, master_id),
        tasks=tasks(store, kind, master_id),
        counts=by_department,
        events=total,
        first_seen_at=plain(first),
        last_seen_at=plain(last),
    )
