"""Revenue figures over a workspace: the demo company, on every store backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from workspaces import demo_workspace

pytestmark = pytest.mark.slow
MOVES = ["new", "expansion", "contraction", "churn", "reactivation", "paused", "resumed"]


def test_revenue_of_the_demo_company(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    ws = demo_workspace(
        tmp_path, customers=150, seed=3, backend=backend, request=request, value=True
    )

    report = ws.value.revenue()
    flow = report.waterfall
    assert len(flow) >= 30 and flow["ending_mrr"].iloc[-1] > 0
    # Every month adds up, and each month starts where the last one ended.
    assert (flow["starting_mrr"] + flow[MOVES].sum(axis=1) - flow["ending_mrr"]).abs().max() < 1e-6
    assert (
        flow["starting_mrr"].iloc[1:].to_numpy() - flow["ending_mrr"].iloc[:-1].to_numpy()
    ).max() < 1e-6
    assert (flow["new"] >= 0).all() and (flow["churn"] <= 0).all()
    last = report.retention.iloc[-1]
    assert 0.5 < last["grr_t12m"] <= 1.0 <= last["nrr_t12m"] + 0.5
    # The breakdown by segment adds up to the whole.
    segmented = ws.value.revenue(by="segment")
    by_segment = segmented.waterfall
    assert segmented.cohorts_by_group is not None and len(segmented.cohorts_by_group) >= 2
    sizes = sum(int(t["size"]["customers"].sum()) for t in segmented.cohorts_by_group.values())
    assert sizes == int(report.cohorts["size"]["customers"].sum())
    last_month = flow["month"].iloc[-1]
    assert by_segment.loc[by_segment["month"] == last_month, "ending_mrr"].sum() == pytest.approx(
        flow["ending_mrr"].iloc[-1]
    )
    value = ws.value.clv(months=12)
    customers = value.customers
    assert all(v > 0 for v in value.params.values())
    assert customers["p_alive"].between(0, 1).all() and (customers["clv"] >= 0).all()
    assert customers["clv"].is_monotonic_decreasing  # most valuable first
    assert customers["rfm_segment"].notna().all()
    # Who bought more often recently is worth more, on average.
    champions = customers.loc[customers["rfm_segment"] == "Champions", "clv"].mean()
    assert champions > customers.loc[customers["rfm_segment"] == "Lost", "clv"].mean()
    # Values are kept per run, with the model's parameters: a second run adds history.
    ws.value.clv(months=12)
    assert ws.store.count("value_runs") == 2
    top = str(customers["customer"].iloc[0])
    history = ws.value.value_history(top)
    assert len(history) == 2 and history["clv"].iloc[0] == pytest.approx(customers["clv"].iloc[0])
    contracts = ws.value.subscriptions()
    assert all(v > 0 for v in contracts.params.values())
    assert contracts.survival.iloc[0] == 1.0 and contracts.survival.is_monotonic_decreasing
    assert len(contracts.customers) == flow["customers"].iloc[-1]
    assert (contracts.customers["residual_value"] >= contracts.customers["mrr"] * 0).all()
    assert contracts.customers["residual_value"].is_monotonic_decreasing
    voice = ws.voc.satisfaction(by=["touchpoint"], min_sample=30)
    assert set(voice["measure"]) == {"nps", "csat", "ces"}
    nps = voice[voice["measure"] == "nps"]
    assert nps["value"].between(-100, 100).all() and (nps["low"] <= nps["value"]).all()
    assert voice["n"].sum() == ws.store.scalar(
        "SELECT count(*) FROM events WHERE kind = 'survey' AND score IS NOT NULL"
    )
    monthly = ws.voc.satisfaction(by=["segment"], period="M", min_sample=30)
    assert (monthly["low_sample"] == (monthly["n"] < 30)).all()  # flagged, never dropped
    assert monthly["n"].sum() == voice["n"].sum()
    wallets = ws.value.share_of_wallet(min_peers=3)
    assert set(wallets["wallet_source"]) <= {"estimate", "attribute", "none"}
    assert wallets["share"].dropna().between(0, 1).all()
    assert (wallets["wallet_source"] == "estimate").sum() > len(wallets) / 2
    ws.close()

    result = CliRunner().invoke(
        app, ["value", "revenue", "-w", str(tmp_path), "--months", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["currency"] == "USD" and len(data["months"]) == 3
    assert data["months"][-1]["ending_mrr"] == pytest.approx(flow["ending_mrr"].iloc[-1])
    result = CliRunner().invoke(app, ["value", "clv", "-w", str(tmp_path), "--top", "5", "--json"])
    assert result.exit_code == 0, result.output
    clv_data = json.loads(result.output)
    result = CliRunner().invoke(
        app, ["value", "validate", "2026-01-31", "-w", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    check = json.loads(result.output)
    assert check["holdout_error"] < 0.5 and check["tracking"][-1]["holdout"]
    assert len(clv_data["customers"]) == 5
    assert clv_data["total_clv"] == pytest.approx(float(customers["clv"].sum()))
