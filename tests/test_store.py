"""The store contract, run against every backend: schema, transactions, loads, queries, values."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cxlens.errors import SchemaMismatch, StoreError
from cxlens.schema import (
    EVENTS,
    LOADS,
    REJECTS,
    SCHEMA_VERSION,
    SOURCE_RECORDS,
    TABLES,
    ColumnType,
    Table,
)
from cxlens.store import Store, arrow_schema
from cxlens.store.duckdb_backend import DuckDBStore
from cxlens.store.postgres_backend import PostgresStore
from pg import ThrowawayPostgres

# ---- building inputs ---------------------------------------------------------------------------


def arrow(table: Table, rows: Sequence[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([dict(r) for r in rows], schema=arrow_schema(table))


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(EVENTS.column_names)
    row.update(
        event_id=event_id,
        source="crm",
        record_id="crm:1",
        occurred_at=datetime(2024, 1, 1, 12, 0),
        kind="order",
        load_id="load-1",
    )
    row.update(fields)
    return row


def record(key: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SOURCE_RECORDS.column_names)
    row.update(
        record_id=f"crm:{key}",
        system="crm",
        source_key=key,
        source="crm",
        entity="person",
        name=f"Person {key}",
        content_hash=f"hash-{key}",
        load_id="load-1",
    )
    row.update(fields)
    return row


def load_row(load_id: str = "load-1", **fields: Any) -> dict[str, Any]:
    """A loads row; every column gets a distinct value, so a swapped column shows."""
    row: dict[str, Any] = {}
    for i, column in enumerate(LOADS.columns):
        if column.type is ColumnType.INTEGER:
            row[column.name] = 1000 + i
        elif column.type is ColumnType.TIMESTAMP:
            row[column.name] = datetime(2024, 5, 1, 9, 0, i, 1000 * i + 1)
        else:
            row[column.name] = f"{column.name} of {load_id}"
    row.update(load_id=load_id, source="crm", status="committed", message=None)
    row.update(fields)
    return row


def reject(row_number: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "load_id": "load-1",
        "source": "crm",
        "location": "/data/crm.csv",
        "row_number": row_number,
        "field": "email",
        "value": "not-an-email",
        "reason": "not an email address",
        "raw": None,
    }
    row.update(fields)
    return row


def reopen(store: Store) -> Store:
    """A second, independent connection to the same store."""
    if isinstance(store, DuckDBStore):
        assert store.path is not None
        return DuckDBStore(store.path)
    assert isinstance(store, PostgresStore)
    return PostgresStore(store.url)


def counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("events", "source_records", "loads", "rejects")}


NOTHING = {"events": 0, "source_records": 0, "loads": 0, "rejects": 0}

# ---- schema ------------------------------------------------------------------------------------


def test_initialize_creates_every_table_with_its_columns(store: Store) -> None:
    columns = store.rows(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    found: dict[str, list[tuple[str, bool]]] = {}
    for c in columns:
        found.setdefault(c["table_name"], []).append((c["column_name"], c["is_nullable"] == "YES"))
    expected = {t.name: [(c.name, c.nullable) for c in t.columns] for t in TABLES}
    assert found == expected
    assert store.rows("SELECT key, value FROM cxlens_meta") == [
        {"key": "schema_version", "value": str(SCHEMA_VERSION)}
    ]


def test_initialize_is_idempotent_and_keeps_data(store: Store) -> None:
    with store.transaction():
        store.append_new_events(arrow(EVENTS, [event("e1")]))
    store.initialize()
    again = reopen(store)
    try:
        again.initialize()
        assert again.count("events") == 1
        assert again.scalar("SELECT count(*) FROM cxlens_meta") == 1
    finally:
        again.close()
    assert store.count("events") == 1


def test_initialize_recreates_a_missing_table(store: Store) -> None:
    store.execute("DROP TABLE record_links")
    with pytest.raises(StoreError):
        store.count("record_links")
    store.initialize()
    assert store.count("record_links") == 0


def test_a_newer_schema_version_is_refused(store: Store) -> None:
    store.execute(
        "UPDATE cxlens_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
    )
    with pytest.raises(SchemaMismatch, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        store.initialize()
    again = reopen(store)
    try:
        with pytest.raises(SchemaMismatch) as raised:
            again.initialize()
        assert store.location in str(raised.value)
    finally:
        again.close()


def test_count_refuses_an_unknown_table(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown table 'nope'"):
        store.count("nope")


# ---- transactions ------------------------------------------------------------------------------


def write_one_of_each(store: Store) -> None:
    store.append_new_events(arrow(EVENTS, [event("e1"), event("e2")]))
    store.merge_records(arrow(SOURCE_RECORDS, [record("1")]))
    store.append_rejects(arrow(REJECTS, [reject(3)]))
    store.record_load(load_row())


ONE_OF_EACH = {"events": 2, "source_records": 1, "loads": 1, "rejects": 1}


def test_transaction_commits_for_every_connection(store: Store) -> None:
    with store.transaction():
        write_one_of_each(store)
    assert counts(store) == ONE_OF_EACH
    other = reopen(store)
    try:
        assert counts(other) == ONE_OF_EACH
    finally:
        other.close()


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    with pytest.raises(ZeroDivisionError), store.transaction():
        write_one_of_each(store)
        assert store.count("events") == 2  # visible inside the transaction
        _ = 1 / 0
    assert counts(store) == NOTHING
    # The store is usable afterwards, and the same batch loads in full.
    with store.transaction():
        write_one_of_each(store)
    assert counts(store) == ONE_OF_EACH


def test_a_failed_statement_rolls_back_the_whole_transaction(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction():
        store.append_new_events(arrow(EVENTS, [event("e1")]))
        store.execute("INSERT INTO no_such_table VALUES (1)")
    assert store.count("events") == 0
    with store.transaction():
        store.append_new_events(arrow(EVENTS, [event("e1")]))
    assert store.count("events") == 1


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.append_new_events(arrow(EVENTS, [event("e1")]))
        with store.transaction():
            store.append_new_events(arrow(EVENTS, [event("e2")]))
        raise RuntimeError("outer fails after the inner block finished")
    assert store.count("events") == 0
    with store.transaction():
        with store.transaction():
            store.append_new_events(arrow(EVENTS, [event("e1")]))
        store.append_new_events(arrow(EVENTS, [event("e2")]))
    assert store.count("events") == 2


def test_writes_outside_a_transaction_commit_on_their_own(
    store: Store, request: pytest.FixtureRequest
) -> None:
    write_one_of_each(store)
    assert counts(store) == ONE_OF_EACH


def test_a_failed_write_names_its_cause(store: Store) -> None:
    with pytest.raises(StoreError, match="status") as raised, store.transaction():
        store.record_load(load_row(status=None))
    assert "aborted" not in str(raised.value)
    assert store.count("loads") == 0


# ---- loads -------------------------------------------------------------------------------------


def test_merge_records_inserts_updates_and_skips_by_content_hash(store: Store) -> None:
    first = [record("1"), record("2"), record("3")]
    with store.transaction():
        assert store.merge_records(arrow(SOURCE_RECORDS, first)) == (3, 0)
    with store.transaction():
        assert store.merge_records(arrow(SOURCE_RECORDS, first)) == (0, 3)
    assert store.count("source_records") == 3

    second = [
        record("1"),  # identical: left alone
        record(
            "2", name="Renamed", email="new@example.com", content_hash="hash-2b", load_id="load-2"
        ),
        record("3", name="Same hash, other text", load_id="load-2"),  # hash unchanged: skipped
        record("4", load_id="load-2"),  # new
    ]
    with store.transaction():
        assert store.merge_records(arrow(SOURCE_RECORDS, second)) == (2, 2)
    with store.transaction():
        assert store.merge_records(arrow(SOURCE_RECORDS, second)) == (0, 4)
    assert store.merge_records(arrow(SOURCE_RECORDS, [])) == (0, 0)

    stored = store.rows(
        "SELECT record_id, name, email, content_hash, load_id FROM source_records "
        "ORDER BY record_id"
    )
    assert [tuple(r.values()) for r in stored] == [
        ("crm:1", "Person 1", None, "hash-1", "load-1"),  # identical: untouched
        ("crm:2", "Renamed", "new@example.com", "hash-2b", "load-2"),  # changed: replaced
        ("crm:3", "Person 3", None, "hash-3", "load-1"),  # same hash: untouched
        ("crm:4", "Person 4", None, "hash-4", "load-2"),  # new
    ]


def test_merge_records_update_replaces_every_column(store: Store) -> None:
    with store.transaction():
        store.merge_records(arrow(SOURCE_RECORDS, [record("1", email="a@x.org", employees=5)]))
    changed = record(
        "1",
        email=None,
        employees=None,
        city="Lyon",
        content_hash="h2",
        updated_at=datetime(2024, 3, 1, 8, 30, 0, 250),
    )
    with store.transaction():
        assert store.merge_records(arrow(SOURCE_RECORDS, [changed])) == (1, 0)
    assert store.rows("SELECT * FROM source_records") == [changed]


def test_append_new_events_appends_only_unseen_ids(store: Store) -> None:
    batch = [event("e1", amount=1.0), event("e2"), event("e3")]
    with store.transaction():
        assert store.append_new_events(arrow(EVENTS, batch)) == (3, 0)
    with store.transaction():
        assert store.append_new_events(arrow(EVENTS, batch)) == (0, 3)
    assert store.count("events") == 3

    overlapping = [
        event("e1", amount=99.0, load_id="load-2"),
        event("e3"),
        event("e4"),
        event("e5", load_id="load-2"),
    ]
    with store.transaction():
        assert store.append_new_events(arrow(EVENTS, overlapping)) == (2, 2)
    assert store.append_new_events(arrow(EVENTS, [])) == (0, 0)

    assert store.rows("SELECT event_id, amount, load_id FROM events ORDER BY event_id") == [
        {"event_id": "e1", "amount": 1.0, "load_id": "load-1"},  # an event is never rewritten
        {"event_id": "e2", "amount": None, "load_id": "load-1"},
        {"event_id": "e3", "amount": None, "load_id": "load-1"},
        {"event_id": "e4", "amount": None, "load_id": "load-1"},
        {"event_id": "e5", "amount": None, "load_id": "load-2"},
    ]


def test_rejects_and_loads_are_recorded_as_given(store: Store) -> None:
    rejects = [
        reject(2, value="bob@", raw='{"email": "bob@", "name": "Bob"}'),
        reject(7, value=""),
        reject(9, value=None, raw='{"email": null}'),
    ]
    failed = load_row(
        "load-2", status="failed", message="too many rejects", checksum=None, records_loaded=0
    )
    with store.transaction():
        store.append_rejects(arrow(REJECTS, rejects))
        store.append_rejects(arrow(REJECTS, []))
        store.record_load(load_row())
        store.record_load(failed)

    assert store.rows("SELECT * FROM rejects ORDER BY row_number") == rejects
    assert store.rows("SELECT * FROM loads ORDER BY load_id") == [load_row(), failed]


# ---- queries: one canonical SQL, the same answer everywhere ------------------------------------

QUERY_EVENTS = [
    event(
        "e1",
        record_id="crm:1",
        occurred_at=datetime(2024, 1, 5, 10, 0, 0, 1),
        amount=20.5,
        channel="web",
        text="hi",
    ),
    event(
        "e2",
        record_id="crm:1",
        occurred_at=datetime(2024, 1, 31, 23, 59, 59, 999999),
        kind="ticket",
        text="",
    ),
    event("e3", record_id="crm:2", occurred_at=datetime(2024, 2, 1), amount=3.25, channel="email"),
    event(
        "e4",
        record_id="crm:2",
        occurred_at=datetime(2023, 12, 31, 12, 30),
        kind="usage",
        amount=-1.0,
        channel="web",
    ),
    event(
        "e5",
        record_id="crm:1",
        occurred_at=datetime(2024, 2, 29, 8, 0),
        kind="invoice",
        amount=2.25,
        channel="email",
    ),
]
QUERY_RECORDS = [
    record("1", name="Ada"),
    record("2", name="Bob"),
    record("3", name="Cy"),
    record("4", name=None),
]

CANONICAL_QUERIES: list[tuple[str, str, list[Any], list[dict[str, Any]]]] = [
    (
        "aggregates",
        "SELECT record_id, count(*) AS n, count(amount) AS priced, sum(amount) AS total, "
        "min(occurred_at) AS first, max(occurred_at) AS last "
        "FROM events GROUP BY record_id ORDER BY record_id",
        [],
        [
            {
                "record_id": "crm:1",
                "n": 3,
                "priced": 2,
                "total": 22.75,
                "first": datetime(2024, 1, 5, 10, 0, 0, 1),
                "last": datetime(2024, 2, 29, 8, 0),
            },
            {
                "record_id": "crm:2",
                "n": 2,
                "priced": 2,
                "total": 2.25,
                "first": datetime(2023, 12, 31, 12, 30),
                "last": datetime(2024, 2, 1),
            },
        ],
    ),
    (
        "avg_distinct",
        "SELECT avg(amount) AS mean, count(DISTINCT kind) AS kinds, count(DISTINCT channel) "
        "AS channels FROM events",
        [],
        [{"mean": 6.25, "kinds": 4, "channels": 2}],
    ),
    (
        "left_join",
        "SELECT r.record_id, r.name, count(e.event_id) AS n FROM source_records AS r "
        "LEFT JOIN events AS e ON e.record_id = r.record_id "
        "GROUP BY r.record_id, r.name ORDER BY n DESC, r.record_id",
        [],
        [
            {"record_id": "crm:1", "name": "Ada", "n": 3},
            {"record_id": "crm:2", "name": "Bob", "n": 2},
            {"record_id": "crm:3", "name": "Cy", "n": 0},
            {"record_id": "crm:4", "name": None, "n": 0},
        ],
    ),
    (
        "join_with_parameter",
        "SELECT e.event_id, r.name FROM events AS e "
        "JOIN source_records AS r ON r.record_id = e.record_id "
        "WHERE e.kind = ? ORDER BY e.occurred_at",
        ["order"],
        [{"event_id": "e1", "name": "Ada"}, {"event_id": "e3", "name": "Bob"}],
    ),
    (
        "timestamp_range",
        "SELECT event_id FROM events WHERE occurred_at >= ? AND occurred_at < ? "
        "ORDER BY occurred_at",
        [datetime(2024, 1, 1), datetime(2024, 2, 1)],
        [{"event_id": "e1"}, {"event_id": "e2"}],
    ),
    (
        "timestamp_microseconds",
        "SELECT event_id FROM events WHERE occurred_at > ? ORDER BY event_id",
        [datetime(2024, 1, 31, 23, 59, 59, 999998)],
        [{"event_id": "e2"}, {"event_id": "e3"}, {"event_id": "e5"}],
    ),
    (
        "date_trunc",
        "SELECT date_trunc('month', occurred_at) AS month, count(*) AS n "
        "FROM events GROUP BY 1 ORDER BY 1",
        [],
        [
            {"month": datetime(2023, 12, 1), "n": 1},
            {"month": datetime(2024, 1, 1), "n": 2},
            {"month": datetime(2024, 2, 1), "n": 2},
        ],
    ),
    (
        "interval_and_date",
        "SELECT event_id, occurred_at + INTERVAL 1 DAY AS next_day, "
        "CAST(occurred_at AS DATE) AS day FROM events WHERE event_id IN (?, ?) ORDER BY event_id",
        ["e2", "e5"],
        [
            {
                "event_id": "e2",
                "next_day": datetime(2024, 2, 1, 23, 59, 59, 999999),
                "day": date(2024, 1, 31),
            },
            {"event_id": "e5", "next_day": datetime(2024, 3, 1, 8, 0), "day": date(2024, 2, 29)},
        ],
    ),
    (
        "nulls",
        "SELECT event_id, coalesce(channel, 'none') AS channel, amount IS NULL AS unpriced, "
        "text FROM events ORDER BY event_id",
        [],
        [
            {"event_id": "e1", "channel": "web", "unpriced": False, "text": "hi"},
            {"event_id": "e2", "channel": "none", "unpriced": True, "text": ""},
            {"event_id": "e3", "channel": "email", "unpriced": False, "text": None},
            {"event_id": "e4", "channel": "web", "unpriced": False, "text": None},
            {"event_id": "e5", "channel": "email", "unpriced": False, "text": None},
        ],
    ),
    (
        "empty_string_is_not_null",
        "SELECT event_id FROM events WHERE text = ? OR text IS NULL ORDER BY event_id DESC",
        [""],
        [{"event_id": "e5"}, {"event_id": "e4"}, {"event_id": "e3"}, {"event_id": "e2"}],
    ),
    (
        "order_desc_puts_nulls_last",
        "SELECT event_id FROM events ORDER BY amount DESC, event_id",
        [],
        [{"event_id": e} for e in ["e1", "e3", "e5", "e4", "e2"]],
    ),
    (
        "order_nulls_first",
        "SELECT event_id FROM events ORDER BY amount ASC NULLS FIRST, event_id",
        [],
        [{"event_id": e} for e in ["e2", "e4", "e5", "e3", "e1"]],
    ),
    (
        "filter_and_case",
        "SELECT count(*) FILTER (WHERE amount > ?) AS big, "
        "sum(CASE WHEN amount IS NULL THEN 1 ELSE 0 END) AS missing FROM events",
        [3.0],
        [{"big": 2, "missing": 1}],
    ),
    (
        "window",
        "SELECT event_id, row_number() OVER (PARTITION BY record_id ORDER BY occurred_at) AS rn "
        "FROM events ORDER BY event_id",
        [],
        [
            {"event_id": e, "rn": n}
            for e, n in [("e1", 1), ("e2", 2), ("e3", 2), ("e4", 1), ("e5", 3)]
        ],
    ),
    (
        "string_agg",
        "SELECT record_id, string_agg(event_id, ',' ORDER BY occurred_at DESC) AS ids "
        "FROM events GROUP BY record_id ORDER BY record_id",
        [],
        [{"record_id": "crm:1", "ids": "e5,e2,e1"}, {"record_id": "crm:2", "ids": "e3,e4"}],
    ),
    (
        "parameter_values",
        "SELECT ? AS text, ? AS whole, ? AS real, ? AS stamp",
        ['l\'été, "quoted"\n', 2**40, 0.5, datetime(2024, 2, 29, 23, 59, 59, 123456)],
        [
            {
                "text": 'l\'été, "quoted"\n',
                "whole": 2**40,
                "real": 0.5,
                "stamp": datetime(2024, 2, 29, 23, 59, 59, 123456),
            }
        ],
    ),
]


@pytest.fixture(scope="module")
def query_store(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store holding QUERY_EVENTS and QUERY_RECORDS, shared by the read-only query tests."""
    server: ThrowawayPostgres | None = None
    url = ""
    if backend == "duckdb":
        opened: Store = DuckDBStore(tmp_path_factory.mktemp("query") / "store.duckdb")
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_schema("query")
        opened = PostgresStore(url)
    try:
        opened.initialize()
        with opened.transaction():
            opened.append_new_events(arrow(EVENTS, QUERY_EVENTS))
            opened.merge_records(arrow(SOURCE_RECORDS, QUERY_RECORDS))
        yield opened
    finally:
        opened.close()
        if server is not None:
            server.drop_schema(url)


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        pytest.param(sql, params, expected, id=name)
        for name, sql, params, expected in CANONICAL_QUERIES
    ],
)
def test_canonical_query(
    query_store: Store, sql: str, params: list[Any], expected: list[dict[str, Any]]
) -> None:
    result = query_store.query(sql, params)
    assert result.to_pylist() == expected
    assert result.column_names == list(expected[0])


