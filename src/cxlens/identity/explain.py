"""Why a master is what it is: its records, the links between them and the evidence per field.

For every link that holds the master together the explanation gives the method (rule,
probabilistic, manual decision), the match probability and, for probabilistic links, Splink's
per-comparison match weights (the waterfall), re-computed with the model of the run that made
the link. Every figure is also rendered as a sentence.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from cxlens.errors import UnknownMaster
from cxlens.identity.matching import score
from cxlens.identity.normalize import prepare
from cxlens.schema.records import Entity
from cxlens.store import Store


@dataclass
class FieldWeight:
    comparison: str
    level: str
    match_weight: float


@dataclass
class LinkExplanation:
    record_id_l: str
    record_id_r: str
    method: str
    rule: str | None
    probability: float | None
    weights: list[FieldWeight] = field(default_factory=list)
    prior_weight: float | None = None
    sentence: str = ""


@dataclass
class MasterExplanation:
    master_id: str
    entity: str
    requested_id: str
    records: list[dict[str, Any]]
    links: list[LinkExplanation]
    attributes: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    history: list[dict[str, Any]]
    summary: str


def find_master(store: Store, master_id: str) -> tuple[str, Entity]:
    """The current id of `master_id`, following merges recorded in the audit log."""
    seen = {master_id}
    current = master_id
    while True:
        rows = store.rows("SELECT DISTINCT entity FROM record_links WHERE master_id = ?", [current])
        if rows:
            return current, Entity(rows[0]["entity"])
        merged = store.rows(
            "SELECT master_id FROM identity_audit WHERE action = 'merge' "
            "AND other_master_id = ? ORDER BY changed_at DESC LIMIT 1",
            [current],
        )
        if not merged or merged[0]["master_id"] in seen:
            raise UnknownMaster(
                f"no customer or account {master_id!r}; `cxlens status` shows counts, "
                "the customers and accounts tables list ids"
            )
        current = merged[0]["master_id"]
        seen.add(current)


def _waterfall(
    store: Store, entity: Entity, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[float, float, list[FieldWeight]]]:
    """(probability, prior weight, per-comparison weights) of each pair, with the last model."""
    rows = store.rows(
        "SELECT models FROM identity_runs WHERE models IS NOT NULL ORDER BY started_at DESC LIMIT 1"
    )
    if not rows or not pairs:
        return {}
    model = json.loads(rows[0]["models"]).get(entity.value)
    if model is None:
        return {}
    engine = duckdb.connect()
    # Term-frequency adjustments need every record of the entity, not only this master's.
    engine.register(
        "_records_in",
        store.query("SELECT * FROM source_records WHERE entity = ?", [entity.value]),
    )
    engine.execute("CREATE TABLE records AS SELECT * FROM _records_in")
    prepare(engine)
    table = "people" if entity is Entity.PERSON else "companies"
    if entity is Entity.PERSON:
        # The account a person record belongs to, as the run compared it.
        engine.register(
            "_accounts_in",
            store.query(
                "SELECT l.record_id, l.master_id, a.domain FROM record_links AS l "
                "LEFT JOIN accounts AS a ON a.account_id = l.master_id "
                "WHERE l.entity = 'account'"
            ),
        )
        engine.execute(
            "CREATE OR REPLACE TABLE people AS SELECT p.*, "
            "coalesce(by_ref.master_id, (SELECT min(d.master_id) FROM _accounts_in AS d "
            "WHERE d.domain = p.domain)) AS org FROM people AS p "
            "LEFT JOIN _accounts_in AS by_ref ON by_ref.record_id = p.account_ref"
        )
    engine.register(
        "_pairs_in",
        pa.table(
            {
                "match_key": ["0"] * len(pairs),
                "join_key_l": [a for a, _ in pairs],
                "join_key_r": [b for _, b in pairs],
            }
        ),
    )
    engine.execute("CREATE TABLE _explain_pairs AS SELECT * FROM _pairs_in")
    scored = score(engine, table, model, threshold=0.0, pairs="_explain_pairs").to_pylist()
    # Which level a pair fell in shows in its weight: each level's weight is log2(m / u).
    levels: dict[str, list[tuple[float, str]]] = {}
    for c in model["comparisons"]:
        found = []
        for lvl in c["comparison_levels"]:
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            if m and u:
                found.append((math.log2(m / u), str(lvl.get("label_for_charts", ""))))
        levels[c["output_column_name"]] = found
    out: dict[tuple[str, str], tuple[float, float, list[FieldWeight]]] = {}
    prior = model.get("probability_two_random_records_match") or 1e-4
    prior_weight = math.log2(prior / (1 - prior))
    for row in scored:
        weights = []
        for name, options in levels.items():
            weight = row.get(f"mw_{name}")
            if weight is None or weight == 0.0:
                continue  # a null level: this field said nothing
            level = min(options, key=lambda o: abs(o[0] - weight))[1] if options else ""
            total = float(weight) + float(row.get(f"mw_tf_adj_{name}") or 0.0)
            weights.append(FieldWeight(name, level, round(total, 2)))
        out[(row["unique_id_l"], row["unique_id_r"])] = (
            float(row["match_probability"]),
            prior_weight,
            weights,
        )
    return out


def _sentence(link: LinkExplanation) -> str:
    if link.method == "rule":
        return f"{link.record_id_l} and {link.record_id_r} are linked by the rule '{link.rule}'."
    if link.method == "manual":
        return f"{link.record_id_l} and {link.record_id_r} were joined by an analyst's decision."
    ranked = sorted(link.weights, key=lambda w: -abs(w.match_weight))
    pro = [
        f"{w.comparison} ({w.level}, {w.match_weight:+.1f})" for w in ranked if w.match_weight > 0
    ]
    con = [
        f"{w.comparison} ({w.level}, {w.match_weight:+.1f})" for w in ranked if w.match_weight < 0
    ]
    text = (
        f"{link.record_id_l} and {link.record_id_r} match with probability "
        f"{(link.probability or 0):.3f}"
    )
    if pro:
        text += "; for: " + ", ".join(pro[:4])
    if con:
        text += "; against: " + ", ".join(con[:3])
    return text + "."


def explain(store: Store, master_id: str) -> MasterExplanation:
    current, entity = find_master(store, master_id)
    records = store.query(
        "SELECT r.* FROM source_records AS r JOIN record_links AS l USING (record_id) "
        "WHERE l.master_id = ? ORDER BY r.record_id",
        [current],
    )
    ids = records["record_id"].to_pylist()
    links = store.rows(
        "SELECT record_id_l, record_id_r, method, rule, probability FROM identity_links "
        "WHERE entity = ? AND record_id_l IN (SELECT record_id FROM record_links "
        "WHERE master_id = ?) ORDER BY probability DESC, record_id_l, record_id_r",
        [entity.value, current],
    )
    probabilistic = [
        (row["record_id_l"], row["record_id_r"])
        for row in links
        if row["method"] == "probabilistic"
    ]
    scored = _waterfall(store, entity, probabilistic)
    explained = []
    for row in links:
        link = LinkExplanation(
            row["record_id_l"], row["record_id_r"], row["method"], row["rule"], row["probability"]
        )
        found = scored.get((link.record_id_l, link.record_id_r))
        if found is not None:
            _, link.prior_weight, link.weights = found
        link.sentence = _sentence(link)
        explained.append(link)
    attributes = store.rows(
        "SELECT attribute, value, record_id, rule FROM master_attributes WHERE master_id = ? "
        "ORDER BY attribute",
        [current],
    )
    decisions = store.rows(
        "SELECT * FROM identity_decisions WHERE master_id = ? OR other_master_id = ? "
        "OR record_id_l IN (SELECT record_id FROM record_links WHERE master_id = ?) "
        "ORDER BY decided_at",
        [current, current, current],
    )
    history = store.rows(
        "SELECT * FROM identity_audit WHERE master_id = ? OR other_master_id = ? "
        "ORDER BY changed_at",
        [current, current],
    )
    systems = sorted({r.split(":", 1)[0] for r in ids})
    kind = "customer" if entity is Entity.PERSON else "account"
    summary = (
        f"{kind} {current} unites {len(ids)} record{'s' if len(ids) != 1 else ''} from "
        f"{', '.join(systems)}"
        + (f" (asked for {master_id}, since merged into it)" if current != master_id else "")
        + f", held together by {len(explained)} link{'s' if len(explained) != 1 else ''}."
    )
    return MasterExplanation(
        master_id=current,
        entity=entity.value,
        requested_id=master_id,
        records=records.drop_columns(["content_hash"]).to_pylist(),
        links=explained,
        attributes=attributes,
        decisions=decisions,
        history=history,
        summary=summary,
    )
