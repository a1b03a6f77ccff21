"""Reading a scorecard from YAML (or a dict), and the packaged default for a SaaS business.

Validation problems are gathered into one `ModelError` whose lines name the measure (or
segment) and the field, e.g. "measure 'nps', weight: Input should be greater than 0".
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cxlens.errors import ModelError
from cxlens.models.health.spec import Scorecard

DEFAULT_FILE = "default_scorecard.yaml"


def _where(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    """A pydantic error location in the user's words: list positions become measure names."""
    parts: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        key = loc[i]
        child = node.get(key) if isinstance(node, Mapping) else None
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if key == "measures" and isinstance(nxt, int) and isinstance(child, list):
            item = child[nxt] if nxt < len(child) else None
            name = item.get("name") if isinstance(item, Mapping) else None
            parts.append(f"measure '{name}'" if name else f"measure #{nxt + 1}")
            node, i = item, i + 2
            continue
        if key == "segments" and isinstance(nxt, str):
            parts.append(f"segment '{nxt}'")
            node = child.get(nxt) if isinstance(child, Mapping) else None
            i += 2
            continue
        parts.append(str(key))
        node, i = child, i + 1
    return ", ".join(parts)


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    out = []
    for err in exc.errors():
        where = _where(tuple(err["loc"]), data)
        message = str(err["msg"]).removeprefix("Value error, ")
        shown = err.get("input")
        if err["type"] != "value_error" and isinstance(shown, int | float | str):
            message += f" (got {shown!r})"
        # Rule messages already start with the measure's name; do not say it twice.
        out.append(message if not where or message.startswith(where) else f"{where}: {message}")
    return out


def _parse(data: Mapping[str, Any], origin: str) -> Scorecard:
    try:
        return Scorecard.model_validate(dict(data))
    except ValidationError as exc:
        detail = "".join(f"\n  - {p}" for p in _problems(exc, data))
        raise ModelError(f"scorecard {origin} is not valid:{detail}") from None


def load_scorecard(source: str | Path | Mapping[str, Any]) -> Scorecard:
    """A scorecard from a YAML file (path) or an already-read mapping.

    The file's name (without .yaml) is the scorecard's name unless it sets `name:` itself.
    """
    if isinstance(source, Mapping):
        return _parse(source, f"'{source.get('name', '(unnamed)')}'")
    path = Path(source)
    if not path.is_file():
        raise ModelError(f"scorecard file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelError(f"scorecard {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"scorecard {path} must hold a mapping with `measures:`, not {data!r}")
    data.setdefault("name", path.stem)
    return _parse(data, str(path))


def default_scorecard() -> Scorecard:
    """The packaged SaaS scorecard (usage, adoption, support, voice, payments, CSM, champion,
    renewal); a starting point to copy into a workspace and tune."""
    text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return _parse(data, f"(packaged {DEFAULT_FILE})")
