"""`cxlens dedupe` and `cxlens link`: matching export files on their own, no workspace needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cxlens.cli.app import JsonOpt, _json, app, err, handle_errors, out

ColumnOpt = typer.Option(
    None,
    "--column",
    "-c",
    help="Read a field from a column: field=Header (repeatable; field= ignores a guessed column).",
)
MatchEntityOpt = typer.Option(None, "--entity", help="person or account (default: by the columns).")
ThresholdOpt = typer.Option(
    0.95, min=0.01, max=1.0, help="Match probability from which two records are one."
)
TrainOpt = typer.Option(
    False, "--train", help="Train the model on the file(s) instead of using the preset one."
)

#: Fields shown to say who a record is, in this order.
_SHOWN_FIELDS = ("name", "first_name", "last_name", "email", "company", "domain", "phone")


def _columns(items: list[str] | None, option: str) -> dict[str, str | None]:
    """`--column field=Header` options as a mapping; `field=` leaves the field out."""
    mapping: dict[str, str | None] = {}
    for item in items or []:
        name, sep, column = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected field=Header, not {item!r}", param_hint=option)
        mapping[name.strip()] = column.strip() or None
    return mapping


def _shown(mapping: dict[str, str], limit: int = 4) -> list[str]:
    return [mapping[f] for f in _SHOWN_FIELDS if f in mapping][:limit]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command()
@handle_errors
def dedupe(
    file: Path = typer.Argument(..., help="CSV or Parquet export of people or accounts."),
    out_path: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Write the file with cluster_id, cluster_size and match_probability "
        "(.csv or .parquet).",
    ),
    columns: list[str] = ColumnOpt,
    entity: str = MatchEntityOpt,
    threshold: float = ThresholdOpt,
    train: bool = TrainOpt,
    show: int = typer.Option(10, help="Duplicate clusters to show."),
    as_json: bool = JsonOpt,
) -> None:
    """Find the duplicates in one export file, no workspace needed."""
    from cxlens.identity.adhoc import dedupe_file

    with err.status(f"deduplicating {file.name}"):
        result = dedupe_file(
            file,
            mapping=_columns(columns, "--column"),
            entity=entity,
            threshold=threshold,
            out=out_path,
            model="train" if train else "preset",
        )
    if as_json:
        _json(result.to_dict())
        return
    _print_notes(result.notes)
    c = result.counts
    shown = _shown(result.mapping)
    table = Table("cluster", "p", *shown, title=f"duplicates (first {show} clusters)")
    for row in result.duplicates(show).to_pylist():
        p = row["match_probability"]
        table.add_row(row["cluster_id"], f"{p:.2f}", *(_cell(row[col]) for col in shown))
    if c["duplicate_clusters"]:
        out.print(table)
    out.print(
        f"{file.name}: {c['records']:,} {result.entity.value} records, {c['clusters']:,} "
        f"distinct; {c['duplicate_clusters']:,} clusters hold "
        f"{c['records_in_duplicate_clusters']:,} records ({c['redundant_records']:,} "
        f"redundant); {c['review_pairs']:,} pairs below {result.threshold:g} worth a look "
        f"({result.model} model)",
        highlight=False,
    )
    if result.out is not None:
        out.print(f"written to {result.out}", highlight=False)


@app.command()
@handle_errors
def link(
    file_a: Path = typer.Argument(..., help="CSV or Parquet export (A)."),
    file_b: Path = typer.Argument(..., help="CSV or Parquet export (B)."),
    out_path: Path = typer.Option(
        None, "--out", "-o", help="Write the pairs across the files (.csv or .parquet)."
    ),
    columns_a: list[str] = typer.Option(
        None, "--column-a", help="As --column of `dedupe`, for file A (repeatable)."
    ),
    columns_b: list[str] = typer.Option(
        None, "--column-b", help="As --column of `dedupe`, for file B (repeatable)."
    ),
    entity: str = MatchEntityOpt,
    threshold: float = ThresholdOpt,
    train: bool = TrainOpt,
    show: int = typer.Option(10, help="Pairs to show."),
    as_json: bool = JsonOpt,
) -> None:
    """Find the records of two export files that are the same person or account."""
    from cxlens.identity.adhoc import link_files

    with err.status(f"linking {file_a.name} and {file_b.name}"):
        result = link_files(
            file_a,
            file_b,
            mapping_a=_columns(columns_a, "--column-a"),
            mapping_b=_columns(columns_b, "--column-b"),
            entity=entity,
            threshold=threshold,
            out=out_path,
            model="train" if train else "preset",
        )
    if as_json:
        _json(result.to_dict())
        return
    _print_notes(result.notes)
    c = result.counts
    shown_a, shown_b = _shown(result.mapping_a, 2), _shown(result.mapping_b, 2)
    table = Table(
        "p", "how", f"{file_a.name} row", *shown_a, f"{file_b.name} row", *shown_b,
        title=f"pairs (first {show})",
    )  # fmt: skip
    for row in result.links.slice(0, show).to_pylist():
        table.add_row(
            f"{row['probability']:.2f}", row["method"], str(row["row_a"]),
            *(_cell(row[f"a.{col}"]) for col in shown_a), str(row["row_b"]),
            *(_cell(row[f"b.{col}"]) for col in shown_b),
        )  # fmt: skip
    if c["pairs"]:
        out.print(table)
    out.print(
        f"{c['pairs']:,} pairs: {c['matched_a']:,} of {c['records_a']:,} records in "
        f"{file_a.name} and {c['matched_b']:,} of {c['records_b']:,} in {file_b.name}; "
        f"duplicates within the files: {c['duplicates_within_a']:,} and "
        f"{c['duplicates_within_b']:,}; {c['review_pairs']:,} pairs below "
        f"{result.threshold:g} worth a look ({result.model} model)",
        highlight=False,
    )
    if result.out is not None:
        out.print(f"written to {result.out}", highlight=False)
