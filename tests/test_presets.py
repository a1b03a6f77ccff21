"""Export presets: each one is valid, documented, and loads its realistic sample export
through the real ingestion pipeline with the expected records and events and no rejects."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

from cxlens.sources.presets import load_preset, preset_names
from cxlens.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "source-exports.md"
SAMPLES = Path(__file__).resolve().parent / "data" / "presets"

#: preset -> (rows in the sample, records loaded, events loaded)
EXPECTED: dict[str, tuple[int, int, int]] = {
    "salesforce_accounts": (12, 12, 0),
    "salesforce_contacts": (15, 15, 18),  # 15 added + 3 left
    "salesforce_opportunities": (14, 0, 23),  # 14 opened + 7 won + 2 lost
    "salesforce_tasks": (15, 0, 14),  # one task has no description
    "hubspot_contacts": (13, 13, 0),
    "zendesk_tickets": (20, 16, 52),  # 20 opened + 18 first responses + 14 resolved
    "stripe_customers": (12, 12, 0),
    "stripe_invoices": (17, 0, 28),  # 17 invoice states + 11 payments
    "chartmogul_activities": (17, 0, 17),
    "shopify_orders": (17, 12, 13),  # 17 line items in 13 orders by 12 buyers
    "survey_responses": (16, 15, 16),
    "social_mentions": (12, 10, 12),
    "product_usage": (30, 14, 30),
    "community_posts": (14, 11, 14),
    "provider_deliveries": (13, 12, 13),
}


# ---- the documented table ---------------------------------------------------------------
def _strip_notes(text: str) -> str:
    """Drop parenthesised notes, innermost first, but keep Stripe's '(UTC)' column names."""
    text = text.replace("(UTC)", "\0UTC\1")
    while True:
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            return stripped.replace("\0UTC\1", "(UTC)")
        text = stripped


def _doc_columns(cell: str) -> list[str]:
    cell = re.sub(
        r"(\w+): \{([^}]*)\}",
        lambda m: ", ".join(f"{m[1]}.{k.strip()}" for k in m[2].split(",")),
        cell,
    )
    return [c.strip() for c in _strip_notes(cell).split(",") if c.strip()]


def _doc_table() -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `(\w+)` \| (.+?) \| (\S+) \| (.+) \|$", line)
        if m:
            rows[m[1]] = {"system": m[2].split()[0], "file": m[3], "columns": _doc_columns(m[4])}
    return rows


DOC_TABLE = _doc_table()


def _sample_columns(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh))
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        header = next(book.worksheets[0].iter_rows(values_only=True))
        book.close()
        return [str(h) for h in header]
    columns: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            for key, value in json.loads(line).items():
                names = [f"{key}.{k}" for k in value] if isinstance(value, dict) else [key]
                columns += [n for n in names if n not in columns]
    return columns


def test_doc_table_parses() -> None:
    assert len(DOC_TABLE) == 15
    assert "Via" in DOC_TABLE["zendesk_tickets"]["columns"]
    assert "Created (UTC)" in DOC_TABLE["stripe_customers"]["columns"]
    assert "Metadata: salesforce_id" in DOC_TABLE["stripe_customers"]["columns"]
    assert "author.email" in DOC_TABLE["community_posts"]["columns"]


def test_every_documented_preset_exists_and_vice_versa() -> None:
    assert sorted(DOC_TABLE) == preset_names()
    assert sorted(EXPECTED) == preset_names()


@pytest.mark.parametrize("name", preset_names())
def test_preset_validates_and_follows_the_doc(name: str) -> None:
    preset = load_preset(name)
    doc = DOC_TABLE[name]
    assert preset.name == name
    assert preset.description.strip()
    assert preset.records or preset.events
    assert preset.system == doc["system"]
    suffix = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl", "excel": ".xlsx"}
    assert doc["file"].endswith(suffix[preset.format])
    read: set[str] = set()
    for m in [*preset.records, *preset.events]:
        read |= m.columns()
    unknown = read - set(doc["columns"])
    assert not unknown, f"{name} reads columns the doc does not list: {sorted(unknown)}"


@pytest.mark.parametrize("name", preset_names())
def test_sample_has_the_documented_columns(name: str) -> None:
    doc = DOC_TABLE[name]
    path = SAMPLES / doc["file"]
    assert path.exists(), f"no sample export {path}"
    columns = _sample_columns(path)
    if path.suffix == ".jsonl":  # JSON exports may carry extra keys; the documented ones stay
        assert set(doc["columns"]) <= set(columns)
    else:
        assert columns == doc["columns"]


