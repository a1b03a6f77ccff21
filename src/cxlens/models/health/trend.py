"""Where each customer's health is heading, from the daily scores kept in history.

The change is the latest score minus the score `days` earlier (the last one on or before that
day). A customer tracked for less than `days` is compared with their first score and the
shorter span is reported, so a new account still shows a direction, honestly labelled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.errors import ModelError

NOT_ENOUGH = "not enough history"


def trend(
    history: pd.DataFrame,
    *,
    days: int = 30,
    tolerance: float = 5.0,
    customer_column: str = "customer",
    date_column: str = "date",
    score_column: str = "score",
) -> pd.DataFrame:
    """Per customer: latest score and date, the score compared with, the span in days, the
    change in points and a direction: improving / declining beyond ±`tolerance` points, else
    stable; "not enough history" with a single scored day.

    Days without a score (insufficient data) are skipped, not read as zero.
    """
    if days < 1:
        raise ModelError(f"trend needs a window of at least 1 day, got {days}")
    if tolerance < 0:
        raise ModelError(f"trend tolerance is in score points and cannot be negative: {tolerance}")
    needed = [customer_column, date_column, score_column]
    absent = [c for c in needed if c not in history.columns]
    if absent:
        raise ModelError(
            f"score history lacks column(s) {absent}; it has {list(history.columns)} (pass "
            "customer_column=, date_column=, score_column= to name yours)"
        )
    rows = pd.DataFrame(
        {
            "customer": history[customer_column].to_numpy(),
            "date": pd.to_datetime(history[date_column]).to_numpy(),
            "score": pd.to_numeric(history[score_column], errors="coerce").to_numpy(dtype=float),
        }
    )
    rows = rows[rows["score"].notna()].sort_values(["date", "customer"], kind="stable")
    first = rows.groupby("customer", sort=True).first()
    last = rows.groupby("customer", sort=True).last()
    target = pd.DataFrame(
        {
            "customer": last.index.to_numpy(),
            "target": (last["date"] - pd.Timedelta(days=days)).to_numpy(),
        }
    ).sort_values("target", kind="stable")
    before = pd.merge_asof(
        target,
        rows.rename(columns={"date": "previous_date", "score": "previous_score"}),
        left_on="target",
        right_on="previous_date",
        by="customer",
        direction="backward",
    ).set_index("customer")
    before = before.reindex(last.index)
    short = before["previous_date"].isna()
    previous_date = before["previous_date"].where(~short, first["date"])
    previous_score = before["previous_score"].where(~short, first["score"])
    change = last["score"] - previous_score
    span = (last["date"] - previous_date).dt.days
    change = change.where(span > 0)
    direction = np.where(
        change.isna(),
        NOT_ENOUGH,
        np.where(
            change > tolerance, "improving", np.where(change < -tolerance, "declining", "stable")
        ),
    )
    out = pd.DataFrame(
        {
            "customer": last.index,
            "date": last["date"].to_numpy(),
            "score": last["score"].to_numpy(),
            "previous_date": previous_date.to_numpy(),
            "previous_score": previous_score.where(span > 0).to_numpy(),
            "days": span.to_numpy(),
            "change": change.to_numpy(),
            "direction": direction,
        }
    )
    return out.reset_index(drop=True)
