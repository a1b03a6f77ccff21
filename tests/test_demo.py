"""The demo company: reproducible files in the documented layouts, and ground truth that holds."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

from cxlens.demo import SOURCE_FILES, DemoManifest, demo_sources, generate_demo

DOCS = Path(__file__).resolve().parents[1] / "docs" / "source-exports.md"
N = 200


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_demo(tmp_path_factory.mktemp("demo"), customers=N, seed=7)


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and braces."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "({"
        depth -= ch in ")}"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def _documented() -> dict[str, tuple[list[str], dict[str, set[str]]]]:
    """file -> (columns, {column: allowed values}) parsed from the docs table."""
    out: dict[str, tuple[list[str], dict[str, set[str]]]] = {}
    for line in DOCS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        columns: list[str] = []
        values: dict[str, set[str]] = {}
        for item in _split_top(cells[3]):
            # "(UTC)" is part of Stripe's column names; other parentheses are notes
            name = re.split(r" \((?!UTC\))|: \{", item, maxsplit=1)[0].strip()
            columns.append(name)
            inner = item[len(name) :].strip()
            if inner.startswith("(") and inner.endswith(")"):
                options = _split_top(inner[1:-1])
                if len(options) > 1:
                    values[name] = set(options)
        out[cells[2]] = (columns, values)
    return out


def _read(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows (values as text, None when empty) of any demo file."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in reader]
            return list(reader.fieldnames or []), rows
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.column_names, [
            {k: (None if v is None else str(v)) for k, v in r.items()} for r in table.to_pylist()
        ]
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return list(records[0]), records
    wb = openpyxl.load_workbook(path, read_only=True)
    sheet = list(wb.active.iter_rows(values_only=True))
    header = [str(h) for h in sheet[0]]
    return header, [dict(zip(header, r, strict=True)) for r in sheet[1:]]


def test_same_seed_gives_identical_bytes(demo: DemoManifest, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", customers=N, seed=7)
    first, second = _hashes(demo.out_dir), _hashes(again.out_dir)
    assert len(first) >= len(SOURCE_FILES) + 5
    assert first == second


def test_another_seed_changes_every_source_file(demo: DemoManifest, tmp_path: Path) -> None:
    other = generate_demo(tmp_path / "other", customers=N, seed=8)
    first, second = _hashes(demo.out_dir / "data"), _hashes(other.out_dir / "data")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] == second[name]] == []


def test_every_documented_file_has_exactly_the_documented_columns(demo: DemoManifest) -> None:
    documented = _documented()
    assert len(documented) == 15
    assert sorted(documented) == sorted(s.file for s in SOURCE_FILES)
    for file, (columns, _) in documented.items():
        found, rows = _read(demo.out_dir / "data" / file)
        assert found == columns, file
        assert rows, f"{file} is empty"
        assert demo.rows[file] == len(rows), file


def test_values_stay_within_the_documented_sets(demo: DemoManifest) -> None:
    checked = 0
    for file, (_, values) in _documented().items():
        _, rows = _read(demo.out_dir / "data" / file)
        for column, allowed in values.items():
            seen = {str(r[column]) for r in rows if r[column] is not None}
            assert seen <= allowed, (file, column, seen - allowed)
            assert seen, (file, column)
            checked += 1
    assert checked >= 15
    _, tickets = _read(demo.out_dir / "data" / "zendesk_tickets.csv")
    assert {t["Priority"] for t in tickets} == {"Low", "Normal", "High", "Urgent"}
    _, usage = _read(demo.out_dir / "data" / "product_usage.parquet")
    assert {u["metric"] for u in usage} == {
        "login",
        "active_users",
        "feature_used",
        "api_calls",
        "session",
    }


def test_contacts_have_one_champion_per_account(demo: DemoManifest) -> None:
    _, contacts = _read(demo.out_dir / "data" / "contacts.csv")
    assert {c["Champion__c"] for c in contacts} == {"true", "false"}
    champions = Counter(c["AccountId"] for c in contacts if c["Champion__c"] == "true")
    assert len(champions) > N and set(champions.values()) == {1}
    domains = {c["Email"].split("@")[1] for c in contacts if c["Email"]}
    assert len(domains) > N // 2


def test_time_formats_follow_each_export(demo: DemoManifest) -> None:
    data = demo.out_dir / "data"
    patterns = {
        ("accounts.csv", "CreatedDate"): r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000",
        ("hubspot_contacts.csv", "Create Date"): r"\d{4}-\d\d-\d\d \d\d:\d\d",
        ("zendesk_tickets.csv", "Created at"): r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
        ("stripe_invoices.csv", "Date (UTC)"): r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
        ("mrr_activities.csv", "Date"): r"\d{4}-\d\d-\d\d",
        ("shopify_orders.csv", "Created at"): r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]00",
        ("survey_responses.csv", "Submitted At"): r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00",
        ("social_mentions.csv", "Date"): r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    }
    for (file, column), pattern in patterns.items():
        _, rows = _read(data / file)
        bad = [r[column] for r in rows if r[column] and not re.fullmatch(pattern, r[column])]
        assert bad == [], (file, column, bad[:3])
    _, posts = _read(data / "community_posts.jsonl")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created_at"]) for p in posts)
    _, jobs = _read(data / "deliveries.xlsx")
    assert all(isinstance(j["Promised Date"], datetime) for j in jobs)
    latest = max(r["Date"] for r in _read(data / "mrr_activities.csv")[1])
    assert latest <= demo.reference_date.isoformat()


def test_each_churned_account_has_a_churn_activity_on_its_date(demo: DemoManifest) -> None:
    churn = pq.read_table(demo.truth["churn.parquet"]).to_pylist()
    _, acts = _read(demo.out_dir / "data" / "mrr_activities.csv")
    churn_rows = {
        (a["Customer external ID"], a["Date"]) for a in acts if a["Activity type"] == "Churn"
    }
    assert churn
    for c in churn:
        assert (c["stripe_customer_id"], c["churn_date"].isoformat()) in churn_rows
        causes = c["causes"].split(";")
        assert 1 <= len(causes) <= 2
        assert set(causes) <= {
            "usage_decline",
            "support_issues",
            "detractor",
            "champion_left",
            "price_increase",
            "payment_failure",
        }
    assert len(churn_rows) == len(churn)


def test_mrr_movements_add_up_per_subscription(demo: DemoManifest) -> None:
    _, acts = _read(demo.out_dir / "data" / "mrr_activities.csv")
    total: dict[str, float] = defaultdict(float)
    last: dict[str, str] = {}
    for a in sorted(acts, key=lambda a: a["Date"]):
        total[a["Subscription external ID"]] += float(a["MRR movement"])
        assert total[a["Subscription external ID"]] >= -0.005
        last[a["Subscription external ID"]] = a["Activity type"]
    ended = [s for s, kind in last.items() if kind == "Churn"]
    assert ended
    assert all(abs(total[s]) < 0.005 for s in ended)


def test_planted_churn_causes_show_in_the_data(demo: DemoManifest) -> None:
    data = demo.out_dir / "data"
    churn = pq.read_table(demo.truth["churn.parquet"]).to_pylist()
    _, contacts = _read(data / "contacts.csv")
    left = {
        c["AccountId"]: date.fromisoformat(c["Left_Company_Date__c"])
        for c in contacts
        if c["Champion__c"] == "true" and c["Left_Company_Date__c"]
    }
    _, invoices = _read(data / "stripe_invoices.csv")
    uncollectible = Counter(i["Customer"] for i in invoices if i["Status"] == "uncollectible")
    usage = pq.read_table(data / "product_usage.parquet").to_pylist()
    active: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for u in usage:
        if u["metric"] == "active_users":
            active[u["account_id"]].append((u["date"], u["value"]))
    seen = Counter()
    for c in churn:
        when = c["churn_date"]
        if "champion_left" in c["causes"]:
            assert when - timedelta(days=130) <= left[c["salesforce_id"]] < when
            seen["champion"] += 1
        if "payment_failure" in c["causes"]:
            assert uncollectible[c["stripe_customer_id"]] >= 1
            seen["payment"] += 1
        if "usage_decline" in c["causes"]:
            weeks = active[c["stripe_customer_id"]]
            late = [v for d, v in weeks if when - timedelta(days=21) <= d < when]
            early = [v for d, v in weeks if d < when - timedelta(days=120)]
            if late and early:
                assert sum(late) / len(late) < 0.7 * sum(early) / len(early)
                seen["usage"] += 1
    assert sum(seen.values()) >= 5


def test_duplicate_people_span_systems_and_every_key_resolves(demo: DemoManifest) -> None:
    people = pq.read_table(demo.truth["people.parquet"]).to_pylist()
    systems: dict[str, set[str]] = defaultdict(set)
    records = Counter(p["person_id"] for p in people)
    for p in people:
        systems[p["person_id"]].add(p["system"])
    duplicated = [pid for pid, n in records.items() if n >= 2]
    assert len(duplicated) > N
    assert all(len(systems[pid]) >= 2 for pid in duplicated)
    assert any(len(s) >= 5 for s in systems.values())
    keys = {(p["system"], p["source_key"]) for p in people}
    assert len(keys) == len(people)
    data = demo.out_dir / "data"
    # keyed as the presets key them (src/cxlens/sources/presets)
    sources: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
        ("salesforce", "contacts.csv", lambda r: r["Id"]),
        ("hubspot", "hubspot_contacts.csv", lambda r: r["Record ID"]),
        ("zendesk", "zendesk_tickets.csv", lambda r: r["Requester id"]),
        ("survey", "survey_responses.csv", lambda r: r["Respondent Email"]),
        ("shopify", "shopify_orders.csv", lambda r: r["Email"]),
        ("social", "social_mentions.csv", lambda r: f"{r['Platform']}:{r['Author']}"),
        ("community", "community_posts.jsonl", lambda r: r["author"]["username"]),
        ("product", "product_usage.parquet", lambda r: r["user_email"]),
    ]
    for system, file, key in sources:
        _, rows = _read(data / file)
        found = {key(r) for r in rows} - {None}
        assert found, file
        missing = found - {k for s, k in keys if s == system}
        assert missing == set(), (file, sorted(missing)[:3])
    # duplicates differ the way real records do: emails and names are not all the same
    emails = defaultdict(set)
    for p in people:
        if p["email"]:
            emails[p["person_id"]].add(p["email"])
    assert sum(len(e) > 1 for e in emails.values()) > N // 4


def test_accounts_are_linked_across_billing_and_crm(demo: DemoManifest) -> None:
    accounts = pq.read_table(demo.truth["accounts.parquet"]).to_pylist()
    by_key = {(a["system"], a["source_key"]): a for a in accounts}
    _, customers = _read(demo.out_dir / "data" / "stripe_customers.csv")
    with_id = [c for c in customers if c["Metadata: salesforce_id"]]
    assert 0 < len(with_id) < len(customers)
    for c in customers:
        truth = by_key[("stripe", c["id"])]
        if c["Metadata: salesforce_id"]:
            assert c["Metadata: salesforce_id"] == truth["salesforce_id"]
    assert len({by_key[("stripe", c["id"])]["account_id"] for c in customers}) == N
    _, sf = _read(demo.out_dir / "data" / "accounts.csv")
    assert {a["Id"] for a in sf} <= {k for s, k in by_key if s == "salesforce"}


def test_every_text_has_a_theme(demo: DemoManifest) -> None:
    texts = pq.read_table(demo.truth["texts.parquet"]).to_pylist()
    themes = {
        "billing",
        "onboarding",
        "performance",
        "bugs",
        "support_speed",
        "missing_feature",
        "praise",
        "none",
    }
    assert {t["theme"] for t in texts} <= themes
    assert {t["theme"] for t in texts if t["system"] == "survey"} >= themes - {"none"}
    assert {t["polarity"] for t in texts} == {-1, 0, 1}
    labelled = defaultdict(set)
    for t in texts:
        labelled[t["system"]].add(str(t["source_key"]))
    data = demo.out_dir / "data"
    _, answers = _read(data / "survey_responses.csv")
    commented = {a["Response ID"] for a in answers if a["Comment"]}
    assert commented and commented == labelled["survey"]
    _, tickets = _read(data / "zendesk_tickets.csv")
    assert {t["Id"] for t in tickets} == labelled["zendesk"]
    _, mentions = _read(data / "social_mentions.csv")
    assert {m["Mention ID"] for m in mentions} == labelled["social"]
    feature = [t for t in texts if t["theme"] == "missing_feature"]
    assert feature and all(t["feature"] for t in feature)


def test_idea_votes_match_vote_posts(demo: DemoManifest) -> None:
    _, posts = _read(demo.out_dir / "data" / "community_posts.jsonl")
    votes = Counter(p["title"] for p in posts if p["type"] == "vote")
    ideas = [p for p in posts if p["type"] == "idea"]
    assert ideas and sum(votes.values()) > 0
    assert all(p["votes"] == votes[p["title"]] for p in ideas)


def test_sources_block_names_every_file(demo: DemoManifest) -> None:
    sources = demo_sources()
    assert set(sources) == {s.preset for s in SOURCE_FILES}
    for name, spec in sources.items():
        assert spec["preset"] == name
        assert (demo.out_dir / spec["path"]).is_file()


def test_customer_count_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="customers must be between"):
        generate_demo(tmp_path, customers=0)
