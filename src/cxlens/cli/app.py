"""Commands. Each turns cxlens errors into a one-line message and a documented exit code."""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cxlens.errors import CxlensError
from cxlens.ingest.loader import LoadReport
from cxlens.workspace import Workspace

app = typer.Typer(
    name="cxlens",
    help="Customer intelligence: one view of every customer, from all your sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

WorkspaceOpt = typer.Option(Path("."), "--workspace", "-w", help="Workspace folder.")
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CxlensError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; the store is as it was before the interrupted load")
            raise typer.Exit(130) from None

    return wrapper


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=_default, ensure_ascii=False))


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


@app.command()
@handle_errors
def init(
    workspace: Path = WorkspaceOpt,
    name: str = typer.Option(None, help="Workspace name (default: the folder's)."),
) -> None:
    """Create cxlens.yaml (DuckDB store, no sources yet) in a folder."""
    ws = Workspace.init(workspace, name=name)
    out.print(
        f"created {ws.root / 'cxlens.yaml'}; add sources under `sources:` "
        "(see `cxlens presets`), then run `cxlens ingest`"
    )


@app.command()
@handle_errors
def presets(as_json: bool = JsonOpt) -> None:
    """List the export presets a source can name."""
    from cxlens.sources.presets import load_preset, preset_names

    items = [load_preset(n) for n in preset_names()]
    if as_json:
        _json(
            [
                {
                    "name": p.name,
                    "system": p.system,
                    "format": p.format,
                    "description": p.description,
                }
                for p in items
            ]
        )
        return
    table = Table("preset", "format", "system", "description")
    for p in items:
        table.add_row(p.name, p.format, p.system, p.description)
    out.print(table)


def _run_ingest(ws: Workspace, names: list[str] | None, quiet: bool) -> list[LoadReport]:
    targets = names or ws.source_names()
    reports: list[LoadReport] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=True,
    ) as bar:
        for name in targets:
            task = bar.add_task(f"loading {name}", total=None, rows="")

            def progress(rows: int, task: Any = task) -> None:
                bar.update(task, rows=f"{rows:,} rows")

            reports.extend(ws.ingest([name], progress=progress))
            bar.update(task, completed=1, total=1)
    return reports


def _print_reports(reports: list[LoadReport]) -> None:
    table = Table(
        "source",
        "rows read",
        "records",
        "events",
        "unchanged",
        "rejected",
        "seconds",
        title="loads",
    )
    for r in reports:
        table.add_row(
            r.source,
            f"{r.rows_read:,}",
            f"{r.records_loaded:,}",
            f"{r.events_loaded:,}",
            f"{r.records_unchanged + r.events_unchanged:,}",
            f"[red]{r.rows_rejected:,}[/]" if r.rows_rejected else "0",
            f"{r.seconds:.1f}",
        )
    out.print(table)
    if any(r.rows_rejected for r in reports):
        out.print("rejected rows are kept with their reasons: `cxlens rejects`")


