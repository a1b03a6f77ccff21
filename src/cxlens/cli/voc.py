"""`cxlens voc …`: the voice of the customer."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, handle_errors, out
from cxlens.cli.value import _records
from cxlens.workspace import Workspace

voc_app = typer.Typer(
    help="Voice of the customer: satisfaction along the journey.", no_args_is_help=True
)
app.add_typer(voc_app, name="voc")
BREAKDOWNS = ("touchpoint", "journey_stage", "channel", "segment", "region", "owner")


@voc_app.command("satisfaction")
@handle_errors
def satisfaction(
    workspace: Path = WorkspaceOpt,
    by: list[str] = typer.Option(
        ["touchpoint"], help=f"Break down by {', '.join(BREAKDOWNS)} (repeatable)."
    ),
    period: str = typer.Option(None, help="Trend by period: M (month), Q, W."),
    min_sample: int = typer.Option(30, min=1, help="Fewer answers than this are flagged."),
    as_json: bool = JsonOpt,
) -> None:
    """NPS, CSAT and CES with sample sizes and 95% intervals."""
    wrong = [b for b in by if b not in BREAKDOWNS]
    if wrong:
        raise typer.BadParameter(f"--by must be among {', '.join(BREAKDOWNS)}; got {wrong}")
    with Workspace(workspace) as ws:
        frame = ws.voc.satisfaction(by=by, period=period, min_sample=min_sample)  # type: ignore[arg-type]
    if as_json:
        _json(_records(frame))
        return
    keys = (["period"] if period else []) + list(by)
    table = Table("measure", *keys, "value", "95% interval", "n", "")
    for row in frame.to_dict(orient="records"):
        table.add_row(
            str(row["measure"]).upper(), *(str(row[k]) for k in keys), f"{row['value']:.1f}",
            f"{row['low']:.1f} – {row['high']:.1f}", f"{row['n']:,}",
            "low sample" if row["low_sample"] else "",
        )  # fmt: skip
    out.print(table)
