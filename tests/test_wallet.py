"""Share of wallet on a hand-made set of customers."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.errors import MetricError
from cxlens.metrics.wallet import share_of_wallet


def test_estimated_and_known_wallets() -> None:
    spend = [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    data = pd.DataFrame(
        {
            "customer": [f"c{i}" for i in range(12)],
            "spend": [*spend, 5.0, 500.0],
            "segment": ["smb"] * 10 + ["enterprise", "enterprise"],
            "employees": [20] * 10 + [2_000, 2_000],
            "wallet": [None] * 10 + [50.0, None],
        }
    )
    out = share_of_wallet(data, quantile=0.9, min_peers=5).set_index("customer")
    # Ten SMB peers: the wallet is their 90th percentile of spend (91), labelled an estimate.
    assert out.loc["c0", "wallet"] == pytest.approx(91.0)
    assert out.loc["c0", "wallet_source"] == "estimate" and out.loc["c0", "peer_count"] == 10
    assert out.loc["c0", "share"] == pytest.approx(10 / 91)
    assert out.loc["c9", "share"] == 1.0  # spends beyond the estimate: wallet ≥ spend
    # A wallet a source provides wins; too few peers and no attribute: no wallet, no share.
    assert (out.loc["c10", "wallet"], out.loc["c10", "wallet_source"]) == (50.0, "attribute")
    assert out.loc["c10", "share"] == pytest.approx(0.1)
    assert out.loc["c11", "wallet_source"] == "none" and pd.isna(out.loc["c11", "share"])
    assert out.loc["c0", "peers"] == "smb / 10-49"


def test_missing_columns_are_named() -> None:
    with pytest.raises(MetricError, match="segment"):
        share_of_wallet(pd.DataFrame({"customer": ["a"], "spend": [1.0], "employees": [3]}))
