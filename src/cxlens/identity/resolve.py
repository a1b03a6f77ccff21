"""Identity resolution over the store: read records, link, keep ids stable, write the masters.

Three modes share one path:

* `full`: normalise every record, train both models, score all candidate pairs;
* `incremental`: reuse the last run's models and links, and score only pairs that involve
  records not resolved yet (new since the last run);
* `decision`: nothing is scored; clusters are rebuilt from the stored links and the analysts'
  decisions (what `merge`, `split`, `accept`, `reject` and `undo` run).

Everything a run writes (links, review queue, record links, masters, golden attributes, audit)
is written in one transaction. The identity engine is an embedded DuckDB whatever the store.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.config import IdentitySettings
from cxlens.identity.decisions import constraints
from cxlens.identity.golden import choose, master_rows
from cxlens.identity.linkage import Linkage, LinkageSettings, attach_organisations, link_entity
from cxlens.identity.masters import Assignment, assign
from cxlens.identity.model import SPECS
from cxlens.identity.normalize import prepare
from cxlens.schema.customers import ACCOUNTS, CUSTOMERS, RECORD_LINKS
from cxlens.schema.identity import (
    IDENTITY_AUDIT,
    IDENTITY_LINKS,
    IDENTITY_REVIEW,
    IDENTITY_RUNS,
    MASTER_ATTRIBUTES,
)
from cxlens.schema.records import Entity
from cxlens.store import Store
from cxlens.store.base import arrow_schema

Mode = Literal["full", "incremental", "decision"]
_TABLE = {Entity.ACCOUNT: "companies", Entity.PERSON: "people"}


@dataclass
class EntityReport:
    records: int
    masters: int
    rule_links: int
    probabilistic_links: int
    manual_links: int
    review: int
    merges: int
    splits: int
    candidates: int


@dataclass
class ResolveReport:
    run_id: str
    mode: Mode
    seconds: float
    entities: dict[str, EntityReport] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _last_run(store: Store) -> dict[str, Any] | None:
    rows = store.rows(
        "SELECT run_id, models FROM identity_runs WHERE models IS NOT NULL "
        "AND finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1"
    )
    return rows[0] if rows else None


def _linkage_settings(settings: IdentitySettings) -> LinkageSettings:
    return LinkageSettings(
        match_threshold=settings.match_threshold,
        review_threshold=settings.review_threshold,
        max_block=settings.max_block,
        seed=settings.seed,
        one_account_per_person=settings.one_account_per_person,
    )


def _load_records(store: Store, engine: duckdb.DuckDBPyConnection) -> None:
    engine.register("_records_in", store.query("SELECT * FROM source_records"))
    engine.execute("CREATE OR REPLACE TABLE records AS SELECT * FROM _records_in")
    engine.unregister("_records_in")


def _previous_masters(store: Store, entity: Entity, ids: pa.Array) -> pa.Array:
    """Each record's master before this run, aligned with `ids` (None for a new record)."""
    table = store.query(
        "SELECT record_id, master_id FROM record_links WHERE entity = ?", [entity.value]
    )
    at = pc.index_in(ids, value_set=table["record_id"].combine_chunks())
    previous: pa.Array = pc.take(table["master_id"].combine_chunks(), at)
    return previous


def _unresolved(store: Store, engine: duckdb.DuckDBPyConnection) -> int:
    """Register `_new_ids`: records not resolved by any run yet; return how many."""
    new = store.query(
        "SELECT r.record_id AS unique_id FROM source_records AS r "
        "LEFT JOIN record_links AS l ON l.record_id = r.record_id "
        "WHERE l.record_id IS NULL OR l.method = 'singleton'"
    )
    engine.register("_new_ids_in", new)
    engine.execute("CREATE OR REPLACE TABLE _new_ids AS SELECT * FROM _new_ids_in")
    engine.unregister("_new_ids_in")
    return int(new.num_rows)


