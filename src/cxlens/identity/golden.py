"""The golden record: each master attribute chosen from its records by a survivorship rule.

Rules, per attribute (workspace file, `identity.survivorship`):

* `most_trusted`: from the most trusted system (`identity.trust`, most trusted first), then the
  most recently updated record;
* `most_recent`: from the record updated last;
* `most_complete`: the longest value (a full name over an initial);
* `most_common`: the value most records agree on.

Ties always fall to trust, then recency, then record id, so the choice is deterministic. Every
chosen value remembers the record it came from (`master_attributes`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cxlens.config import ACCOUNT_ATTRIBUTES, PERSON_ATTRIBUTES, IdentitySettings
from cxlens.schema.records import Entity

_PERSON_VALUES = {
    "name": "coalesce(nullif(trim(display_name), ''), "
    "nullif(trim(coalesce(display_first, '') || ' ' || coalesce(display_last, '')), ''))",
    "email": "lower(trim(display_email))",
    "phone": "coalesce(phone_e164, display_phone)",
    "title": "title",
    "country": "country",
}
_ACCOUNT_VALUES = {
    "name": "display_name",
    "domain": "domain",
    "segment": "segment",
    "industry": "industry",
    "employees": "CAST(employees AS VARCHAR)",
    "owner": "owner",
    "region": "region",
    "country": "country",
}


def _wide(table: str, values: dict[str, str]) -> str:
    """One row per record with its candidate values as columns (a single scan)."""
    columns = ", ".join(f"CAST({expr} AS VARCHAR) AS {attr}" for attr, expr in values.items())
    return (
        f"SELECT m.master_id, t.unique_id, t.system, coalesce(t.updated_at, t.created_at) AS ts, "
        f"count(*) OVER (PARTITION BY m.master_id) AS records, {columns} "
        f"FROM {table} AS t JOIN _masters AS m USING (unique_id)"
    )


def choose(
    engine: duckdb.DuckDBPyConnection, entity: Entity, settings: IdentitySettings
) -> pa.Table:
    """Golden values with provenance (`master_attributes` rows) for the masters in `_masters`."""
    table, values, attributes = (
        ("people", _PERSON_VALUES, PERSON_ATTRIBUTES)
        if entity is Entity.PERSON
        else ("companies", _ACCOUNT_VALUES, ACCOUNT_ATTRIBUTES)
    )
    engine.register(
        "_rules",
        pa.table(
            {
                "attribute": list(attributes),
                "rule": [settings.rule_for(a) for a in attributes],
            }
        ),
    )
    engine.register(
        "_trust",
        pa.table({"system": settings.trust, "trust_rank": list(range(len(settings.trust)))}),
    )
    names = ", ".join(values)
    chosen = engine.sql(
        f"""
        WITH wide AS ({_wide(table, values)}),
        long AS (
            UNPIVOT wide ON {names} INTO NAME attribute VALUE value
        ),
        present AS (
            SELECT l.*, r.rule FROM long AS l JOIN _rules AS r USING (attribute)
            WHERE trim(l.value) <> ''
        ),
        -- A master of one record needs no ranking: most masters, on a first run.
        single AS (
            SELECT master_id, attribute, value, unique_id, rule FROM present WHERE records = 1
        ),
        several AS (
            SELECT p.*, coalesce(tr.trust_rank, {len(settings.trust)}) AS trust_rank,
                count(*) OVER (PARTITION BY p.master_id, p.attribute, lower(p.value)) AS freq
            FROM present AS p LEFT JOIN _trust AS tr USING (system)
            WHERE p.records > 1
        ),
        ranked AS (
            SELECT master_id, attribute, value, unique_id, rule FROM several
            QUALIFY row_number() OVER (
                PARTITION BY master_id, attribute ORDER BY
                    CASE WHEN rule = 'most_common' THEN freq END DESC NULLS LAST,
                    CASE WHEN rule = 'most_complete' THEN length(value) END DESC NULLS LAST,
                    CASE WHEN rule = 'most_recent' THEN ts END DESC NULLS LAST,
                    trust_rank, ts DESC NULLS LAST, system, unique_id) = 1
        )
        SELECT master_id, '{entity.value}' AS entity, attribute, value,
            unique_id AS record_id, rule
        FROM (SELECT * FROM single UNION ALL SELECT * FROM ranked)
        """
    ).to_arrow_table()
    engine.unregister("_rules")
    engine.unregister("_trust")
    return chosen


def _pivot(attributes: tuple[str, ...]) -> str:
    picks = ", ".join(f"max(value) FILTER (WHERE attribute = '{a}') AS {a}" for a in attributes)
    return f"SELECT master_id, {picks} FROM _chosen GROUP BY master_id"


def master_rows(
    engine: duckdb.DuckDBPyConnection, entity: Entity, attributes: pa.Table, now: object
) -> pa.Table:
    """`customers` or `accounts` rows from the chosen attributes (plus first seen, account)."""
    engine.register("_chosen", attributes)
    if entity is Entity.PERSON:
        seen = (
            "SELECT m.master_id, min(p.created_at) AS first_seen_at, "
            "mode(p.account_master) AS account_id "
            "FROM _masters AS m JOIN _people_accounts AS p USING (unique_id) GROUP BY m.master_id"
        )
        select = (
            "s.master_id AS customer_id, s.account_id, w.name, w.email, w.phone, w.title, w.country"
        )
        wide = _pivot(PERSON_ATTRIBUTES)
    else:
        seen = (
            "SELECT m.master_id, min(c.created_at) AS first_seen_at "
            "FROM _masters AS m JOIN companies AS c USING (unique_id) GROUP BY m.master_id"
        )
        select = (
            "s.master_id AS account_id, w.name, w.domain, w.segment, w.industry, "
            "CAST(w.employees AS BIGINT) AS employees, w.owner, w.region, w.country"
        )
        wide = _pivot(ACCOUNT_ATTRIBUTES)
    rows = engine.sql(
        f"WITH wide AS ({wide}), seen AS ({seen}) "
        f"SELECT {select}, s.first_seen_at, ?::TIMESTAMP AS updated_at "
        f"FROM seen AS s LEFT JOIN wide AS w USING (master_id)",
        params=[now],
    ).to_arrow_table()
    engine.unregister("_chosen")
    return rows
