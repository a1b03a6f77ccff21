"""`cxlens risk …`: health scorecards, churn models, back-tests, reasons, revenue at risk."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, err, handle_errors, out
from cxlens.cli.value import _records
from cxlens.workspace import Workspace

risk_app = typer.Typer(
    help="Early warning: health, churn risk with reasons, back-tests, revenue at risk.",
    no_args_is_help=True,
)
app.add_typer(risk_app, name="risk")
BREAKDOWNS = ("owner", "segment", "region", "month", "risk_band")


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.1%}"


def _num(value: Any, fmt: str = "{:,.0f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.format(value)


@risk_app.command("train")
@handle_errors
def train(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Back-test on rolling windows, then train the churn model on every cutoff."""
    with Workspace(workspace) as ws:
        say = None if as_json else (lambda step: err.print(f"[dim]{step}…[/dim]"))
        report = ws.risk.train(progress=say)
    if as_json:
        _json(report.__dict__)
        return
    out.print(
        f"model {report.model_id}: {report.rows:,} account-months over {report.cutoffs} "
        f"cutoffs, {report.churn_rate:.1%} churned within {report.horizon_days} days "
        f"({report.seconds:.0f} s)",
        highlight=False,
    )
    _print_backtest(report.backtest)


def _print_backtest(report: dict[str, Any]) -> None:
    table = Table("back-test", "ROC-AUC", "PR-AUC", "top-decile lift", "Brier", "n")
    for name in ("model", "scorecard"):
        m = report[name]
        table.add_row(
            "churn model" if name == "model" else "health scorecard",
            _num(m.get("roc_auc"), "{:.3f}"), _num(m.get("pr_auc"), "{:.3f}"),
            _num(m.get("top_decile_lift"), "{:.1f}×"), _num(m.get("brier"), "{:.4f}"),
            _num(m.get("n")),
        )  # fmt: skip
    out.print(table)
    windows = Table("window", "train rows", "test rows", "churned", "model AUC", "scorecard AUC")
    for w in report["windows"]:
        windows.add_row(
            f"{w['start']} – {w['end']}", f"{w['train_rows']:,}", f"{w['test_rows']:,}",
            str(w["churned"]), _num(w["model"].get("roc_auc"), "{:.3f}"),
            _num(w["scorecard"].get("roc_auc"), "{:.3f}"),
        )  # fmt: skip
    out.print(windows)


@risk_app.command("backtest")
@handle_errors
def show_backtest(
    workspace: Path = WorkspaceOpt,
    model: str = typer.Option(None, help="Model id (default: the latest)."),
    as_json: bool = JsonOpt,
) -> None:
    """The back-test of a trained model, against the health scorecard, with calibration."""
    with Workspace(workspace) as ws:
        report = ws.risk.backtest_report(model)
    if as_json:
        _json(report)
        return
    out.print(f"model {report['model_id']}, churn within {report['horizon_days']} days")
    _print_backtest(report)
    calibration = Table("predicted (mean)", "observed", "n")
    for row in report["model"].get("calibration", []):
        calibration.add_row(
            _pct(row["mean_predicted"]), _pct(row["observed_rate"]), f"{row['n']:,}"
        )
    out.print(calibration)


@risk_app.command("score")
@handle_errors
def score(
    workspace: Path = WorkspaceOpt,
    as_of: str = typer.Option(None, "--as-of", help="Score date (default: after the last event)."),
    top: int = typer.Option(15, min=1, help="Accounts to show, most revenue at risk first."),
    as_json: bool = JsonOpt,
) -> None:
    """Score every active account: probability, reasons, time to churn, revenue at risk."""
    with Workspace(workspace) as ws:
        frame = ws.risk.score(as_of=as_of)
        ws.risk.health(day=as_of)
    if as_json:
        _json(_records(frame))
        return
    total = frame["revenue_at_risk"].sum()
    out.print(
        f"{len(frame):,} active accounts scored as of {str(frame['as_of'].iloc[0])[:10]}; "
        f"{(frame['risk_band'] == 'high').sum():,} at high risk; revenue at risk "
        f"{total:,.0f} of ARR {frame['arr'].sum():,.0f}",
        highlight=False,
    )
    table = Table("account", "risk", "P(churn)", "months left", "ARR", "at risk", "why")
    for row in frame.head(top).to_dict(orient="records"):
        table.add_row(
            row["account_id"], row["risk_band"], _pct(row["probability"]),
            _num(row["expected_months"], "{:.0f}"), _num(row["arr"]),
            _num(row["revenue_at_risk"]), "; ".join(r["text"] for r in row["reasons"]),
        )  # fmt: skip
    out.print(table)


