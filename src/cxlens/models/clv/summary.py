"""From transactions to the summary the purchase models take: frequency, recency, age, spend.

The conventions of the papers (and of Lifetimes and pymc-marketing): purchases on the same day
are one purchase; *frequency* counts repeat purchase days (the first is not a repeat);
*recency* is the time from the first purchase to the last; *T* the time from the first purchase
to the end of the observation; *monetary value* the mean value of the repeat purchases (0 for
customers without one). Times are in `unit` days (7 = weeks).
"""

from __future__ import annotations

import pandas as pd

from cxlens.errors import ModelError


def summarise(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    unit: float = 7.0,
    customer: str = "customer",
    at: str = "occurred_at",
    amount: str = "amount",
) -> pd.DataFrame:
    """One row per customer: customer, frequency, recency, T, monetary_value, first, last."""
    missing = [c for c in (customer, at, amount) if c not in transactions]
    if missing:
        raise ModelError(f"transactions need the columns {missing}")
    data = transactions[[customer, at, amount]].copy()
    data["day"] = pd.to_datetime(data[at]).dt.floor("D")
    data = data[data["day"] <= as_of]
    if data.empty:
        raise ModelError(f"no transactions on or before {as_of.date()}")
    days = data.groupby([customer, "day"], sort=True)[amount].sum().reset_index()
    days["rank"] = days.groupby(customer).cumcount()
    grouped = days.groupby(customer)
    first, last = grouped["day"].min(), grouped["day"].max()
    repeat = days[days["rank"] > 0].groupby(customer)[amount].mean()
    out = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (last - first).dt.days / unit,
            "T": (as_of.floor("D") - first).dt.days / unit,
            "monetary_value": repeat.reindex(first.index).fillna(0.0),
            "first": first,
            "last": last,
        }
    )
    return out.reset_index().rename(columns={customer: "customer"})
