"""Identity resolution on the demo company, on every store backend, and its building blocks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cxlens.config import IdentitySettings, parse_config
from cxlens.demo import demo_sources, generate_demo
from cxlens.errors import ConfigError, IdentityError, UnknownMaster
from cxlens.identity.clusters import components, constrained_components
from cxlens.identity.masters import assign, provisional_id
from cxlens.identity.normalize import prepare
from cxlens.schema.records import Entity
from cxlens.workspace import Workspace

pytestmark = pytest.mark.slow


def _workspace(root: Path, backend: str, request: pytest.FixtureRequest) -> Workspace:
    generate_demo(root, customers=250, seed=5)
    ws = Workspace.init(root)
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        raw = (root / "cxlens.yaml").read_text()
        raw = raw.replace("backend: duckdb", "backend: postgres")
        (root / "cxlens.yaml").write_text(raw.replace("path: cxlens.duckdb", f"url: {url}"))
        ws = Workspace(root)
    for name, settings in demo_sources().items():
        ws.add_source(name, settings)
    ws.ingest()
    return ws


def pairwise_f1(ws: Workspace, truth: Path, key: str, entity: str) -> tuple[float, float, float]:
    """Pairwise precision, recall, F1 of the resolved masters against the planted truth."""
    links = ws.store.query(
        "SELECT record_id, master_id FROM record_links WHERE entity = ?", [entity]
    )
    con = duckdb.connect()
    con.register("links", links)
    con.execute(
        f"CREATE TABLE t AS SELECT DISTINCT system || ':' || source_key AS record_id, {key} AS tid "
        f"FROM '{truth}'"
    )
    con.execute("CREATE TABLE j AS SELECT l.record_id, l.master_id, t.tid FROM links AS l "
                "JOIN t USING (record_id)")  # fmt: skip

    def pairs(by: str) -> int:
        sql = f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM j GROUP BY {by})"
        return int(con.sql(sql).fetchall()[0][0])

    both, predicted, true = pairs("master_id, tid"), pairs("master_id"), pairs("tid")
    precision, recall = both / predicted, both / true
    return precision, recall, 2 * precision * recall / (precision + recall)


def test_resolve_review_decide_undo_on_the_demo_company(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    ws = _workspace(tmp_path, backend, request)
    before = ws.store.count("customers")
    report = ws.identity.resolve()
    people = report.entities["person"]
    assert people.rule_links > 0 and people.probabilistic_links > 0
    assert ws.store.count("customers") == people.masters < before
    assert ws.store.scalar("SELECT count(*) FROM record_links WHERE method = 'singleton'") == 0

    precision, recall, f1 = pairwise_f1(
        ws, tmp_path / "truth/people.parquet", "person_id", "person"
    )
    assert f1 >= 0.98, (precision, recall, f1)
    _, _, account_f1 = pairwise_f1(ws, tmp_path / "truth/accounts.parquet", "account_id", "account")
    assert account_f1 >= 0.98

    # Every golden attribute names the record it came from, and that record is in the master.
    orphan = ws.store.scalar(
        "SELECT count(*) FROM master_attributes AS a LEFT JOIN record_links AS l "
        "ON l.record_id = a.record_id AND l.master_id = a.master_id WHERE l.record_id IS NULL"
    )
    assert orphan == 0

    # Ids are stable: a second full run changes no master.
    links_before = dict(
        (r["record_id"], r["master_id"]) for r in ws.store.rows("SELECT * FROM record_links")
    )
    ws.identity.resolve()
    again = dict(
        (r["record_id"], r["master_id"]) for r in ws.store.rows("SELECT * FROM record_links")
    )
    assert again == links_before

    # Explain a multi-record master: words and data for every link.
    big = ws.store.rows(
        "SELECT master_id FROM record_links WHERE entity = 'person' AND method = 'probabilistic' "
        "GROUP BY master_id ORDER BY count(*) DESC, master_id LIMIT 1"
    )[0]["master_id"]
    explanation = ws.identity.explain(big)
    assert len(explanation.records) >= 2
    model_links = [link for link in explanation.links if link.method == "probabilistic"]
    assert model_links and all(link.weights for link in model_links)
    link = model_links[0]
    # The waterfall adds up: prior + field weights = the link's match weight.
    total = (link.prior_weight or 0.0) + sum(w.match_weight for w in link.weights)
    assert abs(total - np.log2(link.probability / (1 - link.probability + 1e-300))) < 0.1 or (
        link.probability > 0.999999
    )
    assert "match with probability" in link.sentence

    # The review queue: uncertain pairs with both records, most likely first.
    queue = ws.identity.review_queue(limit=500)
    queued = ws.store.count("identity_review")
    assert queue and queued >= len(queue)
    probabilities = [p["probability"] for p in queue]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.3 <= p < 0.8 for p in probabilities)

    # Split one record out; it gets a master of its own and stays out after a full run.
    records = [r["record_id"] for r in explanation.records]
    moved = records[-1]
    decision = ws.identity.split(big, [moved], actor="ana", reason="different person")
    owner = ws.store.scalar("SELECT master_id FROM record_links WHERE record_id = ?", [moved])
    assert owner != big
    # A decision scores nothing, and must not empty the queue.
    assert ws.store.count("identity_review") >= queued - 10
    assert (
        ws.store.scalar("SELECT master_id FROM record_links WHERE record_id = ?", [records[0]])
        == big
    )
    ws.identity.resolve()
    assert ws.store.scalar("SELECT master_id FROM record_links WHERE record_id = ?", [moved]) != big
    audit = ws.identity.audit()
    assert any(a["action"] == "split" and a["decision_id"] == decision for a in audit)

    # Undo the split: the record goes back.
    ws.identity.undo(decision, actor="ana", reason="checked again")
    assert ws.store.scalar("SELECT master_id FROM record_links WHERE record_id = ?", [moved]) == big
    assert ws.identity.decisions()[0]["undone_by"] == "ana"

    # Merge two masters; the merge survives a full run; the retired id still explains.
    two = [
        r["customer_id"]
        for r in ws.store.rows("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 2")
    ]
    ws.identity.merge(two[0], two[1], actor="ana", reason="same buyer")
    ws.identity.resolve()
    survivors = {
        r["master_id"]
        for r in ws.store.rows(
            "SELECT master_id FROM record_links WHERE master_id IN (?, ?)", [two[0], two[1]]
        )
    }
    assert len(survivors) == 1
    retired = ({*two} - survivors).pop()
    assert ws.identity.explain(retired).master_id == survivors.pop()

    # Reject a pair the model merged: it is never merged again.
    pair = ws.store.rows(
        "SELECT record_id_l, record_id_r FROM identity_links WHERE entity = 'person' "
        "AND method = 'probabilistic' ORDER BY probability, record_id_l LIMIT 1"
    )[0]
    ws.identity.reject(pair["record_id_l"], pair["record_id_r"], actor="ana", reason="no")
    ws.identity.resolve()
    masters = ws.store.rows(
        "SELECT DISTINCT master_id FROM record_links WHERE record_id IN (?, ?)",
        [pair["record_id_l"], pair["record_id_r"]],
    )
    assert len(masters) == 2

    with pytest.raises(UnknownMaster):
        ws.identity.explain("cus_nope")
    with pytest.raises(IdentityError):
        ws.identity.split(big, ["not:a-record"], actor="ana", reason=None)
    ws.close()


def test_incremental_matching_keeps_ids_and_links_new_records(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ws = _workspace(tmp_path, "duckdb", request)
    ws.identity.resolve()
    before = {r["record_id"]: r["master_id"] for r in ws.store.rows("SELECT * FROM record_links")}
    known = ws.store.rows(
        "SELECT r.email, r.first_name, r.last_name, l.master_id FROM source_records AS r "
        "JOIN record_links AS l USING (record_id) WHERE r.system = 'salesforce' "
        "AND r.entity = 'person' AND r.email IS NOT NULL ORDER BY r.record_id LIMIT 1"
    )[0]
    new_file = tmp_path / "late.csv"
    new_file.write_text(
        "Respondent Email,Name,Score,Submitted\n"
        f"{known['email'].upper()},{known['first_name']} {known['last_name']},9,2026-06-30\n"
    )
    ws.store.execute(
        "INSERT INTO source_records (record_id, system, source_key, source, entity, name, email, "
        "content_hash, load_id) VALUES ('late:1', 'late', '1', 'late', 'person', ?, ?, 'h', 'l')",
        [f"{known['first_name']} {known['last_name']}", known["email"].upper()],
    )
    report = ws.identity.resolve(incremental=True)
    assert report.mode == "incremental"
    after = {r["record_id"]: r["master_id"] for r in ws.store.rows("SELECT * FROM record_links")}
    assert after["late:1"] == known["master_id"]
    assert {k: v for k, v in after.items() if k != "late:1"} == before
    ws.close()


# ---- building blocks ----------------------------------------------------------------------


def test_normalisation_of_emails_phones_names_and_companies() -> None:
    engine = duckdb.connect()
    rows = [
        {"record_id": "a:1", "entity": "person", "name": "Smith, Robert", "email": "Bob.Smith+news@Acme.COM",
         "phone": "0044 20 7946 0958", "country": "UK", "company": "ACME Ltd."},
        {"record_id": "a:2", "entity": "person", "name": "J.", "email": "j.doe.42@gmail.com",
         "phone": "(415) 555-0100", "country": "United States", "company": "Acme Limited"},
        {"record_id": "a:3", "entity": "person", "email": "jane.doe7@example.org", "phone": "020 7946 0958",
         "country": "GB"},
        {"record_id": "a:4", "entity": "account", "name": "Acme & Sons GmbH",
         "domain": "https://www.acme.de/about", "country": "Deutschland"},
    ]  # fmt: skip
    from cxlens.schema.records import SOURCE_RECORDS
    from cxlens.store.base import arrow_schema

    schema = arrow_schema(SOURCE_RECORDS)
    full = [{c: r.get(c) for c in schema.names} | {"system": "a", "source_key": r["record_id"][2:],
             "source": "a", "content_hash": "h", "load_id": "l"} for r in rows]  # fmt: skip
    engine.register("raw", pa.Table.from_pylist(full, schema=schema))
    engine.execute("CREATE TABLE records AS SELECT * FROM raw")
    prepare(engine)
    people = {
        r["unique_id"]: r for r in engine.sql("SELECT * FROM people").to_arrow_table().to_pylist()
    }
    assert people["a:1"]["email"] == "bob.smith@acme.com"
    assert (people["a:1"]["first_name"], people["a:1"]["last_name"]) == ("robert", "smith")
    assert "robert" in people["a:1"]["first_forms"]
    assert people["a:1"]["phone_e164"] == "+442079460958"
    assert people["a:3"]["phone_e164"] == "+442079460958"
    assert people["a:1"]["phone_tail"] == people["a:3"]["phone_tail"]
    assert people["a:2"]["phone_e164"] == "+14155550100"
    assert people["a:2"]["email"] == "jdoe42@gmail.com" and people["a:2"]["email_is_free"]
    assert people["a:1"]["company"] == people["a:2"]["company"] == "acme"
    assert people["a:1"]["country"] == "GB" and people["a:2"]["country"] == "US"
    # A nameless record takes its name from the mailbox.
    assert (people["a:3"]["first_name"], people["a:3"]["last_name"]) == ("jane", "doe")
    company = engine.sql("SELECT * FROM companies").to_arrow_table().to_pylist()[0]
    assert company["domain"] == "acme.de" and company["country"] == "DE"
    assert company["company"] == "acme sons"


def test_clusters_never_join_a_rejected_pair() -> None:
    left = np.array([0, 1, 2, 4], dtype=np.int64)
    right = np.array([1, 2, 3, 5], dtype=np.int64)
    assert components(6, left, right).tolist() == [0, 0, 0, 0, 4, 4]
    strength = np.array([0.99, 0.6, 0.99, 0.9])
    labels, used = constrained_components(
        6, left, right, strength, np.array([0], dtype=np.int64), np.array([3], dtype=np.int64)
    )
    assert labels[0] != labels[3]
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert used.tolist() == [True, False, True, True]  # the weakest link is the one given up


def test_master_ids_are_stable_through_merges_and_splits() -> None:
    ids = ["r1", "r2", "r3", "r4"]
    previous = {"r1": "cus_a", "r2": "cus_a", "r3": "cus_b", "r4": "cus_b"}
    merged = assign(Entity.PERSON, ids, np.array([0, 0, 0, 3]), previous)
    assert merged.master_of["r1"] == "cus_a" and merged.master_of["r3"] == "cus_a"
    assert merged.master_of["r4"] == "cus_b"
    assert {c.action for c in merged.changes} == {"split"}
    combined = assign(Entity.PERSON, ids, np.array([0, 0, 0, 0]), previous)
    assert set(combined.master_of.values()) == {"cus_a"} and combined.retired == {"cus_b"}
    assert [c.action for c in combined.changes] == ["merge"]
    fresh = assign(Entity.PERSON, ["r9"], np.array([0]), {})
    assert fresh.master_of["r9"] == provisional_id(Entity.PERSON, "r9")


def test_identity_settings_are_validated_with_actionable_messages() -> None:
    with pytest.raises(ConfigError, match="review_threshold"):
        parse_config({"identity": {"match_threshold": 0.8, "review_threshold": 0.9}}, "x.yaml", {})
    with pytest.raises(ConfigError, match="unknown attributes"):
        parse_config({"identity": {"survivorship": {"shoe_size": "most_recent"}}}, "x.yaml", {})
    settings = IdentitySettings(survivorship={"phone": "most_recent"})
    assert settings.rule_for("phone") == "most_recent"
    assert settings.rule_for("email") == "most_trusted"


def test_accuracy_on_the_demo_company_at_its_default_size(tmp_path: Path) -> None:
    """`make demo`'s company (2,000 accounts): pairwise F1 ≥ 0.98, no labels used."""
    generate_demo(tmp_path, customers=2_000, seed=7)
    ws = Workspace.init(tmp_path)
    for name, settings in demo_sources().items():
        ws.add_source(name, settings)
    ws.ingest()
    ws.identity.resolve()
    precision, recall, f1 = pairwise_f1(
        ws, tmp_path / "truth/people.parquet", "person_id", "person"
    )
    assert f1 >= 0.98 and precision >= 0.98, (precision, recall, f1)
    _, _, account_f1 = pairwise_f1(ws, tmp_path / "truth/accounts.parquet", "account_id", "account")
    assert account_f1 >= 0.99
    ws.close()
