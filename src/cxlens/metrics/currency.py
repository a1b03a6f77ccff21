"""Amounts in the reporting currency: constant rates, or one rate per month and currency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.errors import MetricError


def rate_to(data: pd.DataFrame, rates: pd.DataFrame | None, currency: str) -> pd.Series:
    """Per row of `data` (currency, and month or occurred_at), the rate into `currency`.

    `rates` holds currency and rate, plus month for monthly rates."""
    if "month" not in data.columns:
        data = data.assign(month=pd.to_datetime(data["occurred_at"]).dt.to_period("M"))
    foreign = data["currency"].fillna(currency).str.upper() != currency.upper()
    rate = pd.Series(1.0, index=data.index)
    if not foreign.any():
        return rate
    if rates is None:
        raise MetricError(
            f"movements in {sorted(data.loc[foreign, 'currency'].unique())} need a rates table "
            f"to {currency}"
        )
    if "month" not in rates.columns:  # one constant rate per currency
        constant = rates.assign(currency=rates["currency"].str.upper()).set_index("currency")
        codes = data.loc[foreign, "currency"].str.upper()
        found_constant = constant["rate"].reindex(codes.to_numpy())
        if found_constant.isna().any():
            missing = sorted(set(codes[found_constant.isna().to_numpy()]))
            raise MetricError(f"no rate to {currency} for {missing}")
        rate[foreign] = found_constant.to_numpy()
        return rate
    table = rates.assign(
        month=pd.to_datetime(rates["month"]).dt.to_period("M"),
        currency=rates["currency"].str.upper(),
    ).set_index(["month", "currency"])["rate"]
    keys = list(
        zip(data.loc[foreign, "month"], data.loc[foreign, "currency"].str.upper(), strict=True)
    )
    found = table.reindex(keys)
    if found.isna().any():
        month, cur = keys[int(np.flatnonzero(found.isna().to_numpy())[0])]
        raise MetricError(f"no {cur} → {currency} rate for {month}")
    rate[foreign] = found.to_numpy()
    return rate
