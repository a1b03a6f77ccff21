"""Analysts' decisions: kept with who, when and why, binding every later run until undone.

A decision is turned into constraints for clustering: an accepted pair or a merge is a link
that must hold, a rejected pair or a split is a pair that must stay apart. A split also keeps
the records split out together.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cxlens.errors import IdentityError
from cxlens.schema.identity import DecisionKind
from cxlens.schema.records import Entity
from cxlens.store import Store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_decision(
    store: Store,
    kind: DecisionKind,
    entity: Entity,
    *,
    actor: str,
    reason: str | None,
    record_id_l: str | None = None,
    record_id_r: str | None = None,
    master_id: str | None = None,
    other_master_id: str | None = None,
    records: list[str] | None = None,
    others: list[str] | None = None,
) -> str:
    decision_id = "dec_" + uuid.uuid4().hex[:16]
    if record_id_l is not None and record_id_r is not None and record_id_l > record_id_r:
        record_id_l, record_id_r = record_id_r, record_id_l
    store.execute(
        "INSERT INTO identity_decisions (decision_id, kind, entity, record_id_l, record_id_r, "
        "master_id, other_master_id, records, others, actor, reason, decided_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            decision_id,
            kind.value,
            entity.value,
            record_id_l,
            record_id_r,
            master_id,
            other_master_id,
            json.dumps(records) if records is not None else None,
            json.dumps(others) if others is not None else None,
            actor,
            reason,
            _now(),
        ],
    )
    return decision_id


def undo_decision(store: Store, decision_id: str, *, actor: str, reason: str | None) -> str:
    rows = store.rows(
        "SELECT entity, undone_at FROM identity_decisions WHERE decision_id = ?", [decision_id]
    )
    if not rows:
        raise IdentityError(f"no decision {decision_id}; `cxlens review --decisions` lists them")
    if rows[0]["undone_at"] is not None:
        raise IdentityError(f"decision {decision_id} was already undone")
    store.execute(
        "UPDATE identity_decisions SET undone_at = ?, undone_by = ?, undo_reason = ? "
        "WHERE decision_id = ?",
        [_now(), actor, reason, decision_id],
    )
    return str(rows[0]["entity"])


@dataclass
class Constraints:
    must_link: pa.Table
    cannot_link: pa.Table
    #: decision id per constrained pair, so the audit log can name the decision behind a change.
    decision_of: dict[tuple[str, str], str]


def _pairs(rows: list[tuple[str, str]]) -> pa.Table:
    ordered = [(a, b) if a < b else (b, a) for a, b in rows if a != b]
    return pa.table(
        {
            "unique_id_l": pa.array([a for a, _ in ordered], pa.string()),
            "unique_id_r": pa.array([b for _, b in ordered], pa.string()),
        }
    )


def constraints(store: Store, entity: Entity) -> Constraints:
    """The live decisions of `entity` as must-link and cannot-link pairs of records."""
    rows = store.rows(
        "SELECT decision_id, kind, record_id_l, record_id_r, records, others "
        "FROM identity_decisions WHERE entity = ? AND undone_at IS NULL ORDER BY decided_at",
        [entity.value],
    )
    # Later decisions on the same pair override earlier ones.
    state: dict[tuple[str, str], tuple[str, str]] = {}

    def put(kind: str, a: str, b: str, decision: str) -> None:
        if a != b:
            state[(min(a, b), max(a, b))] = (kind, decision)

    for row in rows:
        kind, decision = row["kind"], row["decision_id"]
        if kind in (DecisionKind.ACCEPT, DecisionKind.MERGE):
            put("must", row["record_id_l"], row["record_id_r"], decision)
        elif kind == DecisionKind.REJECT:
            put("cannot", row["record_id_l"], row["record_id_r"], decision)
        elif kind == DecisionKind.SPLIT:
            out: list[str] = json.loads(row["records"] or "[]")
            stay: list[str] = json.loads(row["others"] or "[]")
            for a in out[1:]:
                put("must", out[0], a, decision)
            for a in out:
                for b in stay:
                    put("cannot", a, b, decision)
    must = [pair for pair, (k, _) in state.items() if k == "must"]
    cannot = [pair for pair, (k, _) in state.items() if k == "cannot"]
    return Constraints(_pairs(must), _pairs(cannot), {p: d for p, (_, d) in state.items()})


def list_decisions(store: Store, *, include_undone: bool = True) -> list[dict[str, Any]]:
    where = "" if include_undone else "WHERE undone_at IS NULL "
    return store.rows(f"SELECT * FROM identity_decisions {where}ORDER BY decided_at")
