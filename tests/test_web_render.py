"""The dashboard's pages and charts: valid SVG, honest numbers, links, escaping, empty states."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import UndefinedError

from cxlens.web import STATIC_DIR, render
from cxlens.web import charts as C
from cxlens.web.contexts import (
    AlertsContext,
    CustomerContext,
    CustomersContext,
    ErrorContext,
    OverviewContext,
    VocContext,
)
from cxlens.web.render import ago, date, money, num, pct, qs

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & Co"
NOW = "2025-06-30T12:00:00+00:00"


# -- contexts ---------------------------------------------------------------------------


def overview(empty: bool = False) -> OverviewContext:
    def kpi(name: str, label: str, value: float, fmt: Any, trend: list[float | None]) -> Any:
        return {
            "name": name,
            "label": label,
            "value": value,
            "format": fmt,
            "currency": None,
            "trend": trend,
            "href": f"/customers?sort=-{name}",
        }

    kpis = [
        kpi("arr", "ARR", 12_345_678.9, "money", [10e6, 11e6, None, 12.3e6]),
        kpi("nrr", "Net revenue retention", 1.053, "pct", [1.01, 1.03, 1.053]),
        kpi("grr", "Gross revenue retention", 0.912, "pct", [0.9, 0.91]),
        kpi("logo_churn", "Logo churn", 0.021, "pct", []),
        kpi("nps", "NPS", 31.5, "score", [28, 30, 31.5]),
        kpi("csat", "CSAT", 0.87, "pct", [0.85, 0.87]),
        kpi("revenue_at_risk", "Revenue at risk", 845_000.0, "money", [700e3, 845e3]),
    ]
    kpis[0]["change"] = 450_000.0
    kpis[3]["change"] = 0.002
    kpis[3]["good"] = "down"
    if empty:
        return {
            "kpis": [],
            "arr_by_month": [],
            "at_risk_by_owner": [],
            "health_counts": {},
            "currency": "EUR",
        }
    return {
        "kpis": kpis,
        "arr_by_month": [
            ("2025-01", 10e6),
            ("2025-02", 11e6),
            ("2025-03", None),
            ("2025-04", 12.3e6),
        ],
        "at_risk_by_owner": [
            ("Ana Ruiz", 420_000.0),
            (HOSTILE, 310_500.5),
            ("Unassigned", 114_499.5),
        ],
        "health_counts": {"red": 40, "green": 120, "amber": 55, "insufficient data": 9},
        "currency": "EUR",
        "as_of": "2025-06-30",
        "now": NOW,
    }


def row(i: int, name: str) -> Any:
    return {
        "customer_id": f"c-{i}",
        "name": name,
        "segment": "Enterprise",
        "owner": "Ana Ruiz",
        "arr": 120_000.0 + i,
        "clv": 310_250.75,
        "health_score": 42.0,
        "health_status": "amber",
        "churn_probability": 0.3712,
        "risk_band": "medium",
        "open_alerts": i,
    }


def customers(empty: bool = False, filtered: bool = False) -> CustomersContext:
    rows = [] if empty else [row(1, "Acme GmbH"), row(2, HOSTILE), row(3, "Globex")]
    return {
        "rows": rows,
        "total": 0 if empty else 73,
        "page": 1 if empty else 2,
        "pages": 1 if empty else 3,
        "page_size": 25,
        "filters": {"owner": "Ana Ruiz", "risk_band": "medium"} if filtered else {},
        "options": {"segments": ["Enterprise", "SMB"], "owners": ["Ana Ruiz", "Bo Li"]},
        "sort": "-arr",
        "currency": "USD",
    }


def customer(empty: bool = False) -> CustomerContext:
    base: CustomerContext = {
        "profile": {
            "customer_id": "c-2",
            "name": HOSTILE,
            "segment": "Enterprise",
            "owner": "Ana Ruiz",
            "region": "EMEA",
            "health_status": "red",
            "risk_band": "high",
        },
        "value": {"arr": None, "clv": None, "mrr": None, "mrr_history": []},
        "risk": {
            "probability": None,
            "band": None,
            "reasons": [],
            "months_to_churn": None,
            "health_score": None,
            "health_history": [],
        },
        "story": [],
        "people": [],
        "records": [],
        "voice": [],
        "alerts": [],
        "tasks": [],
        "timeline": [],
        "departments": [],
        "kinds": [],
        "timeline_filter": {},
        "currency": "GBP",
        "now": NOW,
    }
    if empty:
        return base
    base["value"] = {
        "arr": 96_000.0,
        "clv": 250_400.0,
        "mrr": 8_000.0,
        "mrr_history": [("2025-01", 7_500.0), ("2025-02", 8_000.0), ("2025-03", 8_000.0)],
    }
    base["risk"] = {
        "probability": 0.81,
        "band": "high",
        "reasons": ["Usage fell 45% in the last 30 days.", "Two urgent tickets are open."],
        "months_to_churn": 2.5,
        "health_score": 28.0,
        "health_history": [61, 55, None, 40, 28],
    }
    base["story"] = [
        {"text": "Signed in January on the Pro plan.", "event_ids": ["e1"]},
        {"text": "Usage dropped after the March outage.", "event_ids": ["e2", "e3"]},
    ]
    base["people"] = [
        {"name": "Jo Park", "title": "CTO", "email": "jo@acme.test", "phone": "+44 20 7946 0000"}
    ]
    base["records"] = [
        {
            "record_id": "crm:001",
            "system": "crm",
            "name": "Acme",
            "method": "key",
            "probability": None,
            "reasons": [],
        },
        {
            "record_id": "billing:A-9",
            "system": "billing",
            "name": "ACME GmbH",
            "method": "model",
            "probability": 0.97,
            "reasons": ["Same domain acme.test", "Names agree after removing the legal form"],
        },
    ]
    base["voice"] = [
        {
            "event_id": "e3",
            "occurred_at": "2025-03-20T09:00:00Z",
            "kind": "ticket",
            "text": "The export keeps failing <b>again</b>.",
            "sentiment": "negative",
            "sentiment_score": -0.62,
            "theme": "Exports",
        }
    ]
    base["alerts"] = [alert("a1", "c-2", HOSTILE)]
    base["tasks"] = [task("t1", overdue=True)]
    base["timeline"] = [
        event("e3", "support", "ticket", "Ticket: export failing"),
        event("e2", "product", "usage", "Weekly active users down 45%"),
        event("e1", "sales", "order", "Order: Pro plan", amount=96_000.0),
    ]
    base["departments"] = ["sales", "support", "product"]
    base["kinds"] = ["order", "ticket", "usage"]
    base["timeline_filter"] = {"kind": "ticket"}
    return base


def alert(alert_id: str, customer_id: str | None, name: str | None) -> Any:
    return {
        "alert_id": alert_id,
        "severity": "P1",
        "rule_name": "Usage drop",
        "customer_id": customer_id,
        "customer_name": name,
        "owner": "Ana Ruiz",
        "summary": "Weekly active users fell 45% against the previous month.",
        "status": "open",
        "fired_at": "2025-06-27T12:00:00Z",
    }


def task(task_id: str, overdue: bool) -> Any:
    return {
        "task_id": task_id,
        "title": "Call the champion",
        "customer_id": "c-2",
        "customer_name": "Acme GmbH",
        "owner": "Ana Ruiz",
        "due_at": "2025-06-29T00:00:00Z",
        "status": "open",
        "overdue": overdue,
    }


def event(
    event_id: str, department: str, kind: str, summary: str, amount: float | None = None
) -> Any:
    out = {
        "event_id": event_id,
        "occurred_at": "2025-03-01T10:00:00Z",
        "department": department,
        "kind": kind,
        "summary": summary,
        "source": "crm",
    }
    if amount is not None:
        out["amount"] = amount
    return out


def voc(empty: bool = False) -> VocContext:
    if empty:
        return {"journey": [], "themes": [], "drivers": [], "driver_target": "nps", "emerging": []}
    return {
        "journey": [
            {
                "touchpoint": "Onboarding",
                "metric": "nps",
                "value": 42.0,
                "n": 230,
                "low_sample": False,
            },
            {"touchpoint": "Support", "metric": "nps", "value": -12.5, "n": 14, "low_sample": True},
            {
                "touchpoint": "Support",
                "metric": "csat",
                "value": 0.82,
                "n": 410,
                "low_sample": False,
            },
            {"touchpoint": "Billing", "metric": "ces", "value": 3.4, "n": 55, "low_sample": False},
        ],
        "themes": [
            {
                "theme_key": "exports",
                "label": "Exports",
                "volume": 312,
                "share": 0.124,
                "negative_share": 0.61,
                "sentiment": -0.34,
                "quote": HOSTILE,
            }
        ],
        "drivers": [
            {"factor": "exports", "label": "Exports", "impact": 4.2, "n": 312},
            {"factor": "billing", "label": "Billing", "impact": -1.5, "n": 90},
            {"factor": "x", "label": "Unknown", "impact": None, "n": 3},
        ],
        "driver_target": "nps",
        "emerging": [
            {
                "theme_key": "sso",
                "label": "Single sign-on",
                "signal": "volume",
                "period_start": "2025-06-01",
                "observed": 48,
                "expected": 12.5,
                "ratio": 3.84,
                "q_value": 0.0021,
            }
        ],
        "nps_mix": {"detractors": 120, "promoters": 410, "passives": 200},
        "texts": 2514,
    }


def alerts(empty: bool = False, filtered: bool = False) -> AlertsContext:
    return {
        "alerts": [] if empty else [alert("a1", "c-2", HOSTILE), alert("a2", None, None)],
        "tasks": [] if empty else [task("t1", overdue=True), task("t2", overdue=False)],
        "filters": {"status": "open"} if filtered else {},
        "options": {"owners": ["Ana Ruiz"]},
        "now": NOW,
    }


def error() -> ErrorContext:
    return {"status": 404, "message": f"No customer {HOSTILE}"}


FULL = {
    "overview": overview,
    "customers": customers,
    "customer": customer,
    "voc": voc,
    "alerts": alerts,
}


# -- helpers ----------------------------------------------------------------------------


class _Balance(HTMLParser):
    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr", "area", "col"}
    SVG_VOID = {"path", "rect", "line", "circle"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def check_html(html: str) -> _Balance:
    """Tags balance, ids are unique, every SVG parses as XML, nothing loads from elsewhere."""
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.problems == [], parser.problems[:5]
    assert parser.stack == [], parser.stack
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        ET.fromstring(svg)  # noqa: S314 - markup this test just rendered
    assert "<script" not in html
    outside = re.findall(r"https?://[^\s\"'<>]*", html)
    assert outside == ["http://www.w3.org/2000/svg"] * html.count("<svg")
    return parser


def values(html: str, metric: str) -> list[str]:
    return re.findall(rf'data-metric="{metric}" data-value="([^"]*)"', html)


def svg(text: str) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 - markup this test just drew
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "100%" and root.get("viewBox")
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.find(f"{SVG}title") is not None
    return root


# -- charts -----------------------------------------------------------------------------


def test_line_chart_is_valid_svg_with_a_gap_for_missing_values() -> None:
    points: list[tuple[str, float | None]] = [
        ("2025-01", 1.0),
        ("2025-02", 2.0),
        ("2025-03", None),
        ("2025-04", 4.0),
        ("2025-05", 5.5),
    ]
    root = svg(C.line_chart([C.Series("ARR", points)], title="ARR", y_format="money:USD"))
    lines = root.findall(f".//{SVG}path[@class='line']")
    assert len(lines) == 2  # broken at the gap
    dots = root.findall(f".//{SVG}circle[@class='point']")
    assert [(d.get("data-label"), d.get("data-value")) for d in dots] == [
        ("2025-01", "1.0"),
        ("2025-02", "2.0"),
        ("2025-04", "4.0"),
        ("2025-05", "5.5"),
    ]
    assert len(root.findall(f".//{SVG}line[@class='grid']")) >= 3
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick x"]
    assert "May 2025" in ticks


def test_line_chart_with_two_series_has_a_legend_and_labels_in_order() -> None:
    a = C.Series("This year", [("Q1", 10.0), ("Q2", 12.0)])
    b = C.Series("Last year", [("Q1", 8.0), ("Q3", 9.0)])
    root = svg(C.line_chart([a, b], title="Two", y_format="num"))
    dots = root.findall(f".//{SVG}circle")
    q3 = next(d for d in dots if d.get("data-label") == "Q3")
    q2 = next(d for d in dots if d.get("data-label") == "Q2")
    assert float(q3.get("cx", 0)) > float(q2.get("cx", 0))
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "This year" in texts and "Last year" in texts


def test_bar_chart_values_links_highlight_and_negatives() -> None:
    bars = [("Exports", 4.25), ("Billing", -1.5), ("Ana & <Bo>", 1234567.0)]
    out = C.bar_chart(
        bars,
        title="Impact",
        value_format="num:1",
        highlight={"Billing"},
        links={"Exports": "/customers?owner=A&x=1"},
    )
    root = svg(out)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("data-value")]
    assert [(r.get("data-label"), float(r.get("data-value", "nan"))) for r in rects] == bars
    assert rects[1].get("fill") == C.ACCENT and rects[0].get("fill") != C.ACCENT
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/customers?owner=A&x=1"]
    assert links[0].find(f".//{SVG}rect").get("data-label") == "Exports"  # type: ignore[union-attr]
    assert float(rects[1].get("width", 0)) > 0  # negative bars are drawn, leftwards
    assert "Ana &amp; &lt;Bo&gt;" in out and "<Bo>" not in out


def test_vertical_bar_chart_and_empty_charts() -> None:
    root = svg(C.bar_chart([("A", 3.0), ("B", 0.0)], title="V", horizontal=False))
    assert [r.get("data-value") for r in root.iter(f"{SVG}rect")] == ["3.0", "0.0"]
    for empty in (
        C.bar_chart([], title="None"),
        C.line_chart([C.Series("x", [("a", None)])], title="None"),
        C.line_chart([], title="None"),
        C.sparkline([]),
        C.stacked_bar([("a", 0)], title="None"),
    ):
        root = svg(empty)
        assert "no-data" in (root.get("class") or "")
        assert root.find(f"{SVG}text") is not None


def test_sparkline_gauge_and_stacked_bar() -> None:
    root = svg(C.sparkline([1.0, None, 3.0, 4.0], value_format="pct"))
    assert len(root.findall(f".//{SVG}path")) == 1  # 1.0 stands alone before the gap
    assert root.find(f".//{SVG}circle").get("data-value") == "4.0"  # type: ignore[union-attr]
    assert root.find(f".//{SVG}g").get("data-values") == "1.0,,3.0,4.0"  # type: ignore[union-attr]
    assert "from 100.0% to 400.0%" in (root.get("aria-label") or "")

    for value, status in ((20, "red"), (55.5, "amber"), (70, "green"), (100, "green")):
        text = svg(C.gauge(value)).find(f".//{SVG}text[@class='value']")
        assert text is not None and text.get("data-status") == status
        assert text.get("data-value") == str(value)
    assert "n/a" in C.gauge(None)

    parts = [("promoters", 410), ("passives", 200), ("detractors", 120)]
    root = svg(C.stacked_bar(parts, title="Mix", links={"detractors": "/voc?d=1"}))
    segs = [r for r in root.iter(f"{SVG}rect") if r.get("data-value")]
    assert [(r.get("data-label"), r.get("data-value")) for r in segs] == [
        (k, str(v)) for k, v in parts
    ]
    widths = [float(r.get("width", 0)) for r in segs]
    assert widths[0] / sum(widths) == pytest.approx(410 / 730, abs=0.01)
    assert segs[2].get("fill") == C.COLORS["detractors"]
    assert root.find(f"{SVG}a").get("href") == "/voc?d=1"  # type: ignore[union-attr]


def test_chart_text_is_escaped() -> None:
    for out in (
        C.line_chart([C.Series(HOSTILE, [(HOSTILE, 1.0)])], title=HOSTILE),
        C.bar_chart([(HOSTILE, 1.0)], title=HOSTILE, links={HOSTILE: '"/x?a=1&b=2'}),
        C.stacked_bar([(HOSTILE, 1.0)], title=HOSTILE),
        C.sparkline([1.0, 2.0], label=HOSTILE),
        C.gauge(50, label=HOSTILE),
    ):
        assert "<script" not in out
        svg(out)


@pytest.mark.parametrize(
    ("value", "kwargs", "shown"),
    [
        (1234.5, {}, "1,234"),
        (0.5, {"digits": 2}, "0.50"),
        (-3.2, {"digits": 1}, "−3.2"),
        (-0.0001, {}, "0"),
        (1_234_567, {"compact": True}, "1.2M"),
        (45_600, {"compact": True}, "46k"),
        (999_999, {"compact": True}, "1M"),
        (2.5e9, {"compact": True}, "2.5B"),
        (None, {}, "—"),
        (float("nan"), {}, "—"),
        (True, {}, "—"),
    ],
)
def test_format_num(value: object, kwargs: dict[str, Any], shown: str) -> None:
    assert C.format_num(value, **kwargs) == shown


def test_filters_format_for_people() -> None:
    assert money(12345.678, "USD") == "$12,346"
    assert money(49.9, "EUR") == "€49.90"
    assert money(-1500, "GBP") == "−£1,500"
    assert money(980, "CHF") == "CHF 980"
    assert money(12_345_678, "USD", compact=True) == "$12M"
    assert money(None, "USD") == "—"
    assert pct(0.1234) == "12.3%"
    assert pct(1.053, 0) == "105%"
    assert pct(None) == "—"
    assert num(12345.6) == "12,346"
    assert num(3.14159, 2) == "3.14"
    assert date("2025-03-04T10:30:00Z") == "4 Mar 2025"
    assert date(dt.date(2024, 12, 25)) == "25 Dec 2024"
    assert date("2025-03-04T10:30:00", with_time=True) == "4 Mar 2025 10:30"
    assert date(None) == "—" and date("soon") == "soon"
    now = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
    assert ago("2025-06-30T11:59:30Z", now) == "just now"
    assert ago("2025-06-30T09:00:00Z", now) == "3 hours ago"
    assert ago("2025-06-29T12:00:00Z", now) == "yesterday"
    assert ago("2025-06-20T12:00:00Z", now) == "10 days ago"
    assert ago("2025-06-02T12:00:00Z", now) == "4 weeks ago"
    assert ago("2025-01-15", now) == "5 months ago"
    assert ago("2023-06-01", now) == "2 years ago"
    assert ago("2025-07-02T12:00:00Z", now) == "in 2 days"
    assert ago("2025-06-30T13:00:00", now) == "in 1 hour"  # naive reads as UTC
    assert qs({"a": "x y", "b": None}, page=2) == "?a=x+y&page=2"
    assert qs({}) == "?"


# -- pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(FULL))
def test_every_page_renders_valid_html(page: str) -> None:
    html = render(page, FULL[page]())  # type: ignore[operator]
    check_html(html)
    assert '<meta name="viewport"' in html
    assert 'href="/static/cxlens.css"' in html
    assert 'aria-current="page"' in html
    assert 'action="/customers"' in html and 'name="q"' in html
    for label in ("Overview", "Customers", "Voice<span", " of the customer", " &amp; tasks"):
        assert label in html
    assert "<script>alert" not in html


@pytest.mark.parametrize(
    ("page", "context", "message"),
    [
        ("overview", overview(empty=True), "No key figures yet."),
        ("overview", overview(empty=True), "No revenue yet."),
        ("customers", customers(empty=True), "No customers yet."),
        ("customers", customers(empty=True, filtered=True), "No customers match these filters."),
        ("customer", customer(empty=True), "No events yet."),
        ("customer", customer(empty=True), "No story yet."),
        ("voc", voc(empty=True), "No survey answers yet."),
        ("voc", voc(empty=True), "No themes yet."),
        ("alerts", alerts(empty=True), "Inbox zero."),
        ("alerts", alerts(empty=True, filtered=True), "No tasks match these filters."),
        ("error", error(), "No customer"),
    ],
)
def test_pages_render_with_no_data_and_say_what_would_fill_them(
    page: str, context: Any, message: str
) -> None:
    html = render(page, context)
    check_html(html)
    assert message in html


def test_overview_numbers_charts_and_drill_downs() -> None:
    ctx = overview()
    html = render("overview", ctx)
    for k in ctx["kpis"]:
        assert values(html, k["name"]) == [C.raw_number(k["value"])]
        assert f'href="{k["href"]}"' in html
    assert (
        '<a class="metric kpi-value" data-metric="arr" data-value="12345678.9" '
        'href="/customers?sort=-arr" aria-label="ARR: €12,345,679" title="€12,345,679">€12M</a>'
    ) in html
    # the drill-down is the figure itself (a[data-metric]), so a browser can follow it
    assert (
        'data-metric="revenue_at_risk" data-value="845000.0" href="/customers?sort=-revenue_at_risk"'
        in html
    )
    assert values(html, "nrr") == ["1.053"] and ">105.3%<" in html
    # A change of a percentage shows in points.
    assert values(html, "logo_churn_change") == ["0.2"] and "0.2</span> pts" in html
    assert 'class="kpi-change is-bad"' in html  # churn going up is bad
    assert "Data as of" in html and "30 Jun 2025" in html
    # revenue at risk: one linked bar per owner, to the filtered customer list
    hrefs = re.findall(r'<a href="([^"]+)" class="drill">', html)
    assert "/customers?sort=-revenue_at_risk&amp;owner=Ana+Ruiz" in hrefs
    assert "/customers?health_status=green" in hrefs
    bars = re.findall(r'<rect [^>]*data-label="([^"]*)" data-value="([^"]*)"', html)
    assert ("Ana Ruiz", "420000.0") in bars and ("green", "120") in bars
    assert values(html, "health_red") == ["40"]
    # health statuses in their usual order
    assert html.index('data-label="green"') < html.index('data-label="red"')


def test_customers_table_filters_and_pagination() -> None:
    ctx = customers(filtered=True)
    html = render("customers", ctx)
    assert 'data-total="73"' in html
    assert values(html, "arr") == ["120001.0", "120002.0", "120003.0"]
    assert values(html, "churn_probability")[0] == "0.3712" and "37.1%" in html
    assert 'href="/customers/c-1">Acme GmbH</a>' in html
    assert "Page <span" in html and 'data-metric="pages" data-value="3"' in html
    prev = re.search(r'<a rel="prev" href="([^"]+)"', html)
    nxt = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert prev and nxt
    assert (
        nxt.group(1)
        == "/customers?owner=Ana+Ruiz&amp;risk_band=medium&amp;sort=-arr&amp;page_size=25&amp;page=3"
    )
    assert "page=1" in prev.group(1)
    assert '<option value="Ana Ruiz" selected>' in html
    assert '<option value="-arr" selected>' in html
    assert '<option value="medium" selected>Medium risk</option>' in html
    assert 'name="value_tier"' in html  # no choices given: a text field


def test_customer_360_story_cites_timeline_rows() -> None:
    ctx = customer()
    html = render("customer", ctx)
    parser = check_html(html)
    cited = re.findall(r'class="cite" href="#event-([^"]+)"', html)
    assert cited == ["e1", "e2", "e3"]
    assert {f"event-{e}" for e in cited} <= set(parser.ids)
    assert ">[3]</a>" in html
    assert values(html, "churn_probability") == ["0.81"]
    assert values(html, "arr") == ["96000.0"] and "£96,000" in html
    assert values(html, "match_probability") == ["", "0.97"]
    assert "Names agree after removing the legal form" in html
    assert 'href="?kind=ticket&amp;department=support#timeline"' in html
    assert 'href="?kind=ticket#timeline" aria-current="true">All departments' in html
    assert 'href="?#timeline">All kinds' in html
    assert 'href="?kind=ticket#timeline" aria-current="true">ticket' in html
    assert "The export keeps failing &lt;b&gt;again&lt;/b&gt;." in html
    assert 'data-overdue="true"' in html
    assert "Usage fell 45% in the last 30 days." in html
    assert values(html, "amount") == ["96000.0"]


def test_voc_page_flags_small_samples_and_shows_drivers() -> None:
    html = render("voc", voc())
    check_html(html)
    assert values(html, "nps") == ["42.0", "-12.5"]
    assert values(html, "csat") == ["0.82"] and "82.0%" in html
    assert "Small sample" in html
    small = re.search(r'<rect [^>]*fill="([^"]+)" data-label="Support \(n=14\)"', html)
    assert small and small.group(1) == C.ACCENT
    assert 'data-label="Exports" data-value="4.2"' in html
    assert 'data-label="Unknown"' not in html  # no impact, no bar
    assert values(html, "q_value") == ["0.0021"] and "×" in html
    assert values(html, "share") == ["0.124"] and "12.4%" in html
    assert html.index('data-label="promoters"') < html.index('data-label="detractors"')
    assert "Orange bars rest on few answers" in html
    calm = voc()
    calm["journey"] = [j for j in calm["journey"] if not j["low_sample"]]
    assert "Orange bars rest on few answers" not in render("voc", calm)


def test_alerts_page_lists_alerts_and_tasks() -> None:
    html = render("alerts", alerts(filtered=True))
    assert 'data-metric="alerts_total" data-value="2"' in html
    assert "3 days ago" in html
    assert 'class="badge badge-severity is-p1"' in html
    assert html.count('data-overdue="true"') == 1
    assert '<option value="open" selected>open</option>' in html


def test_hostile_names_are_escaped_everywhere() -> None:
    # Templates escape quotes as &#39;, charts (html.escape) as &#x27;: both are inert.
    escaped = {
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co",
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co",
    }
    for page, make in [*FULL.items(), ("error", error)]:
        html = render(page, make())  # type: ignore[operator]
        assert HOSTILE not in html and "<script" not in html, page
        assert any(e in html for e in escaped), page
    assert "<title>&lt;script&gt;" in render("customer", customer())


def test_render_rejects_unknown_pages_and_accepts_the_file_name() -> None:
    with pytest.raises(ValueError, match="unknown page"):
        render("admin", {})
    assert render("error.html", {"status": 500, "message": "Boom"}).count("Boom") == 1
    broken = dict(customers())
    del broken["rows"]
    with pytest.raises(UndefinedError):  # a route's missing key fails loudly
        render("customers", broken)


def test_static_stylesheet_is_self_contained_and_responsive() -> None:
    css = (STATIC_DIR / "cxlens.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "@media (min-width: 900px)" in css
    assert "system-ui" in css
    assert "overflow-x: auto" in css
