"""Spherical k-means on unit LSA vectors, the choice of k, and c-TF-IDF theme terms.

Seeded centres (from pinned or analyst themes) go first and stay in their slots, so the
cluster that grows around an analyst's seed terms is that analyst's theme by construction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.metrics import silhouette_score

from cxlens.models.themes.features import F64, unit_rows

I64 = npt.NDArray[np.int64]


def _plusplus(z: F64, k: int, rng: np.random.Generator) -> F64:
    """k-means++ starting centres under cosine distance."""
    centres = [z[rng.integers(len(z))]]
    distance = 1.0 - z @ centres[0]
    for _ in range(1, k):
        weights = np.maximum(distance, 0.0) ** 2
        total = weights.sum()
        pick = rng.integers(len(z)) if total <= 0 else rng.choice(len(z), p=weights / total)
        centres.append(z[pick])
        distance = np.minimum(distance, 1.0 - z @ z[pick])
    return np.array(centres)


def _lloyd(z: F64, centres: F64, iterations: int) -> tuple[I64, F64, float]:
    labels = np.full(len(z), -1, dtype=np.int64)
    for _ in range(iterations):
        similarity = z @ centres.T
        new = np.asarray(similarity.argmax(axis=1), dtype=np.int64)
        if np.array_equal(new, labels):
            break
        labels = new
        member = sp.csr_matrix(
            (np.ones(len(z)), (labels, np.arange(len(z)))), shape=(len(centres), len(z))
        )
        sums = np.asarray(member @ z)
        empty = ~sums.any(axis=1)
        sums[empty] = centres[empty]  # an emptied cluster keeps its centre (seeds stay put)
        centres = unit_rows(sums)
    cohesion = float((z * centres[labels]).sum())
    return labels, centres, cohesion


def spherical_kmeans(
    z: F64,
    k: int,
    *,
    seeds: F64 | None = None,
    random_state: int = 0,
    n_init: int = 4,
    iterations: int = 60,
) -> tuple[I64, F64]:
    """Labels and unit centres of `k` clusters of the unit rows `z` (cosine k-means); the
    best of `n_init` starts by total cosine to the centres."""
    rng = np.random.default_rng(random_state)
    n_seeds = 0 if seeds is None else len(seeds)
    best: tuple[I64, F64, float] | None = None
    for _ in range(n_init):
        start = _plusplus(z, k - n_seeds, rng) if k > n_seeds else np.zeros((0, z.shape[1]))
        if seeds is not None and n_seeds:
            start = np.vstack([seeds, start])
        result = _lloyd(z, start, iterations)
        if best is None or result[2] > best[2]:
            best = result
    if best is None:
        raise ValueError("n_init must be at least 1")
    return best[0], best[1]


def choose_k(z: F64, k_min: int, k_max: int, random_state: int = 0, sample: int = 3_000) -> int:
    """The fewest themes in [k_min, k_max] whose cosine silhouette (on a sample of `z`) is
    within 10% of the best: on short texts the silhouette creeps up with k, and analysts
    read every theme, so a little separation is not worth another theme."""
    rng = np.random.default_rng(random_state)
    rows = z if len(z) <= sample else z[rng.choice(len(z), sample, replace=False)]
    k_max = min(k_max, len(rows) - 1)
    if k_max <= k_min:
        return max(1, min(k_min, len(rows) - 1))
    scores: dict[int, float] = {}
    for k in range(k_min, k_max + 1):
        labels, _ = spherical_kmeans(rows, k, random_state=random_state, n_init=2)
        if len(np.unique(labels)) > 1:
            scores[k] = float(silhouette_score(rows, labels, metric="cosine"))
    if not scores:
        return k_min
    best = max(scores.values())
    return min(k for k, s in scores.items() if s >= 0.9 * best)


def class_tfidf(counts: sp.csr_matrix, labels: I64, k: int) -> F64:
    """c-TF-IDF (Grootendorst 2022): words frequent in one theme and rare across themes."""
    inside = np.flatnonzero(labels >= 0)
    member = sp.csr_matrix((np.ones(len(inside)), (labels[inside], inside)), shape=(k, len(labels)))
    per_class = np.asarray((member @ counts).todense(), dtype=np.float64)
    sizes = per_class.sum(axis=1, keepdims=True)
    tf = np.divide(per_class, sizes, out=np.zeros_like(per_class), where=sizes > 0)
    average = per_class.sum() / max(k, 1)
    idf = np.log1p(average / np.maximum(per_class.sum(axis=0), 1.0))
    return np.asarray(tf * idf[None, :])