# ---- loading the samples ----------------------------------------------------------------
def _load(tmp_path: Path, name: str) -> Workspace:
    ws = Workspace.init(tmp_path / name)
    ws.add_source(name, {"preset": name, "path": str(SAMPLES / DOC_TABLE[name]["file"])})
    ws.ingest([name])
    return ws


@pytest.fixture
def loaded(tmp_path: Path) -> Any:
    opened: list[Workspace] = []

    def load(name: str) -> Workspace:
        ws = _load(tmp_path, name)
        opened.append(ws)
        return ws

    yield load
    for ws in opened:
        ws.close()


def _events(
    ws: Workspace, where: str = "TRUE", params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    rows = ws.store.rows(f"SELECT * FROM events WHERE {where} ORDER BY event_id", list(params))
    for row in rows:
        row["properties"] = json.loads(row["properties"]) if row["properties"] else {}
    return rows


def _event(ws: Workspace, event_id: str) -> dict[str, Any]:
    rows = _events(ws, "event_id = ?", (event_id,))
    assert len(rows) == 1, f"no event {event_id}"
    return rows[0]


def _record(ws: Workspace, record_id: str) -> dict[str, Any]:
    rows = ws.store.rows("SELECT * FROM source_records WHERE record_id = ?", [record_id])
    assert len(rows) == 1, f"no record {record_id}"
    row = rows[0]
    for key in ("external_ids", "attributes"):
        row[key] = json.loads(row[key]) if row[key] else {}
    return row


def _actions(ws: Workspace) -> Counter[str]:
    return Counter(r["action"] for r in ws.store.rows("SELECT action FROM events"))


@pytest.mark.parametrize("name", preset_names())
def test_sample_loads_without_rejects(tmp_path: Path, name: str) -> None:
    rows, records, events = EXPECTED[name]
    with Workspace.init(tmp_path) as ws:
        ws.add_source(name, {"preset": name, "path": str(SAMPLES / DOC_TABLE[name]["file"])})
        [report] = ws.ingest([name])
        assert ws.rejects() == []
        assert report.status.value == "committed"
        assert (report.rows_read, report.rows_rejected) == (rows, 0)
        assert (report.records_loaded, report.events_loaded) == (records, events)
        assert ws.store.count("source_records") == records
        assert ws.store.count("events") == events
        # Ids are stable: loading the same export again adds and changes nothing.
        [again] = ws.ingest([name])
        assert (again.records_loaded, again.events_loaded, again.rows_rejected) == (0, 0, 0)
        assert (again.records_unchanged, again.events_unchanged) == (records, events)


# ---- spot checks, one preset at a time ---------------------------------------------------
def test_salesforce_accounts(loaded: Any) -> None:
    ws = loaded("salesforce_accounts")
    northwind = _record(ws, "salesforce:0015g00000Q1aXyAAB")
    assert northwind["entity"] == "account"
    assert northwind["address"] == "1 Harbor Way, Suite 400"
    assert northwind["employees"] == 850
    assert northwind["segment"] == "Enterprise"
    assert northwind["owner"] == "Dana Whitfield"
    assert northwind["created_at"] == dt.datetime(2021, 3, 14, 9, 12, 44)
    assert northwind["attributes"] == {"Type": "Customer - Direct"}
    contoso = _record(ws, "salesforce:0015g00000Q1aXzAAB")
    assert contoso["address"] == "Bahnhofstrasse 45\nPostfach 1234"
    assert _record(ws, "salesforce:0015g00000Q1aY8AAB")["name"] == "Coho Winery, Inc."
    adatum = _record(ws, "salesforce:0015g00000Q1aY4AAB")
    assert adatum["employees"] is None and adatum["postal_code"] is None
    assert _record(ws, "salesforce:0015g00000Q1aY9AAB")["city"] == "北京"


def test_salesforce_contacts(loaded: Any) -> None:
    ws = loaded("salesforce_contacts")
    sarah = _record(ws, "salesforce:0035g00000Kd3AbAAJ")
    assert sarah["entity"] == "person"
    assert sarah["account_record_id"] == "salesforce:0015g00000Q1aXyAAB"
    assert sarah["email"] == "sarah.okafor@northwindtraders.com"
    assert _actions(ws) == {"contact_added": 15, "contact_left": 2, "champion_left": 1}
    left = _event(ws, "salesforce:0035g00000Kd3AdAAJ-left")
    assert left["action"] == "champion_left"
    assert left["occurred_at"] == dt.datetime(2024, 1, 31)
    assert left["account_record_id"] == "salesforce:0015g00000Q1aXzAAB"
    assert left["properties"] == {"contact": "Lukas Meier", "role": "Head of Digital"}
    assert _event(ws, "salesforce:0035g00000Kd3AcAAJ-left")["action"] == "contact_left"
    wang = _record(ws, "salesforce:0035g00000Kd3AoAAJ")
    assert (wang["first_name"], wang["last_name"]) == ("伟", "王")


def test_salesforce_opportunities(loaded: Any) -> None:
    ws = loaded("salesforce_opportunities")
    renewal = _event(ws, "salesforce:0065g00000Xy1AaAAJ-opened")
    assert renewal["record_id"] == "salesforce:0015g00000Q1aXyAAB"
    assert renewal["account_record_id"] == "salesforce:0015g00000Q1aXyAAB"
    assert (renewal["amount"], renewal["currency"]) == (120000.0, "USD")
    assert renewal["journey_stage"] == "renewal"
    assert renewal["occurred_at"] == dt.datetime(2023, 10, 2, 15, 0)
    assert renewal["properties"]["stage"] == "Closed Won"
    assert renewal["properties"]["close_date"].startswith("2024-01-31")
    yen = _event(ws, "salesforce:0065g00000Xy1AnAAJ-opened")
    assert (yen["amount"], yen["currency"]) == (5400000.0, "JPY")
    no_amount = _event(ws, "salesforce:0065g00000Xy1AiAAJ-opened")
    assert no_amount["amount"] is None and no_amount["journey_stage"] == "purchase"
    assert _event(ws, "salesforce:0065g00000Xy1AbAAJ-opened")["journey_stage"] == "expansion"
    won = _event(ws, "salesforce:0065g00000Xy1AaAAJ-closed")
    assert (won["action"], won["occurred_at"]) == ("won", dt.datetime(2024, 1, 31))
    assert _actions(ws) == {"opened": 14, "won": 7, "lost": 2}
    assert _events(ws, "event_id = ?", ("salesforce:0065g00000Xy1AbAAJ-closed",)) == []


def test_salesforce_tasks(loaded: Any) -> None:
    ws = loaded("salesforce_tasks")
    assert _actions(ws) == {"success": 5, "sales": 4, "support": 2, "frontline": 3}
    assert _events(ws, "event_id = ?", ("salesforce:00T5g00001AbC06EAF",)) == []
    field = _event(ws, "salesforce:00T5g00001AbC05EAF")
    assert (field["action"], field["department"]) == ("frontline", "operations")
    assert field["channel"] == "in_person"
    escalation = _event(ws, "salesforce:00T5g00001AbC04EAF")
    assert escalation["record_id"] == "salesforce:0015g00000Q1aXzAAB"
    assert '"this blocks our month-end close"' in escalation["text"]
    assert escalation["properties"]["subject"] == "Escalation: batch export failing"
    kickoff = _event(ws, "salesforce:00T5g00001AbC03EAF")
    assert kickoff["text"].endswith("\nNext step: proposal by Feb 15.")
    assert kickoff["occurred_at"] == dt.datetime(2023, 12, 4)


def test_hubspot_contacts(loaded: Any) -> None:
    ws = loaded("hubspot_contacts")
    lukasz = _record(ws, "hubspot:251")
    assert (lukasz["first_name"], lukasz["last_name"]) == ("Łukasz", "Wiśniewski")
    assert lukasz["company"] is None and lukasz["owner"] is None
    assert lukasz["created_at"] == dt.datetime(2023, 9, 30, 20, 1)
    emily = _record(ws, "hubspot:301")
    assert emily["title"] == "Director, Finance Systems"
    assert emily["attributes"] == {"Lifecycle Stage": "marketingqualifiedlead"}
    assert _record(ws, "hubspot:551")["email"] is None


def test_zendesk_tickets(loaded: Any) -> None:
    ws = loaded("zendesk_tickets")
    assert _actions(ws) == {"opened": 20, "first_response": 18, "resolved": 14}
    opened = _event(ws, "zendesk:10231-opened")
    assert opened["record_id"] == "zendesk:381920441"
    assert opened["properties"]["priority"] == "urgent"
    assert opened["properties"]["category"] == "Incident"
    assert opened["channel"] == "email"
    assert opened["reference"] == "10231"
    assert opened["department"] == "support"
    first = _event(ws, "zendesk:10231-first-response")
    assert first["occurred_at"] == opened["occurred_at"] + dt.timedelta(minutes=12)
    assert _event(ws, "zendesk:10231-resolved")["occurred_at"] == dt.datetime(2024, 1, 8, 13, 40, 5)
    assert _event(ws, "zendesk:10234-opened")["channel"] == "phone"
    assert _event(ws, "zendesk:10237-opened")["channel"] == "api"
    assert _event(ws, "zendesk:10235-opened")["channel"] == "chat"
    assert _event(ws, "zendesk:10236-opened")["channel"] == "web"
    due = _event(ws, "zendesk:10241-opened")["properties"]["sla_due_at"]
    assert due.startswith("2024-01-29T12:02:19")
    assert _event(ws, "zendesk:10241-opened")["text"] == (
        'Month-end close blocked: "Export job timed out"'
    )
    new = _event(ws, "zendesk:10239-opened")
    assert "priority" not in new["properties"]
    assert _events(ws, "reference = '10239' AND action <> 'opened'") == []
    same_minute = _event(ws, "zendesk:10249-first-response")
    assert same_minute["occurred_at"] == dt.datetime(2024, 1, 12, 15, 30)
    requester = _record(ws, "zendesk:381921300")
    assert (requester["name"], requester["company"]) == ("王伟", "北京星辰科技有限公司")


def test_stripe_customers(loaded: Any) -> None:
    ws = loaded("stripe_customers")
    northwind = _record(ws, "stripe:cus_NwT4rD1sQ8aBcE")
    assert northwind["entity"] == "account"
    assert northwind["external_ids"] == {"salesforce": "0015g00000Q1aXyAAB"}
    assert northwind["created_at"] == dt.datetime(2021, 4, 1, 17, 3, 22)
    assert northwind["address"] == "1 Harbor Way, Suite 400"
    self_serve = _record(ws, "stripe:cus_PqR8sT2uVwXyZa")
    assert self_serve["external_ids"] == {}
    assert self_serve["address"] is None
    xingchen = _record(ws, "stripe:cus_NwT4rD1sQ8aBcN")
    assert xingchen["attributes"]["Description"] == "Pays by bank transfer\ncontact: 财务部"


def test_stripe_invoices(loaded: Any) -> None:
    ws = loaded("stripe_invoices")
    assert _actions(ws) == {"issued": 15, "paid": 11, "failed": 1, "voided": 1}
    issued = _event(ws, "stripe:in_1OZa1bCdEfGh0002")
    assert issued["record_id"] == issued["account_record_id"] == "stripe:cus_NwT4rD1sQ8aBcF"
    assert (issued["amount"], issued["currency"]) == (20000.0, "EUR")
    assert issued["properties"]["subscription"] == "sub_1MnOpQrStUv0002"
    assert issued["properties"]["due_at"].startswith("2024-03-02T00:05:40")
    paid = _event(ws, "stripe:in_1OZa1bCdEfGh0015-paid")
    assert (paid["amount"], paid["currency"]) == (450000.0, "JPY")
    assert paid["occurred_at"] == dt.datetime(2024, 1, 25, 1, 0)
    assert _event(ws, "stripe:in_1OZa1bCdEfGh0013-paid")["currency"] == "GBP"
    assert _event(ws, "stripe:in_1OZa1bCdEfGh0005")["action"] == "failed"
    assert _event(ws, "stripe:in_1OZa1bCdEfGh0011")["action"] == "voided"
    one_off = _event(ws, "stripe:in_1OZa1bCdEfGh0008")
    assert "subscription" not in one_off["properties"]


def test_chartmogul_activities(loaded: Any) -> None:
    ws = loaded("chartmogul_activities")
    assert _actions(ws) == {
        "new": 11,
        "expansion": 2,
        "contraction": 1,
        "churn": 2,
        "reactivation": 1,
    }
    churn = _event(ws, "stripe:chartmogul-6f1c2a9e-1b7d-4c1e-9a0b-3d2e1f000011")
    assert churn["record_id"] == "stripe:cus_NwT4rD1sQ8aBcH"
    assert (churn["amount"], churn["currency"]) == (-790.0, "EUR")
    assert churn["reference"] == "sub_1MnOpQrStUv0004"
    assert churn["occurred_at"] == dt.datetime(2023, 11, 5)
    new = _event(ws, "stripe:chartmogul-6f1c2a9e-1b7d-4c1e-9a0b-3d2e1f000001")
    assert (new["quantity"], new["journey_stage"]) == (150.0, "purchase")
    assert new["properties"] == {"plan": "Enterprise (Annual)"}


def test_shopify_orders(loaded: Any) -> None:
    ws = loaded("shopify_orders")
    assert _actions(ws) == {"placed": 10, "refunded": 1, "cancelled": 2}
    first = _event(ws, "shopify:5612345678901")
    assert first["record_id"] == "shopify:olivia.brown@cohowinery.com"
    assert (first["amount"], first["currency"], first["reference"]) == (259.8, "USD", "#1001")
    assert first["occurred_at"] == dt.datetime(2024, 1, 5, 15, 22, 11)  # -0500 to UTC
    assert first["properties"] == {"product": "Barcode scanner LS2208"}
    yen = _event(ws, "shopify:5612345678905")
    assert (yen["amount"], yen["currency"]) == (14080.0, "JPY")
    assert yen["occurred_at"] == dt.datetime(2024, 1, 14, 13, 40, 5)
    assert _event(ws, "shopify:5612345678903")["action"] == "refunded"
    buyer = _record(ws, "shopify:j.weiss@fabrikam.de")
    assert (buyer["name"], buyer["company"]) == ("Jürgen Weiß", "Fabrikam GmbH")
    orders = ws.store.rows(
        "SELECT record_id, count(*) AS n FROM events GROUP BY record_id HAVING count(*) > 1"
    )
    assert orders == [{"record_id": "shopify:olivia.brown@cohowinery.com", "n": 2}]


def test_survey_responses(loaded: Any) -> None:
    ws = loaded("survey_responses")
    assert _actions(ws) == {"nps": 7, "csat": 6, "ces": 3}
    nps = _event(ws, "survey:R_3kXa9QvB2mN0002")
    assert (nps["action"], nps["score"]) == ("nps", 6.0)
    assert nps["occurred_at"] == dt.datetime(2024, 1, 23, 7, 15, 42)  # +01:00 to UTC
    assert nps["record_id"] == "survey:lukas.meier@contoso-pharma.ch"
    assert nps["properties"] == {"survey": "Relationship NPS Q1 2024"}
    csat = _event(ws, "survey:R_3kXa9QvB2mN0003")
    assert csat["text"] == "Month-end close blocked for two days.\nNobody called back."
    assert csat["touchpoint"] == "Support ticket"
    assert csat["occurred_at"] == dt.datetime(2024, 1, 31, 10, 0)
    assert _event(ws, "survey:R_3kXa9QvB2mN0005")["channel"] == "in_app"
    assert _event(ws, "survey:R_3kXa9QvB2mN0008")["channel"] == "other"
    assert _event(ws, "survey:R_3kXa9QvB2mN0006")["text"] is None
    assert _record(ws, "survey:sarah.okafor@northwindtraders.com")["name"] == "Sarah Okafor"


def test_social_mentions(loaded: Any) -> None:
    ws = loaded("social_mentions")
    scores = Counter(r["score"] for r in ws.store.rows("SELECT score FROM events"))
    assert scores == {1.0: 4, 0.0: 5, -1.0: 3}
    outage = _event(ws, "social:1753012345678901234")
    assert outage["record_id"] == "social:Twitter:@northwind_ops"
    assert (outage["action"], outage["channel"], outage["score"]) == ("mention", "social", -1.0)
    assert outage["properties"]["followers"] == 1840
    assert outage["properties"]["platform"] == "Twitter"
    review = _event(ws, "social:tp_65b1c2d3e4f5a6b7")
    assert '"next day"' in review["text"]
    assert "followers" not in review["properties"]
    linkedin = _event(ws, "social:urn:li:activity:7150001112223334445")
    assert "\nShout-out" in linkedin["text"]
    assert _event(ws, "social:1754098765432112345")["occurred_at"] == dt.datetime(2024, 2, 3, 10)
    author = _record(ws, "social:Reddit:u/warehouse_wrangler")
    assert author["handle"] == "u/warehouse_wrangler" and author["name"] is None


def test_product_usage(loaded: Any) -> None:
    ws = loaded("product_usage")
    assert _actions(ws) == {
        "login": 9,
        "feature_used": 6,
        "active_users": 9,
        "api_calls": 3,
        "session": 3,
    }
    user = _record(ws, "product:sarah.okafor@northwindtraders.com")
    assert user["account_record_id"] == "stripe:cus_NwT4rD1sQ8aBcE"
    exports = _events(
        ws, "reference = ? AND action = 'feature_used'", ("sarah.okafor@northwindtraders.com",)
    )
    assert sorted((e["properties"]["feature"], e["quantity"]) for e in exports) == [
        ("dashboards", 17.0),
        ("exports", 2.0),
    ]
    assert {e["record_id"] for e in exports} == {"stripe:cus_NwT4rD1sQ8aBcE"}
    assert exports[0]["occurred_at"] == dt.datetime(2024, 1, 8)
    assert exports[0]["properties"]["period_days"] == 1
    calls = _events(ws, "action = 'api_calls' AND record_id = 'stripe:cus_NwT4rD1sQ8aBcI'")
    assert [c["quantity"] for c in calls] == [987654.0]
    assert calls[0]["reference"] is None


def test_community_posts(loaded: Any) -> None:
    ws = loaded("community_posts")
    assert _actions(ws) == {"idea": 4, "vote": 4, "reply": 3, "post": 3}
    idea = _event(ws, "community:c-10006")
    assert idea["record_id"] == "community:mlee_tailspin"
    assert idea["properties"] == {
        "title": "Bulk edit for SKUs",
        "topic": "Catalog",
        "votes": 22,
        "status": "under review",
    }
    assert "\nA CSV round-trip" in idea["text"]
    assert idea["occurred_at"] == dt.datetime(2024, 1, 12, 15, 0)
    vote = _event(ws, "community:c-10007")
    assert vote["action"] == "vote" and vote["text"] is None
    author = _record(ws, "community:amelie_d")
    assert (author["email"], author["name"]) == (
        "amelie.durand@lumiere-analytique.fr",
        "Amélie Durand",
    )
    assert _record(ws, "community:nora_l")["email"] is None


def test_provider_deliveries(loaded: Any) -> None:
    ws = loaded("provider_deliveries")
    assert _actions(ws) == {"delivered": 9, "failed": 2, "scheduled": 2}
    late = _event(ws, "deliveries:JOB-2024-0003")
    assert late["action"] == "delivered"
    assert late["occurred_at"] == dt.datetime(2024, 1, 19, 15, 30)  # when it was delivered
    assert late["properties"]["promised_at"].startswith("2024-01-18T08:00:00")
    assert late["properties"]["delivered_at"].startswith("2024-01-19T15:30:00")
    assert late["properties"]["provider"] == "Nordic Install AB"
    assert late["reference"] == "#1004"
    scheduled = _event(ws, "deliveries:JOB-2024-0009")
    assert scheduled["account_record_id"] == "deliveries:cus_NwT4rD1sQ8aBcE"
    assert "delivered_at" not in scheduled["properties"]
    assert _event(ws, "deliveries:JOB-2024-0011")["properties"]["provider"] == "顺丰速运"
    assert _record(ws, "deliveries:cus_NwT4rD1sQ8aBcJ")["email"] is None
    assert _record(ws, "deliveries:rahul@margiestravel.co.uk")["email"] == (
        "rahul@margiestravel.co.uk"
    )


def test_preset_with_renamed_columns(tmp_path: Path) -> None:
    """`rename:` adapts a preset to a variant of the export, as the doc shows."""
    original = (SAMPLES / "zendesk_tickets.csv").read_text(encoding="utf-8")
    header, body = original.split("\n", 1)
    variant = tmp_path / "tickets.csv"
    variant.write_text(header.replace("Requester email", "Email") + "\n" + body, encoding="utf-8")
    with Workspace.init(tmp_path / "ws") as ws:
        ws.add_source(
            "zendesk",
            {
                "preset": "zendesk_tickets",
                "path": str(variant),
                "rename": {"Requester email": "Email"},
            },
        )
        [report] = ws.ingest(["zendesk"])
        assert (report.records_loaded, report.events_loaded, report.rows_rejected) == (16, 52, 0)
        assert _record(ws, "zendesk:381920441")["email"] == "sarah.okafor@northwindtraders.com"
