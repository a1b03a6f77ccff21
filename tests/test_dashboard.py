"""The web dashboard in a real browser: Debian's headless Chromium driven by Playwright over
the analysed demo company. Every page opens at desktop and phone widths, drill-downs lead to
the customers behind a number, the numbers shown equal the API's, and screenshots are kept
as test artifacts (test-artifacts/screenshots, or $CXLENS_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cxlens.api.keys import create_key
from servers import running_api
from workspaces import analysed_demo

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CXLENS_ARTIFACTS", "test-artifacts")) / "screenshots"
# Flags for a closed network: without them Chromium keeps trying to reach Google's services.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is missing: `make test` installs it (scripts/ensure-system-packages.sh)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("dashboard")
    ws = analysed_demo(root, customers=150, seed=4)
    key = create_key(ws.store, "browser", "admin")
    ws.close()
    with running_api(root) as url, httpx.Client(base_url=url, timeout=60) as api:
        api.headers["Authorization"] = f"Bearer {key}"
        yield {"url": url, "key": key, "api": api}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def _signed_in(browser: Browser, site: dict[str, Any], viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{site['url']}/login?key={site['key']}")
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _fits(page: Page) -> bool:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _value(page: Page, metric: str) -> float:
    raw = page.locator(f'[data-metric="{metric}"][data-value]').first.get_attribute("data-value")
    assert raw is not None, metric
    return float(raw)


def test_every_page_opens_at_desktop_and_phone_width(
    browser: Browser, site: dict[str, Any]
) -> None:
    some = site["api"].get("/v1/customers", params={"size": 1}).json()["customers"][0]
    paths = {
        "overview": "/",
        "customers": "/customers",
        "customer-360": f"/customers/{some['account_id']}",
        "voc": "/voc",
        "alerts": "/alerts",
    }
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _signed_in(browser, site, viewport)
        for name, path in paths.items():
            response = page.goto(site["url"] + path)
            assert response is not None and response.status == 200, (path, label)
            assert page.locator("nav").count() >= 1
            _shot(page, f"{name}-{label}")
            assert _fits(page), f"{path} scrolls sideways at {viewport['width']} px"
        page.context.close()


def test_overview_numbers_equal_the_api_and_drill_down(
    browser: Browser, site: dict[str, Any]
) -> None:
    api = site["api"]
    kpis = {k["name"]: k for k in api.get("/v1/metrics/overview").json()["kpis"]}
    page = _signed_in(browser, site, DESKTOP)
    for name in ("arr", "nrr", "grr", "nps", "revenue_at_risk"):
        assert _value(page, name) == pytest.approx(kpis[name]["value"], rel=1e-9), name

    # Drill down from revenue at risk: the customers behind the number, most at risk first.
    page.locator(
        '[data-metric="revenue_at_risk"] a, a[data-metric="revenue_at_risk"]'
    ).first.click()
    page.wait_for_load_state()
    assert "/customers" in page.url
    listed = api.get("/v1/customers", params={"sort": "revenue_at_risk", "size": 50}).json()
    shown_total = page.locator("[data-total]").first.get_attribute("data-total")
    assert shown_total is not None and int(shown_total) == listed["total"]
    first_row = page.locator("table tbody tr").first
    assert listed["customers"][0]["name"] in first_row.inner_text()
    _shot(page, "drill-down-revenue-at-risk")

    # From the list to the customer's 360.
    first_row.locator("a").first.click()
    page.wait_for_load_state()
    account = listed["customers"][0]["account_id"]
    assert page.url.endswith(f"/customers/{account}")
    detail = api.get(f"/v1/customers/{account}").json()
    assert _value(page, "arr") == pytest.approx(detail["value"]["arr"], rel=1e-9)
    # Every sentence of the story links to events shown in the timeline.
    citations = page.locator('.story a[href^="#event-"]')
    assert citations.count() >= 3
    for i in range(min(citations.count(), 10)):
        target = citations.nth(i).get_attribute("href")
        assert target, "a citation without a target"
        # Event ids hold colons: find the row by its id attribute, not a CSS #id.
        assert page.locator(f'[id="{target[1:]}"]').count() == 1, target
    _shot(page, "customer-360-from-drill-down")
    page.context.close()


def test_a_filtered_list_counts_what_the_api_counts(browser: Browser, site: dict[str, Any]) -> None:
    api = site["api"]
    page = _signed_in(browser, site, DESKTOP)
    page.goto(site["url"] + "/customers?risk_band=high")
    high = api.get("/v1/customers", params={"risk_band": "high"}).json()["total"]
    assert int(page.locator("[data-total]").first.get_attribute("data-total") or -1) == high
    page.context.close()
