"""The REST API over the analysed demo company: customers, overview, voice, risk, keys with
roles, one error shape, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cxlens.api.keys import create_key
from servers import running_api
from workspaces import analysed_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, dict[str, str], Path]]:
    root = tmp_path_factory.mktemp("api")
    ws = analysed_demo(root, customers=150, seed=4)
    owner = str(ws.store.scalar("SELECT owner FROM accounts WHERE owner IS NOT NULL LIMIT 1"))
    keys = {
        "admin": create_key(ws.store, "admin", "admin"),
        "csm": create_key(ws.store, "csm", "csm", owner=owner),
        "ingest": create_key(ws.store, "loader", "ingest"),
        "owner": owner,
        "accounts": str(ws.store.scalar("SELECT count(*) FROM accounts")),
        "arr": str(ws.value.revenue().waterfall["arr"].iloc[-1]),
    }
    ws.close()
    with running_api(root) as url, httpx.Client(base_url=url, timeout=60) as http:
        http.headers["Authorization"] = f"Bearer {keys['admin']}"
        yield http, keys, root


def test_the_customer_list_filters_sorts_and_pages(
    api: tuple[httpx.Client, dict[str, str], Path],
) -> None:
    http, keys, _ = api
    everyone = http.get("/v1/customers", params={"size": 1000}).json()
    assert everyone["total"] == int(keys["accounts"]) == len(everyone["customers"])
    by_arr = http.get("/v1/customers", params={"sort": "arr", "size": 20}).json()["customers"]
    arrs = [c["arr"] for c in by_arr if c["arr"] is not None]
    assert arrs == sorted(arrs, reverse=True) and len(arrs) > 10
    first = http.get("/v1/customers", params={"size": 10, "page": 1}).json()
    second = http.get("/v1/customers", params={"size": 10, "page": 2}).json()
    ids = {c["account_id"] for c in first["customers"]}
    assert len(ids) == 10 and not ids & {c["account_id"] for c in second["customers"]}
    assert first["pages"] == -(-everyone["total"] // 10)
    high = http.get("/v1/customers", params={"risk_band": "high", "size": 1000}).json()
    assert high["total"] == sum(c["risk_band"] == "high" for c in everyone["customers"])
    assert all(c["risk_band"] == "high" for c in high["customers"])
    tiers = {c["value_tier"] for c in everyone["customers"]}
    assert {"top10", "top25", "rest"} <= tiers
    top10 = sum(c["value_tier"] == "top10" for c in everyone["customers"])
    assert 0.05 < top10 / everyone["total"] < 0.15
    found = http.get("/v1/customers", params={"q": by_arr[0]["name"][:6].lower()}).json()
    assert by_arr[0]["account_id"] in {c["account_id"] for c in found["customers"]}

    # A CSM sees their own book, whatever they ask for.
    csm = {"Authorization": f"Bearer {keys['csm']}"}
    mine = http.get("/v1/customers", params={"owner": "someone else", "size": 1000}, headers=csm)
    assert mine.status_code == 200
    assert {c["owner"] for c in mine.json()["customers"]} == {keys["owner"]}

    others = [c for c in everyone["customers"] if c["owner"] != keys["owner"]]
    assert http.get(f"/v1/customers/{others[0]['account_id']}", headers=csm).status_code == 403
    mine_one = mine.json()["customers"][0]["account_id"]
    assert http.get(f"/v1/customers/{mine_one}/story", headers=csm).status_code == 200
    assert http.get("/v1/customers/acc_nobody").status_code == 404

    bad = http.get("/v1/customers", params={"sort": "shoe_size"})
    assert bad.status_code == 400 and "cannot sort by 'shoe_size'" in bad.json()["error"]["message"]


def test_overview_voice_and_risk_figures(api: tuple[httpx.Client, dict[str, str], Path]) -> None:
    http, keys, _ = api
    overview = http.get("/v1/metrics/overview").json()
    kpis = {k["name"]: k for k in overview["kpis"]}
    assert kpis["arr"]["value"] == pytest.approx(float(keys["arr"]))
    assert {"nrr", "grr", "logo_churn", "nps", "csat", "revenue_at_risk"} <= set(kpis)
    assert len(kpis["arr"]["trend"]) == 12 and kpis["revenue_at_risk"]["value"] > 0
    scores = http.get("/v1/risk/scores", params={"limit": 5000}).json()
    assert kpis["revenue_at_risk"]["value"] == pytest.approx(
        sum(s["revenue_at_risk"] or 0 for s in scores)
    )
    assert all(s["risk_band"] == "high" for s in
               http.get("/v1/risk/scores", params={"band": "high"}).json())  # fmt: skip
    by_owner = http.get("/v1/risk/at-risk", params={"by": "owner"}).json()
    assert sum(r["subscription_at_risk"] for r in by_owner) == pytest.approx(
        kpis["revenue_at_risk"]["value"]
    )
    assert http.get("/v1/risk/backtest").json()["model"]["roc_auc"] > 0.5
    themes = http.get("/v1/voc/themes").json()
    assert themes and {"label", "texts", "negative_share"} <= set(themes[0])
    journey = http.get("/v1/voc/satisfaction", params={"by": "touchpoint"}).json()
    assert journey and http.get("/v1/voc/drivers").status_code == 200
    assert http.get("/v1/voc/emerging").status_code == 200


def test_keys_roles_errors_and_openapi(api: tuple[httpx.Client, dict[str, str], Path]) -> None:
    http, keys, _ = api
    ingest = {"Authorization": f"Bearer {keys['ingest']}"}
    assert http.get("/v1/customers", headers=ingest).status_code == 403
    assert http.get("/v1/customers", headers={"Authorization": ""}).status_code == 401
    missing = http.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    spec = http.get("/openapi.json").json()
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"send_events", "list_customers", "overview", "themes", "risk_scores",
            "list_alerts", "update_task"} <= operations  # fmt: skip
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()  # served from the package, offline
    assert http.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
