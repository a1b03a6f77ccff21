"""Carry a previous taxonomy over a new discovery, so analysts' work survives re-runs.

New clusters are matched one-to-one to the previous themes by the overlap of their top
terms (Hungarian assignment); a matched theme keeps its key, its analyst label and rules;
an unmatched old theme with no rules and no pin is retired; new clusters get new keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from cxlens.models.themes.taxonomy import Taxonomy, ThemeSpec, new_key

#: Least share of common top terms for a new cluster to be the same theme as an old one.
MIN_OVERLAP = 0.3


@dataclass(frozen=True)
class Found:
    """One cluster of a new discovery: its terms (readable) and a default label."""

    terms: tuple[str, ...]
    label: str


def term_overlap(a: Sequence[str], b: Sequence[str], stem: Callable[[str], str]) -> float:
    """Share of common terms, relative to the shorter list (stems compared)."""
    left, right = {stem(t) for t in a}, {stem(t) for t in b}
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def reconcile(
    previous: Taxonomy,
    seeded: Sequence[str],
    found: Sequence[Found],
    stem: Callable[[str], str],
) -> tuple[Taxonomy, list[str]]:
    """The new taxonomy, and the key of each cluster in `found` (seeded clusters come first
    and belong to the previous themes `seeded`)."""
    themes = {t.key: t for t in previous.themes}
    cluster_keys: list[str] = list(seeded)
    for key, cluster in zip(seeded, found, strict=False):
        if not themes[key].terms:
            themes[key] = replace(themes[key], terms=cluster.terms)
    rest = list(found[len(seeded) :])
    candidates = [
        t
        for t in previous.themes
        if t.key not in seeded and t.status in ("active", "merged") and t.terms
    ]
    matched: dict[int, ThemeSpec] = {}
    if rest and candidates:
        score = np.array([[term_overlap(f.terms, c.terms, stem) for c in candidates] for f in rest])
        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols, strict=True):
            if score[r, c] >= MIN_OVERLAP:
                matched[int(r)] = candidates[int(c)]
    taken = set(themes)
    for i, cluster in enumerate(rest):
        old = matched.get(i)
        if old is None:
            key = new_key("|".join(cluster.terms), taken)
            taken.add(key)
            themes[key] = ThemeSpec(key, cluster.label, cluster.terms)
        else:
            key = old.key
            label = old.label if old.renamed else cluster.label
            themes[key] = replace(old, terms=cluster.terms, label=label)
        cluster_keys.append(key)
    in_use = set(cluster_keys)
    for key, theme in list(themes.items()):
        if theme.status == "active" and key not in in_use and not theme.pinned and not theme.rules:
            themes[key] = replace(theme, status="retired")
    return Taxonomy(tuple(themes.values())), cluster_keys
