"""Early warning over a workspace: the demo company's planted churn, train → back-test → score."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.demo.churn import CAUSE_FEATURES
from cxlens.risk.service import NoRiskModel
from cxlens.workspace import Workspace
from workspaces import demo_workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path]]:
    root: Path = tmp_path_factory.mktemp("risk")
    ws = demo_workspace(root, customers=800, seed=3, value=True)
    yield ws, root
    ws.close()


def test_train_backtest_score_and_explain(demo: tuple[Workspace, Path]) -> None:
    ws, root = demo
    risk = ws.risk
    with pytest.raises(NoRiskModel, match="cxlens risk train"):
        risk.score()
    report = risk.train()
    tested = report.backtest
    # The planted churn is predictable from what was known before each window.
    assert tested["model"]["roc_auc"] >= 0.8, tested["model"]
    assert tested["model"]["roc_auc"] > tested["scorecard"]["roc_auc"] - 0.05
    assert len(tested["windows"]) >= 3
    for window in tested["windows"]:
        assert window["train_rows"] > 0 and window["churned"] > 0
    calibration = pd.DataFrame(tested["model"]["calibration"])
    assert calibration["n"].sum() == tested["model"]["n"]

    scores = risk.score()
    assert scores["probability"].between(0, 1).all()
    assert (scores["revenue_at_risk"] - scores["probability"] * scores["arr"]).abs().max() < 1e-6
    assert set(scores["risk_band"]) <= {"high", "medium", "low"}
    assert all(1 <= len(r) <= 3 for r in scores["reasons"])
    assert (scores["expected_months"] > 0).all()
    top = scores.iloc[0]
    explained = risk.explain(str(top["account_id"]))
    assert explained["reasons"] and all(r["text"] for r in explained["reasons"])
    by_owner = risk.revenue_at_risk("owner")
    subscriptions = scores["revenue_at_risk"].sum()
    assert by_owner["subscription_at_risk"].sum() == pytest.approx(subscriptions)
    assert by_owner["orders_at_risk"].sum() == 0  # no value run yet
    # Customers who buy without a contract add (1 - P(alive)) x CLV to their account's owner.
    buyers = ws.value.clv().customers
    lapsing = ((1 - buyers["p_alive"]) * buyers["clv"]).sum()
    assert lapsing > 0
    by_owner = risk.revenue_at_risk("owner")
    assert by_owner["orders_at_risk"].sum() == pytest.approx(lapsing)
    assert by_owner["revenue_at_risk"].sum() == pytest.approx(subscriptions + lapsing)
    assert by_owner["buyers"].sum() == len(buyers)
    by_month = risk.revenue_at_risk("month")
    assert by_month["revenue_at_risk"].iloc[-1] == pytest.approx(subscriptions + lapsing)
    health = risk.health(days=3)
    assert set(health["day"].astype(str)) and health["day"].nunique() == 3
    assert set(health["status"]) <= {"green", "amber", "red", "insufficient data"}
    history = risk.health_history(str(top["account_id"]))
    assert len(history) == 3
    moves = risk.health_trend(days=2).set_index("account_id")
    assert set(moves["direction"]) <= {"improving", "stable", "declining", "not enough history"}
    account_history = history.set_index(pd.to_datetime(history["day"]))["score"].dropna()
    if len(account_history) == 3:
        change = account_history.iloc[-1] - account_history.iloc[0]
        assert moves.loc[str(top["account_id"]), "change"] == pytest.approx(change)

    # The planted causes are among the reasons of the churners they were planted in, when
    # scored a month before they left.
    churn = pd.read_parquet(root / "truth" / "churn.parquet").dropna(subset=["cause_1"])
    links = ws.store.query("SELECT record_id, master_id FROM record_links").to_pandas()
    master = dict(zip(links["record_id"], links["master_id"], strict=True))
    churn["account"] = ("stripe:" + churn["stripe_customer_id"]).map(master)
    churn = churn.dropna(subset=["account"])
    churn = churn[pd.to_datetime(churn["churn_date"]) >= pd.Timestamp("2025-01-01")]
    hits = total = 0
    for day, group in churn.groupby(pd.to_datetime(churn["churn_date"]).dt.to_period("M")):
        as_of = (day.to_timestamp() - pd.Timedelta(days=30)).date()
        scored = risk.score(as_of=as_of, save=False).set_index("account_id")
        for row in group.itertuples():
            if row.account not in scored.index:
                continue
            features = {r["feature"] for r in scored.loc[row.account, "reasons"]}
            causes = [c for c in str(row.causes).split(";") if c in CAUSE_FEATURES]
            total += 1
            hits += any(features & CAUSE_FEATURES[c] for c in causes)
    assert total >= 30
    assert hits / total >= 0.5, (hits, total)


def test_risk_commands_print_json(demo: tuple[Workspace, Path]) -> None:
    _, root = demo
    runner = CliRunner()
    w = ["-w", str(root), "--json"]
    trained = runner.invoke(app, ["risk", "train", *w])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.output)["backtest"]["model"]["roc_auc"] > 0.5
    scored = runner.invoke(app, ["risk", "score", *w])
    assert scored.exit_code == 0, scored.output
    account = json.loads(scored.output)[0]["account_id"]
    for command in (["backtest"], ["explain", account], ["at-risk", "--by", "segment"]):
        result = runner.invoke(app, ["risk", *command, *w])
        assert result.exit_code == 0, (command, result.output)
        json.loads(result.output)
    health = runner.invoke(app, ["risk", "health", "--days", "2", *w])
    assert health.exit_code == 0, health.output
    assert {"trend", "change"} <= set(json.loads(health.output)[0])
    plain = runner.invoke(app, ["risk", "explain", account, "-w", str(root)])
    assert plain.exit_code == 0 and "chance of churning" in plain.output
    unknown = runner.invoke(app, ["risk", "explain", "acc_nope", "-w", str(root)])
    assert unknown.exit_code == 7 and "acc_nope" in unknown.output


def test_early_warning_on_every_backend(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    ws = demo_workspace(
        tmp_path, customers=300, seed=5, backend=backend, request=request, value=True
    )
    with ws:
        report = ws.risk.train()
        assert report.backtest["model"]["roc_auc"] > 0.6 and report.cutoffs >= 12
        scores = ws.risk.score()
        stored = ws.risk.latest_scores().set_index("account_id")
        assert len(stored) == len(scores)
        mine = scores.set_index("account_id")
        assert (stored["probability"] - mine.loc[stored.index, "probability"]).abs().max() < 1e-9
        assert stored["reasons"].map(len).min() >= 1
        # Scoring the same day again replaces that day's scores: nothing doubles.
        ws.risk.score()
        assert ws.store.scalar("SELECT count(*) FROM risk_scores") == len(scores)
        ws.risk.health(days=2)
        assert ws.store.scalar("SELECT count(DISTINCT day) FROM health_scores") == 2
        assert len(ws.risk.health_trend(days=1)) == ws.store.scalar(
            "SELECT count(DISTINCT account_id) FROM health_scores"
        )
        buyers = ws.value.clv().customers
        by_segment = ws.risk.revenue_at_risk("segment")
        assert by_segment["revenue_at_risk"].sum() == pytest.approx(
            scores["revenue_at_risk"].sum() + ((1 - buyers["p_alive"]) * buyers["clv"]).sum()
        )
        assert ws.risk.explain(str(scores["account_id"].iloc[0]))["health_history"]
