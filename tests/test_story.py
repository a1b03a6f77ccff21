"""The customer 360, the timeline and the cited story, on the demo company; the rephrasing hook
against a real local HTTP server."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from cxlens.errors import UnknownMaster
from cxlens.story import Rephraser, Sentence, Story, StoryResult, StorySettings
from cxlens.story.narrative import SECTIONS
from cxlens.workspace import Workspace
from workspaces import demo_workspace

slow = pytest.mark.slow

#: The events of a master, by the definition of the data model (independent of the package).
OWNED = (
    "SELECT e.event_id FROM events AS e "
    "LEFT JOIN record_links AS l ON l.record_id = e.record_id "
    "LEFT JOIN record_links AS la ON la.record_id = e.account_record_id "
    "LEFT JOIN customers AS c ON c.customer_id = l.master_id "
)
OF_ACCOUNT = "(la.master_id = ? OR c.account_id = ? OR l.master_id = ?)"
OF_PERSON = "l.master_id = ?"


def owned(
    ws: Workspace, master: str, where: str = "TRUE", params: list[Any] | None = None
) -> list[str]:
    if master.startswith("acc_"):
        sql, args = OWNED + f"WHERE {OF_ACCOUNT} AND {where}", [master] * 3
    else:
        sql, args = OWNED + f"WHERE {OF_PERSON} AND {where}", [master]
    return [r["event_id"] for r in ws.store.rows(sql, [*args, *(params or [])])]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = demo_workspace(tmp_path_factory.mktemp("story"), customers=180, seed=7, value=True)
    workspace.value.clv()
    workspace.voc.load_library("saas", actor="t")
    workspace.voc.analyse()
    risk = workspace.risk
    risk.train()
    risk.score()
    risk.health(days=3)
    last = workspace.store.scalar("SELECT max(occurred_at) FROM events WHERE kind = 'ticket'")
    workspace.signals.backfill(since=last - dt.timedelta(days=90))
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def story(ws: Workspace) -> Story:
    return Story(ws.store, StorySettings(), ws.value, ws.identity)


def _accounts(ws: Workspace) -> list[str]:
    return [r["account_id"] for r in ws.store.rows("SELECT account_id FROM accounts ORDER BY 1")]


def _cited(result: StoryResult) -> list[str]:
    return [i for s in result.sentences for i in s.event_ids]


# ---- the story ---------------------------------------------------------------------------------
@slow
def test_every_sentence_cites_events_of_that_customer(ws: Workspace, story: Story) -> None:
    rng = random.Random(3)
    accounts = rng.sample(_accounts(ws), 20)
    people = [
        r["id"]
        for r in ws.store.rows(
            "SELECT DISTINCT l.master_id AS id FROM events AS e "
            "JOIN record_links AS l ON l.record_id = e.record_id "
            "WHERE l.entity = 'person' ORDER BY 1"
        )
    ]
    for master in [*accounts, *rng.sample(people, 8)]:
        result = story.story(master)
        assert result.master_id == master
        assert result.sentences, master
        mine = set(owned(ws, master))
        for sentence in result.sentences:
            assert sentence.event_ids, sentence
            assert set(sentence.event_ids) <= mine, (master, sentence)
            assert sentence.section in SECTIONS
        # Sections come in order, and the citations are exactly the cited events.
        order = [SECTIONS.index(s.section) for s in result.sentences]
        assert order == sorted(order)
        assert list(result.citations) == list(dict.fromkeys(_cited(result)))
        assert all(c["event_id"] == i for i, c in result.citations.items())
        json.dumps(result.to_dict())
        # The same data tells the same story.
        assert story.story(master).to_dict() == result.to_dict()


@slow
def test_a_customer_without_events_has_no_story(ws: Workspace, story: Story) -> None:
    silent = ws.store.scalar(
        "SELECT min(customer_id) FROM customers WHERE customer_id NOT IN ("
        "SELECT l.master_id FROM events AS e JOIN record_links AS l ON l.record_id = e.record_id)"
    )
    assert silent is not None
    result = story.story(silent)
    assert result.sentences == [] and result.citations == {}
    assert story.customer360(silent).events == 0


@slow
def test_cited_ids_exist_in_the_events_table(ws: Workspace, story: Story) -> None:
    result = story.story(_accounts(ws)[0])
    ids = _cited(result)
    found = ws.store.rows(
        f"SELECT count(DISTINCT event_id) AS n FROM events WHERE event_id IN ({', '.join('?' for _ in ids)})",
        ids,
    )
    assert found[0]["n"] == len(set(ids))
    text = result.text()
    assert "[1]" in text and text.count("\n\n") >= 2


@slow
def test_a_churned_account_story_tells_the_churn(ws: Workspace, story: Story) -> None:
    churned = ws.store.rows(
        "SELECT la.master_id AS account, max(e.event_id) AS event_id FROM events AS e "
        "JOIN record_links AS la ON la.record_id = e.account_record_id "
        "WHERE e.kind = 'subscription' AND e.action = 'churn' AND la.master_id NOT IN ("
        "  SELECT la2.master_id FROM events AS e2 "
        "  JOIN record_links AS la2 ON la2.record_id = e2.account_record_id "
        "  WHERE e2.kind = 'subscription' AND e2.action IN ('reactivation', 'new') "
        "  AND e2.occurred_at > (SELECT max(e3.occurred_at) FROM events AS e3 "
        "    JOIN record_links AS la3 ON la3.record_id = e3.account_record_id "
        "    WHERE la3.master_id = la2.master_id AND e3.action = 'churn')) "
        "GROUP BY la.master_id ORDER BY 1 LIMIT 5"
    )
    assert churned
    for row in churned:
        result = story.story(row["account"])
        telling = [s for s in result.sentences if row["event_id"] in s.event_ids]
        assert any("churned" in s.text for s in telling), result.text()
        assert any(s.section == "health" and "no longer a customer" in s.text for s in telling)


@slow
def test_detractor_answers_are_cited_with_their_score(ws: Workspace, story: Story) -> None:
    detractors = ws.store.rows(
        "SELECT c.account_id, e.event_id, e.score FROM events AS e "
        "JOIN record_links AS l ON l.record_id = e.record_id "
        "JOIN customers AS c ON c.customer_id = l.master_id "
        "WHERE e.kind = 'survey' AND e.action = 'nps' AND e.score <= 6 "
        "AND c.account_id IS NOT NULL ORDER BY c.account_id, e.occurred_at, e.event_id"
    )
    by_account: dict[str, list[dict[str, Any]]] = {}
    for row in detractors:
        by_account.setdefault(row["account_id"], []).append(row)
    assert len(by_account) >= 5
    for account in sorted(by_account)[:6]:
        result = story.story(account)
        cited = set(_cited(result))
        # Every detractor answer is a key moment: told alone, or counted among earlier ones.
        assert {r["event_id"] for r in by_account[account]} <= cited
        for answer in by_account[account]:
            telling = [s for s in result.sentences if answer["event_id"] in s.event_ids]
            alone = any(
                s.event_ids == [answer["event_id"]] and f"NPS of {answer['score']:.0f}" in s.text
                for s in telling
            )
            counted = any(s.text.startswith("Earlier key moments") for s in telling)
            assert alone or counted, result.text()
        assert any(" gave an NPS of " in s.text for s in result.sentences)


@slow
def test_a_champion_left_reason_cites_the_champion_left_event(ws: Workspace, story: Story) -> None:
    # An active, scored account whose champion left; its latest score names that as the reason.
    rows = ws.store.rows(
        "SELECT la.master_id AS account, e.event_id, e.occurred_at FROM events AS e "
        "JOIN record_links AS la ON la.record_id = e.account_record_id "
        "WHERE e.kind = 'relationship' AND e.action = 'champion_left' "
        "AND la.master_id IN (SELECT account_id FROM risk_scores) ORDER BY e.occurred_at DESC"
    )
    assert rows
    account, event_id = rows[0]["account"], rows[0]["event_id"]
    latest = ws.store.rows(
        "SELECT model_id, max(as_of) AS as_of FROM risk_scores WHERE account_id = ? "
        "GROUP BY model_id ORDER BY 2 DESC LIMIT 1",
        [account],
    )[0]
    as_of = latest["as_of"] + dt.timedelta(days=1)
    days = (as_of - rows[0]["occurred_at"]).days
    reasons = [
        {"feature": "days_since_champion_left", "contribution": 0.9, "value": days,
         "text": f"their champion left {days} days ago"},
        {"feature": "tenure_months", "contribution": 0.1, "value": 12.0,
         "text": "a customer for 12 months"},
    ]  # fmt: skip
    ws.store.execute(
        "INSERT INTO risk_scores (model_id, as_of, account_id, probability, risk_band, reasons, "
        "arr, revenue_at_risk) VALUES (?, ?, ?, 0.7, 'high', ?, 12000, 8400)",
        [latest["model_id"], as_of, account, json.dumps(reasons)],
    )
    try:
        result = story.story(account)
        page = story.customer360(account)
    finally:
        ws.store.execute(
            "DELETE FROM risk_scores WHERE account_id = ? AND as_of = ?", [account, as_of]
        )
    assert (
        page.risk is not None and page.risk["reasons"][0]["feature"] == "days_since_champion_left"
    )
    main = next(s for s in result.sentences if s.text.startswith("The main reason"))
    assert "champion left" in main.text and main.event_ids == [event_id]
    risk = next(s for s in result.sentences if s.text.startswith("As of"))
    assert "high at 70%" in risk.text and event_id in risk.event_ids
    assert "$8,400 of $12,000 a year at risk" in risk.text
    following = [s for s in result.sentences if s.section == "next" and s.text.startswith("Next")]
    assert len(following) == 1
    if not any(t["status"] == "open" for t in page.tasks):
        assert "champion" in following[0].text and following[0].event_ids == [event_id]


@slow
def test_a_person_story_is_about_that_person(ws: Workspace, story: Story) -> None:
    person = ws.store.rows(
        "SELECT l.master_id AS id, count(*) AS n FROM events AS e "
        "JOIN record_links AS l ON l.record_id = e.record_id WHERE l.entity = 'person' "
        "GROUP BY l.master_id ORDER BY n DESC, l.master_id LIMIT 1"
    )[0]["id"]
    profile = ws.store.rows("SELECT name, email FROM customers WHERE customer_id = ?", [person])[0]
    result = story.story(person)
    assert result.kind == "person"
    assert result.sentences[0].text.startswith(profile["name"])
    assert set(_cited(result)) <= set(owned(ws, person))


# ---- timeline ----------------------------------------------------------------------------------
@slow
def test_timeline_filters_and_pages_exactly(ws: Workspace, story: Story) -> None:
    account = ws.store.rows(
        "SELECT la.master_id AS a, count(*) AS n FROM events AS e "
        "JOIN record_links AS la ON la.record_id = e.account_record_id "
        "GROUP BY la.master_id ORDER BY n DESC, la.master_id LIMIT 1"
    )[0]["a"]
    everything = story.timeline(account, limit=100_000)
    assert len(everything) == len(owned(ws, account)) > 500
    assert {r["account_id"] for r in everything} == {account}
    stamps = [(r["occurred_at"], r["event_id"]) for r in everything]
    assert stamps == sorted(stamps, reverse=True)
    oldest = story.timeline(account, limit=100_000, newest_first=False)
    assert [r["event_id"] for r in oldest] == [r["event_id"] for r in reversed(everything)]

    support = story.timeline(account, departments=["support"], limit=100_000)
    assert len(support) == len(owned(ws, account, "e.department = ?", ["support"])) > 0
    assert {r["department"] for r in support} == {"support"}

    kinds = story.timeline(account, kinds=["ticket", "survey"], limit=100_000)
    assert len(kinds) == len(owned(ws, account, "e.kind IN ('ticket', 'survey')"))

    since, until = dt.datetime(2025, 1, 1), dt.datetime(2025, 7, 1)
    span = story.timeline(account, since=since, until=until, limit=100_000)
    expected = owned(ws, account, "e.occurred_at >= ? AND e.occurred_at < ?", [since, until])
    assert sorted(r["event_id"] for r in span) == sorted(expected)
    both = story.timeline(
        account,
        departments=["product"],
        since="2025-01-01",
        until=dt.date(2025, 7, 1),
        limit=100_000,
    )
    assert len(both) == len(
        owned(ws, account, "e.department = 'product' AND e.occurred_at >= ? AND e.occurred_at < ?",
              [since, until])
    )  # fmt: skip

    pages = [story.timeline(account, limit=97, offset=o) for o in range(0, len(everything), 97)]
    assert [r["event_id"] for page in pages for r in page] == [r["event_id"] for r in everything]
    assert all(len(p) == 97 for p in pages[:-1])
    assert story.timeline(account, offset=len(everything)) == []
    assert all(isinstance(r["summary"], str) and r["summary"] for r in everything[:50])
    json.dumps(everything[:50])


@slow
def test_person_timeline_carries_the_master_ids(ws: Workspace, story: Story) -> None:
    person = ws.store.rows(
        "SELECT customer_id, account_id FROM customers WHERE account_id IS NOT NULL "
        "ORDER BY customer_id LIMIT 1"
    )[0]
    rows = story.timeline(person["customer_id"], limit=1000)
    assert len(rows) == len(owned(ws, person["customer_id"]))
    assert {r["customer_id"] for r in rows} <= {person["customer_id"]}
    assert {r["account_id"] for r in rows} <= {person["account_id"]}


# ---- customer 360 ------------------------------------------------------------------------------
@slow
def test_customer360_of_an_account(ws: Workspace, story: Story) -> None:
    scored = ws.store.rows(
        "SELECT account_id FROM risk_scores ORDER BY revenue_at_risk DESC, account_id LIMIT 1"
    )[0]["account_id"]
    page = story.customer360(scored)
    assert page.kind == "account" and page.master_id == scored
    monthly = ws.value.monthly_mrr()
    mine = monthly[monthly["customer"] == scored].sort_values("month")
    assert page.value["arr"] == pytest.approx(float(mine["mrr"].iloc[-1]) * 12)
    assert page.value["mrr_history"][-1]["mrr"] == pytest.approx(float(mine["mrr"].iloc[-1]))
    assert page.value["currency"] == ws.value.settings.currency
    people = ws.store.scalar("SELECT count(*) FROM customers WHERE account_id = ?", [scored])
    assert len(page.people) == people
    explained = ws.identity.explain(scored)
    assert [r["record_id"] for r in page.records] == [r["record_id"] for r in explained.records]
    assert page.identity_summary == explained.summary
    assert len(page.links) == len(explained.links)
    assert all(link["reason"] for link in page.links)
    latest = ws.store.rows(
        "SELECT probability FROM risk_scores WHERE account_id = ? ORDER BY as_of DESC LIMIT 1",
        [scored],
    )[0]
    assert page.risk is not None
    assert page.risk["probability"] == pytest.approx(latest["probability"])
    assert {"feature", "text", "value", "contribution"} <= set(page.risk["reasons"][0])
    assert len(page.health) == 3
    assert page.events == len(owned(ws, scored)) == sum(page.counts.values())
    assert page.voice["run_id"] is not None and page.voice["text_count"] >= len(page.voice["texts"])
    answers = owned(ws, scored, "e.kind = 'survey'")
    assert sorted(s["event_id"] for s in page.voice["surveys"]) == sorted(answers)
    assert page.value["clv"] is not None
    json.dumps(page.to_dict())


@slow
def test_customer360_alerts_and_tasks(ws: Workspace, story: Story) -> None:
    account = ws.store.rows(
        "SELECT account_id FROM alerts WHERE account_id IS NOT NULL ORDER BY alert_id LIMIT 1"
    )[0]["account_id"]
    page = story.customer360(account)
    people = {p["customer_id"] for p in page.people}
    expected = ws.store.rows("SELECT alert_id, customer_id, account_id FROM alerts")
    mine = {
        a["alert_id"] for a in expected
        if a["account_id"] == account or a["customer_id"] in people | {account}
    }  # fmt: skip
    assert {a["alert_id"] for a in page.alerts} == mine and mine
    tasks = ws.store.rows("SELECT task_id, alert_id FROM tasks")
    assert sorted(t["task_id"] for t in page.tasks) == sorted(
        t["task_id"] for t in tasks if t["alert_id"] in mine
    )
    assert all(isinstance(a["context"], dict) for a in page.alerts)


@slow
def test_customer360_of_a_person(ws: Workspace, story: Story) -> None:
    buyer = ws.store.rows(
        "SELECT v.customer_id, c.account_id, c.email FROM customer_values AS v "
        "JOIN customers AS c ON c.customer_id = v.customer_id "
        "WHERE c.account_id IS NOT NULL ORDER BY v.clv DESC, v.customer_id LIMIT 1"
    )[0]
    page = story.customer360(buyer["customer_id"])
    assert page.kind == "person"
    assert page.profile["email"] == buyer["email"]
    assert page.profile["account_id"] == buyer["account_id"] and page.profile["account_name"]
    assert page.value["account_id"] == buyer["account_id"]
    clv = page.value["clv"]
    assert [c["customer_id"] for c in clv["customers"]] == [buyer["customer_id"]]
    assert buyer["customer_id"] not in {p["customer_id"] for p in page.people}


# ---- finding customers -------------------------------------------------------------------------
@slow
def test_search_by_name_email_domain_and_id(ws: Workspace, story: Story) -> None:
    account = ws.store.rows(
        "SELECT account_id, name, domain FROM accounts WHERE name IS NOT NULL AND domain IS NOT NULL "
        "ORDER BY account_id LIMIT 1"
    )[0]
    part = account["name"].split()[0][1:].upper()  # a piece of the name, in another case
    assert account["account_id"] in {r["id"] for r in story.search(part, limit=50)}
    by_domain = story.search(account["domain"].upper())
    assert by_domain[0]["id"] == account["account_id"] and by_domain[0]["matched"] == "domain"
    person = ws.store.rows(
        "SELECT customer_id, email FROM customers WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1"
    )[0]
    found = story.search(person["email"].upper())
    assert found[0]["id"] == person["customer_id"] and found[0]["kind"] == "person"
    assert found[0]["matched"] == "email"
    assert story.search(person["customer_id"][:10])[0]["id"].startswith(person["customer_id"][:10])
    record = ws.store.rows(
        "SELECT record_id, master_id FROM record_links WHERE entity = 'account' ORDER BY 1 LIMIT 1"
    )[0]
    assert story.search(record["record_id"])[0]["id"] == record["master_id"]
    assert story.search("no such customer anywhere") == []
    assert story.search("   ") == []
    assert len(story.search("a", limit=7)) == 7


@slow
def test_resolve_follows_merges_and_refuses_unknown_ids(ws: Workspace, story: Story) -> None:
    merged = ws.store.rows(
        "SELECT master_id, other_master_id, record_ids FROM identity_audit WHERE action = 'merge' "
        "AND other_master_id NOT IN (SELECT master_id FROM record_links) "
        "AND master_id IN (SELECT master_id FROM record_links) ORDER BY audit_id LIMIT 1"
    )[0]
    kind, master = story.resolve(merged["other_master_id"])
    assert master == merged["master_id"]
    assert kind == ("account" if master.startswith("acc_") else "person")
    moved = json.loads(merged["record_ids"])
    holds = ws.store.rows("SELECT master_id FROM record_links WHERE record_id = ?", [moved[0]])[0][
        "master_id"
    ]
    assert holds == master
    assert story.customer360(merged["other_master_id"]).master_id == master
    with pytest.raises(UnknownMaster, match=r"story\.search"):
        story.story("acc_does_not_exist")


# ---- rephrasing through an OpenAI-compatible endpoint ------------------------------------------
class _Model(BaseHTTPRequestHandler):
    """A chat-completions endpoint whose answer the test chooses."""

    mode = "keep"
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.mode == "slow":
            time.sleep(1.0)  # longer than the client waits
            with contextlib.suppress(OSError):
                self.send_response(504)
                self.end_headers()
            return
        type(self).seen.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        sentences = json.loads(body["messages"][-1]["content"])["sentences"]
        if self.mode == "keep":
            answer = {"sentences": [f"Put simply, {s[0].lower()}{s[1:]}" for s in sentences]}
        elif self.mode == "drop":
            answer = {"sentences": [s.replace("[1]", "") for s in sentences]}
        elif self.mode == "fenced":
            answer = {"sentences": [f"Indeed {s}" for s in sentences]}
        else:
            answer = {"sentences": ["too few"]}
        content = json.dumps(answer)
        if self.mode == "fenced":
            content = f"```json\n{content}\n```"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload.encode())))
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture
def model_server() -> Iterator[str]:
    _Model.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


SENTENCES = [
    Sentence("Acme signed on 3 May 2025.", ["e1"], "arrival"),
    Sentence("They churned on 1 Feb 2026, cancelling $900 of MRR.", ["e2", "e3"], "value"),
    Sentence("Their champion left.", ["e3"], "moments"),
]
NUMBERS = {"e1": 1, "e2": 2, "e3": 3}


def test_rephrased_sentences_that_keep_their_markers_are_used(model_server: str) -> None:
    _Model.mode = "keep"
    model = Rephraser(model_server, "tiny", SecretStr("sk-test"), 5)
    out, answered = model.rephrase(SENTENCES, NUMBERS)
    assert answered
    assert [s.text for s in out] == [
        "Put simply, acme signed on 3 May 2025.",
        "Put simply, they churned on 1 Feb 2026, cancelling $900 of MRR.",
        "Put simply, their champion left.",
    ]
    assert [s.event_ids for s in out] == [s.event_ids for s in SENTENCES]
    [call] = _Model.seen
    assert call["path"] == "/v1/chat/completions" and call["auth"] == "Bearer sk-test"
    assert call["body"]["model"] == "tiny"
    sent = json.loads(call["body"]["messages"][-1]["content"])["sentences"]
    assert sent[1].endswith("[2][3]") and sent[2].endswith("[3]")


def test_a_sentence_that_loses_a_marker_keeps_its_original_text(model_server: str) -> None:
    _Model.mode = "drop"
    out, answered = Rephraser(model_server, "tiny", None, 5).rephrase(SENTENCES, NUMBERS)
    assert answered
    assert out[0] == SENTENCES[0]  # its [1] was dropped
    assert out[1:] == SENTENCES[1:]  # unchanged text, same markers: kept as it was
    assert _Model.seen[0]["auth"] is None


def test_fenced_json_answers_are_read(model_server: str) -> None:
    _Model.mode = "fenced"
    out, _ = Rephraser(model_server, "tiny", None, 5).rephrase(SENTENCES, NUMBERS)
    assert [s.text for s in out] == [f"Indeed {s.text}" for s in SENTENCES]


def test_a_model_too_slow_to_answer_keeps_the_story(model_server: str) -> None:
    _Model.mode = "slow"
    started = time.monotonic()
    out = Rephraser(model_server, "tiny", None, 0.2).rephrase(SENTENCES, NUMBERS)
    assert out == (SENTENCES, False)
    assert time.monotonic() - started < 0.9


def test_a_wrong_number_of_sentences_or_a_server_that_is_down_keeps_the_story(
    model_server: str,
) -> None:
    _Model.mode = "short"
    assert Rephraser(model_server, "tiny", None, 5).rephrase(SENTENCES, NUMBERS) == (
        SENTENCES,
        False,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = Rephraser(f"http://127.0.0.1:{port}/v1", "tiny", None, 2)
    assert down.rephrase(SENTENCES, NUMBERS) == (SENTENCES, False)


@slow
def test_story_is_rephrased_only_when_configured(
    ws: Workspace, story: Story, model_server: str
) -> None:
    account = _accounts(ws)[1]
    plain = story.story(account)
    assert not plain.rephrased and _Model.seen == []
    _Model.mode = "keep"
    settings = StorySettings(llm_base_url=model_server, llm_model="tiny", timeout_seconds=5)
    told = Story(ws.store, settings, ws.value, ws.identity).story(account)
    assert told.rephrased
    assert [s.event_ids for s in told.sentences] == [s.event_ids for s in plain.sentences]
    assert all(s.text.startswith("Put simply") for s in told.sentences)
    assert told.citations == plain.citations
    settings = StorySettings(
        llm_base_url="http://127.0.0.1:9/v1", llm_model="tiny", timeout_seconds=2
    )
    down = Story(ws.store, settings, ws.value, ws.identity).story(account)
    assert not down.rephrased and down.to_dict() == plain.to_dict()


# ---- both stores tell the same story -----------------------------------------------------------
@pytest.mark.postgres
@slow
def test_duckdb_and_postgresql_tell_the_same_story(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    told: dict[str, Any] = {}
    for backend in ("duckdb", "postgres"):
        ws = demo_workspace(
            tmp_path / backend, customers=40, seed=11, backend=backend, request=request, value=True
        )
        try:
            teller = Story(ws.store, StorySettings(), ws.value, ws.identity)
            accounts = _accounts(ws)[:6]
            person = ws.store.scalar("SELECT min(customer_id) FROM customers")
            told[backend] = {
                "stories": [teller.story(a).to_dict() for a in [*accounts, person]],
                "timeline": teller.timeline(accounts[0], departments=["support"], limit=40),
                "pages": [_comparable(teller.customer360(a).to_dict()) for a in accounts[:2]],
                "search": teller.search("a", limit=15),
            }
        finally:
            ws.close()
    assert told["duckdb"]["stories"][0]["sentences"]
    assert told["duckdb"] == told["postgres"]


def _comparable(page: dict[str, Any]) -> dict[str, Any]:
    """A page without what differs between two loads of the same data (load ids)."""
    page["records"] = [{k: v for k, v in r.items() if k != "load_id"} for r in page["records"]]
    return page