def test_a_query_without_rows_keeps_its_columns(query_store: Store) -> None:
    result = query_store.query(
        "SELECT event_id, amount FROM events WHERE record_id = ?", ["crm:404"]
    )
    assert result.num_rows == 0
    assert result.column_names == ["event_id", "amount"]


def test_query_accepts_a_percent_sign_next_to_parameters(
    query_store: Store, request: pytest.FixtureRequest
) -> None:
    rows = query_store.rows(
        "SELECT event_id FROM events WHERE channel LIKE 'e%' AND amount > ? ORDER BY event_id",
        [0],
    )
    assert rows == [{"event_id": "e3"}, {"event_id": "e5"}]


def test_query_result_types_follow_the_schema(
    query_store: Store, request: pytest.FixtureRequest
) -> None:
    expected = {f.name: f.type for f in arrow_schema(EVENTS)}
    every_row = query_store.query("SELECT * FROM events ORDER BY event_id")
    no_row = query_store.query("SELECT * FROM events WHERE event_id = 'none'")
    assert {f.name: f.type for f in every_row.schema} == expected
    assert {f.name: f.type for f in no_row.schema} == expected


def test_scalar_and_rows(query_store: Store) -> None:
    assert query_store.scalar("SELECT count(*) FROM events WHERE kind = ?", ["order"]) == 2
    assert query_store.scalar("SELECT event_id FROM events WHERE event_id = 'none'") is None
    assert query_store.rows("SELECT name FROM source_records WHERE record_id = ?", ["crm:1"]) == [
        {"name": "Ada"}
    ]


