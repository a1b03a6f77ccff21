"""`cxlens value …`: revenue and value figures of the customer base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, handle_errors, out
from cxlens.workspace import Workspace

value_app = typer.Typer(help="Revenue and value: MRR, retention, cohorts.", no_args_is_help=True)
app.add_typer(value_app, name="value")


def _records(frame: Any) -> list[dict[str, Any]]:
    return [
        {k: (str(v) if hasattr(v, "freqstr") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@value_app.command("revenue")
@handle_errors
def revenue(
    workspace: Path = WorkspaceOpt,
    by: str = typer.Option(
        None, help="Break down by segment, region, country, owner, industry or plan."
    ),
    months: int = typer.Option(12, min=1, help="Months to show, most recent last."),
    as_json: bool = JsonOpt,
) -> None:
    """MRR waterfall, ARR, logo churn and net / gross revenue retention by month."""
    choices = ("segment", "region", "country", "owner", "industry", "plan")
    if by is not None and by not in choices:
        raise typer.BadParameter(f"--by must be one of {', '.join(choices)}")
    with Workspace(workspace) as ws:
        report = ws.value.revenue(by=by)  # type: ignore[arg-type]
    keys = ["month"] + (["group"] if by else [])
    flow = report.waterfall.merge(report.retention, on=keys)
    flow = flow.groupby("group").tail(months) if by else flow.tail(months)
    if as_json:
        _json({"currency": report.currency, "months": _records(flow)})
        return
    table = Table(
        *(["group"] if by else []), "month", "start MRR", "new", "expansion", "contraction",
        "churn", "reactivation", "end MRR", "logo churn", "NRR", "GRR t12m",
        title=f"revenue ({report.currency})",
    )  # fmt: skip
    for row in flow.to_dict(orient="records"):
        cells = [
            f"{row[c]:,.0f}"
            for c in ("starting_mrr", "new", "expansion", "contraction", "churn", "reactivation")
        ]
        table.add_row(
            *([str(row["group"])] if by else []), str(row["month"]), *cells,
            f"{row['ending_mrr']:,.0f}", _pct(row["logo_churn"]), _pct(row["nrr_monthly"]),
            _pct(row["grr_t12m"]),
        )  # fmt: skip
    out.print(table)


def _pct(value: float) -> str:
    return "" if value != value else f"{value:.1%}"  # NaN: not defined that month


@value_app.command("clv")
@handle_errors
def clv(
    workspace: Path = WorkspaceOpt,
    months: int = typer.Option(12, min=1, help="Horizon of the lifetime value, in months."),
    discount: float = typer.Option(0.01, min=0.0, help="Discount rate per month."),
    top: int = typer.Option(15, min=1, help="Customers to show, most valuable first."),
    as_json: bool = JsonOpt,
) -> None:
    """Lifetime value from order histories (BG/NBD + Gamma-Gamma), with RFM segments."""
    with Workspace(workspace) as ws:
        report = ws.value.clv(months=months, discount_rate=discount)
    customers = report.customers
    if as_json:
        _json(
            {
                "run_id": report.run_id,
                "currency": report.currency,
                "as_of": report.as_of.isoformat(),
                "params": report.params,
                "customers": _records(customers.head(top)),
                "total_clv": float(customers["clv"].sum()),
            }
        )
        return
    out.print(
        f"{len(customers):,} customers with orders; expected value over {months} months: "
        f"{customers['clv'].sum():,.0f} {report.currency} "
        f"(BG/NBD r={report.params['r']:.3g} α={report.params['alpha']:.3g} "
        f"a={report.params['a']:.3g} b={report.params['b']:.3g}; Gamma-Gamma "
        f"p={report.params['p']:.3g} q={report.params['q']:.3g} γ={report.params['gamma']:.3g})",
        highlight=False,
    )
    table = Table(
        "customer", "orders", "P(alive)", "exp. purchases", "exp. spend", "CLV", "90% interval",
        "RFM",
    )  # fmt: skip
    for row in customers.head(top).to_dict(orient="records"):
        table.add_row(
            str(row["customer"]), str(int(row["frequency"]) + 1), f"{row['p_alive']:.0%}",
            f"{row['expected_purchases']:.1f}", f"{row['expected_spend']:,.0f}",
            f"{row['clv']:,.0f}", f"{row['clv_low']:,.0f}–{row['clv_high']:,.0f}",
            str(row["rfm_segment"]),
        )  # fmt: skip
    out.print(table)


@value_app.command("subscriptions")
@handle_errors
def subscriptions(
    workspace: Path = WorkspaceOpt,
    discount: float = typer.Option(0.01, min=0.0, help="Discount rate per month."),
    top: int = typer.Option(15, min=1, help="Customers to show, most valuable first."),
    as_json: bool = JsonOpt,
) -> None:
    """Contractual value: cohort retention (sBG) and each subscriber's residual value."""
    with Workspace(workspace) as ws:
        report = ws.value.subscriptions(discount_rate=discount)
    customers = report.customers
    if as_json:
        _json(
            {
                "currency": report.currency,
                "params": report.params,
                "survival": report.survival.tolist(),
                "customers": _records(customers.head(top)),
                "total_residual_value": float(customers["residual_value"].sum()),
            }
        )
        return
    s = report.survival
    out.print(
        f"{len(customers):,} paying customers; residual value "
        f"{customers['residual_value'].sum():,.0f} {report.currency}; a new cohort keeps "
        f"{s.iloc[12]:.0%} after 12 months and {s.iloc[24]:.0%} after 24 "
        f"(sBG α={report.params['alpha']:.3g} β={report.params['beta']:.3g})",
        highlight=False,
    )
    table = Table("customer", "MRR", "months paid", "further payments", "residual value")
    for row in customers.head(top).to_dict(orient="records"):
        table.add_row(
            str(row["customer"]), f"{row['mrr']:,.0f}", str(row["months_paid"]),
            f"{row['expected_further_payments']:.1f}", f"{row['residual_value']:,.0f}",
        )  # fmt: skip
    out.print(table)


