"""Running the identity engine over the records of one or two files, and reading back each
row's cluster and the pairs worth a review."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa

from cxlens.errors import ConfigError
from cxlens.identity.adhoc.files import (
    _ROW,
    InputFile,
    _first_line,
    _output_format,
    _quote,
    _records_sql,
)
from cxlens.identity.adhoc.preset import _complete, _organisation_u, preset_model
from cxlens.identity.clusters import components
from cxlens.identity.linkage import Linkage, LinkageSettings, link_entity
from cxlens.identity.matching import train
from cxlens.identity.model import SPECS
from cxlens.identity.normalize import prepare
from cxlens.schema.records import Entity

ModelChoice = Literal["preset", "train"]

#: Columns dedupe adds to the file (columns of the same names in the file are replaced).
OUTPUT_COLUMNS = ("cluster_id", "cluster_size", "match_probability")


@dataclass
class _Run:
    engine: duckdb.DuckDBPyConnection
    linkage: Linkage
    model: str
    notes: list[str]


def _check_model(model: str) -> None:
    if model not in ("preset", "train"):
        raise ConfigError(f"unknown model '{model}'; valid: preset, train")


def _settings(threshold: float) -> LinkageSettings:
    if not isinstance(threshold, int | float) or math.isnan(threshold) or not 0 < threshold <= 1:
        raise ConfigError(f"the threshold must be a probability in (0, 1], not {threshold!r}")
    return LinkageSettings(
        match_threshold=float(threshold),
        review_threshold=min(0.5, float(threshold)),
        # The organisations here are read from text (`_attach_organisations`), not linked
        # accounts: they weigh as evidence but do not forbid a merge.
        one_account_per_person=False,
    )


def _checked_options(
    threshold: float, model: str, out: str | os.PathLike[str] | None
) -> LinkageSettings:
    """The linkage settings for `threshold`, once it, the model and the output path are checked
    (before any file is read)."""
    settings = _settings(threshold)
    _check_model(model)
    if out is not None:
        _output_format(Path(out))
    return settings


def _entity_table(entity: Entity) -> str:
    """The engine's table of the prepared records of `entity`."""
    return "people" if entity is Entity.PERSON else "companies"


def _run(files: list[InputFile], entity: Entity, settings: LinkageSettings, model: str) -> _Run:
    """Link the files' records together in a new in-memory engine and register `_members`
    (the engine is left open for the caller)."""
    engine = duckdb.connect()
    try:
        run = _link(engine, files, entity, settings, model)
        _register_members(run)
        return run
    except BaseException:
        engine.close()
        raise


def _link(
    engine: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    entity: Entity,
    settings: LinkageSettings,
    model: str,
) -> _Run:
    records, index = [], []
    for i, f in enumerate(files):
        engine.register(f"_file{i}", f.table)
        r, x = _records_sql(f, f"_file{i}", i)
        records.append(r)
        index.append(x)
    engine.execute(f"CREATE TABLE records AS {' UNION ALL '.join(records)}")
    engine.execute(f"CREATE TABLE _index AS {' UNION ALL '.join(index)}")
    prepare(engine, "records")
    spec = SPECS[entity]
    table = _entity_table(entity)
    org_u = None
    if entity is Entity.PERSON:
        _attach_organisations(engine)
        org_u = _organisation_u(engine)
    preset = preset_model(spec, [f.rows for f in files], organisation_u=org_u)
    chosen, used, notes = preset, "preset", []
    if model == "train":
        try:
            trained = train(
                engine,
                table,
                spec,
                seed=settings.seed,
                u_pairs=settings.u_pairs,
                em_pairs=settings.em_pairs,
            )
        except Exception as exc:  # whatever stops training, the preset stands in
            notes.append(f"training failed, so the preset model was used: {_first_line(exc)}")
        else:
            chosen, filled = _complete(trained, entity, preset)
            used = "trained"
            if filled:
                notes.append(
                    "levels training left untrained take preset values: " + ", ".join(filled)
                )
    linkage = link_entity(engine, table, spec, settings, model=chosen)
    return _Run(engine, linkage, used, notes)


