"""Share of wallet: what a customer spends with us over what they could spend.

The wallet comes from the customer's own record when a source provides it (an attribute such
as `wallet` or `annual_budget`); otherwise it is **estimated** from similar customers: the
spend of the best-served peers (by default the 90th percentile of annual spend among customers
of the same segment and size band) — what a customer like this spends when they buy all they
need from us. Estimated wallets are labelled as such, and need enough peers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.errors import MetricError

#: Employee bands that make "customers of a similar size".
SIZE_BANDS = (0, 10, 50, 250, 1_000, 5_000, np.inf)


def size_band(employees: pd.Series) -> pd.Series:
    labels = [f"{int(lo)}-{int(hi) - 1}" if np.isfinite(hi) else f"{int(lo)}+"
              for lo, hi in zip(SIZE_BANDS[:-1], SIZE_BANDS[1:], strict=True)]  # fmt: skip
    return pd.cut(employees, bins=list(SIZE_BANDS), labels=labels, right=False).astype(str)


def share_of_wallet(
    customers: pd.DataFrame,
    *,
    peers_by: tuple[str, ...] = ("segment", "size"),
    quantile: float = 0.9,
    min_peers: int = 5,
) -> pd.DataFrame:
    """`customers`: customer, spend (annual), and the peer columns; optionally `wallet` (the
    customer's known wallet) and `employees` (turned into `size`). Returns per customer: spend,
    wallet, wallet_source (attribute / estimate / none), share, peers."""
    if not 0.5 <= quantile < 1:
        raise MetricError("the wallet quantile must be in [0.5, 1)")
    data = customers.copy()
    if "size" in peers_by and "size" not in data and "employees" in data:
        data["size"] = size_band(data["employees"])
    missing = [c for c in ("customer", "spend", *peers_by) if c not in data]
    if missing:
        raise MetricError(f"share of wallet needs the columns {missing}")
    keys = data[list(peers_by)].fillna("(unknown)").astype(str)
    data["peers"] = keys.agg(" / ".join, axis=1)
    group = data.groupby("peers")["spend"]
    estimate = group.transform(lambda s: s.quantile(quantile))
    count = group.transform("size")
    known = data["wallet"] if "wallet" in data else pd.Series(np.nan, index=data.index)
    usable = count >= min_peers
    data["wallet"] = known.where(known.notna(), estimate.where(usable))
    data["wallet_source"] = np.where(
        known.notna(), "attribute", np.where(usable, "estimate", "none")
    )
    # A customer spending beyond the estimate has a wallet at least as large as their spend.
    data["wallet"] = np.maximum(data["wallet"], data["spend"].where(data["wallet"].notna()))
    data["share"] = (data["spend"] / data["wallet"]).where(data["wallet"] > 0)
    data["peer_count"] = count
    return data[["customer", "spend", "wallet", "wallet_source", "share", "peers", "peer_count"]]
