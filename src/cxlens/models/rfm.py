"""RFM: recency, frequency and monetary scores (1–5, by quintile) and the named segments
marketers use for them.

Scores rank customers against each other: 5 is the best fifth (most recent, most frequent,
highest spend). Ties share a score, so a base where most customers bought once gives them all
the same frequency score instead of splitting identical customers at random. Segments follow
the common R × FM grid (FM = the mean of F and M, rounded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.errors import ModelError

#: (segment, recency scores, FM scores) — every (R, FM) pair falls in exactly one segment.
SEGMENTS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("Champions", (5,), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("New customers", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need attention", (3,), (3,)),
    ("About to sleep", (3,), (1, 2)),
    ("Cannot lose them", (1,), (4, 5)),
    ("At risk", (2,), (3, 4, 5)),
    ("Hibernating", (2,), (1, 2)),
    ("Lost", (1,), (1, 2, 3)),
)


def _score(values: pd.Series, higher_is_better: bool) -> pd.Series:
    ranked = values.rank(method="average", pct=True, ascending=higher_is_better)
    return pd.Series(np.ceil(ranked * 5).clip(1, 5).astype(int), index=values.index)


def segment_of(recency_score: int, fm_score: int) -> str:
    for name, recency, fm in SEGMENTS:
        if recency_score in recency and fm_score in fm:
            return name
    raise ModelError(f"no RFM segment for R={recency_score}, FM={fm_score}")


def rfm(
    customers: pd.DataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    customer: str = "customer_id",
    last_purchase: str = "last_purchase_at",
    frequency: str = "orders",
    monetary: str = "revenue",
) -> pd.DataFrame:
    """Scores and segment per customer.

    `customers` has one row per customer with the time of their last purchase, their number of
    purchases and their spend; `as_of` defaults to the latest purchase in the data."""
    missing = [c for c in (customer, last_purchase, frequency, monetary) if c not in customers]
    if missing:
        raise ModelError(f"RFM needs the columns {missing}; got {list(customers.columns)}")
    if customers.empty:
        raise ModelError("RFM needs at least one customer")
    last = pd.to_datetime(customers[last_purchase])
    reference = pd.Timestamp(as_of) if as_of is not None else last.max()
    out = pd.DataFrame({customer: customers[customer].to_numpy()})
    out["recency_days"] = (reference - last).dt.days.to_numpy()
    out["frequency"] = customers[frequency].to_numpy()
    out["monetary"] = customers[monetary].to_numpy()
    out["r"] = _score(out["recency_days"], higher_is_better=False).to_numpy()
    out["f"] = _score(out["frequency"], higher_is_better=True).to_numpy()
    out["m"] = _score(out["monetary"], higher_is_better=True).to_numpy()
    fm = np.floor((out["f"] + out["m"]) / 2 + 0.5).astype(int)
    out["rfm"] = out["r"].astype(str) + out["f"].astype(str) + out["m"].astype(str)
    out["segment"] = [segment_of(r, x) for r, x in zip(out["r"], fm, strict=True)]
    return out
