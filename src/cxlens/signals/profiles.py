"""What a rule knows about a customer: segment, owner, value and where it ranks, health and
churn risk, read from the store once and held in memory so each event is judged in
microseconds. Refreshed by the server every few minutes; new customers get a provisional
profile until then."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlens.store import Store

Profile = dict[str, Any]


def _frame(store: Store, sql: str) -> pd.DataFrame:
    frame: pd.DataFrame = store.query(sql).to_pandas()
    return frame


def _tier(percentile: float | None) -> str | None:
    if percentile is None or np.isnan(percentile):
        return None
    return "top10" if percentile >= 90 else "top25" if percentile >= 75 else "rest"


@dataclass
class Profiles:
    accounts: dict[str, Profile] = field(default_factory=dict)
    #: People without an account of their own: their whole profile.
    customers: dict[str, Profile] = field(default_factory=dict)
    #: People of an account: the account and what is theirs alone (their profile is the
    #: account's, which is not copied for each of them).
    members: dict[str, tuple[str, Profile]] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store) -> Profiles:
        accounts = _frame(
            store, "SELECT account_id, name, segment, owner, region FROM accounts"
        ).set_index("account_id")
        people = _frame(store, "SELECT customer_id, account_id, name FROM customers").set_index(
            "customer_id"
        )
        risk = (
            _frame(
                store,
                "SELECT account_id, probability, risk_band, arr FROM risk_scores "
                "WHERE as_of = (SELECT max(as_of) FROM risk_scores) AND model_id = "
                "(SELECT model_id FROM risk_models ORDER BY trained_at DESC LIMIT 1)",
            )
            .drop_duplicates("account_id")
            .set_index("account_id")
        )
        health = (
            _frame(
                store,
                "SELECT account_id, score, status FROM health_scores "
                "WHERE day = (SELECT max(day) FROM health_scores)",
            )
            .drop_duplicates("account_id")
            .set_index("account_id")
        )
        clv = _frame(
            store,
            "SELECT customer_id, clv FROM customer_values WHERE run_id = "
            "(SELECT run_id FROM value_runs ORDER BY fitted_at DESC LIMIT 1)",
        ).set_index("customer_id")["clv"]

        people["clv"] = clv.reindex(people.index)
        account_clv = people.groupby("account_id")["clv"].sum(min_count=1)
        table = accounts.assign(
            arr=risk["arr"].reindex(accounts.index),
            clv=account_clv.reindex(accounts.index),
            churn_probability=risk["probability"].reindex(accounts.index),
            risk_band=risk["risk_band"].reindex(accounts.index),
            health=health["score"].reindex(accounts.index),
            health_status=health["status"].reindex(accounts.index),
        )
        table["value"] = table["arr"].fillna(0.0) + table["clv"].fillna(0.0)
        table.loc[table["arr"].isna() & table["clv"].isna(), "value"] = np.nan
        table["value_percentile"] = table["value"].rank(pct=True) * 100
        loose = people[people["account_id"].isna()].copy()
        loose["value"] = loose["clv"]
        loose["value_percentile"] = loose["value"].rank(pct=True) * 100

        out = cls()
        # Plain records, not row objects: a base of 100,000 customers loads in about a second.
        for record in table.reset_index().to_dict(orient="records"):
            profile = _clean(record)
            account_id = str(profile["account_id"])
            profile.update(
                customer_id=account_id,
                value_tier=_tier(profile.get("value_percentile")),
                provisional=False,
            )
            out.accounts[account_id] = profile
        values = loose[["value", "value_percentile"]].to_dict(orient="index")
        for record in people.reset_index().to_dict(orient="records"):
            customer_id, account = str(record["customer_id"]), record["account_id"]
            person = _clean({"name": record["name"], "clv": record["clv"]})
            if isinstance(account, str) and account in out.accounts:
                out.members[customer_id] = (account, person)
                continue
            profile = _clean({**record, **values.get(record["customer_id"], {})})
            profile.update(
                customer_id=customer_id,
                value_tier=_tier(profile.get("value_percentile")),
                provisional=False,
                person=person,
            )
            out.customers[customer_id] = profile
        return out

    def of(self, customer_id: str | None, account_id: str | None) -> Profile:
        """The profile of the customer an event is about (its account's, for a person of an
        account); a bare provisional profile for one not seen at the last refresh."""
        if customer_id and customer_id in self.members:
            account, person = self.members[customer_id]
            return {**self.accounts[account], "customer_id": customer_id, "person": person}
        if customer_id and customer_id in self.customers:
            return self.customers[customer_id]
        if account_id and account_id in self.accounts:
            profile = dict(self.accounts[account_id])
            if customer_id:
                profile["customer_id"] = customer_id
            return profile
        return {
            "customer_id": customer_id or account_id,
            "account_id": account_id,
            "provisional": True,
        }

    def add(
        self, customer_id: str | None, account_id: str | None, fields: Mapping[str, Any]
    ) -> None:
        """Remember a customer created from an incoming event until the next refresh."""
        if account_id and account_id not in self.accounts:
            self.accounts[account_id] = {
                "customer_id": account_id, "account_id": account_id, "provisional": True,
                **{k: v for k, v in fields.items() if k in ("name", "segment", "owner", "region")},
            }  # fmt: skip
        if customer_id and customer_id not in self.customers and customer_id not in self.members:
            if account_id:
                self.members[customer_id] = (account_id, {})
            else:
                self.customers[customer_id] = {
                    "customer_id": customer_id, "account_id": None, "provisional": True,
                }  # fmt: skip


def _clean(values: Mapping[Any, Any]) -> Profile:
    """Plain Python values with NaN as None: conditions compare against them."""
    out: Profile = {}
    for key, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            value = None
        out[str(key)] = value
    return out
