"""Stable master ids, and the merges and splits a new clustering means for them.

A cluster keeps the id most of its records had before; when an old master is divided, the part
holding most of its records keeps the id and the others get new ones. A cluster with no earlier
id takes the id its first record would have had as a provisional master, so resolving a fresh
workspace does not rename the customers ingestion already created.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    record_ids: list[str]
    #: The master id of each record, aligned with `record_ids`.
    master_ids: list[str]
    changes: list[Change] = field(default_factory=list)
    retired: set[str] = field(default_factory=set)

    @property
    def master_of(self) -> dict[str, str]:
        return dict(zip(self.record_ids, self.master_ids, strict=True))


def _unique_counts(values: I64) -> tuple[I64, I64]:
    ordered = np.sort(values, kind="stable")
    if len(ordered) == 0:
        return ordered, ordered
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts.astype(np.int64)


def assign(
    entity: Entity,
    record_ids: list[str],
    labels: I64,
    previous: Mapping[str, str] | Sequence[str | None] | pa.Array,
) -> Assignment:
    """Master id per record, given cluster `labels` (each cluster labelled by the index of its
    first record, as `clusters.components` does) and each record's `previous` master (a
    mapping, or a list aligned with `record_ids`).

    Vectorised: a million records take a few seconds."""
    # Hundreds of thousands of small objects next to million-item lists: the cyclic garbage
    # collector would rescan them over and over, for nothing (none of them form cycles).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _assign(entity, record_ids, labels, previous)
    finally:
        if enabled:
            gc.enable()


def _assign(
    entity: Entity,
    record_ids: list[str],
    labels: I64,
    previous: Mapping[str, str] | Sequence[str | None] | pa.Array,
) -> Assignment:
    n = len(record_ids)
    if isinstance(previous, Mapping):
        previous = [previous.get(r) for r in record_ids]
    prev = previous if isinstance(previous, pa.Array) else pa.array(previous, pa.string())
    has = np.asarray(prev.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    # Codes in id order, so ties go to the older id; Arrow sorts strings far faster than numpy.
    encoded = prev.filter(pa.array(has)).dictionary_encode()
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.full(n, -1, dtype=np.int64)
    codes[has] = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    unique_ids: list[str] = encoded.dictionary.take(pa.array(order)).to_pylist()
    width = max(len(unique_ids), 1)
    key = labels[has].astype(np.int64) * width + codes[has]
    voted, counts = _unique_counts(key)
    vote_label, vote_code = voted // width, voted % width
    # Most records first; ties go to the older (smaller) id, then the smaller label.
    order = np.lexsort((vote_label, vote_code, -counts))
    # Plain lists: the greedy pass touches each vote once, and list indexing is cheap.
    id_of: list[str | None] = [None] * n
    code_of = np.full(n, -2, dtype=np.int64)  # the old id a cluster kept, as a code
    code_taken = [False] * len(unique_ids)
    for label, code in zip(vote_label[order].tolist(), vote_code[order].tolist(), strict=True):
        if id_of[label] is None and not code_taken[code]:
            id_of[label] = unique_ids[code]
            code_of[label] = code
            code_taken[code] = True
    taken = {u for u, t in zip(unique_ids, code_taken, strict=True) if t}
    # Each cluster is labelled by its first record, so the labels are the records labelled
    # with their own index (and np.unique's hashing is slow on a million values).
    for label in np.flatnonzero(labels == np.arange(n)).tolist():
        if id_of[label] is not None:
            continue
        first = record_ids[label]
        candidate = provisional_id(entity, first)
        k = 1
        while candidate in taken:
            candidate = provisional_id(entity, f"{first}#{k}")
            k += 1
        id_of[label] = candidate
        taken.add(candidate)
    out = Assignment(
        record_ids=list(record_ids), master_ids=[id_of[x] or "" for x in labels.tolist()]
    )
    moved = np.flatnonzero(has & (codes != code_of[labels]))
    if len(moved):
        # Group the moved records by (old id, new cluster) with integer sorts only.
        moved = moved[np.lexsort((moved, labels[moved], codes[moved]))]
        old_codes, new_labels = codes[moved], labels[moved]
        cuts = np.flatnonzero((np.diff(old_codes) != 0) | (np.diff(new_labels) != 0)) + 1
        starts, ends = [0, *cuts.tolist()], [*cuts.tolist(), len(moved)]
        rids = [record_ids[i] for i in moved.tolist()]
        olds, news = old_codes.tolist(), new_labels.tolist()
        for a, b in zip(starts, ends, strict=True):
            was, now = unique_ids[olds[a]], id_of[news[a]] or ""
            if code_taken[olds[a]]:
                # The old master lives on with its other records: these were split off.
                out.changes.append(Change("split", was, now, rids[a:b]))
            else:
                out.changes.append(Change("merge", now, was, rids[a:b]))
    out.retired = {u for u, t in zip(unique_ids, code_taken, strict=True) if not t}
    return out
