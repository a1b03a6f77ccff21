"""The canonical model as Markdown, so docs/data-model.md is generated, never out of date."""

from __future__ import annotations

from cxlens.schema.columns import Table
from cxlens.schema.events import KIND_SPECS
from cxlens.schema.tables import TABLES

BEGIN = "<!-- BEGIN GENERATED: cxlens.schema.reference -->"
END = "<!-- END GENERATED -->"


def _table(t: Table) -> list[str]:
    key = f" Key: `{', '.join(t.key)}`." if t.key else ""
    lines = [
        f"### `{t.name}`",
        "",
        f"{t.doc}{key}",
        "",
        "| column | type | required | meaning |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.name}` | {c.type.value} | {'yes' if not c.nullable else ''} | {c.doc} |"
        for c in t.columns
    ]
    return [*lines, ""]


def markdown() -> str:
    lines = ["## Tables", ""]
    for t in TABLES:
        lines += _table(t)
    lines += [
        "## Event kinds",
        "",
        "| kind | actions | department | journey stage | required | properties |",
        "|---|---|---|---|---|---|",
    ]
    for kind, spec in KIND_SPECS.items():
        props = ", ".join(f"`{p}` ({t.value})" for p, t in spec.properties.items())
        stage = spec.journey_stage.value if spec.journey_stage else "set per event"
        lines.append(
            f"| `{kind.value}` | {', '.join(sorted(spec.actions))} | {spec.department.value} | "
            f"{stage} | {', '.join(spec.required) or '—'} | {props} |"
        )
    lines.append("")
    lines += [f"- **{kind.value}**: {spec.doc}" for kind, spec in KIND_SPECS.items()]
    return "\n".join(lines) + "\n"
