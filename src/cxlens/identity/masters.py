"""Stable master ids, and the merges and splits a new clustering means for them.

A cluster keeps the id most of its records had before; when an old master is divided, the part
holding most of its records keeps the id and the others get new ones. A cluster with no earlier
id takes the id its first record would have had as a provisional master, so resolving a fresh
workspace does not rename the customers ingestion already created.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from cxlens.identity.clusters import I64
from cxlens.schema.records import Entity

PREFIX = {Entity.PERSON: "cus_", Entity.ACCOUNT: "acc_"}


def provisional_id(entity: Entity, record_id: str) -> str:
    """The id ingestion gives a record's singleton master (see identity.provisional)."""
    return PREFIX[entity] + hashlib.md5(record_id.encode()).hexdigest()[:16]  # noqa: S324


@dataclass
class Change:
    action: str  # merge | split
    master_id: str
    other_master_id: str
    record_ids: list[str]


@dataclass
class Assignment:
    master_of: dict[str, str]
    changes: list[Change] = field(default_factory=list)
    retired: set[str] = field(default_factory=set)
    changed_masters: set[str] = field(default_factory=set)


def assign(
    entity: Entity, record_ids: list[str], labels: I64, previous: dict[str, str]
) -> Assignment:
    """Master id per record, given cluster `labels` and each record's `previous` master."""
    members: dict[int, list[str]] = defaultdict(list)
    for rid, label in zip(record_ids, labels.tolist(), strict=True):
        members[label].append(rid)
    votes: list[tuple[int, str, int]] = []
    for label, rids in members.items():
        counts = Counter(previous[r] for r in rids if r in previous)
        votes.extend((n, old, label) for old, n in counts.items())
    # Most records first; ties go to the older (smaller) id, then the smaller cluster label.
    votes.sort(key=lambda v: (-v[0], v[1], v[2]))
    id_of: dict[int, str] = {}
    taken: set[str] = set()
    for _, old, label in votes:
        if label not in id_of and old not in taken:
            id_of[label] = old
            taken.add(old)
    for label, rids in sorted(members.items()):
        if label in id_of:
            continue
        first = min(rids)
        candidate = provisional_id(entity, first)
        k = 1
        while candidate in taken:
            candidate = provisional_id(entity, f"{first}#{k}")
            k += 1
        id_of[label] = candidate
        taken.add(candidate)

    out = Assignment(master_of={})
    old_members: dict[str, list[str]] = defaultdict(list)
    for rid in record_ids:
        if rid in previous:
            old_members[previous[rid]].append(rid)
    for label, rids in members.items():
        for r in rids:
            out.master_of[r] = id_of[label]
    for label, rids in members.items():
        new_id = id_of[label]
        absorbed: dict[str, list[str]] = defaultdict(list)
        for r in rids:
            prior = previous.get(r)
            if prior != new_id:
                out.changed_masters.add(new_id)
                if prior is not None:
                    absorbed[prior].append(r)
        for old, moved in sorted(absorbed.items()):
            if any(out.master_of[r] == old for r in old_members[old]):
                # The old master lives on with its other records: these were split off.
                out.changes.append(Change("split", old, new_id, sorted(moved)))
                out.changed_masters.add(old)
            else:
                out.changes.append(Change("merge", new_id, old, sorted(moved)))
    still_used = set(id_of.values())
    out.retired = {old for old in old_members if old not in still_used}
    return out


def label_array(values: list[int]) -> I64:
    return np.asarray(values, dtype=np.int64)