@risk_app.command("explain")
@handle_errors
def explain(
    account: str = typer.Argument(..., help="Master account id."),
    workspace: Path = WorkspaceOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Why an account is at risk, in plain words, with its health history."""
    with Workspace(workspace) as ws:
        record = ws.risk.explain(account)
    if as_json:
        _json(record)
        return
    name = record.get("name") or account
    out.print(
        f"[bold]{name}[/bold] ({account}): {_pct(record['probability'])} chance of churning "
        f"({record['risk_band']} risk); ARR {_num(record['arr'])}, revenue at risk "
        f"{_num(record['revenue_at_risk'])}",
        highlight=False,
    )
    for reason in record["reasons"]:
        out.print(f"  • {reason['text']}", highlight=False)
    if record.get("expected_months") is not None and not math.isnan(record["expected_months"]):
        out.print(f"  expected months as a customer: {record['expected_months']:.0f}")
    if record.get("health_score") is not None:
        out.print(f"  health score {_num(record['health_score'], '{:.0f}')} / 100")


@risk_app.command("health")
@handle_errors
def health(
    workspace: Path = WorkspaceOpt,
    days: int = typer.Option(1, min=1, max=366, help="Score this many days up to the last."),
    trend_days: int = typer.Option(
        30, "--trend-days", min=1, help="Compare with the score kept this many days before."
    ),
    top: int = typer.Option(15, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Health scorecard of every active account, kept daily, with its trend; weakest first."""
    with Workspace(workspace) as ws:
        frame = ws.risk.health(days=days)
        moves = ws.risk.health_trend(days=trend_days)
    latest = frame[frame["day"] == frame["day"].max()].sort_values("score", na_position="first")
    latest = latest.merge(
        moves[["account_id", "previous_date", "change", "direction"]].rename(
            columns={"previous_date": "compared_with", "direction": "trend"}
        ),
        on="account_id",
        how="left",
    )
    if as_json:
        _json(_records(latest))
        return
    counts = latest["status"].value_counts().to_dict()
    trends = latest["trend"].value_counts().to_dict()
    out.print(
        f"{len(latest):,} accounts on {latest['day'].iloc[0]}: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f"; over up to {trend_days} days: "
        + ", ".join(f"{v:,} {k}" for k, v in trends.items()),
        highlight=False,
    )
    table = Table("account", "score", "status", "change", "trend", "coverage", "missing")
    for row in latest.head(top).to_dict(orient="records"):
        table.add_row(
            row["account_id"], _num(row["score"], "{:.0f}"), row["status"],
            _num(row["change"], "{:+.0f}"), str(row["trend"]), _pct(row["coverage"]),
            ", ".join(row["missing"]),
        )  # fmt: skip
    out.print(table)


@risk_app.command("at-risk")
@handle_errors
def at_risk(
    workspace: Path = WorkspaceOpt,
    by: str = typer.Option("owner", help=f"One of {', '.join(BREAKDOWNS)}."),
    as_json: bool = JsonOpt,
) -> None:
    """Revenue at risk by owner, segment, region, risk band or month: churn probability × ARR
    for subscriptions, (1 − P(alive)) × CLV for customers who buy without a contract."""
    if by not in BREAKDOWNS:
        raise typer.BadParameter(f"--by must be one of {', '.join(BREAKDOWNS)}; got {by}")
    with Workspace(workspace) as ws:
        frame = ws.risk.revenue_at_risk(by)  # type: ignore[arg-type]
    if as_json:
        _json(_records(frame))
        return
    table = Table(*[str(c) for c in frame.columns])
    for row in frame.to_dict(orient="records"):
        table.add_row(*[_num(v) if isinstance(v, float) else str(v) for v in row.values()])
    out.print(table)
