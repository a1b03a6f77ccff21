"""Real-time signals end to end: the event API served on loopback over the demo company, on
every store backend; rules, alerts, tasks, the closed loop, the dry run and the effect report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cxlens.api.keys import create_key
from cxlens.cli import app
from cxlens.workspace import Workspace
from servers import running_api
from workspaces import demo_workspace

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)


def _event(
    event_id: str, kind: str, action: str, customer: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    at = fields.pop("at", NOW)
    return {"event_id": event_id, "occurred_at": at.isoformat(), "kind": kind,
            "action": action, "customer": customer, **fields}  # fmt: skip


@pytest.fixture
def company(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Path]:
    ws = demo_workspace(
        tmp_path, customers=200, seed=5, backend=backend, request=request, value=True
    )
    ws.value.clv()
    ws.close()
    yield tmp_path


def _keys(root: Path) -> dict[str, str]:
    with Workspace(root) as ws:
        owner = ws.store.scalar("SELECT owner FROM accounts WHERE owner IS NOT NULL LIMIT 1")
        return {
            "ingest": create_key(ws.store, "loader", "ingest"),
            "analyst": create_key(ws.store, "analyst", "analyst"),
            "csm": create_key(ws.store, "csm", "csm", owner=str(owner)),
            "owner": str(owner),
        }


def _people(root: Path, n: int) -> list[dict[str, Any]]:
    """People of distinct accounts, with their account's owner."""
    with Workspace(root) as ws:
        return ws.store.rows(
            "SELECT min(c.email) AS email, a.account_id, a.owner FROM customers AS c "
            "JOIN accounts AS a ON a.account_id = c.account_id "
            "WHERE c.email IS NOT NULL AND a.owner IS NOT NULL "
            f"GROUP BY a.account_id, a.owner ORDER BY a.account_id LIMIT {n}"
        )


def _count(root: Path, sql: str) -> int:
    with Workspace(root) as ws:
        return int(ws.store.scalar(sql))


