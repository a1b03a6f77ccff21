"""`cxlens voc …`: the voice of the customer."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, WorkspaceOpt, _json, app, handle_errors, out
from cxlens.cli.identity import _actor
from cxlens.cli.value import _records
from cxlens.workspace import Workspace

voc_app = typer.Typer(
    help="Voice of the customer: satisfaction, sentiment, themes, drivers, emerging issues.",
    no_args_is_help=True,
)
app.add_typer(voc_app, name="voc")
theme_app = typer.Typer(
    help="Curate the theme taxonomy: rename, merge, split, pin, rules.", no_args_is_help=True
)
voc_app.add_typer(theme_app, name="theme")
ByOpt = typer.Option(None, "--by", help="Who makes the change (default: your user name).")
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


def _num(value: Any, fmt: str = "{:.1f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.format(value)


@voc_app.command("analyse")
@handle_errors
def analyse_texts(
    workspace: Path = WorkspaceOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Analyse without storing the run."),
    as_json: bool = JsonOpt,
) -> None:
    """Sentiment and themes of every text; drivers and emerging issues; stored as a run."""
    with Workspace(workspace) as ws:
        say = None if as_json else (lambda step: out.print(f"[dim]{step}…[/dim]"))
        run = ws.voc.analyse(save=not dry_run, progress=say)
    summary = {
        "run_id": run.run_id,
        "as_of": run.as_of,
        "texts": run.texts,
        "sentiment_model": run.sentiment_model,
        "taxonomy_version": run.taxonomy_version,
        **run.metrics(),
    }
    if as_json:
        _json(summary)
        return
    out.print(f"{run.texts:,} texts analysed (run {run.run_id or 'not stored'}).")
    out.print(f"sentiment: {run.domain_note}.")
    languages = ", ".join(f"{k} {v:,}" for k, v in list(run.languages.items())[:6])
    out.print(f"languages: {languages}; {run.unsupported:,} texts flagged as not supported.")
    out.print(f"{len(run.themes)} themes; {summary['emerging']} emerging signals over the history.")
    out.print("See `cxlens voc themes`, `voc drivers`, `voc emerging`.")


@voc_app.command("runs")
@handle_errors
def runs(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Text-analytics runs, oldest first."""
    with Workspace(workspace) as ws:
        frame = ws.voc.runs()
    if as_json:
        _json(_records(frame))
        return
    table = Table("run", "ran at", "texts", "sentiment", "taxonomy v.")
    for row in frame.to_dict(orient="records"):
        table.add_row(
            row["run_id"], str(row["ran_at"])[:19], f"{row['texts']:,}",
            row["sentiment_model"], str(row["taxonomy_version"]),
        )  # fmt: skip
    out.print(table)


@voc_app.command("themes")
@handle_errors
def themes(
    workspace: Path = WorkspaceOpt,
    run: str = typer.Option(None, help="Run id (default: the latest)."),
    quotes: bool = typer.Option(True, help="Show a representative quote per theme."),
    as_json: bool = JsonOpt,
) -> None:
    """Themes with label, top terms, volume, negativity and quotes."""
    with Workspace(workspace) as ws:
        frame = ws.voc.themes(run)
    if as_json:
        _json(_records(frame))
        return
    table = Table("theme", "label", "texts", "share", "negative", "top terms")
    if quotes:
        table.add_column("quote")
    for row in frame.to_dict(orient="records"):
        cells = [
            row["theme_key"] + (" 📌" if row["pinned"] else ""), row["label"],
            f"{row['texts']:,}", f"{row['share']:.1%}", _num(row["negative_share"], "{:.0%}"),
            ", ".join(row["terms"][:6]),
        ]  # fmt: skip
        if quotes:
            cells.append(row["quote_texts"][0][:90] if row["quote_texts"] else "")
        table.add_row(*cells)
    out.print(table)


