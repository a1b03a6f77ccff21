"""Provisional masters: until identity resolution runs, each source record is its own master.

Ids are derived from the record id, so they are stable across runs and backends, and identity
resolution can later merge them (keeping one id) without breaking anything that points at them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cxlens.store import Store

_MASTER_ID = (
    "CASE WHEN r.entity = 'account' THEN 'acc_' ELSE 'cus_' END || substr(md5(r.record_id), 1, 16)"
)


def link_unlinked_records(
    store: Store, load_id: str | None = None, *, records: Sequence[str] | None = None
) -> int:
    """Give every unlinked record a singleton master; refresh singletons changed by `load_id`.
    With `records`, only those (the event API links the few identities it has just met
    without scanning every record).

    Returns the number of records newly linked. Runs inside the caller's transaction."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    only, ids = "", list(records or ())
    if records is not None:
        only = f" AND r.record_id IN ({', '.join('?' for _ in ids)})" if ids else " AND FALSE"
    linked = store.execute(
        "INSERT INTO record_links (record_id, entity, master_id, method, probability, linked_at) "
        f"SELECT r.record_id, r.entity, {_MASTER_ID}, 'singleton', NULL, ? "
        "FROM source_records AS r WHERE NOT EXISTS "
        f"(SELECT 1 FROM record_links AS l WHERE l.record_id = r.record_id){only}",
        [now, *ids],
    )
    store.execute(
        "INSERT INTO accounts (account_id, name, domain, segment, industry, employees, owner, "
        "region, country, first_seen_at, updated_at) "
        "SELECT l.master_id, coalesce(r.name, r.company), r.domain, r.segment, r.industry, "
        "r.employees, r.owner, r.region, r.country, r.created_at, ? "
        "FROM record_links AS l JOIN source_records AS r ON r.record_id = l.record_id "
        "WHERE l.entity = 'account' AND l.method = 'singleton' AND NOT EXISTS "
        f"(SELECT 1 FROM accounts AS a WHERE a.account_id = l.master_id){only}",
        [now, *ids],
    )
    store.execute(
        "INSERT INTO customers (customer_id, account_id, name, email, phone, title, country, "
        "first_seen_at, updated_at) "
        "SELECT l.master_id, al.master_id, "
        "coalesce(r.name, trim(coalesce(r.first_name, '') || ' ' || coalesce(r.last_name, ''))), "
        "r.email, r.phone, r.title, r.country, r.created_at, ? "
        "FROM record_links AS l JOIN source_records AS r ON r.record_id = l.record_id "
        "LEFT JOIN record_links AS al ON al.record_id = r.account_record_id "
        "WHERE l.entity = 'person' AND l.method = 'singleton' AND NOT EXISTS "
        f"(SELECT 1 FROM customers AS c WHERE c.customer_id = l.master_id){only}",
        [now, *ids],
    )
    if load_id is not None:
        store.execute(
            "UPDATE accounts SET name = coalesce(r.name, r.company), domain = r.domain, "
            "segment = r.segment, industry = r.industry, employees = r.employees, "
            "owner = r.owner, region = r.region, country = r.country, updated_at = ? "
            "FROM record_links AS l, source_records AS r "
            "WHERE l.master_id = accounts.account_id AND l.method = 'singleton' "
            "AND r.record_id = l.record_id AND r.load_id = ?",
            [now, load_id],
        )
        store.execute(
            "UPDATE customers SET "
            "name = coalesce(r.name, trim(coalesce(r.first_name, '') || ' ' || "
            "coalesce(r.last_name, ''))), email = r.email, phone = r.phone, title = r.title, "
            "country = r.country, updated_at = ? "
            "FROM record_links AS l, source_records AS r "
            "WHERE l.master_id = customers.customer_id AND l.method = 'singleton' "
            "AND r.record_id = l.record_id AND r.load_id = ?",
            [now, load_id],
        )
    # People loaded before their account get it once the account arrives.
    store.execute(
        "UPDATE customers SET account_id = al.master_id "
        "FROM record_links AS l, source_records AS r, record_links AS al "
        "WHERE customers.account_id IS NULL AND l.master_id = customers.customer_id "
        f"AND r.record_id = l.record_id AND al.record_id = r.account_record_id{only}",
        ids,
    )
    return linked
