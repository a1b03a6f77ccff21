"""`dedupe_file`: the duplicates within one export file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cxlens.identity.adhoc.engine import (
    ModelChoice,
    _annotated,
    _checked_options,
    _linkage_counts,
    _review,
    _run,
)
from cxlens.identity.adhoc.files import read_input, write_table
from cxlens.schema.records import Entity


@dataclass
class DedupeResult:
    """A deduplicated file: its rows with their clusters, and what was done."""

    path: Path
    entity: Entity
    #: {field: column} used.
    mapping: dict[str, str]
    #: The file's columns, then cluster_id, cluster_size and match_probability, in file order.
    table: pa.Table
    #: Pairs left apart whose probability reached the review threshold (min(0.5, threshold)):
    #: row_l, key_l, row_r, key_r, probability; most likely first.
    review: pa.Table
    #: "preset" or "trained".
    model: str
    threshold: float
    counts: dict[str, int]
    out: Path | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A summary for `--json` (the tables are not included)."""
        return {
            "file": str(self.path),
            "entity": self.entity.value,
            "mapping": self.mapping,
            "model": self.model,
            "threshold": self.threshold,
            "counts": self.counts,
            "out": str(self.out) if self.out else None,
            "notes": self.notes,
        }

    def duplicates(self, clusters: int | None = None) -> pa.Table:
        """The rows of clusters with more than one row, cluster after cluster in the order the
        clusters first appear in the file (only the first `clusters` clusters, if given)."""
        sizes = np.asarray(self.table["cluster_size"].to_numpy(zero_copy_only=False))
        rows = np.flatnonzero(sizes > 1)
        ids = self.table["cluster_id"].take(pa.array(rows)).to_pylist()
        rank: dict[str, int] = {}
        for cluster_id in ids:
            rank.setdefault(cluster_id, len(rank))
        order = sorted(
            (rank[c], i) for i, c in enumerate(ids) if clusters is None or rank[c] < clusters
        )
        table: pa.Table = self.table.take(pa.array([rows[i] for _, i in order], pa.int64()))
        return table


def dedupe_file(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str | None] | None = None,
    entity: Entity | str | None = None,
    threshold: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    model: ModelChoice = "preset",
) -> DedupeResult:
    """Find the duplicates in one CSV or Parquet file.

    Columns map onto fields by their headers (`guess_mapping`), `mapping` ({field: column})
    overriding; the entity (person or account) is detected unless given. Records sharing a rule
    key (the same email; for accounts the same domain) or scored at or above `threshold` by the
    model join a cluster. `model`: "preset" or "train" (see the `cxlens.identity.adhoc` package
    docstring). With `out`, the annotated table is written as CSV or Parquet by its extension."""
    settings = _checked_options(threshold, model, out)
    f = read_input(path, mapping=mapping, entity=entity)
    run = _run([f], f.entity, settings, model)
    try:
        table = _annotated(run, f, 0)
        review = _review(run, linking=False)
    finally:
        run.engine.close()
    sizes = np.asarray(table["cluster_size"].to_numpy(zero_copy_only=False))
    clusters = len(set(table["cluster_id"].to_pylist()))
    counts = {
        "records": f.rows,
        "clusters": clusters,
        "duplicate_clusters": clusters - int((sizes == 1).sum()),
        "records_in_duplicate_clusters": int((sizes > 1).sum()),
        "redundant_records": f.rows - clusters,
        **_linkage_counts(run, review),
    }
    written = write_table(table, out) if out is not None else None
    return DedupeResult(
        path=f.path,
        entity=f.entity,
        mapping=f.mapping,
        table=table,
        review=review,
        model=run.model,
        threshold=settings.match_threshold,
        counts=counts,
        out=written,
        notes=f.notes + run.notes,
        timings=run.linkage.timings,
    )