@voc_app.command("drivers")
@handle_errors
def drivers(
    workspace: Path = WorkspaceOpt,
    target: str = typer.Option(None, help="nps, csat or churn (default: all)."),
    run: str = typer.Option(None, help="Run id (default: the latest)."),
    top: int = typer.Option(5, min=1, help="Factors per target and kind."),
    as_json: bool = JsonOpt,
) -> None:
    """What moves NPS, CSAT and churn: "fixing X would move NPS by about Y"."""
    if target is not None and target not in ("nps", "csat", "churn"):
        raise typer.BadParameter(f"--target must be nps, csat or churn; got {target}")
    with Workspace(workspace) as ws:
        frame = ws.voc.drivers(target, run)  # type: ignore[arg-type]
    if as_json:
        _json(_records(frame))
        return
    for (name, kind), group in frame.groupby(["target", "factor_kind"], sort=False):
        if kind != "theme_praise":
            praise = frame[(frame["target"] == name) & (frame["factor_kind"] == "theme_praise")]
            _print_drivers(str(name), str(kind), group, top, praise if kind == "theme" else None)


def _print_drivers(target: str, kind: str, group: Any, top: int, praise: Any = None) -> None:
    """Gains first ("fixing X would move NPS by about +Y"), then what holds the target up."""
    churn = target == "churn"
    metric = "churn" if churn else target.upper()
    # For churn a fix *lowers* the rate: a negative impact is the gain.
    gain = -group["impact"] if churn else group["impact"]
    ordered = group.assign(gain=gain).sort_values("gain", ascending=False)
    unit = "accounts" if churn else "answers"
    out.print(f"\n[bold]{metric}[/bold] by {kind} (now {group['base'].iloc[0]:.1f})")
    helps = ordered[ordered["gain"] > 0].head(top)
    for row in helps.to_dict(orient="records"):
        what = "fixing" if kind == "theme" else "bringing up to the others' level"
        out.print(
            f"  {what} [cyan]{row['label']}[/cyan] would move {metric} by about "
            f"{row['impact']:+.1f} points (90% interval {row['impact_low']:+.1f} to "
            f"{row['impact_high']:+.1f}; {row['n']:,} {unit}, {row['share']:.0%})",
            highlight=False,
        )
    if praise is not None and len(praise):
        holds = praise.sort_values("impact").head(min(top, 3))
        what = "praise of"
    else:
        holds = ordered[ordered["gain"] < 0].tail(min(top, 3)).iloc[::-1]
        what = "lower churn where they voice" if churn else "above the others:"
    for row in holds.to_dict(orient="records"):
        if row["impact"] >= 0:
            continue
        out.print(
            f"  strength: {what} [green]{row['label']}[/green] ({row['impact']:+.1f} points "
            f"without it; {row['n']:,} {unit})",
            highlight=False,
        )
    if helps.empty and holds.empty:
        out.print("  nothing moves it measurably")


@voc_app.command("emerging")
@handle_errors
def emerging(
    workspace: Path = WorkspaceOpt,
    periods: int = typer.Option(4, min=1, help="Look at the last N periods."),
    run: str = typer.Option(None, help="Run id (default: the latest)."),
    all_tests: bool = typer.Option(False, "--all", help="Every test, not only flagged ones."),
    as_json: bool = JsonOpt,
) -> None:
    """Themes whose volume or negativity rose above their baseline, with the test."""
    with Workspace(workspace) as ws:
        frame = ws.voc.emerging(run, periods=periods, all_tests=all_tests)
    if as_json:
        _json(_records(frame))
        return
    if frame.empty:
        out.print(f"No emerging issue in the last {periods} periods.")
        return
    table = Table("period", "theme", "signal", "observed", "expected", "ratio", "q", "")
    for row in frame.to_dict(orient="records"):
        table.add_row(
            str(row["period_start"])[:10], row["label"], row["signal"], f"{row['observed']:,}",
            f"{row['expected']:.1f}", f"{row['ratio']:.1f}×", f"{row['q_value']:.2g}",
            "emerging" if row["emerging"] else "",
        )  # fmt: skip
    out.print(table)