def _attach_organisations(engine: duckdb.DuckDBPyConnection) -> None:
    """Give each person an `org`: a work email domain (or website) together with every company
    name written beside it, and every other domain written beside those names."""
    pairs = engine.sql(
        "SELECT DISTINCT 'd:' || domain, 'c:' || company FROM people "
        "WHERE domain IS NOT NULL OR company IS NOT NULL"
    ).fetchall()
    names = sorted({v for pair in pairs for v in pair if v is not None})
    index = {v: i for i, v in enumerate(names)}
    both = [(index[d], index[c]) for d, c in pairs if d is not None and c is not None]
    labels = components(
        len(names),
        np.array([b[0] for b in both], dtype=np.int64),
        np.array([b[1] for b in both], dtype=np.int64),
    )
    orgs = pa.table({"value": names, "org": [names[i] for i in labels.tolist()]})
    engine.register("_orgs", orgs)
    engine.execute(
        "CREATE OR REPLACE TABLE people AS SELECT p.*, coalesce(d.org, c.org) AS org "
        "FROM people AS p LEFT JOIN _orgs AS d ON d.value = 'd:' || p.domain "
        "LEFT JOIN _orgs AS c ON c.value = 'c:' || p.company"
    )
    engine.unregister("_orgs")


def _register_members(run: _Run) -> None:
    """`_members`: each record's file, row, key, cluster (id and size) and best link."""
    e = run.engine
    e.register(
        "_labels", pa.table({"unique_id": run.linkage.ids, "label": pa.array(run.linkage.labels)})
    )
    e.register("_links", run.linkage.links)
    e.execute(
        """
        CREATE OR REPLACE TABLE _members AS
        WITH best AS (
            SELECT uid, max(probability) AS probability FROM (
                SELECT unique_id_l AS uid, probability FROM _links
                UNION ALL SELECT unique_id_r, probability FROM _links)
            GROUP BY uid
        ),
        members AS (
            SELECT x.*, l.label FROM _index AS x JOIN _labels AS l USING (unique_id)
        ),
        clusters AS (
            SELECT label, count(*) AS cluster_size,
                first(CASE WHEN files > 1 THEN unique_id ELSE key END
                      ORDER BY file_index, order_key NULLS LAST, row_number) AS first_key
            FROM members, (SELECT count(DISTINCT file_index) AS files FROM _index)
            GROUP BY label
        )
        SELECT m.unique_id, m.file_index, m.row_number, m.key, m.label,
            'c_' || c.first_key AS cluster_id, c.cluster_size,
            CASE WHEN c.cluster_size > 1 THEN b.probability END AS match_probability
        FROM members AS m JOIN clusters AS c USING (label)
        LEFT JOIN best AS b ON b.uid = m.unique_id
        """
    )
    e.unregister("_labels")
    e.unregister("_links")


def _annotated(run: _Run, f: InputFile, file_index: int) -> pa.Table:
    """The file as read (in its order) with cluster_id, cluster_size and match_probability."""
    keep = [_quote(c) for c in f.columns if c.lower() not in OUTPUT_COLUMNS]
    table: pa.Table = run.engine.sql(
        f"SELECT {''.join(k + ', ' for k in keep)}"
        "m.cluster_id, m.cluster_size, m.match_probability "
        f"FROM _file{file_index} AS f JOIN _members AS m "
        f"ON m.file_index = {file_index} AND m.row_number = f.{_ROW} ORDER BY f.{_ROW}"
    ).to_arrow_table()
    return table


def _review(run: _Run, *, linking: bool) -> pa.Table:
    """Pairs left apart whose probability reached the review threshold: for dedupe row_l,
    key_l, row_r, key_r; for link (pairs across the files only) row_a, key_a, row_b, key_b."""
    run.engine.register("_review", run.linkage.review)
    if linking:
        a = "CASE WHEN l.file_index = 0 THEN l.{0} ELSE r.{0} END"
        b = "CASE WHEN l.file_index = 0 THEN r.{0} ELSE l.{0} END"
        select = (
            f"{a.format('row_number')} AS row_a, {a.format('key')} AS key_a, "
            f"{b.format('row_number')} AS row_b, {b.format('key')} AS key_b"
        )
        where, order = "WHERE l.file_index <> r.file_index", "row_a, row_b"
    else:
        select = "l.row_number AS row_l, l.key AS key_l, r.row_number AS row_r, r.key AS key_r"
        where, order = "", "row_l, row_r"
    table: pa.Table = run.engine.sql(
        f"SELECT {select}, v.probability FROM _review AS v "
        "JOIN _index AS l ON l.unique_id = v.unique_id_l "
        f"JOIN _index AS r ON r.unique_id = v.unique_id_r {where} "
        f"ORDER BY v.probability DESC, {order}"
    ).to_arrow_table()
    run.engine.unregister("_review")
    return table


def _linkage_counts(run: _Run, review: pa.Table) -> dict[str, int]:
    """The counts of the linkage itself, which end the counts of `dedupe` and of `link`."""
    return {
        "rule_links": run.linkage.counts["rule_links"],
        "candidate_pairs": run.linkage.counts["candidates"],
        "model_matches": run.linkage.counts["matches"],
        "review_pairs": int(review.num_rows),
    }