@app.command()
@handle_errors
def ingest(
    sources: list[str] = typer.Argument(None, help="Sources to load (default: all)."),
    workspace: Path = WorkspaceOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Load sources into the store; each load commits whole or not at all."""
    with Workspace(workspace) as ws:
        reports = _run_ingest(ws, sources or None, quiet=as_json)
    if as_json:
        _json([r.to_dict() for r in reports])
    else:
        _print_reports(reports)


@app.command()
@handle_errors
def loads(
    workspace: Path = WorkspaceOpt,
    limit: int = typer.Option(20, help="How many, newest first."),
    as_json: bool = JsonOpt,
) -> None:
    """Show recent loads: what each read, wrote and rejected."""
    with Workspace(workspace) as ws:
        rows = ws.loads(limit)
    if as_json:
        _json(rows)
        return
    table = Table("load id", "source", "status", "read", "records", "events", "rejected")
    for column in table.columns:
        column.overflow = "fold"
    for r in rows:
        status = r["status"] if r["status"] == "committed" else f"[red]{r['status']}[/]"
        table.add_row(
            r["load_id"],
            r["source"],
            status,
            f"{r['rows_read']:,}",
            f"{r['records_loaded']:,}",
            f"{r['events_loaded']:,}",
            f"{r['rows_rejected']:,}",
        )
    out.print(table)
    for r in rows:
        if r["message"]:
            out.print(f"[red]{r['load_id']}[/]: {r['message']}", highlight=False)


@app.command()
@handle_errors
def rejects(
    workspace: Path = WorkspaceOpt,
    load: str = typer.Option(None, "--load", help="Only this load id."),
    source: str = typer.Option(None, "--source", help="Only this source."),
    limit: int = typer.Option(50, help="How many rows."),
    as_json: bool = JsonOpt,
) -> None:
    """Show rejected rows: file, row, field, value and reason."""
    with Workspace(workspace) as ws:
        rows = ws.rejects(load_id=load, source=source, limit=limit)
    if as_json:
        _json(rows)
        return
    if not rows:
        out.print("no rejected rows")
        return
    table = Table("source", "file", "row", "field", "value", "reason")
    for r in rows:
        table.add_row(
            r["source"],
            Path(r["location"]).name,
            str(r["row_number"]),
            r["field"],
            "" if r["value"] is None else str(r["value"])[:40],
            r["reason"],
        )
    out.print(table)


@app.command()
@handle_errors
def status(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Counts per table, source and event kind."""
    with Workspace(workspace) as ws:
        info = ws.status()
    if as_json:
        _json(info)
        return
    _print_status(info)


def _print_status(info: dict[str, Any]) -> None:
    out.print(
        f"[bold]{info['name']}[/] — {info['store']['backend']} store at "
        f"{info['store']['location']}",
        highlight=False,
    )
    tables = Table("table", "rows", title="tables")
    for name, count in info["tables"].items():
        tables.add_row(name, f"{count:,}")
    out.print(tables)
    sources = Table("source", "entity", "records", title="records by source")
    for r in info["records_by_source"]:
        sources.add_row(r["source"], r["entity"], f"{r['records']:,}")
    out.print(sources)
    events = Table("source", "events", "first", "last", title="events by source")
    for r in info["events_by_source"]:
        events.add_row(
            r["source"],
            f"{r['events']:,}",
            f"{r['first_event']:%Y-%m-%d}",
            f"{r['last_event']:%Y-%m-%d}",
        )
    out.print(events)
    kinds = Table("kind", "events", title="events by kind")
    for r in info["events_by_kind"]:
        kinds.add_row(r["kind"], f"{r['events']:,}")
    out.print(kinds)


@app.command()
@handle_errors
def demo(
    workspace: Path = WorkspaceOpt,
    customers: int = typer.Option(2_000, min=10, max=1_000_000, help="Customer accounts."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same company."),
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Serve the web dashboard afterwards until Ctrl-C."
    ),
    port: int = typer.Option(8000, help="Port of the dashboard."),
    as_json: bool = JsonOpt,
) -> None:
    """Generate the demo company into a workspace, load it, resolve identities, summarise."""
    from cxlens.demo import demo_identity, demo_sources, demo_value, generate_demo

    started = time.perf_counter()
    root = workspace.resolve()
    ws = Workspace.init(root, name="Demo company", exist_ok=True)
    with err.status(f"generating {customers:,} customer accounts (seed {seed})"):
        manifest = generate_demo(root, customers=customers, seed=seed)
    for name, settings in demo_sources().items():
        ws.add_source(name, settings, replace=True)
    ws.configure("identity", demo_identity())
    ws.configure("value", demo_value())
    with ws:
        reports = _run_ingest(ws, None, quiet=as_json)
        with err.status("resolving identities: records → master customers and accounts"):
            identity = ws.identity.resolve()
        with err.status("value: revenue and lifetime value"):
            revenue = ws.value.revenue()
            value = ws.value.clv()
        with err.status("voice of the customer: sentiment, themes, drivers, emerging issues"):
            # The demo company sells software: it starts from the SaaS topic library.
            ws.voc.load_library("saas", actor="demo")
            voice = ws.voc.analyse(actor="demo")
            top_driver = ws.voc.drivers("nps").query("factor_kind == 'theme'").head(1)
            emerging_now = ws.voc.emerging(periods=3)
        with err.status("early warning: back-testing and training the churn model, scoring"):
            trained = ws.risk.train()
            risk_scores = ws.risk.score()
            at_risk = ws.risk.revenue_at_risk("owner")
            ws.risk.health(days=30)
        with err.status("signals: the packaged rules over the last 30 days, alerts and tasks"):
            # "Today" is the day the risk scores were computed for (scheduled deliveries run
            # past the last thing that happened).
            today = risk_scores["as_of"].iloc[0]
            raised = ws.signals.backfill(since=today - dt.timedelta(days=30))
            open_tasks = int(ws.store.scalar("SELECT count(*) FROM tasks WHERE status = 'open'"))
        info = ws.status()
    last = revenue.waterfall.iloc[-1]
    kept = revenue.retention.iloc[-1]
    value_summary = {
        "month": str(last["month"]),
        "arr": float(last["arr"]),
        "nrr_t12m": float(kept["nrr_t12m"]),
        "grr_t12m": float(kept["grr_t12m"]),
        "logo_churn": float(last["logo_churn"]),
        "clv_12m": float(value.customers["clv"].sum()),
        "currency": revenue.currency,
    }
    voice_summary = {
        "texts": voice.texts,
        "sentiment_model": voice.sentiment_model,
        "domain_gain": voice.domain.gain if voice.domain else None,
        "themes": len(voice.themes),
        "top_nps_driver": top_driver["label"].iloc[0] if len(top_driver) else None,
        "top_nps_impact": float(top_driver["impact"].iloc[0]) if len(top_driver) else None,
        "emerging": sorted(set(emerging_now["label"])),
    }
    tested = trained.backtest
    risk_summary = {
        "model_id": trained.model_id,
        "backtest_roc_auc": tested["model"]["roc_auc"],
        "scorecard_roc_auc": tested["scorecard"].get("roc_auc"),
        "high_risk_accounts": int((risk_scores["risk_band"] == "high").sum()),
        "revenue_at_risk": float(at_risk["revenue_at_risk"].sum()),
        "subscription_at_risk": float(at_risk["subscription_at_risk"].sum()),
        "orders_at_risk": float(at_risk["orders_at_risk"].sum()),
    }
    signals_summary = {"alerts_last_30_days": raised, "open_tasks": open_tasks}
    elapsed = time.perf_counter() - started
    if as_json:
        _json(
            {
                "loads": [r.to_dict() for r in reports],
                "identity": asdict(identity),
                "value": value_summary,
                "voice": voice_summary,
                "risk": risk_summary,
                "signals": signals_summary,
                "status": info,
                "seconds": elapsed,
                "truth": str(root / "truth"),
            }
        )
        return
    _print_reports(reports)
    _print_status(info)
    people, accounts = identity.entities["person"], identity.entities["account"]
    out.print(
        f"identity: {people.records:,} person records → {people.masters:,} master customers, "
        f"{accounts.records:,} account records → {accounts.masters:,} master accounts "
        f"({identity.seconds:.0f} s); {people.review + accounts.review:,} pairs to review",
        highlight=False,
    )
    out.print(
        f"value ({value_summary['month']}): ARR {value_summary['arr']:,.0f} "
        f"{value_summary['currency']}, NRR {value_summary['nrr_t12m']:.0%} and GRR "
        f"{value_summary['grr_t12m']:.0%} over 12 months, logo churn "
        f"{value_summary['logo_churn']:.1%} this month; 12-month CLV of buyers "
        f"{value_summary['clv_12m']:,.0f} {value_summary['currency']} — see `cxlens value …`",
        highlight=False,
    )
    driver = (
        f"fixing {voice_summary['top_nps_driver']} would move NPS by about "
        f"{voice_summary['top_nps_impact']:+.1f} points"
        if voice_summary["top_nps_driver"]
        else "no NPS driver stands out"
    )
    emerging_text = ", ".join(sorted(set(emerging_now["label"]))) or "none"
    out.print(
        f"voice: {voice.texts:,} texts, {voice.domain_note}; {len(voice.themes)} themes; "
        f"{driver}; emerging now: {emerging_text} — see `cxlens voc …`",
        highlight=False,
    )
    scorecard_auc = risk_summary["scorecard_roc_auc"]
    out.print(
        f"early warning: churn within {trained.horizon_days} days, back-test ROC-AUC "
        f"{risk_summary['backtest_roc_auc']:.3f} (health scorecard "
        f"{scorecard_auc:.3f}); {risk_summary['high_risk_accounts']:,} accounts at high risk, "
        f"revenue at risk {risk_summary['revenue_at_risk']:,.0f} {value_summary['currency']} "
        "— see `cxlens risk …`"
        if scorecard_auc is not None
        else f"early warning: back-test ROC-AUC {risk_summary['backtest_roc_auc']:.3f}",
        highlight=False,
    )
    out.print(
        f"signals: the packaged rules raised {raised:,} alerts over the last 30 days, "
        f"{open_tasks:,} playbook tasks open — see `cxlens alerts`, `cxlens tasks list`, "
        "`cxlens serve`",
        highlight=False,
    )
    out.print(
        f"demo company ({manifest.customers:,} accounts, seed {seed}) loaded in "
        f"{elapsed:.0f} s; ground truth in {root / 'truth'}",
        highlight=False,
    )
    if serve:
        _serve_dashboard(root, port)


def _serve_dashboard(root: Path, port: int) -> None:
    """Serve the dashboard on loopback with a fresh admin key, printed once as a sign-in link."""
    import uvicorn

    from cxlens.api.app import create_app
    from cxlens.api.keys import create_key

    with Workspace(root) as ws:
        key = create_key(ws.store, "demo dashboard", "admin")
    out.print(
        f"dashboard: http://127.0.0.1:{port}/login?key={key}\n"
        f"(API docs at http://127.0.0.1:{port}/docs; the same key works as a Bearer token; "
        "Ctrl-C stops it)",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(create_app(root), host="127.0.0.1", port=port, log_level="warning")
