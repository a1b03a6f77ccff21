"""`cxlens serve`, `cxlens rules …`, `cxlens alerts`, `cxlens tasks …`, `cxlens playbooks …`,
`cxlens keys …` and `cxlens deliveries …`: real-time signals on the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, handle_errors, out
from cxlens.cli.value import _records
from cxlens.workspace import Workspace

rules_app = typer.Typer(help="Check rules and replay them over history.", no_args_is_help=True)
tasks_app = typer.Typer(help="Playbook tasks: list them and move them along.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
playbooks_app = typer.Typer(help="Did the playbooks work?", no_args_is_help=True)
deliveries_app = typer.Typer(help="Notifications sent, pending and dead.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(tasks_app, name="tasks")
app.add_typer(keys_app, name="keys")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(deliveries_app, name="deliveries")

RulesOpt = typer.Option(None, "--rules", help="A rules file (default: the workspace's).")


def _table(frame: Any, columns: list[str]) -> Table:
    table = Table(*columns)
    for row in frame[columns].to_dict(orient="records"):
        table.add_row(*["–" if v is None or v != v else str(v) for v in row.values()])
    return table


@app.command("serve")
@handle_errors
def serve(
    workspace: Path = WorkspaceOpt,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the API (events in; alerts and tasks out) until interrupted."""
    import uvicorn

    from cxlens.api.app import create_app

    Workspace(workspace).close()  # fail here, with a clear message, on a bad workspace
    out.print(f"cxlens API on http://{host}:{port} (OpenAPI at /docs)", highlight=False)
    uvicorn.run(create_app(workspace.resolve()), host=host, port=port, log_level="warning")


@rules_app.command("test")
@handle_errors
def rules_test(
    workspace: Path = WorkspaceOpt,
    rules: Path | None = RulesOpt,
    event: Path | None = typer.Option(None, help="A JSON event to judge against the rules."),
    as_json: bool = JsonOpt,
) -> None:
    """Validate the rules file; with --event, show which rules that event would fire."""
    from cxlens.signals.intake import Directory, EventIn
    from cxlens.signals.rules import load_rules
    from cxlens.signals.service import with_sentiment

    with Workspace(workspace) as ws:
        signals = ws.signals
        loaded = load_rules(rules) if rules else signals.rules()
        fired: list[dict[str, Any]] = []
        if event is not None:
            incoming = EventIn.model_validate_json(event.read_text(encoding="utf-8"))
            engine = signals.engine(loaded)
            customer_id, account_id = Directory(ws.store).find(incoming.customer)
            as_event = incoming.model_dump()
            as_event.update(
                kind=incoming.kind.value, customer_id=customer_id, account_id=account_id
            )
            for hit in engine.observe(with_sentiment([as_event])[0]):
                fired.append({"rule_id": hit.rule_id, "severity": hit.severity,
                              "suppressed": hit.suppressed, "summary": hit.summary})  # fmt: skip
    summary = {
        "rules": len(loaded.rules),
        "playbooks": sorted(loaded.playbooks),
        "channels": sorted(loaded.channels),
        "fired": fired,
    }
    if as_json:
        _json(summary)
        return
    out.print(
        f"{len(loaded.rules)} rules, {len(loaded.playbooks)} playbooks, "
        f"{len(loaded.channels)} channels: valid",
        highlight=False,
    )
    for f in fired:
        out.print(f"  fires {f['rule_id']} ({f['severity']}): {f['summary']}", highlight=False)
    if event is not None and not fired:
        out.print("  no rule fires on this event", highlight=False)


