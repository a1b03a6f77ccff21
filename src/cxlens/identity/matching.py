"""Scoring candidate pairs with a trained Splink model.

Candidate pairs come from our own blocking: records sharing any blocking key, excluding pairs
the deterministic rules already joined (scoring those would add nothing but time). Splink then
scores exactly those pairs. Keys shared by very many records (a switchboard phone, "smith|john"
at a million rows) are skipped: they would add pairs by the million and almost no matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.internals.exceptions import SplinkException

from cxlens.identity.model import ModelSpec


@dataclass
class Scored:
    """Scored pairs (`unique_id_l` < `unique_id_r`) and the model that scored them."""

    pairs: pa.Table
    model: dict[str, Any]
    candidates: int


def _key_expr(columns: tuple[str, ...], list_columns: set[str]) -> tuple[str, str]:
    """SQL producing one key per row (lists exploded) and the condition that it exists."""
    parts: list[str] = []
    for c in columns:
        parts.append(f"unnest({c})" if c in list_columns else c)
    key = " || '|' || ".join(f"CAST({p} AS VARCHAR)" for p in parts)
    present = " AND ".join(
        f"{c} IS NOT NULL" + (f" AND len({c}) > 0" if c in list_columns else "") for c in columns
    )
    return key, present


def candidate_pairs(
    engine: duckdb.DuckDBPyConnection,
    table: str,
    spec: ModelSpec,
    *,
    max_block: int,
    only_ids: str | None = None,
) -> int:
    """Write `_candidates` (match_key, join_key_l, join_key_r); return how many.

    With `only_ids` (a table of unique_id), pairs must involve at least one of those records:
    that is how new records are matched against existing ones without re-scoring the rest.
    """
    described = engine.sql(f"DESCRIBE {table}").fetchall()
    list_columns = {row[0] for row in described if str(row[1]).endswith("[]")}
    selects = []
    for i, block in enumerate(spec.block_keys):
        key, present = _key_expr(block.columns, list_columns)
        cap = min(max_block, block.max_block or max_block)
        selects.append(
            f"SELECT unique_id, det_id, '{i}:' || {key} AS k, {int(cap)} AS cap "
            f"FROM {table} WHERE {present}"
        )
    engine.execute(f"CREATE OR REPLACE TEMP TABLE _keys AS {' UNION ALL '.join(selects)}")
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE _keys_kept AS SELECT k.unique_id, k.det_id, k.k "
        "FROM _keys AS k JOIN (SELECT k FROM _keys GROUP BY k "
        "HAVING count(*) >= 2 AND count(*) <= any_value(cap)) USING (k)"
    )
    involve = ""
    if only_ids is not None:
        involve = (
            f"AND (l.unique_id IN (SELECT unique_id FROM {only_ids}) "
            f"OR r.unique_id IN (SELECT unique_id FROM {only_ids}))"
        )
    engine.execute(
        "CREATE OR REPLACE TABLE _candidates AS "
        "SELECT min(split_part(l.k, ':', 1)) AS match_key, l.unique_id AS join_key_l, "
        "r.unique_id AS join_key_r "
        "FROM _keys_kept AS l JOIN _keys_kept AS r ON l.k = r.k "
        f"AND l.unique_id < r.unique_id AND l.det_id <> r.det_id {involve} "
        "GROUP BY l.unique_id, r.unique_id"
    )
    engine.execute("DROP TABLE _keys; DROP TABLE _keys_kept")
    return int(engine.sql("SELECT count(*) FROM _candidates").fetchall()[0][0])


def train(
    engine: duckdb.DuckDBPyConnection,
    table: str,
    spec: ModelSpec,
    *,
    seed: int,
    u_pairs: float,
    em_pairs: float,
) -> dict[str, Any]:
    """Unsupervised training; returns the model as Splink's JSON settings."""
    api = DuckDBAPI(connection=engine)
    linker = Linker(api.register(table), spec.settings(), log_level=None)
    try:
        linker.training.estimate_probability_two_random_records_match(
            list(spec.prior_rules), recall=0.8
        )
    except ZeroDivisionError:
        pass  # no pair meets the rules: keep Splink's default prior
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    for rule in spec.training_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=em_pairs, estimate_without_term_frequencies=True
            )
        except SplinkException:
            continue  # this rule blocks no pair here; the others still train the model
    model: dict[str, Any] = linker.misc.save_model_to_json()
    plain: dict[str, Any] = json.loads(json.dumps(model, default=str))
    # Random sampling never meets some agreements at all (two random records with the same
    # phone); Splink drops their u from the saved model and would score them with a default
    # far too high. Their u is below one in the pairs sampled: say so.
    for comparison in plain["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and level.get("u_probability") is None:
                level["u_probability"] = 1.0 / u_pairs
    return plain


def score(
    engine: duckdb.DuckDBPyConnection,
    table: str,
    model: dict[str, Any],
    *,
    threshold: float,
    pairs: str = "_candidates",
) -> pa.Table:
    """Score the pairs in `pairs` with `model`; keep those at or above `threshold`."""
    api = DuckDBAPI(connection=engine)
    linker = Linker(api.register(table), model, log_level=None)
    linker.table_management.register_blocked_pairs_for_predict(api.register(pairs))
    result = linker.inference.predict(threshold_match_probability=threshold)
    scored: pa.Table = result.as_duckdbpyrelation().to_arrow_table()
    result.drop_table_from_database_and_remove_from_cache()
    return scored
