"""Normalisation: the same person or company written the same way, whatever the source.

Runs in the identity engine (an embedded DuckDB, whatever the store) over the `records` table
and writes `people` and `companies`, one row per source record with comparable columns:

* names lower-cased, accents and punctuation removed, "Last, First" turned round, nicknames
  mapped to the formal names they can stand for (Bill → william);
* emails lower-cased with plus-addressing removed (and Gmail's dots), split into local part and
  domain, with free-mail providers and shared mailboxes flagged;
* phones to E.164 where the country is known, and their last nine digits for comparison;
* company names without legal forms ("Acme Ltd." = "ACME Limited"), domains without scheme,
  www or path; countries to ISO codes.
"""

from __future__ import annotations

import duckdb

from cxlens.identity.reference import register_reference

_CLEAN = "trim(regexp_replace(lower(strip_accents({0})), '[^a-z0-9 ]+', ' ', 'g'))"
_LETTERS = "regexp_replace(lower(strip_accents({0})), '[^a-z]+', '', 'g')"


def _clean(expr: str) -> str:
    return "nullif(" + _CLEAN.format(expr) + ", '')"


def _letters(expr: str) -> str:
    return "nullif(" + _LETTERS.format(expr) + ", '')"


_EMAIL = """
    email_raw AS (
        SELECT r.*, nullif(lower(trim(r.email)), '') AS em FROM {source} AS r
    ),
    email_parts AS (
        SELECT *,
            split_part(em, '@', 2) AS em_domain,
            regexp_replace(split_part(em, '@', 1), '\\+.*$', '') AS em_local0
        FROM email_raw
    ),
    email_norm AS (
        SELECT *,
            CASE WHEN em_domain IN ('gmail.com', 'googlemail.com')
                 THEN replace(em_local0, '.', '') ELSE em_local0 END AS em_local
        FROM email_parts
    )"""


def _phone_sql(phone: str, iso_calling: str) -> tuple[str, str]:
    """(E.164, last nine digits) of a phone written any way; E.164 needs the country code."""
    digits = f"regexp_replace(coalesce({phone}, ''), '[^0-9]', '', 'g')"
    e164 = (
        f"CASE WHEN length({digits}) < 7 THEN NULL "
        f"WHEN ltrim({phone}) LIKE '+%' THEN '+' || {digits} "
        f"WHEN {digits} LIKE '00%' THEN '+' || substr({digits}, 3) "
        f"WHEN {iso_calling} IS NULL THEN NULL "
        f"WHEN {digits} LIKE '0%' THEN '+' || {iso_calling} || substr({digits}, 2) "
        f"WHEN {iso_calling} = '1' AND length({digits}) = 10 THEN '+1' || {digits} "
        f"WHEN {iso_calling} = '1' AND length({digits}) = 11 AND {digits} LIKE '1%' "
        f"THEN '+' || {digits} "
        f"ELSE '+' || {iso_calling} || {digits} END"
    )
    tail = f"CASE WHEN length({digits}) >= 7 THEN right({digits}, 9) END"
    return e164, tail


def _company_sql(expr: str) -> str:
    cleaned = _CLEAN.format(expr.replace("&", " and "))
    return (
        "nullif(trim(regexp_replace(regexp_replace("
        f"{cleaned}, _legal_forms(), ' ', 'g'), '\\s+', ' ', 'g')), '')"
    )


def _domain_sql(expr: str) -> str:
    return (
        "nullif(regexp_replace(regexp_replace(lower(trim(" + expr + ")), "
        "'^[a-z]+://', ''), '^www\\.|[/:?#].*$', '', 'g'), '')"
    )