@value_app.command("wallet")
@handle_errors
def wallet(
    workspace: Path = WorkspaceOpt,
    quantile: float = typer.Option(
        0.9, min=0.5, max=0.99, help="Peers' spend quantile taken as the estimated wallet."
    ),
    top: int = typer.Option(15, min=1, help="Accounts to show, most room to grow first."),
    as_json: bool = JsonOpt,
) -> None:
    """Share of wallet per account, and the room to grow (wallet − spend)."""
    with Workspace(workspace) as ws:
        frame = ws.value.share_of_wallet(quantile=quantile)
    frame = frame.assign(room=frame["wallet"] - frame["spend"]).sort_values("room", ascending=False)
    if as_json:
        _json(
            {
                "accounts": _records(frame.head(top)),
                "estimated": int((frame["wallet_source"] == "estimate").sum()),
            }
        )
        return
    table = Table("account", "annual spend", "wallet", "source", "share", "room to grow", "peers")
    for row in frame.head(top).to_dict(orient="records"):
        table.add_row(
            str(row["customer"]), f"{row['spend']:,.0f}", f"{row['wallet']:,.0f}",
            str(row["wallet_source"]), _pct(row["share"]), f"{row['room']:,.0f}",
            str(row["peers"]),
        )  # fmt: skip
    out.print(table)
    out.print("wallets marked 'estimate' come from similar accounts' spend, not from a source")


@value_app.command("validate")
@handle_errors
def validate_clv(
    calibration_end: str = typer.Argument(..., help="Last day of the calibration (YYYY-MM-DD)."),
    workspace: Path = WorkspaceOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Fit the purchase model on orders up to a date and track it against what followed."""
    import pandas as pd

    with Workspace(workspace) as ws:
        check = ws.value.validate_clv(calibration_end=pd.Timestamp(calibration_end))
    track = check.tracking
    if as_json:
        _json(
            {
                "params": check.model.params,
                "holdout_error": check.holdout_error,
                "tracking": _records(track),
            }
        )
        return
    out.print(
        f"holdout: expected {check.holdout['expected'].sum():,.0f} repeat purchases, actual "
        f"{check.holdout['actual'].sum():,.0f} (error {check.holdout_error:.1%})",
        highlight=False,
    )
    table = Table("week", "expected (cumulative)", "actual (cumulative)", "period")
    for row in track.iloc[:: max(1, len(track) // 12)].to_dict(orient="records"):
        table.add_row(
            str(row["week"]), f"{row['expected']:,.0f}", f"{row['actual']:,.0f}",
            "holdout" if row["holdout"] else "calibration",
        )  # fmt: skip
    out.print(table)
