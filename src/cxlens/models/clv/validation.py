"""Checking a purchase model on data it did not see: calibration / holdout and tracking.

Fit on purchases up to `calibration_end`, then compare with what happened after it:

* **tracking**: cumulative repeat purchases of the whole cohort, week by week, as the model
  expects them (each customer from their first purchase on) against the actual ones — the
  plot the papers judge their models by;
* **holdout**: per customer, purchases the model expected in the holdout period against those
  made, given what it saw in calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.models.clv.bgnbd import BetaGeo
from cxlens.models.clv.summary import summarise


@dataclass
class Validation:
    model: BetaGeo
    #: week, expected and actual cumulative repeat purchases, and whether the week is holdout.
    tracking: pd.DataFrame
    #: customer, frequency in calibration, expected and actual holdout purchases.
    holdout: pd.DataFrame

    @property
    def holdout_error(self) -> float:
        """Relative error of the total purchases expected in the holdout period."""
        actual = float(self.holdout["actual"].sum())
        return abs(float(self.holdout["expected"].sum()) - actual) / max(actual, 1.0)


def validate(
    transactions: pd.DataFrame, *, calibration_end: pd.Timestamp, holdout_end: pd.Timestamp
) -> Validation:
    """`transactions`: customer, occurred_at, amount. Times in weeks."""
    calibration = summarise(transactions, as_of=calibration_end)
    model = BetaGeo().fit(
        *(calibration[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    )
    days = transactions.assign(day=pd.to_datetime(transactions["occurred_at"]).dt.floor("D"))
    days = days[days["day"] <= holdout_end].drop_duplicates(["customer", "day"])
    firsts = calibration.set_index("customer")["first"]
    days = days[days["customer"].isin(firsts.index)]
    repeat_days = days[days["day"] > days["customer"].map(firsts)]

    origin = firsts.min()
    weeks = int(np.ceil((holdout_end - origin).days / 7))
    ends = np.arange(1, weeks + 1)
    start_week = ((firsts - origin).dt.days / 7).to_numpy()
    expected = np.array(
        [model.expected_purchases_new(np.clip(w - start_week, 0, None)).sum() for w in ends]
    )
    repeat_week = ((repeat_days["day"] - origin).dt.days / 7).to_numpy()
    actual = np.array([(repeat_week < w).sum() for w in ends])
    tracking = pd.DataFrame(
        {
            "week": ends,
            "expected": expected,
            "actual": actual,
            # A week ends at midnight after its last day: the week ending the day after
            # `calibration_end` is still calibration.
            "holdout": origin + pd.to_timedelta(ends * 7, unit="D")
            > calibration_end.floor("D") + pd.Timedelta(days=1),
        }
    )

    later = repeat_days[repeat_days["day"] > calibration_end].groupby("customer").size()
    length = (holdout_end - calibration_end).days / 7
    x, t_x, t = (calibration[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    holdout = pd.DataFrame(
        {
            "customer": calibration["customer"],
            "frequency": calibration["frequency"],
            "expected": model.expected_purchases(length, x, t_x, t),
            "actual": calibration["customer"].map(later).fillna(0).astype(int).to_numpy(),
        }
    )
    return Validation(model, tracking, holdout)
