"""The identity namespace of a workspace: resolve, review, decide, undo, explain.

Each decision is stored first (who, when, why), then the masters are rebuilt from the stored
links and all live decisions, so the change shows at once and holds in every later run.
"""

from __future__ import annotations

from typing import Any, Literal

from cxlens.config import IdentitySettings
from cxlens.errors import IdentityError
from cxlens.identity.decisions import list_decisions, record_decision, undo_decision
from cxlens.identity.explain import MasterExplanation, explain, find_master
from cxlens.identity.resolve import ResolveReport, resolve
from cxlens.schema.identity import DecisionKind
from cxlens.schema.records import Entity
from cxlens.store import Store


class Identity:
    def __init__(self, store: Store, settings: IdentitySettings) -> None:
        self.store = store
        self.settings = settings

    def resolve(self, *, incremental: bool = False) -> ResolveReport:
        return resolve(self.store, self.settings, mode="incremental" if incremental else "full")

    def explain(self, master_id: str) -> MasterExplanation:
        return explain(self.store, master_id)

    def review_queue(
        self, *, entity: Literal["person", "account"] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Uncertain pairs, most likely matches first, with both records side by side."""
        where, params = ("WHERE q.entity = ? ", [entity]) if entity else ("", [])
        return self.store.rows(
            "SELECT q.entity, q.record_id_l, q.record_id_r, q.probability, "
            "ll.master_id AS master_l, lr.master_id AS master_r, "
            "l.name AS name_l, l.first_name AS first_name_l, l.last_name AS last_name_l, "
            "l.email AS email_l, l.phone AS phone_l, l.company AS company_l, "
            "r.name AS name_r, r.first_name AS first_name_r, r.last_name AS last_name_r, "
            "r.email AS email_r, r.phone AS phone_r, r.company AS company_r "
            "FROM identity_review AS q "
            "JOIN source_records AS l ON l.record_id = q.record_id_l "
            "JOIN source_records AS r ON r.record_id = q.record_id_r "
            "JOIN record_links AS ll ON ll.record_id = q.record_id_l "
            "JOIN record_links AS lr ON lr.record_id = q.record_id_r "
            f"{where}ORDER BY q.probability DESC, q.record_id_l, q.record_id_r LIMIT {int(limit)}",
            params,
        )

    def decisions(self, *, include_undone: bool = True) -> list[dict[str, Any]]:
        return list_decisions(self.store, include_undone=include_undone)

    def audit(self, *, limit: int = 100) -> list[dict[str, Any]]:
        return self.store.rows(
            f"SELECT * FROM identity_audit ORDER BY changed_at DESC, audit_id LIMIT {int(limit)}"
        )

    # ---- decisions ------------------------------------------------------------------------
    def _entity_of_records(self, *record_ids: str) -> Entity:
        rows = self.store.rows(
            "SELECT record_id, entity FROM source_records WHERE record_id IN ("
            + ", ".join("?" for _ in record_ids)
            + ")",
            list(record_ids),
        )
        found = {r["record_id"]: r["entity"] for r in rows}
        missing = [r for r in record_ids if r not in found]
        if missing:
            raise IdentityError(f"no source record {', '.join(missing)}")
        entities = set(found.values())
        if len(entities) > 1:
            raise IdentityError("a person and an account cannot be one party")
        return Entity(entities.pop())

    def _apply(self) -> ResolveReport:
        return resolve(self.store, self.settings, mode="decision")

    def accept(self, record_l: str, record_r: str, *, actor: str, reason: str | None) -> str:
        """These two records are the same party: join them, now and in every later run."""
        return self._decide_pair(DecisionKind.ACCEPT, record_l, record_r, actor, reason)

    def reject(self, record_l: str, record_r: str, *, actor: str, reason: str | None) -> str:
        """These two records are not the same party: keep them apart in every later run."""
        return self._decide_pair(DecisionKind.REJECT, record_l, record_r, actor, reason)

    def _decide_pair(
        self, kind: DecisionKind, record_l: str, record_r: str, actor: str, reason: str | None
    ) -> str:
        entity = self._entity_of_records(record_l, record_r)
        with self.store.transaction():
            decision = record_decision(
                self.store, kind, entity, actor=actor, reason=reason,
                record_id_l=record_l, record_id_r=record_r,
            )  # fmt: skip
        self._apply()
        return decision

    def _records_of(self, master_id: str) -> tuple[str, Entity, list[str]]:
        current, entity = find_master(self.store, master_id)
        ids = [
            r["record_id"]
            for r in self.store.rows(
                "SELECT record_id FROM record_links WHERE master_id = ? ORDER BY record_id",
                [current],
            )
        ]
        return current, entity, ids

    def merge(self, master_a: str, master_b: str, *, actor: str, reason: str | None) -> str:
        a, entity_a, records_a = self._records_of(master_a)
        b, entity_b, records_b = self._records_of(master_b)
        if entity_a is not entity_b:
            raise IdentityError(f"{a} is a {entity_a.value} and {b} a {entity_b.value}")
        if a == b:
            raise IdentityError(f"{master_a} and {master_b} are already one master ({a})")
        with self.store.transaction():
            decision = record_decision(
                self.store, DecisionKind.MERGE, entity_a, actor=actor, reason=reason,
                record_id_l=records_a[0], record_id_r=records_b[0], master_id=a,
                other_master_id=b,
            )  # fmt: skip
        self._apply()
        return decision

    def split(self, master_id: str, records: list[str], *, actor: str, reason: str | None) -> str:
        current, entity, ids = self._records_of(master_id)
        outside = [r for r in records if r not in ids]
        if outside:
            raise IdentityError(f"{', '.join(outside)} not in {current}; its records: {ids}")
        staying = [r for r in ids if r not in records]
        if not staying:
            raise IdentityError("a split must leave at least one record in the master")
        with self.store.transaction():
            decision = record_decision(
                self.store, DecisionKind.SPLIT, entity, actor=actor, reason=reason,
                master_id=current, records=sorted(records), others=staying,
            )  # fmt: skip
        self._apply()
        return decision

    def undo(self, decision_id: str, *, actor: str, reason: str | None) -> None:
        with self.store.transaction():
            undo_decision(self.store, decision_id, actor=actor, reason=reason)
        self._apply()
