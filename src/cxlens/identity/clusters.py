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
#: Links at least this strong are analysts' decisions: they join even two accounts' people.
FORCED = 3.0
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
    def __init__(self, nodes: list[int], groups: list[int]) -> None:
        self.parent = {x: x for x in nodes}
        self.apart: dict[int, set[int]] = {x: set() for x in nodes}
        # The accounts a cluster's records belong to; more than one only after a forced merge.
        self.group: dict[int, frozenset[int]] = {
            x: frozenset([g]) if g >= 0 else frozenset() for x, g in zip(nodes, groups, strict=True)
        }

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

    def union(self, a: int, b: int, forced: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if rb in self.apart[ra]:
            return False
        ga, gb = self.group[ra], self.group[rb]
        if not forced and ga and gb and not (ga <= gb or gb <= ga):
            return False
        if len(self.apart[ra]) < len(self.apart[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.group[ra] = ga | gb
        for other in self.apart.pop(rb):
            self.apart[other].discard(rb)
            self.apart[other].add(ra)
            self.apart[ra].add(other)
        return True


def constrained_components(
    n: int,
    left: I64,
    right: I64,
    strength: F64,
    apart_left: I64,
    apart_right: I64,
    groups: I64 | None = None,
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Components that never join a pair in (`apart_left`, `apart_right`), nor two nodes of
    different `groups` (a group < 0 is none; people of two different accounts, say).

    Returns the labels and, per link, whether it was used (links skipped because of a
    rejection are reported so the review queue can show them)."""
    labels = components(n, left, right)
    used = np.ones(len(left), dtype=bool)
    conflicted = np.unique(labels[apart_left][labels[apart_left] == labels[apart_right]])
    if groups is not None and bool((groups >= 0).any()):
        grouped = groups >= 0
        pairs = np.unique(np.stack([labels[grouped], groups[grouped]]), axis=1)
        several = np.unique(pairs[0][np.concatenate([[False], pairs[0][1:] == pairs[0][:-1]])])
        conflicted = np.union1d(conflicted, several)
    if len(conflicted) == 0:
        return labels, used
    in_conflict = np.isin(labels, conflicted)
    members = np.flatnonzero(in_conflict)
    member_groups = groups[members].tolist() if groups is not None else [-1] * len(members)
    uf = _UnionFind(members.tolist(), member_groups)
    for a, b in zip(apart_left.tolist(), apart_right.tolist(), strict=True):
        if in_conflict[a] and in_conflict[b]:
            uf.forbid(a, b)
    edge_ids = np.flatnonzero(in_conflict[left])
    # Strongest first; ties by position, so the same links always give the same clusters.
    order = edge_ids[
        np.lexsort((right[edge_ids], left[edge_ids], -np.round(strength[edge_ids], 6)))
    ]
    for e in order.tolist():
        used[e] = uf.union(int(left[e]), int(right[e]), forced=bool(strength[e] >= FORCED))
    rebuilt = labels.copy()
    roots = np.array([uf.find(m) for m in members.tolist()], dtype=np.int64)
    # Relabel each rebuilt group by its smallest member so labels stay canonical.
    smallest: dict[int, int] = {}
    for m, r in zip(members.tolist(), roots.tolist(), strict=True):
        smallest[r] = min(smallest.get(r, m), m)
    rebuilt[members] = [smallest[r] for r in roots.tolist()]
    return rebuilt, used