# ---- values round-trip exactly -----------------------------------------------------------------

TEXTS = [
    "",
    " leading and trailing ",
    "double \"quotes\", commas, and 'single' ones",
    "line one\nline two\r\nline three",
    "tab\there",
    "back\\slash and \\N and NULL",
    "unicode: é ß 中文 🎉 \u200b",
    ",",
    '"',
    None,
]
FLOATS = [
    0.1,
    0.1 + 0.2,
    -0.0,
    5e-324,
    1.7976931348623157e308,
    -123456789.125,
    2.0**53 + 2,
    math.inf,
    -math.inf,
    math.nan,
]
STAMPS = [
    datetime(2024, 2, 29, 23, 59, 59, 999999),
    datetime(1969, 12, 31, 23, 59, 59, 1),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(2000, 1, 1, 0, 0, 0, 1),
]


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


def test_values_round_trip_exactly(store: Store) -> None:
    events = [
        event(
            f"e{i:02d}",
            text=TEXTS[i % len(TEXTS)],
            amount=FLOATS[i % len(FLOATS)],
            occurred_at=STAMPS[i % len(STAMPS)],
            touchpoint=TEXTS[(i + 3) % len(TEXTS)],
        )
        for i in range(len(TEXTS))
    ]
    records = [
        record("big", employees=2**63 - 1, name='Zoë O\'Brien, "Jr."\nline 2'),
        record("small", employees=-(2**63), name=""),
        record("none", employees=None, name=None, created_at=datetime(1970, 1, 1)),
    ]
    with store.transaction():
        store.append_new_events(arrow(EVENTS, events))
        store.merge_records(arrow(SOURCE_RECORDS, records))

    stored_events = store.rows("SELECT * FROM events ORDER BY event_id")
    stored_records = store.rows("SELECT * FROM source_records ORDER BY record_id")
    expected_records = sorted(records, key=lambda r: r["record_id"])
    problems = [
        f"{row[key]}.{column}: sent {sent!r}, got {got[column]!r}"
        for key, sent_rows, got_rows in [
            ("event_id", events, stored_events),
            ("record_id", expected_records, stored_records),
        ]
        for row, got in zip(sent_rows, got_rows, strict=True)
        for column, sent in row.items()
        if not same_value(sent, got[column])
    ]
    assert problems == []
    assert len(stored_events) == len(events)


def test_json_text_round_trips_exactly(store: Store) -> None:
    documents = [
        '{"plan": "pro", "seats": 12, "tags": ["a", "b"]}',
        '{"nested": {"k": [1, 2.5, null, true]}, "text": "l\'été, \\"quoted\\"\\n"}',
        '{"unicode": "中文 🎉", "escaped": "\\u00e9"}',
        '{ "kept"  :  "as written",\n  "a": 1 }',
        None,
    ]
    with store.transaction():
        store.append_new_events(
            arrow(EVENTS, [event(f"e{i}", properties=d) for i, d in enumerate(documents)])
        )
    stored = store.rows("SELECT properties FROM events ORDER BY event_id")
    assert [r["properties"] for r in stored] == documents


def test_duckdb_store_is_a_single_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "ws.duckdb"
    path.parent.mkdir()
    store = DuckDBStore(path)
    try:
        store.initialize()
        assert store.location == str(path)
    finally:
        store.close()
    assert path.is_file()