def _record_links(
    engine: duckdb.DuckDBPyConnection, linkage: Linkage, assignment: Assignment, now: dt.datetime
) -> pa.Table:
    engine.register(
        "_assigned",
        pa.table({"record_id": assignment.record_ids, "master_id": assignment.master_ids}),
    )
    engine.register("_links", linkage.links)
    table = engine.sql(
        """
        WITH touching AS (
            SELECT unique_id_l AS record_id, method, probability FROM _links
            UNION ALL SELECT unique_id_r, method, probability FROM _links
        ),
        best AS (
            SELECT record_id,
                CASE WHEN bool_or(method = 'manual') THEN 'manual'
                     WHEN bool_or(method = 'probabilistic') THEN 'probabilistic'
                     ELSE 'rule' END AS method,
                max(probability) FILTER (WHERE method = 'probabilistic') AS probability
            FROM touching GROUP BY record_id
        )
        SELECT a.record_id, ? AS entity, a.master_id, coalesce(b.method, 'unique') AS method,
            b.probability, ?::TIMESTAMP AS linked_at
        FROM _assigned AS a LEFT JOIN best AS b USING (record_id)
        """,
        params=[linkage.entity.value, now],
    ).to_arrow_table()
    engine.unregister("_assigned")
    engine.unregister("_links")
    return table


def _masters_table(engine: duckdb.DuckDBPyConnection, record_links: pa.Table, name: str) -> None:
    engine.register("_rl", record_links)
    engine.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT record_id AS unique_id, master_id FROM _rl"
    )
    engine.unregister("_rl")


def _people_accounts(engine: duckdb.DuckDBPyConnection) -> None:
    """Each person record's account master: the source's relation, else domain, else name."""
    engine.execute(
        """
        CREATE OR REPLACE TABLE _people_accounts AS
        WITH acc AS (
            SELECT c.unique_id, c.domain, c.company, m.master_id
            FROM companies AS c JOIN _account_masters AS m USING (unique_id)
        )
        SELECT p.unique_id, p.created_at,
            coalesce(by_ref.master_id, by_domain.master_id, by_name.master_id) AS account_master
        FROM people AS p
        LEFT JOIN acc AS by_ref ON by_ref.unique_id = p.account_ref
        LEFT JOIN (SELECT domain, min(master_id) AS master_id FROM acc
                   WHERE domain IS NOT NULL GROUP BY domain) AS by_domain
            ON by_domain.domain = p.domain
        LEFT JOIN (SELECT company, min(master_id) AS master_id FROM acc
                   WHERE company IS NOT NULL GROUP BY company) AS by_name
            ON by_name.company = p.company
        """
    )


def _audit_rows(
    entity: Entity,
    assignment: Assignment,
    run_id: str,
    now: dt.datetime,
    decision_of: dict[tuple[str, str], str],
) -> pa.Table:
    """One audit row per merge or split; the decision behind it is found through its records."""
    decided_records: dict[str, str] = {}
    for (a, b), decided in sorted(decision_of.items(), key=lambda item: item[1]):
        decided_records[a] = decided
        decided_records[b] = decided
    changes = assignment.changes
    decisions: list[str | None] = [None] * len(changes)
    if decided_records:
        decisions = [
            next((decided_records[r] for r in c.record_ids if r in decided_records), None)
            for c in changes
        ]
    prefix = f"aud_{run_id[4:]}_{entity.value[0]}"
    columns = {
        "audit_id": [f"{prefix}{i}" for i in range(len(changes))],
        "changed_at": [now] * len(changes),
        "run_id": [run_id] * len(changes),
        "decision_id": decisions,
        "action": [c.action for c in changes],
        "entity": [entity.value] * len(changes),
        "master_id": [c.master_id for c in changes],
        "other_master_id": [c.other_master_id for c in changes],
        "record_ids": [json.dumps(c.record_ids) for c in changes],
    }
    return pa.Table.from_pydict(columns, schema=arrow_schema(IDENTITY_AUDIT))