def test_event_api_stores_once_judges_and_refuses_bad_requests(company: Path) -> None:
    keys = _keys(company)
    people = _people(company, 3)
    events_before = _count(company, "SELECT count(*) FROM events")
    with running_api(company) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {keys['ingest']}"}
        good = _event("api-1", "usage", "login", {"email": people[0]["email"]}, quantity=1)

        # Refused requests answer 4xx in one error shape and change nothing.
        refused = [
            http.post("/v1/events", json=good),
            http.post("/v1/events", json=good, headers={"Authorization": "Bearer cxl_x_y"}),
            http.post(
                "/v1/events", json=good, headers={"Authorization": f"Bearer {keys['analyst']}"}
            ),
            http.post("/v1/events", content=b'{"event_id": ', headers=auth),
            http.post("/v1/events", json={**good, "kind": "telepathy"}, headers=auth),
            http.post("/v1/events", json={**good, "action": "opened"}, headers=auth),
            http.post("/v1/events", json={"events": [good] * 1001}, headers=auth),
            http.post("/v1/events", json={**good, "text": "x" * 1_100_000}, headers=auth),
        ]
        assert [r.status_code for r in refused] == [401, 401, 403, 400, 422, 422, 413, 413]
        for r in refused:
            body = r.json()["error"]
            assert set(body) == {"status", "code", "message", "details"} and body["message"]
        assert refused[4].json()["error"]["details"][0]["field"] == "kind"
        assert "not one of usage's" in refused[5].json()["error"]["message"]
        assert http.get("/v1/health").json() == {"status": "ok"}

        # Stored once, however often it is sent.
        first = http.post("/v1/events", json=good, headers=auth).json()
        again = http.post("/v1/events", json={"events": [good, good]}, headers=auth).json()
        assert (first["accepted"], first["duplicates"]) == (1, 0)
        assert (again["accepted"], again["duplicates"]) == (0, 2)

        # A customer never seen becomes a provisional master at once.
        stranger = {"email": "kim@brand-new.example", "name": "Kim New",
                    "account": {"domain": "brand-new.example", "name": "Brand New Ltd"}}  # fmt: skip
        new = http.post(
            "/v1/events",
            json={"events": [
                _event(f"api-t{i}", "ticket", "opened", stranger, reference=f"T-{i}",
                       properties={"priority": "urgent"}, at=NOW + dt.timedelta(hours=i))
                for i in range(3)
            ]},
            headers=auth,
        ).json()  # fmt: skip
        assert new["accepted"] == 3 and len(new["alerts"]) == 1  # the third urgent ticket

        # A detractor answer from a known customer raises an alert for their owner.
        detractor = _event("api-nps", "survey", "nps", {"email": people[1]["email"]}, score=2,
                           text="Support never answers and the product keeps failing")  # fmt: skip
        raised = http.post("/v1/events", json=detractor, headers=auth).json()
        assert len(raised["alerts"]) == 1
        analyst = {"Authorization": f"Bearer {keys['analyst']}"}
        alerts = http.get("/v1/alerts", headers=analyst).json()
        by_rule = {a["rule_id"]: a for a in alerts}
        assert by_rule["nps_detractor"]["owner"] == people[1]["owner"]
        assert by_rule["nps_detractor"]["context"]["customer"]["value"] is not None
        assert by_rule["third_urgent_ticket"]["owner"] == "support-leads"
        csm = {"Authorization": f"Bearer {keys['csm']}"}
        assert {a["owner"] for a in http.get("/v1/alerts", headers=csm).json()} <= {keys["owner"]}

    assert _count(company, "SELECT count(*) FROM events") == events_before + 5
    with Workspace(company) as ws:
        made = ws.store.rows(
            "SELECT c.customer_id, c.account_id, a.name FROM customers AS c "
            "JOIN accounts AS a ON a.account_id = c.account_id WHERE c.email = ?",
            ["kim@brand-new.example"],
        )
        assert len(made) == 1 and made[0]["name"] == "Brand New Ltd"
        linked = ws.store.scalar(
            "SELECT count(*) FROM events AS e JOIN record_links AS l ON l.record_id = e.record_id "
            "WHERE l.master_id = ?",
            [made[0]["customer_id"]],
        )
        assert linked == 3
        assert ws.store.scalar("SELECT count(*) FROM alerts") == 2


def test_tasks_close_the_loop(company: Path) -> None:
    keys = _keys(company)
    admin = {"Authorization": f"Bearer {_admin(company)}"}
    people = _people(company, 40)
    with running_api(company) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {keys['ingest']}"}
        answers = [
            _event(f"nps-{i}", "survey", "nps", {"email": p["email"]}, score=1 + i % 5)
            for i, p in enumerate(people)
        ]
        http.post("/v1/events", json={"events": answers}, headers=auth).raise_for_status()
        later = [
            _event(f"nps-next-{i}", "survey", "nps", {"email": p["email"]}, score=9,
                   at=NOW + dt.timedelta(days=40))
            for i, p in enumerate(people)
        ]  # fmt: skip
        http.post("/v1/events", json={"events": later}, headers=auth).raise_for_status()

        tasks = http.get("/v1/tasks", headers=admin, params={"limit": 500}).json()
        held = _count(company, "SELECT count(*) FROM alerts WHERE holdout")
        treated = _count(company, "SELECT count(*) FROM alerts WHERE NOT holdout")
        assert held + treated == 40 and held >= 2 and treated >= 20
        assert len(tasks) == 2 * treated  # the playbook's two steps, none for the held out
        first = next(t for t in tasks if t["step"] == 1)
        assert first["owner"] in {p["owner"] for p in people}

        moved = http.post(f"/v1/tasks/{first['task_id']}", json={"status": "in_progress"},
                          headers=admin)  # fmt: skip
        assert moved.json()["status"] == "in_progress"
        no_reason = http.post(f"/v1/tasks/{first['task_id']}", json={"status": "dismissed"},
                              headers=admin)  # fmt: skip
        assert (
            no_reason.status_code == 400
            and "needs a reason" in no_reason.json()["error"]["message"]
        )
        done = http.post(f"/v1/tasks/{first['task_id']}",
                         json={"status": "done", "outcome": "recovered"}, headers=admin)  # fmt: skip
        assert done.json()["outcome"] == "recovered"

    with Workspace(company) as ws:
        history = ws.signals.task_history(first["task_id"])
        assert [h["to_status"] for h in history] == ["in_progress", "done"]
        loop = ws.signals.loop("detractor_recovery").set_index("alert_id")
        # The recovery task's outcome and the customer's next answer are side by side.
        row = loop.loc[first["alert_id"]]
        assert row["outcome"] == "recovered" and row["next_nps"] == 9
        effect = ws.signals.effect("detractor_recovery")
        assert effect.treated == treated and effect.held_out == held
        assert effect.nps_treated == 9 and effect.surveyed_treated == treated


