"""`link_files`: the records of two export files that are the same person or account."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxlens.errors import ConfigError
from cxlens.identity.adhoc.engine import (
    ModelChoice,
    _annotated,
    _checked_options,
    _entity_table,
    _linkage_counts,
    _review,
    _Run,
    _run,
)
from cxlens.identity.adhoc.files import _PLURAL, _ROW, _quote, _stem, read_input, write_table
from cxlens.identity.linkage import RULES
from cxlens.schema.records import Entity


@dataclass
class LinkResult:
    """Two files linked: the pairs across them, and each file with its clusters."""

    path_a: Path
    path_b: Path
    entity: Entity
    mapping_a: dict[str, str]
    mapping_b: dict[str, str]
    #: One row per pair (record of A, record of B) in the same cluster: cluster_id,
    #: probability, method, row_a, key_a, row_b, key_b, then the mapped columns of A prefixed
    #: "a." and of B prefixed "b.". See `link_files` for what probability means.
    links: pa.Table
    #: Each file with cluster_id, cluster_size and match_probability (clusters span both).
    table_a: pa.Table
    table_b: pa.Table
    #: Pairs across the files left apart whose probability reached the review threshold:
    #: row_a, key_a, row_b, key_b, probability.
    review: pa.Table
    model: str
    threshold: float
    counts: dict[str, int]
    out: Path | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A summary for `--json` (the tables are not included)."""
        return {
            "file_a": str(self.path_a),
            "file_b": str(self.path_b),
            "entity": self.entity.value,
            "mapping_a": self.mapping_a,
            "mapping_b": self.mapping_b,
            "model": self.model,
            "threshold": self.threshold,
            "counts": self.counts,
            "out": str(self.out) if self.out else None,
            "notes": self.notes,
        }


def _strongest_chains(
    members: dict[str, int], edges: list[tuple[float, str, str]]
) -> dict[tuple[str, str], float]:
    """For each (A record, B record) pair that `edges` join, the weakest link of the strongest
    chain between them: links are added from the most to the least certain, and the link that
    first joins the two is that weakest link. `members` gives each record's file (0 or 1)."""
    parent = {m: m for m in members}
    sides = {m: ([m], []) if f == 0 else ([], [m]) for m, f in members.items()}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    out: dict[tuple[str, str], float] = {}
    for prob, left, right in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        ra, rb = find(left), find(right)
        if ra == rb:
            continue
        (a1, b1), (a2, b2) = sides[ra], sides.pop(rb)
        out.update({(x, y): prob for x in a1 for y in b2})
        out.update({(x, y): prob for x in a2 for y in b1})
        a1.extend(a2)
        b1.extend(b2)
        parent[rb] = ra
    return out


def _cross_pairs(run: _Run, entity: Entity) -> pa.Table:
    """The (A, B) pairs in each cluster with the probability and method that joined them."""
    rows = run.engine.sql(
        "SELECT unique_id, file_index, label FROM _members WHERE label IN ("
        "SELECT label FROM _members GROUP BY label HAVING count(DISTINCT file_index) = 2)"
    ).fetchall()
    clusters: dict[int, dict[str, int]] = {}
    for uid, file_index, label in rows:
        clusters.setdefault(label, {})[uid] = file_index
    cluster_of = {uid: label for uid, _, label in rows}
    edges: dict[int, list[tuple[float, str, str]]] = {}
    direct: dict[tuple[str, str], tuple[float, str]] = {}
    links = run.linkage.links
    for left, right, method, prob in zip(
        links["unique_id_l"].to_pylist(),
        links["unique_id_r"].to_pylist(),
        links["method"].to_pylist(),
        links["probability"].to_pylist(),
        strict=True,
    ):
        label = cluster_of.get(left)
        if label is None:
            continue
        edges.setdefault(label, []).append((float(prob), left, right))
        side = clusters[label]
        if side[left] != side[right]:
            pair = (left, right) if side[left] == 0 else (right, left)
            direct[pair] = (float(prob), method)
    # Records sharing a rule key are joined by the rule even where its links (a star from the
    # group's first record) do not join them directly.
    table = _entity_table(entity)
    same = " OR ".join(f"a.{k} = b.{k}" for k in RULES[entity].values())
    by_rule = set(
        run.engine.sql(
            f"SELECT a.unique_id, b.unique_id FROM {table} AS a JOIN {table} AS b ON ({same}) "
            "JOIN _members AS ma ON ma.unique_id = a.unique_id AND ma.file_index = 0 "
            "JOIN _members AS mb ON mb.unique_id = b.unique_id AND mb.file_index = 1"
        ).fetchall()
    )
    ids_a: list[str] = []
    ids_b: list[str] = []
    probs: list[float] = []
    methods: list[str] = []
    for label, members in clusters.items():
        for pair, chain in _strongest_chains(members, edges.get(label, [])).items():
            if pair in direct:
                prob, method = direct[pair]
            elif pair in by_rule:
                prob, method = 1.0, "rule"
            else:
                prob, method = chain, "chain"
            ids_a.append(pair[0])
            ids_b.append(pair[1])
            probs.append(prob)
            methods.append(method)
    return pa.table(
        {
            "uid_a": pa.array(ids_a, pa.string()),
            "uid_b": pa.array(ids_b, pa.string()),
            "probability": pa.array(probs, pa.float64()),
            "method": pa.array(methods, pa.string()),
        }
    )