def _pending_review(
    linkage: Linkage, prior: pa.Table | None, decided: set[tuple[str, str]]
) -> pa.Table:
    """Uncertain pairs still apart and undecided: this run's, plus earlier runs' (incremental
    and decision runs score little or nothing, and must not empty the queue)."""
    review = linkage.review
    if prior is not None and prior.num_rows:
        review = pa.concat_tables([review, prior.cast(review.schema)])
    if not review.num_rows:
        return review
    cluster = dict(zip(linkage.ids.to_pylist(), linkage.labels.tolist(), strict=True))
    seen: set[tuple[str, str]] = set()
    keep = []
    for a, b in zip(
        review["unique_id_l"].to_pylist(), review["unique_id_r"].to_pylist(), strict=True
    ):
        pair = (a, b)
        apart = a in cluster and b in cluster and cluster[a] != cluster[b]
        keep.append(apart and pair not in decided and pair not in seen)
        seen.add(pair)
    return review.filter(pa.array(keep))


def _as_record_pairs(pairs: pa.Table) -> pa.Table:
    """The engine's unique_id_l / unique_id_r as the store's record_id_l / record_id_r."""
    names = {"unique_id_l": "record_id_l", "unique_id_r": "record_id_r"}
    return pairs.rename_columns([names.get(c, c) for c in pairs.column_names])


def _with_columns(data: pa.Table, extra: dict[str, Any]) -> pa.Table:
    for name, value in extra.items():
        data = data.append_column(name, pa.array([value] * data.num_rows, pa.string()))
    return data


def resolve(
    store: Store,
    settings: IdentitySettings,
    *,
    mode: Mode = "full",
    engine: duckdb.DuckDBPyConnection | None = None,
) -> ResolveReport:
    """Resolve identities in `store`; see the module docstring for the modes."""
    # A run builds millions of short-lived objects and no reference cycles: without the cyclic
    # collector rescanning them, a million records resolve markedly faster.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _resolve(store, settings, mode=mode, engine=engine)
    finally:
        if enabled:
            gc.enable()


