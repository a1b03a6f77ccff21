"""Identity commands: resolve, review, merge, split, explain."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, handle_errors, out
from cxlens.workspace import Workspace

review_app = typer.Typer(
    help="The review queue of uncertain pairs, decisions, undo and the audit log.",
    invoke_without_command=True,
)
app.add_typer(review_app, name="review")

ByOpt = typer.Option(None, "--by", help="Who decides (default: the login name).")
ReasonOpt = typer.Option(None, "--reason", help="Why; kept with the decision.")


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"


@app.command()
@handle_errors
def resolve(
    workspace: Path = WorkspaceOpt,
    incremental: bool = typer.Option(
        False, "--incremental", help="Match only records new since the last run."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Unite source records into master customers and accounts."""
    with Workspace(workspace) as ws:
        report = ws.identity.resolve(incremental=incremental)
    if as_json:
        _json(asdict(report))
        return
    table = Table(
        "entity", "records", "masters", "rule links", "model links", "manual", "to review",
        title=f"identity run {report.run_id} ({report.mode}, {report.seconds:.1f} s)",
    )  # fmt: skip
    for entity, r in report.entities.items():
        table.add_row(
            entity, f"{r.records:,}", f"{r.masters:,}", f"{r.rule_links:,}",
            f"{r.probabilistic_links:,}", f"{r.manual_links:,}", f"{r.review:,}",
        )  # fmt: skip
    out.print(table)


@review_app.callback()
@handle_errors
def review(
    ctx: typer.Context,
    workspace: Path = WorkspaceOpt,
    entity: str = typer.Option(None, help="person or account."),
    limit: int = typer.Option(20, help="Pairs to show."),
    as_json: bool = JsonOpt,
) -> None:
    """Show the pairs waiting for review, most likely matches first."""
    if ctx.invoked_subcommand is not None:
        return
    with Workspace(workspace) as ws:
        pairs = ws.identity.review_queue(entity=entity, limit=limit)  # type: ignore[arg-type]
    if as_json:
        _json(pairs)
        return
    table = Table("p", "record", "name / email", "record", "name / email", title="to review")
    for p in pairs:
        table.add_row(
            f"{p['probability']:.2f}",
            p["record_id_l"],
            _who(p, "l"),
            p["record_id_r"],
            _who(p, "r"),
        )
    out.print(table)
    out.print("decide with `cxlens review accept|reject RECORD RECORD --reason ...`")


def _who(p: dict[str, Any], side: str) -> str:
    name = p[f"name_{side}"] or " ".join(
        x for x in (p[f"first_name_{side}"], p[f"last_name_{side}"]) if x
    )
    return " / ".join(x for x in (name, p[f"email_{side}"], p[f"company_{side}"]) if x)


@review_app.command("accept")
@handle_errors
def accept(
    record_l: str, record_r: str, workspace: Path = WorkspaceOpt, by: str = ByOpt,
    reason: str = ReasonOpt,
) -> None:  # fmt: skip
    """These two records are the same party: join them, now and in every later run."""
    with Workspace(workspace) as ws:
        decision = ws.identity.accept(record_l, record_r, actor=_actor(by), reason=reason)
    out.print(f"accepted ({decision})")


@review_app.command("reject")
@handle_errors
def reject(
    record_l: str, record_r: str, workspace: Path = WorkspaceOpt, by: str = ByOpt,
    reason: str = ReasonOpt,
) -> None:  # fmt: skip
    """These two records are not the same party: keep them apart, whatever the model says."""
    with Workspace(workspace) as ws:
        decision = ws.identity.reject(record_l, record_r, actor=_actor(by), reason=reason)
    out.print(f"rejected ({decision})")


@review_app.command("undo")
@handle_errors
def undo(
    decision: str, workspace: Path = WorkspaceOpt, by: str = ByOpt, reason: str = ReasonOpt
) -> None:
    """Undo a decision (accept, reject, merge or split); the masters are rebuilt without it."""
    with Workspace(workspace) as ws:
        ws.identity.undo(decision, actor=_actor(by), reason=reason)
    out.print(f"undone: {decision}")


@review_app.command("decisions")
@handle_errors
def decisions(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Every decision, with who, when, why, and whether it was undone."""
    with Workspace(workspace) as ws:
        rows = ws.identity.decisions()
    if as_json:
        _json(rows)
        return
    table = Table("decision", "kind", "records / masters", "by", "when", "why", "undone")
    for r in rows:
        what = " + ".join(x for x in (r["master_id"], r["other_master_id"]) if x) or (
            f"{r['record_id_l']} ~ {r['record_id_r']}"
        )
        table.add_row(
            r["decision_id"], r["kind"], what, r["actor"], str(r["decided_at"])[:19],
            r["reason"] or "", str(r["undone_at"] or "")[:19],
        )  # fmt: skip
    out.print(table)


@review_app.command("audit")
@handle_errors
def audit(
    workspace: Path = WorkspaceOpt, limit: int = typer.Option(50), as_json: bool = JsonOpt
) -> None:
    """The audit log of merges and splits, newest first."""
    with Workspace(workspace) as ws:
        rows = ws.identity.audit(limit=limit)
    if as_json:
        _json(rows)
        return
    table = Table("when", "action", "master", "other", "decision", "run")
    for r in rows:
        table.add_row(
            str(r["changed_at"])[:19], r["action"], r["master_id"], r["other_master_id"] or "",
            r["decision_id"] or "", r["run_id"],
        )  # fmt: skip
    out.print(table)


@app.command()
@handle_errors
def merge(
    master_a: str, master_b: str, workspace: Path = WorkspaceOpt, by: str = ByOpt,
    reason: str = ReasonOpt,
) -> None:  # fmt: skip
    """Merge two master customers (or accounts) into one; the one with more records keeps its id."""
    with Workspace(workspace) as ws:
        decision = ws.identity.merge(master_a, master_b, actor=_actor(by), reason=reason)
    out.print(f"merged ({decision}); undo with `cxlens review undo {decision}`")


@app.command()
@handle_errors
def split(
    master: str,
    records: list[str] = typer.Argument(..., help="Record ids to take out of the master."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
    reason: str = ReasonOpt,
) -> None:
    """Split records out of a master into a master of their own."""
    with Workspace(workspace) as ws:
        decision = ws.identity.split(master, records, actor=_actor(by), reason=reason)
    out.print(f"split ({decision}); undo with `cxlens review undo {decision}`")


@app.command()
@handle_errors
def explain(customer: str, workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Why a master customer (or account) is what it is: records, links and their evidence."""
    with Workspace(workspace) as ws:
        explanation = ws.identity.explain(customer)
    if as_json:
        _json(asdict(explanation))
        return
    out.print(explanation.summary, highlight=False)
    records = Table("record", "name", "email", "phone", "company", title="records")
    for r in explanation.records:
        name = r["name"] or " ".join(x for x in (r["first_name"], r["last_name"]) if x)
        records.add_row(r["record_id"], name or "", r["email"] or "", r["phone"] or "",
                        r["company"] or r["domain"] or "")  # fmt: skip
    out.print(records)
    for link in explanation.links:
        out.print("• " + link.sentence, highlight=False)
    golden = Table("attribute", "value", "from record", "rule", title="golden record")
    for a in explanation.attributes:
        golden.add_row(a["attribute"], a["value"] or "", a["record_id"], a["rule"])
    out.print(golden)