@voc_app.command("texts")
@handle_errors
def texts(
    workspace: Path = WorkspaceOpt,
    customer: str = typer.Option(None, help="Master customer id."),
    theme: str = typer.Option(None, help="Theme key."),
    sentiment: str = typer.Option(None, help="negative, neutral or positive."),
    limit: int = typer.Option(20, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Texts with their language, sentiment and theme, newest first."""
    with Workspace(workspace) as ws:
        frame = ws.voc.texts(customer=customer, theme=theme, sentiment=sentiment, limit=limit)
    if as_json:
        _json(_records(frame))
        return
    table = Table("when", "kind", "sentiment", "theme", "text")
    for row in frame.to_dict(orient="records"):
        mood = row["sentiment"] or f"({row['language']}, not scored)"
        table.add_row(
            str(row["occurred_at"])[:10], row["kind"], mood, row["theme_key"] or "",
            str(row["text"])[:100],
        )  # fmt: skip
    out.print(table)


def _edited(version: int, ws_path: Path) -> None:
    out.print(
        f"taxonomy version {version} saved; `cxlens voc analyse -w {ws_path}` re-assigns the texts."
    )


@theme_app.command("rename")
@handle_errors
def theme_rename(key: str, label: str, workspace: Path = WorkspaceOpt, by: str = ByOpt) -> None:
    """Give a theme a name of your own; later runs keep it."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.rename(key, label, actor=_actor(by)), workspace)


@theme_app.command("merge")
@handle_errors
def theme_merge(
    keys: list[str] = typer.Argument(..., help="Two or more theme keys."),
    into: str = typer.Option(None, help="The key that survives (default: the first)."),
    label: str = typer.Option(None, help="Label of the merged theme."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Merge themes into one."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.merge(keys, into=into, label=label, actor=_actor(by)), workspace)


@theme_app.command("split")
@handle_errors
def theme_split(
    key: str,
    parts: int = typer.Option(2, min=2, max=10, help="Into how many themes."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Split a theme by re-clustering its texts."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.split(key, parts=parts, actor=_actor(by)), workspace)


@theme_app.command("pin")
@handle_errors
def theme_pin(
    key: str,
    unpin: bool = typer.Option(False, "--unpin", help="Let discovery change or retire it again."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Pin a theme: discovery keeps it as it is, even when it goes quiet."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.pin(key, pinned=not unpin, actor=_actor(by)), workspace)


@theme_app.command("rule")
@handle_errors
def theme_rule(
    key: str,
    pattern: str = typer.Argument(
        ..., help='A word or phrase ("late flight", "refund*") or re:REGEX.'
    ),
    remove: bool = typer.Option(False, "--remove", help="Remove the rule instead."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Add a keyword rule: texts that match it belong to the theme."""
    with Workspace(workspace) as ws:
        voc = ws.voc
        if remove:
            version = voc.remove_rule(key, pattern, actor=_actor(by))
        else:
            version = voc.add_rule(key, pattern, actor=_actor(by))
        _edited(version, workspace)


@theme_app.command("add")
@handle_errors
def theme_add(
    label: str,
    rule: list[str] = typer.Option(..., "--rule", help="Keyword rule (repeatable)."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Define a theme of your own by its keyword rules (pinned)."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.add_theme(label, rule, actor=_actor(by)), workspace)


@theme_app.command("library")
@handle_errors
def theme_library(
    name: str = typer.Argument(..., help="saas or ecommerce."),
    workspace: Path = WorkspaceOpt,
    by: str = ByOpt,
) -> None:
    """Start from an industry's topic library: its themes as keyword rules you can edit."""
    with Workspace(workspace) as ws:
        _edited(ws.voc.load_library(name, actor=_actor(by)), workspace)


@theme_app.command("history")
@handle_errors
def theme_history(workspace: Path = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Every version of the taxonomy: who changed what, when."""
    with Workspace(workspace) as ws:
        versions = ws.voc.taxonomy_history()
    rows = [
        {"version": v.version, "changed_at": v.changed_at, "actor": v.actor, "action": v.action,
         "detail": v.detail, "themes": len(v.taxonomy.active())}
        for v in versions
    ]  # fmt: skip
    if as_json:
        _json(rows)
        return
    table = Table("version", "when", "who", "action", "detail", "themes")
    for r in rows:
        table.add_row(
            str(r["version"]), str(r["changed_at"])[:19], str(r["actor"]), str(r["action"]),
            str(r["detail"])[:80], str(r["themes"]),
        )  # fmt: skip
    out.print(table)