def _resolve(
    store: Store,
    settings: IdentitySettings,
    *,
    mode: Mode,
    engine: duckdb.DuckDBPyConnection | None,
) -> ResolveReport:
    started = time.perf_counter()
    run_id = "idr_" + _now().strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
    started_at = _now()
    last = _last_run(store)
    if mode != "full" and last is None:
        mode = "full"
    models: dict[str, Any] = json.loads(last["models"]) if last and mode != "full" else {}
    engine = engine or duckdb.connect()
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    _load_records(store, engine)
    prepare(engine)
    new = _unresolved(store, engine) if mode == "incremental" else 0
    timings["prepare"] = time.perf_counter() - t0

    report = ResolveReport(run_id=run_id, mode=mode, seconds=0.0)
    linkage_settings = _linkage_settings(settings)
    now = _now()
    outputs: dict[Entity, tuple[Linkage, pa.Table, pa.Table, pa.Table, pa.Table, pa.Table]] = {}
    outputs_review: dict[Entity, pa.Table] = {}
    for entity in (Entity.ACCOUNT, Entity.PERSON):
        table = _TABLE[entity]
        if entity is Entity.PERSON:
            account_linkage = outputs[Entity.ACCOUNT][0]
            attach_organisations(engine, account_linkage)
        decided = constraints(store, entity)
        prior = None
        if mode != "full":
            prior = store.query(
                "SELECT record_id_l AS unique_id_l, record_id_r AS unique_id_r, method, rule, "
                "probability FROM identity_links WHERE entity = ?",
                [entity.value],
            )
        linkage = link_entity(
            engine,
            table,
            SPECS[entity],
            linkage_settings,
            model=models.get(entity.value),
            must_link=decided.must_link,
            cannot_link=decided.cannot_link,
            prior_links=prior,
            score_only="_new_ids" if mode == "incremental" else None,
            rescore=mode != "decision" and not (mode == "incremental" and new == 0),
        )
        models[entity.value] = linkage.model
        for step, seconds in linkage.timings.items():
            timings[f"{entity.value}.{step}"] = seconds
        t0 = time.perf_counter()
        previous = _previous_masters(store, entity, linkage.ids)
        assignment = assign(entity, linkage.ids.to_pylist(), linkage.labels, previous)
        timings[f"{entity.value}.ids"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        record_links = _record_links(engine, linkage, assignment, now)
        masters_name = "_account_masters" if entity is Entity.ACCOUNT else "_masters"
        _masters_table(engine, record_links, masters_name)
        if entity is Entity.ACCOUNT:
            engine.execute("CREATE OR REPLACE TABLE _masters AS SELECT * FROM _account_masters")
        else:
            _people_accounts(engine)
        attributes = choose(engine, entity, settings)
        masters = master_rows(engine, entity, attributes, now)
        timings[f"{entity.value}.golden"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        audit = _audit_rows(entity, assignment, run_id, now, decided.decision_of)
        links = _with_columns(linkage.links, {"entity": entity.value, "run_id": run_id})
        links = _as_record_pairs(links)
        prior_review = None
        if mode != "full":
            prior_review = store.query(
                "SELECT record_id_l AS unique_id_l, record_id_r AS unique_id_r, probability "
                "FROM identity_review WHERE entity = ?",
                [entity.value],
            )
        review = _pending_review(linkage, prior_review, set(decided.decision_of))
        review = _with_columns(review, {"entity": entity.value, "run_id": run_id})
        review = _as_record_pairs(review)
        timings[f"{entity.value}.audit"] = time.perf_counter() - t0
        methods = links["method"].to_numpy(zero_copy_only=False)
        report.entities[entity.value] = EntityReport(
            records=len(linkage.ids),
            masters=masters.num_rows,
            rule_links=int(np.sum(methods == "rule")),
            probabilistic_links=int(np.sum(methods == "probabilistic")),
            manual_links=int(np.sum(methods == "manual")),
            review=review.num_rows,
            merges=sum(1 for c in assignment.changes if c.action == "merge"),
            splits=sum(1 for c in assignment.changes if c.action == "split"),
            candidates=linkage.counts.get("candidates", 0),
        )
        outputs[entity] = (linkage, record_links, masters, attributes, audit, links)
        outputs_review[entity] = review

    t0 = time.perf_counter()
    with store.transaction():
        for entity, (_, record_links, masters, attributes, audit, links) in outputs.items():
            where, params = "entity = ?", [entity.value]
            store.replace_rows(IDENTITY_LINKS, links, where, params)
            store.replace_rows(IDENTITY_REVIEW, outputs_review[entity], where, params)
            store.replace_rows(RECORD_LINKS, record_links, where, params)
            store.replace_rows(MASTER_ATTRIBUTES, attributes, where, params)
            store.replace_rows(CUSTOMERS if entity is Entity.PERSON else ACCOUNTS, masters)
            store.append(IDENTITY_AUDIT, audit)
        report.seconds = time.perf_counter() - started
        timings["write"] = time.perf_counter() - t0
        report.timings = {k: round(v, 3) for k, v in timings.items()}
        store.append(
            IDENTITY_RUNS,
            pa.Table.from_pylist(
                [
                    {
                        "run_id": run_id,
                        "mode": mode,
                        "started_at": started_at,
                        "finished_at": _now(),
                        "settings": settings.model_dump_json(),
                        "models": json.dumps(models),
                        "counts": json.dumps({k: vars(v) for k, v in report.entities.items()}),
                        "timings": json.dumps(report.timings),
                    }
                ],
                schema=arrow_schema(IDENTITY_RUNS),
            ),
        )
    return report
