"""What metrics read from the store, as DataFrames: one portable query each."""

from __future__ import annotations

import json

import pandas as pd

from cxlens.store import Store


def subscription_movements(store: Store) -> pd.DataFrame:
    """MRR movements per master account: customer, occurred_at, amount, currency, action, plan."""
    table = store.query(
        "SELECT coalesce(la.master_id, lr.master_id, e.account_record_id, e.record_id) "
        "AS customer, e.occurred_at, e.amount, e.currency, e.action, e.properties "
        "FROM events AS e "
        "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
        "LEFT JOIN record_links AS lr ON lr.record_id = e.record_id "
        "WHERE e.kind = 'subscription' ORDER BY e.occurred_at, e.event_id"
    )
    frame: pd.DataFrame = table.to_pandas()
    frame["plan"] = frame.pop("properties").map(plan_of)
    return frame


def plan_of(properties: object) -> str | None:
    """The plan named in a subscription event's properties (JSON text), if any."""
    if not isinstance(properties, str) or not properties:
        return None
    value = json.loads(properties).get("plan")
    return str(value) if value is not None else None


def account_attributes(store: Store) -> pd.DataFrame:
    """Master accounts with the attributes revenue is broken down by."""
    frame: pd.DataFrame = store.query(
        "SELECT account_id AS customer, segment, region, country, owner, industry, employees "
        "FROM accounts"
    ).to_pandas()
    return frame


#: Record attributes that state a customer's wallet (what they can spend in the category).
WALLET_KEYS = ("wallet", "share_of_wallet_budget", "annual_budget", "budget")


def stated_wallets(store: Store) -> pd.Series:
    """Wallets that sources state in account records' attributes, per master account."""
    table = store.query(
        "SELECT l.master_id AS customer, r.attributes FROM source_records AS r "
        "JOIN record_links AS l ON l.record_id = r.record_id "
        "WHERE r.entity = 'account' AND r.attributes IS NOT NULL"
    )
    found: dict[str, float] = {}
    for customer, raw in zip(
        table["customer"].to_pylist(), table["attributes"].to_pylist(), strict=True
    ):
        attributes = {str(k).lower(): v for k, v in json.loads(raw).items()}
        for key in WALLET_KEYS:
            try:
                found[customer] = float(attributes[key])
                break
            except (KeyError, TypeError, ValueError):
                continue
    return pd.Series(found, name="wallet", dtype=float)


def orders(store: Store) -> pd.DataFrame:
    """Placed orders per master customer (the buyer; their account when the buyer is unknown):
    customer, occurred_at, amount, currency."""
    frame: pd.DataFrame = store.query(
        "SELECT coalesce(lr.master_id, la.master_id, e.record_id) AS customer, e.occurred_at, "
        "e.amount, e.currency FROM events AS e "
        "LEFT JOIN record_links AS lr ON lr.record_id = e.record_id "
        "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
        "WHERE e.kind = 'order' AND e.action = 'placed' AND e.amount IS NOT NULL "
        "ORDER BY e.occurred_at, e.event_id"
    ).to_pandas()
    return frame


def survey_responses(store: Store) -> pd.DataFrame:
    """Survey answers with what they can be broken down by: measure, score, occurred_at,
    touchpoint (the survey, else the journey stage), journey_stage, channel, and the master
    customer's account segment, region and owner."""
    frame: pd.DataFrame = store.query(
        "SELECT e.action AS measure, e.score, e.occurred_at, e.journey_stage, e.channel, "
        "e.properties, l.master_id AS customer, a.segment, a.region, a.owner "
        "FROM events AS e "
        "LEFT JOIN record_links AS l ON l.record_id = e.record_id "
        "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
        "LEFT JOIN accounts AS a ON a.account_id = c.account_id "
        "WHERE e.kind = 'survey' AND e.score IS NOT NULL"
    ).to_pandas()
    survey = frame.pop("properties").map(
        lambda raw: json.loads(raw).get("survey") if isinstance(raw, str) and raw else None
    )
    frame["touchpoint"] = survey.fillna(frame["journey_stage"])
    return frame
