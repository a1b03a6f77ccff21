"""Subscription revenue: MRR by month, the MRR waterfall, revenue and logo retention, cohorts.

Definitions (docs/metrics.md states them for users):

* **MRR of a customer in a month** — the sum of their MRR movements up to the end of that
  month, each movement converted to the reporting currency at the rate of its own month.
  Several changes within a month net out: an upgrade and a downgrade in the same month are
  one movement.
* **Waterfall**, per customer between the end of one month and the end of the next:
  *new* (0 → positive, first time), *reactivation* (0 → positive, had paid before),
  *expansion* / *contraction* (positive → larger / smaller), *churn* (positive → 0), and
  *paused* / *resumed* when the movement to or from 0 was a pause or a resume (a pause is
  not churn). Starting MRR + all movements = ending MRR, every month.
* **Net revenue retention** over a window — this month's MRR of the customers who paid at the
  window's start, over their MRR then. **Gross** — the same with each customer capped at their
  starting MRR (no expansion counted). Monthly and trailing-12-month.
* **Logo churn** in a month — customers who churned over customers paying at its start.
* **Cohorts** — customers grouped by their first paying month: share still paying (logos) and
  MRR relative to the cohort's first month (revenue), by months since start.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cxlens.errors import MetricError
from cxlens.metrics.currency import rate_to

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "paused", "resumed")


def monthly_mrr(
    movements: pd.DataFrame,
    *,
    rates: pd.DataFrame | None = None,
    currency: str = "USD",
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """MRR per customer and month, from MRR movements.

    `movements`: customer, occurred_at, amount (the MRR delta), currency, and optionally action
    (pause / resume are told apart from churn and reactivation). `rates`: month (any day of it),
    currency, rate (one unit of that currency in the reporting currency); needed when a movement
    is in another currency. Returns customer, month, mrr, paused (the month ended on a pause)."""
    needed = {"customer", "occurred_at", "amount", "currency"}
    if missing := sorted(needed - set(movements.columns)):
        raise MetricError(f"MRR movements need the columns {missing}")
    if movements.empty:
        return pd.DataFrame(columns=["customer", "month", "mrr", "paused"])
    data = movements.copy()
    data["month"] = pd.to_datetime(data["occurred_at"]).dt.to_period("M")
    data["amount"] = data["amount"].astype(float) * rate_to(data, rates, currency)
    data["action"] = data["action"] if "action" in data else None
    data = data.sort_values(["customer", "occurred_at"], kind="stable")
    per_month = data.groupby(["customer", "month"], sort=True).agg(
        delta=("amount", "sum"), last_action=("action", "last")
    )
    first = data["month"].min()
    last = pd.Timestamp(until).to_period("M") if until is not None else data["month"].max()
    months = pd.period_range(first, last, freq="M")
    frames = []
    for customer, group in per_month.groupby(level="customer", sort=True):
        series = group.droplevel("customer").reindex(months)
        mrr = series["delta"].fillna(0.0).cumsum().round(6)
        paused = series["last_action"].eq("pause").astype("boolean")
        paused = paused.mask(series["last_action"].isna())
        paused = paused.ffill().fillna(False).astype(bool) & (mrr <= 0)
        frames.append(
            pd.DataFrame(
                {"customer": customer, "month": months, "mrr": mrr.to_numpy(), "paused": paused}
            )
        )
    out = pd.concat(frames, ignore_index=True)
    if (out["mrr"] < -1e-6).any():
        bad = out.loc[out["mrr"] < -1e-6, ["customer", "month"]].iloc[0]
        raise MetricError(
            f"MRR of customer {bad['customer']} falls below zero in {bad['month']}: "
            "a churn or contraction larger than what they paid"
        )
    out["mrr"] = out["mrr"].clip(lower=0.0)
    return out


def by_group(
    monthly: pd.DataFrame, groups: pd.Series, metric: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """`metric` (waterfall, retention) per group; `groups` maps customer → group label
    (segment, region, plan, owner). Customers without a label count as "(none)"."""
    labels = monthly["customer"].map(groups).fillna("(none)")
    parts = [
        metric(monthly[labels == label]).assign(group=label) for label in sorted(labels.unique())
    ]
    return pd.concat(parts, ignore_index=True)


def waterfall(monthly: pd.DataFrame) -> pd.DataFrame:
    """Per month: starting MRR, each movement (see module docstring), ending MRR, customers."""
    data = monthly.sort_values(["customer", "month"]).copy()
    data["before"] = data.groupby("customer")["mrr"].shift(1).fillna(0.0)
    data["was_paused"] = data.groupby("customer")["paused"].shift(1, fill_value=False)
    data["paid_before"] = data.groupby("customer")["before"].cummax().gt(0)
    up = data["mrr"] > data["before"]
    down = data["mrr"] < data["before"]
    from_zero = data["before"] <= 0
    to_zero = data["mrr"] <= 0
    change = data["mrr"] - data["before"]
    kind = np.select(
        [
            up & from_zero & data["was_paused"],
            up & from_zero & data["paid_before"],
            up & from_zero,
            up,
            down & to_zero & data["paused"],
            down & to_zero,
            down,
        ],
        ["resumed", "reactivation", "new", "expansion", "paused", "churn", "contraction"],
        default="",
    )
    data["kind"] = kind
    moves = (
        data[data["kind"] != ""]
        .pivot_table(index="month", columns="kind", values="mrr", aggfunc="size", fill_value=0)
        .reindex(columns=list(MOVEMENTS), fill_value=0)
    )
    amounts = (
        data.assign(change=change)[data["kind"] != ""]
        .pivot_table(index="month", columns="kind", values="change", aggfunc="sum", fill_value=0)
        .reindex(columns=list(MOVEMENTS), fill_value=0.0)
    )
    months = sorted(data["month"].unique())
    out = pd.DataFrame(index=pd.PeriodIndex(months, name="month"))
    out["starting_mrr"] = data.groupby("month")["before"].sum()
    for m in MOVEMENTS:
        out[m] = amounts[m].reindex(out.index, fill_value=0.0)
    out["ending_mrr"] = data.groupby("month")["mrr"].sum()
    out["customers"] = data[data["mrr"] > 0].groupby("month")["customer"].nunique()
    out["customers"] = out["customers"].fillna(0).astype(int)
    out["churned_customers"] = moves["churn"].reindex(out.index, fill_value=0).astype(int)
    start_customers = data[data["before"] > 0].groupby("month")["customer"].nunique()
    out["logo_churn"] = out["churned_customers"] / start_customers.reindex(out.index)
    out["arr"] = out["ending_mrr"] * 12
    return out.reset_index()


def retention(monthly: pd.DataFrame, *, window: int = 12) -> pd.DataFrame:
    """Net and gross revenue retention per month, over one month and over `window` months."""
    wide = monthly.pivot_table(index="customer", columns="month", values="mrr", fill_value=0.0)
    months = list(wide.columns)
    rows = []
    for i, month in enumerate(months):
        row: dict[str, object] = {"month": month}
        for label, back in (("monthly", 1), (f"t{window}m", window)):
            if i - back < 0:
                row[f"nrr_{label}"] = row[f"grr_{label}"] = np.nan
                continue
            start = wide[months[i - back]]
            base = start[start > 0]
            if base.empty:  # nobody paid at the window's start: retention is undefined
                row[f"nrr_{label}"] = row[f"grr_{label}"] = np.nan
                continue
            now = wide.loc[base.index, month]
            total = base.sum()
            row[f"nrr_{label}"] = now.sum() / total
            row[f"grr_{label}"] = np.minimum(now, base).sum() / total
        rows.append(row)
    return pd.DataFrame(rows)


def cohorts(monthly: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Logo and revenue retention by first paying month (rows) and months since (columns)."""
    paying = monthly[monthly["mrr"] > 0]
    first = paying.groupby("customer")["month"].min().rename("cohort")
    data = monthly.join(first, on="customer").dropna(subset=["cohort"])
    data = data[data["month"] >= data["cohort"]]
    data["age"] = (data["month"] - data["cohort"]).apply(lambda d: d.n)
    size = data[data["age"] == 0].groupby("cohort")["customer"].nunique()
    start_mrr = data[data["age"] == 0].groupby("cohort")["mrr"].sum()
    logos = data[data["mrr"] > 0].groupby(["cohort", "age"])["customer"].nunique().unstack("age")
    revenue = data.groupby(["cohort", "age"])["mrr"].sum().unstack("age")
    return {
        "logos": logos.div(size, axis=0),
        "revenue": revenue.div(start_mrr, axis=0),
        "size": size.to_frame("customers"),
    }