def _admin(root: Path) -> str:
    with Workspace(root) as ws:
        return create_key(ws.store, "admin", "admin")


def test_replay_is_a_dry_run_and_the_cli_manages_tasks(company: Path) -> None:
    runner = CliRunner()
    w = ["-w", str(company), "--json"]
    replay = runner.invoke(app, ["rules", "replay", "--since", "2025-01-01", *w])
    assert replay.exit_code == 0, replay.output
    report = json.loads(replay.output)
    fired = {r["rule_id"]: r["would_fire"] for r in report["per_rule"]}
    assert fired.get("nps_detractor", 0) > 0 and fired.get("negative_social_mention", 0) > 0
    assert _count(company, "SELECT count(*) FROM alerts") == 0  # nothing written

    # --apply raises them for real, once however often it runs.
    applied = runner.invoke(app, ["rules", "replay", "--since", "2025-01-01", "--apply", *w])
    raised = json.loads(applied.output)["raised"]
    assert raised == sum(fired.values()) and raised == _count(
        company, "SELECT count(*) FROM alerts"
    )
    again = runner.invoke(app, ["rules", "replay", "--since", "2025-01-01", "--apply", *w])
    assert json.loads(again.output)["raised"] == 0
    listed = runner.invoke(app, ["alerts", "--limit", "5000", *w])
    assert len(json.loads(listed.output)) == raised
    tasks = json.loads(runner.invoke(app, ["tasks", "list", "--limit", "5", *w]).output)
    done = runner.invoke(app, ["tasks", "done", tasks[0]["task_id"], "--outcome", "saved", *w])
    assert json.loads(done.output)["status"] == "done"
    effect = runner.invoke(app, ["playbooks", "effect", "detractor_recovery", *w])
    measured = json.loads(effect.output)
    assert measured["treated"] > 0 and measured["held_out"] > 0
    assert measured["churn_difference"]["low"] <= measured["churn_difference"]["estimate"]
    loop = json.loads(runner.invoke(app, ["playbooks", "loop", "detractor_recovery", *w]).output)
    assert loop and {"holdout", "outcome", "next_nps", "churned"} <= set(loop[0])

    tested = runner.invoke(app, ["rules", "test", *w])
    assert tested.exit_code == 0 and json.loads(tested.output)["rules"] >= 5
    bad = company / "bad.yaml"
    bad.write_text("rules:\n  - {id: x, name: X, when: ['customer.mood = sad']}\n")
    refused = runner.invoke(app, ["rules", "test", "--rules", str(bad), "-w", str(company)])
    assert refused.exit_code == 2 and "customer.mood" in refused.output

    key = runner.invoke(app, ["keys", "create", "ops", "--role", "csm", "-w", str(company)])
    assert key.exit_code == 2 and "--owner" in key.output
