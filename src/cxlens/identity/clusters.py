"""Clustering linked records into masters, honouring analysts' "these two are not the same".

Connected components over the accepted links, computed with vectorised union-find (hooking and
pointer jumping over numpy arrays), so a million records cluster in well under a second. Any
component that would hold a pair an analyst rejected is rebuilt greedily: links are added from
the most to the least certain and a link is skipped when it would join the two sides of a
rejection. The rejected pair then stays apart however many weaker paths connect it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def components(n: int, left: I64, right: I64) -> I64:
    """Component label (the smallest member index) of each of `n` nodes."""
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        la, lb = labels[left], labels[right]
        low = np.minimum(la, lb)
        before = labels.copy()
        np.minimum.at(labels, la, low)
        np.minimum.at(labels, lb, low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


class _UnionFind:
    def __init__(self, nodes: list[int]) -> None:
        self.parent = {x: x for x in nodes}
        self.apart: dict[int, set[int]] = {x: set() for x in nodes}

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def forbid(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.apart[ra].add(rb)
        self.apart[rb].add(ra)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if rb in self.apart[ra]:
            return False
        if len(self.apart[ra]) < len(self.apart[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        for other in self.apart.pop(rb):
            self.apart[other].discard(rb)
            self.apart[other].add(ra)
            self.apart[ra].add(other)
        return True


def constrained_components(
    n: int, left: I64, right: I64, strength: F64, apart_left: I64, apart_right: I64
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Components that never join a pair in (`apart_left`, `apart_right`).

    Returns the labels and, per link, whether it was used (links skipped because of a
    rejection are reported so the review queue can show them)."""
    labels = components(n, left, right)
    used = np.ones(len(left), dtype=bool)
    if len(apart_left) == 0:
        return labels, used
    conflicted = np.unique(labels[apart_left][labels[apart_left] == labels[apart_right]])
    if len(conflicted) == 0:
        return labels, used
    in_conflict = np.isin(labels, conflicted)
    members = np.flatnonzero(in_conflict)
    uf = _UnionFind(members.tolist())
    for a, b in zip(apart_left.tolist(), apart_right.tolist(), strict=True):
        if in_conflict[a] and in_conflict[b]:
            uf.forbid(a, b)
    edge_ids = np.flatnonzero(in_conflict[left])
    order = edge_ids[np.argsort(-strength[edge_ids], kind="stable")]
    for e in order.tolist():
        used[e] = uf.union(int(left[e]), int(right[e]))
    rebuilt = labels.copy()
    roots = np.array([uf.find(m) for m in members.tolist()], dtype=np.int64)
    # Relabel each rebuilt group by its smallest member so labels stay canonical.
    smallest: dict[int, int] = {}
    for m, r in zip(members.tolist(), roots.tolist(), strict=True):
        smallest[r] = min(smallest.get(r, m), m)
    rebuilt[members] = [smallest[r] for r in roots.tolist()]
    return rebuilt, used