@rules_app.command("replay")
@handle_errors
def rules_replay(
    workspace: Path = WorkspaceOpt,
    rules: Path | None = RulesOpt,
    since: str | None = typer.Option(None, help="First day to replay (default: 90 days back)."),
    until: str | None = typer.Option(None, help="Day after the last one to replay."),
    top: int = typer.Option(20, min=0, help="Alerts to list (highest priority first)."),
    apply: bool = typer.Option(
        False, "--apply", help="Raise those alerts (with tasks and notifications) for real."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Dry run: what the rules would have fired over stored history. Writes nothing unless
    --apply (which raises each alert once, however often it is run)."""
    from cxlens.signals.rules import load_rules

    with Workspace(workspace) as ws:
        loaded = load_rules(rules) if rules else ws.signals.rules()
        last = ws.store.scalar("SELECT max(occurred_at) FROM events")
        start = (
            dt.datetime.fromisoformat(since)
            if since
            else (last - dt.timedelta(days=90) if last else None)
        )
        end = dt.datetime.fromisoformat(until) if until else None
        frame = ws.signals.replay(since=start, until=end, rules=loaded, apply=apply)
        raised = int(frame["raised"].sum())
    kept = frame[~frame["suppressed"]]
    per_rule = (
        frame.groupby("rule_id")
        .agg(
            would_fire=("suppressed", lambda s: int((~s).sum())),
            suppressed=("suppressed", "sum"),
            customers=("account_id", "nunique"),
        )  # fmt: skip
        .reset_index()
    )
    if as_json:
        best = kept.sort_values("priority", ascending=False).head(top)
        _json({"since": start, "until": end, "per_rule": _records(per_rule),
               "alerts": _records(best), "raised": raised})  # fmt: skip
        return
    out.print(
        f"replayed {start:%Y-%m-%d} → {end or 'now'}: {len(kept):,} alerts would have fired "
        f"({int(frame['suppressed'].sum()):,} more held back by cool-downs)",
        highlight=False,
    )
    out.print(_table(per_rule, ["rule_id", "would_fire", "suppressed", "customers"]))
    if apply:
        out.print(f"raised {raised:,} new alerts (the rest were raised before)", highlight=False)
    if top:
        head = kept.sort_values("priority", ascending=False).head(top)
        out.print(_table(head, ["occurred_at", "severity", "rule_id", "owner", "summary"]))


@app.command("alerts")
@handle_errors
def alerts(
    workspace: Path = WorkspaceOpt,
    status: str | None = typer.Option(None, help="open, acknowledged or closed."),
    owner: str | None = typer.Option(None),
    rule: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Alerts raised by the rules, newest first."""
    with Workspace(workspace) as ws:
        frame = ws.signals.alerts(status=status, owner=owner, rule_id=rule, limit=limit)
    if as_json:
        _json(_records(frame))
        return
    out.print(_table(frame, ["occurred_at", "severity", "rule_id", "owner", "status", "summary"]))


@tasks_app.command("list")
@handle_errors
def tasks_list(
    workspace: Path = WorkspaceOpt,
    owner: str | None = typer.Option(None),
    status: str | None = typer.Option(None, help="open, in_progress, done or dismissed."),
    limit: int = typer.Option(50, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Tasks opened by playbooks, soonest due first."""
    with Workspace(workspace) as ws:
        frame = ws.signals.tasks(owner=owner, status=status, limit=limit)
    if as_json:
        _json(_records(frame))
        return
    out.print(_table(frame, ["task_id", "due_at", "severity", "owner", "status", "title"]))


def _move(workspace: Path, task_id: str, status: str, actor: str, reason: str | None,
          outcome: str | None, as_json: bool) -> None:  # fmt: skip
    with Workspace(workspace) as ws:
        row = ws.signals.update_task(task_id, status, actor=actor, reason=reason, outcome=outcome)
    if as_json:
        _json(row)
        return
    out.print(f"task {task_id}: {row['status']}", highlight=False)


ActorOpt = typer.Option("cli", "--actor", help="Who is making the change.")


@tasks_app.command("start")
@handle_errors
def tasks_start(
    task_id: str, workspace: Path = WorkspaceOpt, actor: str = ActorOpt, as_json: bool = JsonOpt
) -> None:
    """Mark a task in progress."""
    _move(workspace, task_id, "in_progress", actor, None, None, as_json)


@tasks_app.command("done")
@handle_errors
def tasks_done(
    task_id: str,
    workspace: Path = WorkspaceOpt,
    outcome: str | None = typer.Option(None, help="saved, lost, recovered, no_change or text."),
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Mark a task done, with its outcome."""
    _move(workspace, task_id, "done", actor, None, outcome, as_json)


@tasks_app.command("dismiss")
@handle_errors
def tasks_dismiss(
    task_id: str,
    reason: str = typer.Option(..., help="Why it is not worth doing."),
    workspace: Path = WorkspaceOpt,
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Dismiss a task, with the reason."""
    _move(workspace, task_id, "dismissed", actor, reason, None, as_json)


@tasks_app.command("reopen")
@handle_errors
def tasks_reopen(
    task_id: str, workspace: Path = WorkspaceOpt, actor: str = ActorOpt, as_json: bool = JsonOpt
) -> None:
    """Open a done or dismissed task again."""
    _move(workspace, task_id, "open", actor, None, None, as_json)


@playbooks_app.command("effect")
@handle_errors
def playbooks_effect(
    playbook: str, workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt
) -> None:
    """Treated against held-out customers: churn and next NPS, with 95% intervals."""
    with Workspace(workspace) as ws:
        result = ws.signals.effect(playbook)
    data = result.to_dict()
    if as_json:
        _json(data)
        return

    def interval(d: dict[str, Any], fmt: str) -> str:
        if d["estimate"] is None:
            return "–"
        low, high = fmt.format(d["low"]), fmt.format(d["high"])
        return f"{fmt.format(d['estimate'])} (95% CI {low} to {high})"

    out.print(
        f"{playbook}: {result.treated} treated, {result.held_out} held out, "
        f"{result.follow_up_days}-day follow-up",
        highlight=False,
    )
    out.print(
        f"  churn {result.churn_treated:.1%} vs {result.churn_held_out:.1%}: difference "
        f"{interval(data['churn_difference'], '{:+.1%}')}",
        highlight=False,
    )
    out.print(
        f"  next NPS answer {result.nps_treated:.1f} vs {result.nps_held_out:.1f} "
        f"({result.surveyed_treated} and {result.surveyed_held_out} answered): difference "
        f"{interval(data['nps_difference'], '{:+.2f}')}",
        highlight=False,
    )
    if result.note:
        out.print(f"  {result.note}", highlight=False)


@playbooks_app.command("loop")
@handle_errors
def playbooks_loop(
    playbook: str,
    workspace: Path = WorkspaceOpt,
    limit: int = typer.Option(50, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Each alert of the playbook: held out or not, its tasks' outcome, churn, next NPS."""
    with Workspace(workspace) as ws:
        frame = ws.signals.loop(playbook).sort_values("occurred_at", ascending=False)
    frame = frame.head(limit)
    if as_json:
        _json(_records(frame))
        return
    columns = ["occurred_at", "subject", "holdout", "task_status", "outcome", "churned", "next_nps"]
    out.print(_table(frame, columns))


@keys_app.command("create")
@handle_errors
def keys_create(
    name: str,
    role: str = typer.Option(..., help="admin, analyst, csm or ingest."),
    owner: str | None = typer.Option(None, help="For csm keys: whose book they see."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Create an API key; it is shown once."""
    from cxlens.api.keys import create_key

    with Workspace(workspace) as ws:
        key = create_key(ws.store, name, role, owner)
    out.print(key, highlight=False)


@keys_app.command("list")
@handle_errors
def keys_list(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """API keys (never the secrets)."""
    from cxlens.api.keys import list_keys

    with Workspace(workspace) as ws:
        rows = list_keys(ws.store)
    if as_json:
        _json(rows)
        return
    table = Table("key_id", "name", "role", "owner", "created_at", "revoked_at")
    for r in rows:
        table.add_row(*[str(v) if v is not None else "–" for v in r.values()])
    out.print(table)


@keys_app.command("revoke")
@handle_errors
def keys_revoke(key_id: str, workspace: Path = WorkspaceOpt) -> None:
    """Revoke an API key at once."""
    from cxlens.api.keys import revoke_key

    with Workspace(workspace) as ws:
        revoke_key(ws.store, key_id)
    out.print(f"revoked {key_id}", highlight=False)


@deliveries_app.command("list")
@handle_errors
def deliveries_list(
    workspace: Path = WorkspaceOpt,
    status: str | None = typer.Option(None, help="pending, delivered or dead."),
    limit: int = typer.Option(50, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """The delivery log; `--status dead` is the dead-letter list."""
    from cxlens.signals.channels import deliveries

    with Workspace(workspace) as ws:
        frame = deliveries(ws.store, status=status, limit=limit)
    if as_json:
        _json(_records(frame))
        return
    out.print(
        _table(frame, ["delivery_id", "alert_id", "channel", "status", "attempts", "last_error"])
    )


@deliveries_app.command("retry")
@handle_errors
def deliveries_retry(
    delivery_id: str | None = typer.Argument(None, help="One delivery (default: every dead one)."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Put dead deliveries back in the queue."""
    from cxlens.signals.channels import retry_dead

    with Workspace(workspace) as ws:
        count = retry_dead(ws.store, delivery_id)
    out.print(f"{count} deliveries queued again", highlight=False)