def prepare(engine: duckdb.DuckDBPyConnection, source: str = "records") -> None:
    """Write `people` and `companies` from the raw records in `source`."""
    register_reference(engine)
    phone_e164, phone_tail = _phone_sql("r.phone", "cc.calling_code")
    first_raw = (
        "CASE WHEN r.first_name IS NOT NULL THEN r.first_name "
        "WHEN r.name LIKE '%,%' THEN split_part(r.name, ',', 2) "
        "ELSE split_part(trim(r.name), ' ', 1) END"
    )
    last_raw = (
        "CASE WHEN r.last_name IS NOT NULL THEN r.last_name "
        "WHEN r.name LIKE '%,%' THEN split_part(r.name, ',', 1) "
        "WHEN trim(r.name) LIKE '% %' THEN regexp_extract(trim(r.name), '(\\S+)$', 1) END"
    )
    base = f"""
        CREATE OR REPLACE TABLE _normalised AS
        WITH {_EMAIL.format(source=source)}
        SELECT
            r.record_id AS unique_id, r.system, r.entity, r.source_key,
            r.name AS display_name, r.first_name AS display_first, r.last_name AS display_last,
            r.email AS display_email, r.phone AS display_phone,
            {_letters(first_raw)} AS first_name,
            {_letters(last_raw)} AS last_name,
            CASE WHEN r.em LIKE '%_@_%' AND rm.local IS NULL THEN r.em_local || '@' || r.em_domain
                 END AS email,
            CASE WHEN r.em LIKE '%_@_%' THEN r.em_local END AS email_local,
            r.em_local0 AS email_words,
            nullif(r.em_domain, '') AS email_domain,
            fm.domain IS NOT NULL AS email_is_free,
            rm.local IS NOT NULL AS email_is_role,
            {phone_e164} AS phone_e164,
            {phone_tail} AS phone_tail,
            {_company_sql("coalesce(r.company, CASE WHEN r.entity = 'account' THEN r.name END)")}
                AS company,
            coalesce({_domain_sql("r.domain")},
                     CASE WHEN fm.domain IS NULL THEN nullif(r.em_domain, '') END) AS domain,
            {_clean("r.address")} AS address,
            {_clean("r.city")} AS city,
            nullif(upper(regexp_replace(coalesce(r.postal_code, ''), '\\s', '', 'g')), '')
                AS postal_code,
            cc.iso2 AS country,
            nullif(lower(ltrim(trim(r.handle), '@')), '') AS handle,
            {_letters("r.handle")} AS handle_stem,
            r.account_record_id AS account_ref,
            r.external_ids, r.title, r.owner, r.segment, r.industry, r.employees, r.region,
            r.created_at, r.updated_at
        FROM email_norm AS r
        LEFT JOIN _ref_countries AS cc ON cc.spelling = lower(trim(r.country))
        LEFT JOIN _ref_free_mail AS fm ON fm.domain = r.em_domain
        LEFT JOIN _ref_role_mailboxes AS rm ON rm.local = r.em_local
    """
    engine.execute(base)
    engine.execute(
        """
        CREATE OR REPLACE TABLE people AS
        WITH named AS (
            SELECT * REPLACE (
                -- Nameless records (a product login, a delivery) often carry the name in the
                -- mailbox: "jane.doe42@..." → jane doe.
                CASE WHEN first_name IS NULL AND last_name IS NULL
                     AND regexp_matches(email_words, '^[a-z]{2,}[._][a-z]{2,}[0-9]*$')
                     THEN regexp_extract(email_words, '^([a-z]+)', 1) ELSE first_name END
                    AS first_name,
                CASE WHEN first_name IS NULL AND last_name IS NULL
                     AND regexp_matches(email_words, '^[a-z]{2,}[._][a-z]{2,}[0-9]*$')
                     THEN regexp_extract(email_words, '[._]([a-z]+)', 1)
                     -- "Deborah C." with handle dcollins41: the handle completes the name.
                     WHEN length(last_name) = 1 AND handle_stem IS NOT NULL THEN coalesce((
                        SELECT CASE WHEN length(rest) >= 3 AND left(rest, 1) = last_name
                                    THEN rest END
                        FROM (SELECT CASE
                            WHEN starts_with(handle_stem, first_name)
                                THEN substr(handle_stem, length(first_name) + 1)
                            WHEN left(handle_stem, 1) = left(first_name, 1)
                                THEN substr(handle_stem, 2) END AS rest)), last_name)
                     ELSE last_name END AS last_name
            )
            FROM _normalised
        )
        SELECT n.*,
            left(n.first_name, 1) AS first_initial,
            coalesce(nk.forms, CASE WHEN n.first_name IS NOT NULL THEN [n.first_name] END)
                AS first_forms
        FROM named AS n
        LEFT JOIN _ref_nicknames AS nk ON nk.name = n.first_name
        WHERE n.entity = 'person'
        """
    )
    engine.execute(
        "CREATE OR REPLACE TABLE companies AS SELECT * FROM _normalised WHERE entity = 'account'"
    )
    engine.execute("DROP TABLE _normalised")
