"""One entity's linkage in the identity engine: rules, then the model, then clusters.

Works on a prepared table (`people` or `companies`) and knows nothing of the store: the caller
passes in what analysts decided (pairs that must or must not be joined) and gets back every
record's cluster, the links that formed it and the pairs worth a human look.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.identity.clusters import FORCED, I64, components, constrained_components
from cxlens.identity.matching import candidate_pairs, score, train
from cxlens.identity.model import SPECS, ModelSpec
from cxlens.schema.records import Entity


@dataclass(frozen=True)
class LinkageSettings:
    match_threshold: float = 0.8
    review_threshold: float = 0.3
    max_block: int = 200
    u_pairs: float = 1e6
    em_pairs: float = 2e5
    seed: int = 7
    #: A person belongs to one account: never cluster records of two different accounts.
    one_account_per_person: bool = True


#: Deterministic rules per entity: SQL key expressions; records sharing a key are one party.
RULES: dict[Entity, dict[str, str]] = {
    Entity.PERSON: {"same email": "email"},
    Entity.ACCOUNT: {"same domain": "domain"},
}


@dataclass
class Linkage:
    entity: Entity
    ids: pa.Array
    labels: I64
    #: Links that formed the clusters: unique_id_l, unique_id_r, method, probability, rule.
    links: pa.Table
    #: Uncertain pairs left apart: unique_id_l, unique_id_r, probability.
    review: pa.Table
    model: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _rule_links(engine: duckdb.DuckDBPyConnection, table: str, entity: Entity) -> pa.Table:
    """Star links from each group's first record to the others, per rule, plus external ids."""
    parts = []
    for name, key in RULES[entity].items():
        parts.append(
            f"SELECT first(unique_id ORDER BY unique_id) OVER w AS unique_id_l, "
            f"unique_id AS unique_id_r, '{name}' AS rule FROM {table} "
            f"WHERE {key} IS NOT NULL WINDOW w AS (PARTITION BY {key})"
        )
    parts.append(
        f"SELECT least(t.unique_id, o.unique_id), greatest(t.unique_id, o.unique_id), "
        f"'shared external id' FROM (SELECT unique_id, unnest(json_keys(external_ids)) AS sys, "
        f"external_ids FROM {table} WHERE external_ids IS NOT NULL) AS t "
        f"JOIN {table} AS o ON o.unique_id = t.sys || ':' || "
        f"(t.external_ids::JSON ->> t.sys)"
    )
    sql = " UNION ALL ".join(parts)
    return engine.sql(
        f"SELECT DISTINCT * FROM ({sql}) WHERE unique_id_l <> unique_id_r"
    ).to_arrow_table()


def _positions(ids: pa.Array, values: pa.Array) -> I64:
    return np.asarray(pc.index_in(values, value_set=ids).to_numpy(zero_copy_only=False), np.int64)


