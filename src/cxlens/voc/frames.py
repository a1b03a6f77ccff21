"""What text analytics reads from the store: the texts, with their author and account."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from cxlens.store import Store


def _survey_name(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    value = json.loads(raw).get("survey")
    return str(value) if value is not None else None


def customer_texts(store: Store, kinds: Sequence[str]) -> pd.DataFrame:
    """Every non-empty text of the given event kinds, oldest first.

    Columns: event_id, occurred_at, kind, action, touchpoint (the survey's name, else the
    event's touchpoint, else its journey stage), channel, score, text, customer (master
    customer), account (master account).
    """
    if not kinds:
        return pd.DataFrame()
    marks = ", ".join("?" for _ in kinds)
    frame: pd.DataFrame = store.query(
        "SELECT e.event_id, e.occurred_at, e.kind, e.action, e.touchpoint, e.journey_stage, "
        "e.channel, e.score, e.text, e.properties, l.master_id AS customer, "
        "coalesce(c.account_id, la.master_id) AS account "
        "FROM events AS e "
        "LEFT JOIN record_links AS l ON l.record_id = e.record_id "
        "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
        "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
        f"WHERE e.kind IN ({marks}) AND e.text IS NOT NULL AND trim(e.text) <> '' "
        "ORDER BY e.occurred_at, e.event_id",
        list(kinds),
    ).to_pandas()
    survey = frame.pop("properties").map(_survey_name)
    survey = survey.where(frame["kind"] == "survey")
    frame["touchpoint"] = survey.fillna(frame["touchpoint"]).fillna(frame.pop("journey_stage"))
    return frame


def churn_dates(store: Store) -> pd.DataFrame:
    """Each master account's churn moves: account, occurred_at (one row per churn)."""
    frame: pd.DataFrame = store.query(
        "SELECT coalesce(la.master_id, lr.master_id) AS account, e.occurred_at "
        "FROM events AS e "
        "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
        "LEFT JOIN record_links AS lr ON lr.record_id = e.record_id "
        "WHERE e.kind = 'subscription' AND e.action = 'churn'"
    ).to_pandas()
    return frame.dropna(subset=["account"])


def survey_answers(store: Store) -> pd.DataFrame:
    """Every scored survey answer, commented or not: event_id, measure (nps, csat, ces), score,
    occurred_at, touchpoint, account."""
    frame: pd.DataFrame = store.query(
        "SELECT e.event_id, e.action AS measure, e.score, e.occurred_at, e.touchpoint, "
        "e.journey_stage, e.properties, c.account_id AS account "
        "FROM events AS e "
        "LEFT JOIN record_links AS l ON l.record_id = e.record_id "
        "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
        "WHERE e.kind = 'survey' AND e.score IS NOT NULL"
    ).to_pandas()
    survey = frame.pop("properties").map(_survey_name)
    frame["touchpoint"] = survey.fillna(frame["touchpoint"]).fillna(frame.pop("journey_stage"))
    return frame
