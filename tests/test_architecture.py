"""The layers stay layered: each package imports only what sits below it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "cxlens"

# What each part of cxlens may import from cxlens (besides itself, errors and schema).
ALLOWED: dict[str, set[str]] = {
    "schema": set(),
    "errors": set(),
    "config": {"sources"},
    # The store compiles mappings into its ingest engine's SQL: it reads the mapping language.
    "sources": {"config"},
    "store": {"config", "sources"},
    "identity": {"config", "store"},
    "ingest": {"config", "identity", "sources", "store"},
    "demo": set(),
    # Metrics are computed from frames the store hands over.
    "metrics": {"config", "models", "store"},
    # Models take arrays and frames and return scores: no store, no config.
    "models": set(),
    # Voice of the customer runs models over frames the store hands over, and keeps the results.
    "voc": {"config", "metrics", "models", "store"},
    # Early warning trains models on point-in-time frames and reads revenue for ARR.
    "risk": {"config", "metrics", "models", "store"},
    # Signals judge events against profiles built from value, health and risk in the store,
    # match identities incrementally, and score text sentiment with the lexicon model.
    "signals": {"config", "identity", "models", "store"},
    "workspace": {
        "config",
        "identity",
        "ingest",
        "metrics",
        "risk",
        "signals",
        "sources",
        "store",
        "story",
        "voc",
    },
    # Surfaces: the HTTP API and the command line over the same workspace.
    # The book of business reads value, health, risk and alerts from the store.
    "book": {"config", "metrics", "store"},
    "story": {"config", "identity", "metrics", "models", "store"},
    "web": set(),
    "api": {
        "workspace",
        "signals",
        "store",
        "config",
        "book",
        "story",
        "web",
        "metrics",
        "voc",
        "risk",
    },
    "cli": {"workspace", "identity", "ingest", "metrics", "sources", "demo", "signals", "api"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cxlens."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cxlens."):
                    found.add(alias.name.split(".")[1])
    return found


def test_dependencies_point_one_way() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        if part == "__init__":
            continue
        allowed = ALLOWED.get(part)
        assert allowed is not None, f"{path.relative_to(PACKAGE)}: add its layer to ALLOWED"
        for imported in _imports(path) - {part, "errors", "schema"}:
            if imported not in allowed:
                problems.append(f"{path.relative_to(PACKAGE)} imports cxlens.{imported}")
    assert problems == []


def test_importing_cxlens_stays_light() -> None:
    code = (
        "import sys, cxlens; heavy = {'duckdb', 'pandas', 'pyarrow', 'psycopg', 'sqlglot'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
