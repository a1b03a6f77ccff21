"""Ingestion guarantees, on every backend: rejects with reasons, idempotency, atomicity,
and one clear error for a file that cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxlens.errors import ConfigError, IngestError, SourceError, TooManyRejects
from cxlens.workspace import Workspace

TICKETS = '''\
Id,Requester id,Requester,Requester email,Subject,Priority,Via,Created at,Reply minutes,Solved at
1,u1,Ann Lee,Ann@Example.com,"Cannot log in, again",Urgent,Email,2024-01-02T10:00:00Z,30,2024-01-03T10:00:00Z
2,u2,Bob Stone,bob@example.org,"Slow ""dashboard""",Normal,Chat,2024-01-05T10:00:00Z,,
3,u1,Ann Lee,ann@example.com,Export fails,High,Web form,2024-02-01T08:30:00+01:00,5,
'''

TICKET_SOURCE: dict[str, Any] = {
    "path": "tickets.csv",
    "system": "zendesk",
    "records": [
        {
            "entity": "person",
            "key": "Requester id",
            "fields": {"name": "Requester", "email": "Requester email"},
        }
    ],
    "events": [
        {
            "kind": "ticket",
            "action": {"const": "opened"},
            "id": {"template": "{Id}-opened"},
            "time": "Created at",
            "record": "Requester id",
            "fields": {
                "reference": "Id",
                "text": "Subject",
                "channel": {
                    "column": "Via",
                    "map": {"email": "email", "chat": "chat", "web form": "web"},
                },
            },
            "properties": {"priority": {"column": "Priority"}},
        },
        {
            "kind": "ticket",
            "action": {"const": "first_response"},
            "id": {"template": "{Id}-first_response"},
            "optional": True,
            "time": {"column": "Created at", "add_minutes": "Reply minutes"},
            "record": "Requester id",
            "fields": {"reference": "Id"},
        },
        {
            "kind": "ticket",
            "action": {"const": "resolved"},
            "id": {"template": "{Id}-resolved"},
            "optional": True,
            "time": "Solved at",
            "record": "Requester id",
            "fields": {"reference": "Id"},
        },
    ],
}

GENERIC_EVENTS: dict[str, Any] = {
    "path": "events.csv",
    "system": "app",
    "events": [
        {
            "kind": {"column": "kind"},
            "action": "action",
            "id": "id",
            "time": "at",
            "record": "customer",
            "fields": {"amount": "amount", "currency": "currency"},
        }
    ],
}


@pytest.fixture
def ws(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace on each backend."""
    workspace = Workspace.init(tmp_path / "ws")
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        raw = (workspace.root / "cxlens.yaml").read_text()
        raw = raw.replace("backend: duckdb", "backend: postgres") + ""
        (workspace.root / "cxlens.yaml").write_text(
            raw.replace("path: cxlens.duckdb", f"url: {url}")
        )
        workspace = Workspace(workspace.root)
    try:
        yield workspace
    finally:
        workspace.close()


def write(ws: Workspace, name: str, text: str | bytes) -> Path:
    path = ws.root / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def counts(ws: Workspace) -> dict[str, int]:
    return {t: ws.store.count(t) for t in ("source_records", "events", "customers", "record_links")}


def test_csv_source_maps_records_and_events(ws: Workspace) -> None:
    write(ws, "tickets.csv", TICKETS)
    ws.add_source("zendesk", TICKET_SOURCE)
    [report] = ws.ingest()
    assert (report.rows_read, report.rows_rejected) == (3, 0)
    assert report.records_loaded == 2  # u1 appears twice: one record, the last row wins
    assert report.events_loaded == 3 + 2 + 1
    events = {e["event_id"]: e for e in ws.store.rows("SELECT * FROM events")}
    opened = events["zendesk:1-opened"]
    assert opened["record_id"] == "zendesk:u1"
    assert opened["channel"] == "email" and opened["department"] == "support"
    assert json.loads(opened["properties"]) == {"priority": "urgent"}
    assert opened["text"] == "Cannot log in, again"
    assert events["zendesk:2-opened"]["text"] == 'Slow "dashboard"'
    # +01:00 is converted to UTC; minutes are added for the first response.
    assert str(events["zendesk:3-opened"]["occurred_at"]) == "2024-02-01 07:30:00"
    assert str(events["zendesk:3-first_response"]["occurred_at"]) == "2024-02-01 07:35:00"
    people = ws.store.rows("SELECT record_id, email FROM source_records ORDER BY record_id")
    assert people == [
        {"record_id": "zendesk:u1", "email": "ann@example.com"},
        {"record_id": "zendesk:u2", "email": "bob@example.org"},
    ]
    assert ws.store.count("customers") == 2


def test_reloading_changes_nothing_and_changed_records_update(ws: Workspace) -> None:
    write(ws, "tickets.csv", TICKETS)
    ws.add_source("zendesk", TICKET_SOURCE)
    ws.ingest()
    before = counts(ws)
    [again] = ws.ingest()
    assert (again.events_loaded, again.records_loaded) == (0, 0)
    assert again.events_unchanged == 6 and again.records_unchanged == 2
    assert counts(ws) == before
    write(ws, "tickets.csv", TICKETS.replace("Bob Stone", "Robert Stone"))
    [changed] = ws.ingest()
    assert changed.records_loaded == 1 and changed.events_loaded == 0
    assert ws.store.scalar("SELECT name FROM customers WHERE email = 'bob@example.org'") == (
        "Robert Stone"
    )
    assert counts(ws) == before


def test_bad_rows_are_rejected_with_file_row_field_and_reason(ws: Workspace) -> None:
    write(
        ws,
        "events.csv",
        "\n".join(
            [
                "id,kind,action,at,customer,amount,currency",
                "e1,order,placed,2024-01-01,c1,10.5,usd",
                "e2,order,placed,2024-13-45,c1,10,USD",  # unparsable date
                "e3,order,placed,2024-01-02,,10,USD",  # missing key
                "e4,order,placed,2024-01-02,c2,ten,USD",  # wrong type
                "e5,teleport,placed,2024-01-02,c2,1,USD",  # unknown kind
                "e6,order,exploded,2024-01-02,c2,1,USD",  # not an action of the kind
                "e7,order,placed,2024-01-02,c2,,USD",  # amount required for orders
                "e8,order,placed,2024-01-03,c3,3,US Dollars",  # not a currency code
            ]
        )
        + "\n",
    )
    ws.config.ingest.max_reject_share = 1.0
    ws.add_source("app", GENERIC_EVENTS)
    ws.config.ingest.max_reject_share = 1.0
    [report] = ws.ingest()
    assert (report.rows_read, report.events_loaded, report.rows_rejected) == (8, 1, 7)
    rejects = {r["row_number"]: r for r in ws.rejects(limit=50)}
    assert set(rejects) == {2, 3, 4, 5, 6, 7, 8}
    assert rejects[2]["field"] == "time (column 'at')" and "not a time" in rejects[2]["reason"]
    assert rejects[3]["field"] == "record (column 'customer')"
    assert rejects[3]["reason"] == "missing value"
    assert rejects[4]["value"] == "ten" and rejects[4]["reason"] == "not a number"
    assert "unknown kind" in rejects[5]["reason"]
    assert rejects[6]["reason"] == "not an action of this kind of event"
    assert "required" in rejects[7]["reason"] and rejects[7]["field"] == "amount"
    assert rejects[8]["reason"] == "not an ISO 4217 currency code"
    assert all(r["location"].endswith("events.csv") for r in rejects.values())
    assert json.loads(rejects[4]["raw"])["amount"] == "ten"  # the row is kept whole
    [event] = ws.store.rows("SELECT amount, currency FROM events")
    assert event == {"amount": 10.5, "currency": "USD"}


def test_too_many_rejects_fails_whole_and_keeps_the_rejects(ws: Workspace) -> None:
    write(
        ws,
        "events.csv",
        "id,kind,action,at,customer,amount,currency\n"
        "e1,order,placed,2024-01-01,c1,1,USD\ne2,order,placed,never,c1,1,USD\n",
    )
    ws.add_source("app", GENERIC_EVENTS)
    with pytest.raises(TooManyRejects) as info:
        ws.ingest()
    assert "1 of 2 rows rejected" in str(info.value)
    assert "events.csv row 2, field 'time (column 'at')'" in str(info.value)
    assert counts(ws)["events"] == 0
    [load] = ws.loads()
    assert load["status"] == "failed" and load["rows_rejected"] == 1
    assert [r["row_number"] for r in ws.rejects(load_id=load["load_id"])] == [2]


def test_a_failure_midway_leaves_the_store_as_before(ws: Workspace) -> None:
    write(ws, "tickets.csv", TICKETS)
    ws.add_source("zendesk", TICKET_SOURCE)
    ws.ingest()
    before = counts(ws)
    rows = ["id,kind,action,at,customer,amount,currency"] + [
        f"n{i},order,placed,2024-03-01,c{i},{i},EUR" for i in range(3_000)
    ]
    write(ws, "events.csv", "\n".join(rows) + "\n")
    ws.add_source("app", GENERIC_EVENTS)
    ws.config.ingest.batch_rows = 1_000

    def explode(batch_no: int) -> None:
        if batch_no == 1:
            raise RuntimeError("disk on fire")

    with pytest.raises(IngestError, match="rolled back"):
        ws.ingest(["app"], after_batch=explode)
    assert counts(ws) == before
    assert ws.loads()[0]["status"] == "failed"
    [report] = ws.ingest(["app"])
    assert report.events_loaded == 3_000


def test_same_event_twice_in_one_file_is_stored_once(ws: Workspace) -> None:
    write(
        ws,
        "events.csv",
        "id,kind,action,at,customer,amount,currency\n"
        "e1,order,placed,2024-01-01,c1,1,USD\ne1,order,placed,2024-01-01,c1,1,USD\n",
    )
    ws.add_source("app", GENERIC_EVENTS)
    [report] = ws.ingest()
    # The repeat is already there once the first copy is: it counts as unchanged.
    assert report.events_loaded == 1 and report.events_unchanged == 1
    assert ws.store.count("events") == 1


def test_events_without_ids_get_a_stable_content_hash(ws: Workspace) -> None:
    source = json.loads(json.dumps(GENERIC_EVENTS))
    del source["events"][0]["id"]
    write(
        ws,
        "events.csv",
        "id,kind,action,at,customer,amount,currency\n"
        "x,order,placed,2024-01-01,c1,1,USD\ny,order,placed,2024-01-02,c1,1,USD\n",
    )
    ws.add_source("app", source)
    ws.ingest()
    ws.ingest()
    ids = [r["event_id"] for r in ws.store.rows("SELECT event_id FROM events ORDER BY 1")]
    assert len(ids) == 2 and all(i.startswith("app:h:") for i in ids)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        ("Id,Name\n1,Café\n".encode("latin-1"), "not valid utf-8 text"),
        (b"Id,Requester id\n1,u1\n2,u2,extra,cells\n", "ragged CSV"),
    ],
    ids=["empty", "encoding", "ragged"],
)
def test_malformed_csv_gives_one_clear_error(ws: Workspace, content: bytes, expected: str) -> None:
    write(ws, "tickets.csv", content)
    ws.add_source(
        "zendesk", {**TICKET_SOURCE, "records": [{"entity": "person", "key": "Id"}], "events": []}
    )
    with pytest.raises(SourceError) as info:
        ws.ingest()
    assert expected in str(info.value) and "tickets.csv" in str(info.value)
    assert counts(ws)["source_records"] == 0


def test_header_only_file_loads_nothing_and_says_so(ws: Workspace) -> None:
    write(ws, "tickets.csv", "Id,Requester id\n")
    ws.add_source(
        "zendesk", {**TICKET_SOURCE, "records": [{"entity": "person", "key": "Id"}], "events": []}
    )
    with pytest.raises(IngestError, match="holds no data rows"):
        ws.ingest()


def test_truncated_parquet_gives_one_clear_error(ws: Workspace) -> None:
    path = ws.root / "events.parquet"
    pq.write_table(pa.table({"id": ["a"] * 1000, "kind": ["order"] * 1000}), path)
    path.write_bytes(path.read_bytes()[:-200])
    ws.add_source("app", {**GENERIC_EVENTS, "path": "events.parquet"})
    with pytest.raises(SourceError, match="events.parquet.*Parquet"):
        ws.ingest()


def test_mapping_naming_absent_columns_lists_what_the_file_has(ws: Workspace) -> None:
    write(ws, "tickets.csv", "Id,Name\n1,x\n")
    ws.add_source("zendesk", TICKET_SOURCE)
    with pytest.raises(ConfigError) as info:
        ws.ingest()
    assert "'Requester id'" in str(info.value) and "Columns in the file: 'Id', 'Name'" in str(
        info.value
    )


def test_jsonl_bad_line_is_a_reject_and_nested_keys_flatten(ws: Workspace) -> None:
    write(
        ws,
        "posts.jsonl",
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "p1",
                        "at": "2024-01-01T10:00:00Z",
                        "author": {"email": "a@x.io"},
                        "body": "Love the new export",
                    }
                ),
                "{not json",
                json.dumps(
                    {
                        "id": "p2",
                        "at": "2024-01-02T10:00:00Z",
                        "author": {"email": "b@x.io"},
                        "body": "Search is slow",
                    }
                ),
            ]
        )
        + "\n",
    )
    ws.config.ingest.max_reject_share = 0.5
    ws.add_source(
        "community",
        {
            "path": "posts.jsonl",
            "events": [
                {
                    "kind": "community",
                    "action": {"const": "post"},
                    "id": "id",
                    "time": "at",
                    "record": "author.email",
                    "fields": {"text": "body"},
                }
            ],
        },
    )
    ws.config.ingest.max_reject_share = 0.5
    [report] = ws.ingest()
    assert (report.events_loaded, report.rows_rejected) == (2, 1)
    [reject] = ws.rejects()
    assert reject["row_number"] == 2 and reject["field"] == "(line)"
    assert reject["reason"].startswith("not valid JSON")


def test_excel_and_sql_sources(ws: Workspace) -> None:
    import datetime as dt
    import sqlite3

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Job ID", "Customer", "Provider", "Promised", "Delivered"])
    sheet.append(["J1", "c1", "FastFix", dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 7, 9)])
    sheet.append([1002, "c2", "FastFix", dt.datetime(2024, 1, 6), None])
    book.save(ws.root / "jobs.xlsx")
    ws.add_source(
        "jobs",
        {
            "path": "jobs.xlsx",
            "events": [
                {
                    "kind": "delivery",
                    "action": {"const": "delivered"},
                    "id": "Job ID",
                    "time": "Delivered",
                    "optional": True,
                    "record": "Customer",
                    "fields": {"reference": "Job ID"},
                    "properties": {"provider": "Provider", "promised_at": "Promised"},
                }
            ],
        },
    )
    db = ws.root / "crm.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE contacts (id INTEGER, email TEXT, created TEXT)")
        con.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?)",
            [(1, "A@x.io", "2023-05-01 10:00:00"), (2, "b@y.io", None)],
        )
    ws.add_source(
        "crm",
        {
            "url": f"sqlite:///{db}",
            "table": "contacts",
            "records": [
                {
                    "entity": "person",
                    "key": "id",
                    "fields": {"email": "email", "created_at": "created"},
                }
            ],
        },
    )
    reports = {r.source: r for r in ws.ingest()}
    assert reports["jobs"].events_loaded == 1 and reports["jobs"].rows_rejected == 0
    [job] = ws.store.rows("SELECT event_id, occurred_at, properties FROM events")
    assert job["event_id"] == "jobs:J1"
    assert json.loads(job["properties"]) == {
        "promised_at": "2024-01-05T00:00:00",
        "provider": "FastFix",
    }
    assert reports["crm"].records_loaded == 2
    emails = ws.store.rows(
        "SELECT source_key, email FROM source_records WHERE system = 'crm' ORDER BY source_key"
    )
    assert emails == [
        {"source_key": "1", "email": "a@x.io"},
        {"source_key": "2", "email": "b@y.io"},
    ]


def test_naive_times_are_read_in_the_source_time_zone(ws: Workspace) -> None:
    write(
        ws,
        "events.csv",
        "id,kind,action,at,customer,amount,currency\n"
        "e1,order,placed,2024-07-01 09:00:00,c1,1,USD\n",
    )
    ws.add_source("app", {**GENERIC_EVENTS, "timezone": "America/New_York"})
    ws.ingest()
    assert str(ws.store.scalar("SELECT occurred_at FROM events")) == "2024-07-01 13:00:00"


def test_when_filters_by_value_and_columns_fall_back(ws: Workspace) -> None:
    write(
        ws,
        "opps.csv",
        "Id,Stage,Contact,Account,Closed\n"
        "o1,Closed Won,,a1,2024-01-31\no2,closed lost,c2,a1,2024-02-01\no3,Open,c3,a2,\n",
    )
    ws.add_source(
        "crm",
        {
            "path": "opps.csv",
            "system": "sf",
            "events": [
                {
                    "kind": "opportunity",
                    "action": {"const": "won"},
                    "id": {"template": "{Id}-closed"},
                    "when": {"column": "Stage", "in": ["Closed Won"]},
                    "time": "Closed",
                    "record": {"columns": ["Contact", "Account"]},
                    "fields": {"reference": "Id"},
                },
                {
                    "kind": "opportunity",
                    "action": {"const": "lost"},
                    "id": {"template": "{Id}-closed"},
                    "when": {"column": "Stage", "in": ["CLOSED LOST"]},
                    "time": "Closed",
                    "record": {"columns": ["Contact", "Account"]},
                    "fields": {"reference": "Id"},
                },
            ],
        },
    )
    [report] = ws.ingest()
    assert (report.events_loaded, report.rows_rejected) == (2, 0)
    rows = ws.store.rows("SELECT event_id, action, record_id FROM events ORDER BY event_id")
    assert rows == [
        {"event_id": "sf:o1-closed", "action": "won", "record_id": "sf:a1"},
        {"event_id": "sf:o2-closed", "action": "lost", "record_id": "sf:c2"},
    ]


@pytest.mark.parametrize("fresh", [True, False], ids=["empty-store", "non-empty-store"])
def test_an_id_repeated_across_batches_is_stored_once(ws: Workspace, fresh: bool) -> None:
    if not fresh:
        write(
            ws,
            "first.csv",
            "id,kind,action,at,customer,amount,currency\nx1,order,placed,2024-01-01,c1,1,USD\n",
        )
        ws.add_source("first", {**GENERIC_EVENTS, "path": "first.csv"})
        ws.ingest(["first"])
    rows = ["id,kind,action,at,customer,amount,currency"]
    rows += [f"n{i},order,placed,2024-03-01,c{i},{i},EUR" for i in range(2_500)]
    rows += ["n5,order,placed,2024-03-02,c5,99,EUR", "x1,order,placed,2024-01-01,c1,1,USD"]
    write(ws, "events.csv", "\n".join(rows) + "\n")
    ws.add_source("app", GENERIC_EVENTS)
    ws.config.ingest.batch_rows = 1_000
    [report] = ws.ingest(["app"])
    stored_before = 0 if fresh else 1
    assert report.events_loaded == 2_500 + (1 if fresh else 0)
    assert report.events_unchanged == 1 + (0 if fresh else 1)
    assert ws.store.count("events") == 2_501
    # The first row with an id wins.
    assert ws.store.scalar("SELECT amount FROM events WHERE event_id = 'app:n5'") == 5.0
    assert stored_before + report.events_loaded == ws.store.count("events")


def test_parquet_keeps_native_types_and_row_numbers(ws: Workspace) -> None:
    import datetime as dt

    at = [dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)] * 3
    pq.write_table(
        pa.table(
            {
                "id": ["p1", None, "p3"],
                "kind": ["order"] * 3,
                "action": ["placed"] * 3,
                "at": pa.array(at, pa.timestamp("ms", tz="Europe/Paris")),
                "customer": ["c1", "c2", "c3"],
                "amount": [10.5, 2.0, float("nan")],
                "currency": ["EUR"] * 3,
                "note": ["  kept as stored ", "", None],
            }
        ),
        ws.root / "events.parquet",
    )
    source = json.loads(json.dumps(GENERIC_EVENTS))
    source["events"][0]["fields"]["text"] = "note"
    ws.add_source("app", {**source, "path": "events.parquet"})
    ws.config.ingest.max_reject_share = 1.0
    [report] = ws.ingest()
    assert (report.rows_read, report.events_loaded, report.rows_rejected) == (3, 1, 2)
    # Typed sources keep text as stored (CSV cells are trimmed); "" is still missing.
    assert ws.store.scalar("SELECT text FROM events") == "  kept as stored "
    reasons = {(r["row_number"], r["field"], r["reason"]) for r in ws.rejects()}
    assert (2, "id (column 'id')", "missing value") in reasons
    assert (3, "amount (column 'amount')", "not a number") in reasons
    assert {row for row, _, _ in reasons} == {2, 3}
    [event] = ws.store.rows("SELECT event_id, occurred_at, amount FROM events")
    assert event == {
        "event_id": "app:p1",
        "occurred_at": dt.datetime(2024, 5, 1, 12),
        "amount": 10.5,
    }
