"""The theme taxonomy as kept in the store: every version, who made it and how.

Analysts' edits (rename, merge, split, pin, rules) and each discovery run save a new version;
the newest is the taxonomy in force. Nothing is overwritten, so any change can be looked up
and an earlier taxonomy restored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cxlens.models.themes import Taxonomy
from cxlens.schema.voc import VOC_TAXONOMY
from cxlens.store import Store
from cxlens.store.base import arrow_schema


@dataclass(frozen=True)
class TaxonomyVersion:
    version: int
    changed_at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]
    taxonomy: Taxonomy


def current(store: Store) -> TaxonomyVersion | None:
    """The taxonomy in force, or None before the first discovery."""
    rows = store.rows(
        "SELECT version, changed_at, actor, action, detail, taxonomy FROM voc_taxonomy "
        "ORDER BY version DESC LIMIT 1"
    )
    return _version(rows[0]) if rows else None


def history(store: Store) -> list[TaxonomyVersion]:
    rows = store.rows(
        "SELECT version, changed_at, actor, action, detail, taxonomy FROM voc_taxonomy "
        "ORDER BY version"
    )
    return [_version(r) for r in rows]


def save(
    store: Store, taxonomy: Taxonomy, *, actor: str, action: str, detail: Mapping[str, Any]
) -> int:
    """Store `taxonomy` as the next version; returns its number. Call inside a transaction
    when it must land together with other results."""
    latest = store.scalar("SELECT max(version) FROM voc_taxonomy")
    version = int(latest or 0) + 1
    row = {
        "version": [version],
        "changed_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        "actor": [actor],
        "action": [action],
        "detail": [json.dumps(dict(detail), default=str)],
        "taxonomy": [taxonomy.to_json()],
    }
    store.append(VOC_TAXONOMY, pa.table(row, schema=arrow_schema(VOC_TAXONOMY)))
    return version


def _version(row: Mapping[str, Any]) -> TaxonomyVersion:
    detail = row["detail"]
    return TaxonomyVersion(
        version=int(row["version"]),
        changed_at=row["changed_at"],
        actor=str(row["actor"]),
        action=str(row["action"] or ""),
        detail=json.loads(detail) if isinstance(detail, str) and detail else {},
        taxonomy=Taxonomy.from_json(str(row["taxonomy"])),
    )