def link_files(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    *,
    mapping_a: Mapping[str, str | None] | None = None,
    mapping_b: Mapping[str, str | None] | None = None,
    entity: Entity | str | None = None,
    threshold: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    model: ModelChoice = "preset",
) -> LinkResult:
    """Find the records of file A and file B that are the same person (or account).

    The records of both files are linked together, so duplicates within either file join
    clusters too (see `table_a`, `table_b`), and a pair can be joined through a third record.
    `links` has one row per pair across the files in the same cluster. Its probability is the
    pair's own when the pair is one of the links that formed the cluster (method "rule", 1.0, or
    "probabilistic"); 1.0 when the pair shares a rule key such as the email (method "rule");
    otherwise (method "chain") the weakest link of the strongest chain of links joining the two.
    Pairs are not scored again, so for a chained pair whose own score fell below the threshold,
    that score is not reported. With `out`, `links` is written as CSV or Parquet by its
    extension. Mappings, entity, threshold and model are as for `dedupe_file`."""
    settings = _checked_options(threshold, model, out)
    p_a, p_b = Path(path_a), Path(path_b)
    sys_a, sys_b = _stem(p_a), _stem(p_b)
    if sys_a == sys_b:
        sys_a, sys_b = f"{sys_a}_a", f"{sys_b}_b"
    fa = read_input(p_a, mapping=mapping_a, entity=entity, system=sys_a)
    fb = read_input(p_b, mapping=mapping_b, entity=entity, system=sys_b)
    if fa.entity is not fb.entity:
        raise ConfigError(
            f"{fa.path.name} holds {_PLURAL[fa.entity]} and {fb.path.name} "
            f"{_PLURAL[fb.entity]} (judged by their columns); say which to match with "
            "--entity person|account"
        )
    run = _run([fa, fb], fa.entity, settings, model)
    try:
        table_a = _annotated(run, fa, 0)
        table_b = _annotated(run, fb, 1)
        run.engine.register("_pairs", _cross_pairs(run, fa.entity))
        shown = [
            f"{side}.{_quote(c)} AS {_quote(side[1] + '.' + c)}"
            for side, f in (("fa", fa), ("fb", fb))
            for c in f.columns
            if c in f.mapping.values()
        ]
        links: pa.Table = run.engine.sql(
            f"""
            SELECT ma.cluster_id, p.probability, p.method,
                ma.row_number AS row_a, ma.key AS key_a,
                mb.row_number AS row_b, mb.key AS key_b{"".join(", " + s for s in shown)}
            FROM _pairs AS p
            JOIN _members AS ma ON ma.unique_id = p.uid_a
            JOIN _members AS mb ON mb.unique_id = p.uid_b
            JOIN _file0 AS fa ON fa.{_ROW} = ma.row_number
            JOIN _file1 AS fb ON fb.{_ROW} = mb.row_number
            ORDER BY row_a, row_b
            """
        ).to_arrow_table()
        within = dict(
            run.engine.sql(
                "SELECT file_index, count(*) FROM (SELECT file_index, label, count(*) AS n "
                "FROM _members GROUP BY ALL) AS g JOIN _members USING (file_index, label) "
                "WHERE n > 1 GROUP BY file_index"
            ).fetchall()
        )
        review = _review(run, linking=True)
    finally:
        run.engine.close()
    counts = {
        "records_a": fa.rows,
        "records_b": fb.rows,
        "pairs": int(links.num_rows),
        "matched_a": len(set(links["row_a"].to_pylist())),
        "matched_b": len(set(links["row_b"].to_pylist())),
        "duplicates_within_a": int(within.get(0, 0)),
        "duplicates_within_b": int(within.get(1, 0)),
        **_linkage_counts(run, review),
    }
    written = write_table(links, out) if out is not None else None
    return LinkResult(
        path_a=fa.path,
        path_b=fb.path,
        entity=fa.entity,
        mapping_a=fa.mapping,
        mapping_b=fb.mapping,
        links=links,
        table_a=table_a,
        table_b=table_b,
        review=review,
        model=run.model,
        threshold=settings.match_threshold,
        counts=counts,
        out=written,
        notes=fa.notes + fb.notes + run.notes,
        timings=run.linkage.timings,
    )
