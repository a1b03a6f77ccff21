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
