"""Revenue metrics on a small company computed by hand (see the comments for the arithmetic)."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.errors import MetricError
from cxlens.metrics import cohorts, monthly_mrr, retention, waterfall


def _movements() -> pd.DataFrame:
    rows = [
        # A: new 100 in Jan; +50 and -20 in Feb (one net expansion of 30); churns in March.
        ("A", "2026-01-10", 100.0, "USD", "new"),
        ("A", "2026-02-03", 50.0, "USD", "expansion"),
        ("A", "2026-02-20", -20.0, "USD", "contraction"),
        ("A", "2026-03-15", -130.0, "USD", "churn"),
        # B pays in euros: 200 EUR from Jan (1.1 → 220 USD), churns in Feb, comes back in April
        # at 200 EUR (1.2 → 240 USD).
        ("B", "2026-01-05", 200.0, "EUR", "new"),
        ("B", "2026-02-11", -200.0, "EUR", "churn"),
        ("B", "2026-04-02", 200.0, "EUR", "reactivation"),
        # C: new 50 in Feb, pauses in March, resumes in May.
        ("C", "2026-02-14", 50.0, "USD", "new"),
        ("C", "2026-03-01", -50.0, "USD", "pause"),
        ("C", "2026-05-01", 50.0, "USD", "resume"),
    ]
    return pd.DataFrame(rows, columns=["customer", "occurred_at", "amount", "currency", "action"])


RATES = pd.DataFrame(
    {
        "month": ["2026-01-01", "2026-02-01", "2026-04-01"],
        "currency": ["EUR", "EUR", "EUR"],
        "rate": [1.1, 1.1, 1.2],
    }
)


@pytest.fixture
def monthly() -> pd.DataFrame:
    return monthly_mrr(_movements(), rates=RATES, currency="USD")


def test_mrr_by_customer_and_month(monthly: pd.DataFrame) -> None:
    mrr = monthly.pivot(index="customer", columns="month", values="mrr")
    assert mrr.loc["A"].tolist() == [100.0, 130.0, 0.0, 0.0, 0.0]
    assert mrr.loc["B"].tolist() == pytest.approx([220.0, 0.0, 0.0, 240.0, 240.0])
    assert mrr.loc["C"].tolist() == [0.0, 50.0, 0.0, 0.0, 50.0]


def test_waterfall_adds_up_and_names_each_movement(monthly: pd.DataFrame) -> None:
    w = waterfall(monthly).set_index("month")
    jan, feb, mar, apr, may = (pd.Period(f"2026-0{m}", "M") for m in range(1, 6))
    assert w.loc[jan, "new"] == pytest.approx(320.0)
    assert (w.loc[feb, "expansion"], w.loc[feb, "churn"], w.loc[feb, "new"]) == pytest.approx(
        (30.0, -220.0, 50.0)
    )
    assert w.loc[feb, "contraction"] == 0.0  # the Feb downgrade nets into A's expansion
    assert (w.loc[mar, "churn"], w.loc[mar, "paused"]) == (-130.0, -50.0)
    assert w.loc[apr, "reactivation"] == pytest.approx(240.0)
    assert w.loc[may, "resumed"] == 50.0
    movements = w[["new", "expansion", "contraction", "churn", "reactivation", "paused", "resumed"]]
    assert (w["starting_mrr"] + movements.sum(axis=1) - w["ending_mrr"]).abs().max() < 1e-9
    assert w["logo_churn"].tolist()[1:3] == [0.5, 0.5]  # a pause is not churn: A of A and C
    assert w.loc[may, "arr"] == pytest.approx(12 * 290.0)


def test_net_and_gross_revenue_retention(monthly: pd.DataFrame) -> None:
    r = retention(monthly, window=3).set_index("month")
    feb = pd.Period("2026-02", "M")
    assert r.loc[feb, "nrr_monthly"] == pytest.approx(130 / 320)
    assert r.loc[feb, "grr_monthly"] == pytest.approx(100 / 320)
    # Over three months to April: Jan's payers A (100) and B (220) → A 0, B 240.
    apr = pd.Period("2026-04", "M")
    assert r.loc[apr, "nrr_t3m"] == pytest.approx(240 / 320)
    assert r.loc[apr, "grr_t3m"] == pytest.approx(220 / 320)


def test_cohort_tables(monthly: pd.DataFrame) -> None:
    c = cohorts(monthly)
    jan, feb = pd.Period("2026-01", "M"), pd.Period("2026-02", "M")
    assert c["size"].loc[jan, "customers"] == 2 and c["size"].loc[feb, "customers"] == 1
    assert c["logos"].loc[jan, 0] == 1.0 and c["logos"].loc[jan, 1] == 0.5
    assert c["revenue"].loc[jan, 1] == pytest.approx(130 / 320)
    assert c["revenue"].loc[jan, 3] == pytest.approx(240 / 320)


def test_bad_input_is_named() -> None:
    with pytest.raises(MetricError, match="rates table"):
        monthly_mrr(_movements())
    with pytest.raises(MetricError, match="below zero"):
        monthly_mrr(
            pd.DataFrame(
                {"customer": ["X"], "occurred_at": ["2026-01-01"], "amount": [-5.0],
                 "currency": ["USD"]}
            )
        )  # fmt: skip
    with pytest.raises(MetricError, match="no EUR"):
        monthly_mrr(_movements(), rates=RATES.iloc[:1])