def link_entity(
    engine: duckdb.DuckDBPyConnection,
    table: str,
    spec: ModelSpec,
    settings: LinkageSettings,
    *,
    model: dict[str, Any] | None = None,
    must_link: pa.Table | None = None,
    cannot_link: pa.Table | None = None,
    prior_links: pa.Table | None = None,
    score_only: str | None = None,
    rescore: bool = True,
) -> Linkage:
    """Cluster the records of `table` (which must have `unique_id`).

    `prior_links` (links of earlier runs) are kept as they are; with `score_only` (a table of
    unique_id) the model scores only pairs involving those records, which is how new records
    are matched incrementally; with `rescore=False` nothing is scored and the clusters are
    rebuilt from rules, prior links and decisions alone."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ids = (
        engine.sql(f"SELECT unique_id FROM {table} ORDER BY unique_id")
        .to_arrow_table()["unique_id"]
        .combine_chunks()
    )
    n = len(ids)
    rules = _rule_links(engine, table, spec.entity)
    rl, rr = _positions(ids, rules["unique_id_l"]), _positions(ids, rules["unique_id_r"])
    det = components(n, rl, rr)
    engine.register("_det", pa.table({"unique_id": ids, "det_id": pa.array(det)}))
    engine.execute(
        f"CREATE OR REPLACE TABLE _linking AS SELECT t.*, d.det_id FROM {table} AS t "
        "JOIN _det AS d USING (unique_id)"
    )
    engine.unregister("_det")
    timings["rules"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if model is None and not rescore:
        raise ValueError("rescore=False needs the model of an earlier run")
    if n < 2:
        rescore = False  # nothing to compare, nothing to learn
        model = model or {}
    if model is None:
        model = train(
            engine,
            "_linking",
            spec,
            seed=settings.seed,
            u_pairs=settings.u_pairs,
            em_pairs=settings.em_pairs,
        )
    timings["training"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    candidates = 0
    if rescore:
        candidates = candidate_pairs(
            engine, "_linking", spec, max_block=settings.max_block, only_ids=score_only
        )
    timings["blocking"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if rescore and candidates:
        scored = score(engine, "_linking", model, threshold=settings.review_threshold)
    else:
        scored = pa.table(
            {
                "unique_id_l": pa.array([], pa.string()),
                "unique_id_r": pa.array([], pa.string()),
                "match_probability": pa.array([], pa.float64()),
            }
        )
    timings["scoring"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    prob = scored["match_probability"].to_numpy(zero_copy_only=False)
    strong = prob >= settings.match_threshold
    sl = _positions(ids, scored["unique_id_l"])
    sr = _positions(ids, scored["unique_id_r"])
    left = [rl, sl[strong]]
    right = [rr, sr[strong]]
    strength = [np.full(len(rl), 2.0), prob[strong]]
    kinds = [
        np.full(len(rl), "rule", dtype=object),
        np.full(int(strong.sum()), "probabilistic", dtype=object),
    ]
    names = [
        rules["rule"].to_numpy(zero_copy_only=False),
        np.full(int(strong.sum()), None, dtype=object),
    ]
    if prior_links is not None and len(prior_links):
        pl, pr = (
            _positions(ids, prior_links["unique_id_l"]),
            _positions(ids, prior_links["unique_id_r"]),
        )
        keep = (
            (pl >= 0)
            & (pr >= 0)
            & pc.is_in(prior_links["method"], pa.array(["probabilistic"])).to_numpy(
                zero_copy_only=False
            )
        )
        left.append(pl[keep])
        right.append(pr[keep])
        strength.append(prior_links["probability"].to_numpy(zero_copy_only=False)[keep])
        kinds.append(np.full(int(keep.sum()), "probabilistic", dtype=object))
        names.append(np.full(int(keep.sum()), None, dtype=object))
    if must_link is not None and len(must_link):
        ml, mr = (
            _positions(ids, must_link["unique_id_l"]),
            _positions(ids, must_link["unique_id_r"]),
        )
        keep = (ml >= 0) & (mr >= 0)
        left.append(ml[keep])
        right.append(mr[keep])
        strength.append(np.full(int(keep.sum()), FORCED))
        kinds.append(np.full(int(keep.sum()), "manual", dtype=object))
        names.append(np.full(int(keep.sum()), None, dtype=object))
    apart_l = apart_r = np.zeros(0, dtype=np.int64)
    if cannot_link is not None and len(cannot_link):
        al, ar = (
            _positions(ids, cannot_link["unique_id_l"]),
            _positions(ids, cannot_link["unique_id_r"]),
        )
        keep = (al >= 0) & (ar >= 0)
        apart_l, apart_r = al[keep], ar[keep]
    all_l, all_r, all_s = np.concatenate(left), np.concatenate(right), np.concatenate(strength)
    groups = None
    if spec.entity is Entity.PERSON and settings.one_account_per_person:
        orgs = engine.sql(f"SELECT org FROM {table} ORDER BY unique_id").to_arrow_table()["org"]
        codes = pc.dictionary_encode(orgs.combine_chunks()).indices
        groups = np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False), np.int64)
    labels, used = constrained_components(n, all_l, all_r, all_s, apart_l, apart_r, groups)
    timings["clustering"] = time.perf_counter() - t0

    method = np.concatenate(kinds)
    rule_names = np.concatenate(names)
    # One link per pair (a pair can meet two rules, or a rule and a decision): keep the first.
    low, high = np.minimum(all_l, all_r), np.maximum(all_l, all_r)
    all_l, all_r = low, high
    _, first = np.unique(low * np.int64(n) + high, return_index=True)
    once = np.zeros(len(all_l), dtype=bool)
    once[first] = True
    used &= once
    links = pa.table(
        {
            "unique_id_l": pc.take(ids, pa.array(all_l[used])),
            "unique_id_r": pc.take(ids, pa.array(all_r[used])),
            "method": pa.array(method[used], pa.string()),
            "probability": pa.array(np.where(all_s[used] > 1.0, 1.0, all_s[used])),
            "rule": pa.array(rule_names[used], pa.string()),
        }
    )
    uncertain = ~strong & (labels[sl] != labels[sr])
    review = pa.table(
        {
            "unique_id_l": scored["unique_id_l"].filter(pa.array(uncertain)),
            "unique_id_r": scored["unique_id_r"].filter(pa.array(uncertain)),
            "probability": pa.array(prob[uncertain]),
        }
    )
    counts = {
        "records": n,
        "rule_links": len(rl),
        "candidates": candidates,
        "matches": int(strong.sum()),
        "review": int(uncertain.sum()),
        "clusters": len(np.unique(labels)),
    }
    return Linkage(spec.entity, ids, labels, links, review, model, timings, counts)


def attach_organisations(engine: duckdb.DuckDBPyConnection, accounts: Linkage) -> None:
    """Give each person record the account cluster it belongs to, as `org` on `people`.

    The source's own relation wins (a CRM contact's account), then the work email's domain,
    then the company name as the source spells it."""
    engine.register(
        "_account_clusters",
        pa.table({"unique_id": accounts.ids, "cluster": pa.array(accounts.labels)}),
    )
    engine.execute(
        """
        CREATE OR REPLACE TEMP TABLE _orgs AS
        SELECT c.unique_id, 'a' || k.cluster AS org, c.domain, c.company
        FROM companies AS c JOIN _account_clusters AS k USING (unique_id)
        """
    )
    engine.execute(
        """
        CREATE OR REPLACE TABLE people AS
        SELECT p.* EXCLUDE (org), coalesce(by_ref.org, by_domain.org, by_name.org) AS org
        FROM (SELECT *, NULL::VARCHAR AS org FROM people) AS p
        LEFT JOIN _orgs AS by_ref ON by_ref.unique_id = p.account_ref
        LEFT JOIN (SELECT domain, min(org) AS org FROM _orgs WHERE domain IS NOT NULL
                   GROUP BY domain) AS by_domain ON by_domain.domain = p.domain
        LEFT JOIN (SELECT company, min(org) AS org FROM _orgs WHERE company IS NOT NULL
                   GROUP BY company) AS by_name ON by_name.company = p.company
        """
    )
    engine.unregister("_account_clusters")
    engine.execute("DROP TABLE _orgs")


def link_records(
    engine: duckdb.DuckDBPyConnection,
    settings: LinkageSettings,
    *,
    models: dict[Entity, dict[str, Any]] | None = None,
    must_link: dict[Entity, pa.Table] | None = None,
    cannot_link: dict[Entity, pa.Table] | None = None,
) -> dict[Entity, Linkage]:
    """Accounts first, then people (who are compared on the account they belong to).

    Expects `people` and `companies` from `normalize.prepare`."""
    models, must_link, cannot_link = models or {}, must_link or {}, cannot_link or {}
    out: dict[Entity, Linkage] = {}
    for entity, table in ((Entity.ACCOUNT, "companies"), (Entity.PERSON, "people")):
        if entity is Entity.PERSON:
            attach_organisations(engine, out[Entity.ACCOUNT])
        out[entity] = link_entity(
            engine,
            table,
            SPECS[entity],
            settings,
            model=models.get(entity),
            must_link=must_link.get(entity),
            cannot_link=cannot_link.get(entity),
        )
    return out
