"""What early warning reads from the store: every account's activity, in one pass per kind."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cxlens.store import Store

#: Event kinds and actions the churn features are made of.
ACTIVITY = {
    "usage": ("active_users", "session", "login"),
    "ticket": ("opened", "resolved"),
    "survey": ("nps", "csat", "ces"),
    "invoice": ("failed", "paid"),
    "note": ("success", "frontline", "support"),
    "relationship": ("champion_left", "contact_left", "contact_added"),
    "subscription": ("new", "expansion", "contraction", "churn", "reactivation"),
}

_ACCOUNT = (
    "coalesce(la.master_id, c.account_id) AS account "
    "FROM events AS e "
    "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
    "LEFT JOIN record_links AS l ON l.record_id = e.record_id "
    "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
)


def activity(store: Store) -> pd.DataFrame:
    """One row per event that feeds the features: account (master), occurred_at, kind,
    action, quantity, amount, score, reference, priority (tickets), oldest first."""
    pairs = [(k, a) for k, actions in ACTIVITY.items() for a in actions]
    condition = " OR ".join("(e.kind = ? AND e.action = ?)" for _ in pairs)
    params = [x for pair in pairs for x in pair]
    frame: pd.DataFrame = store.query(
        "SELECT e.occurred_at, e.kind, e.action, e.quantity, e.amount, e.score, e.reference, "
        "CASE WHEN e.kind = 'ticket' AND e.action = 'opened' THEN e.properties END AS props, "
        f"{_ACCOUNT}WHERE ({condition})",
        params,
    ).to_pandas()
    frame = frame.dropna(subset=["account"])
    frame["priority"] = frame.pop("props").map(_priority)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame.sort_values("occurred_at", kind="stable", ignore_index=True)


def _priority(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    value = json.loads(raw).get("priority")
    return str(value) if value is not None else None


def sentiments(store: Store) -> pd.DataFrame:
    """Sentiment of every text of the latest voice-of-the-customer run, as activity rows
    (kind "text", score = sentiment in [-1, 1]); empty before the first run."""
    run = store.scalar("SELECT run_id FROM voc_runs ORDER BY ran_at DESC LIMIT 1")
    if run is None:
        return pd.DataFrame(columns=["occurred_at", "kind", "action", "score", "account"])
    frame: pd.DataFrame = store.query(
        "SELECT t.occurred_at, t.sentiment_score AS score, c.account_id AS account "
        "FROM voc_texts AS t JOIN customers AS c ON c.customer_id = t.customer_id "
        "WHERE t.run_id = ? AND t.sentiment_score IS NOT NULL",
        [run],
    ).to_pandas()
    frame = frame.dropna(subset=["account"]).assign(kind="text", action="sentiment")
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame


def accounts(store: Store) -> pd.DataFrame:
    """Master accounts with segment, region, owner and industry."""
    frame: pd.DataFrame = store.query(
        "SELECT account_id AS account, name, segment, region, owner, industry, employees "
        "FROM accounts"
    ).to_pandas()
    return frame


def latest_time(store: Store) -> pd.Timestamp:
    value = store.scalar("SELECT max(occurred_at) FROM events")
    return pd.Timestamp(value) if value is not None else pd.Timestamp(np.datetime64("NaT"))
