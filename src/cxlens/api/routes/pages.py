"""The web dashboard: server-rendered pages over the same figures as the API.

A browser signs in once with an API key (`/login?key=…`, kept in an HTTP-only cookie); the
key's role applies as in the API, so a CSM sees their own book. Pages take their data from
the same functions as the API routes, so a number on a page equals the API's."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxlens.api.errors import ApiError
from cxlens.api.keys import Caller
from cxlens.api.server import KEY_COOKIE, Server, server_of
from cxlens.book.customers import Filters, customers, options
from cxlens.book.overview import overview
from cxlens.errors import CxlensError, MetricError, UnknownMaster
from cxlens.web.render import render

router = APIRouter(include_in_schema=False)
READERS = ("admin", "analyst", "csm")
#: The page's sort keys (see web.contexts.DEFAULT_SORTS) → the book's.
SORTS = {
    "revenue_at_risk": "revenue_at_risk", "arr": "arr", "clv": "clv", "value": "value",
    "churn_probability": "risk", "health_score": "health", "open_alerts": "alerts",
    "name": "name",
}  # fmt: skip

_LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · cxlens</title><link rel="stylesheet" href="/static/cxlens.css"></head>
<body><main class="login"><h1>cxlens</h1><p>{message}</p>
<form method="get" action="/login"><label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" required>
<button type="submit">Sign in</button></form>
<p class="hint">Create one with <code>cxlens keys create NAME --role analyst</code>.</p>
</main></body></html>"""


def _viewer(request: Request) -> Caller | None:
    key = request.cookies.get(KEY_COOKIE, "")
    found = server_of(request).keys.check(key) if key else None
    return found if found is not None and found.role in READERS else None


def _page(request: Request, page: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    server = server_of(request)
    base = {
        "currency": server.workspace.config.value.currency,
        "q": request.query_params.get("q", ""),
    }
    return HTMLResponse(render(page, {**base, **context}), status_code=status)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return value


@router.get("/login")
def login(request: Request, key: str | None = None) -> Response:
    if key is None:
        return HTMLResponse(_LOGIN.format(message="Sign in with an API key."))
    found = server_of(request).keys.check(key)
    if found is None or found.role not in READERS:
        why = "That key is unknown, revoked, or not allowed to read." if found is None else (
            f"A {found.role} key cannot open the dashboard."
        )  # fmt: skip
        return HTMLResponse(_LOGIN.format(message=why), status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="lax", max_age=7 * 86400)
    return response


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(KEY_COOKIE)
    return response


def _overview_context(server: Server) -> dict[str, Any]:
    ws = server.workspace
    data = server.cached("overview", lambda: overview(ws.store, ws.value).to_dict())
    kpis = [
        {
            "name": k["name"], "label": k["label"], "value": k["value"],
            "format": "score" if k["name"] == "nps" else k["format"], "currency": None,
            "trend": [v for _, v in k["trend"]], "href": k["href"],
            "change": (k["trend"][-1][1] - k["trend"][-2][1])
            if len(k["trend"]) >= 2 and None not in (k["trend"][-1][1], k["trend"][-2][1])
            else None,
            "good": "down" if k["name"] in ("logo_churn", "revenue_at_risk") else "up",
        }
        for k in data["kpis"]
    ]  # fmt: skip
    return {
        "kpis": kpis,
        "arr_by_month": data["arr_by_month"],
        "at_risk_by_owner": data["at_risk_by_owner"],
        "health_counts": data["health_counts"],
        "as_of": data["as_of"],
        "currency": data["currency"],
    }


@router.get("/")
def overview_page(request: Request) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return _page(request, "overview", _overview_context(server_of(request)))


@router.get("/customers")
def customers_page(request: Request) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    server = server_of(request)
    p = request.query_params
    asked = p.get("sort", "-revenue_at_risk")
    key = asked.lstrip("-")
    descending = asked.startswith("-")
    filters = Filters(
        q=p.get("q") or None, segment=p.get("segment") or None,
        owner=(who.owner if who.role == "csm" else p.get("owner") or None),
        health_status=p.get("health_status") or None, risk_band=p.get("risk_band") or None,
        value_tier=p.get("value_tier") or None,
    )  # fmt: skip
    try:
        page = max(1, int(p.get("page", "1")))
        size = min(1000, max(1, int(p.get("page_size", "50"))))
        with server.lock:
            found = customers(
                server.workspace.store, filters, sort=SORTS.get(key, "revenue_at_risk"),
                descending=descending, page=page, size=size,
            )  # fmt: skip
    except (ValueError, CxlensError) as exc:
        return _page(request, "error", {"status": 400, "message": str(exc)}, status=400)
    choices = server.cached("filters", lambda: options(server.workspace.store))
    rows = [
        {
            "customer_id": r["account_id"], "name": r["name"] or r["account_id"],
            "segment": r["segment"], "owner": r["owner"], "arr": _clean(r["arr"]),
            "clv": _clean(r["clv"]), "health_score": _clean(r["health"]),
            "health_status": r["health_status"], "churn_probability": _clean(r["probability"]),
            "risk_band": r["risk_band"], "open_alerts": int(r["open_alerts"]),
            "value_tier": r["value_tier"],
        }
        for r in found.rows
    ]  # fmt: skip
    echo = {k: v for k, v in filters.__dict__.items() if v}
    return _page(
        request,
        "customers",
        {
            "rows": rows, "total": found.total, "page": found.page, "pages": found.pages,
            "page_size": found.size, "filters": echo, "sort": asked,
            "options": {
                "segments": choices["segment"], "owners": choices["owner"],
                "health_statuses": choices["health_status"], "risk_bands": choices["risk_band"],
                "value_tiers": choices["value_tier"],
            },
        },
    )  # fmt: skip


@router.get("/voc")
def voc_page(request: Request) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    server = server_of(request)
    voc = server.workspace.voc
    try:
        journey = server.cached(
            "satisfaction:touchpoint", lambda: voc.satisfaction(by=("touchpoint",))
        )
        themes = server.cached("themes", lambda: voc.themes())
        drivers = server.cached("drivers:nps", lambda: voc.drivers("nps"))
        emerging = server.cached("emerging:3", lambda: voc.emerging(periods=3))
    except MetricError as exc:
        return _page(request, "error", {"status": 404, "message": str(exc)}, status=404)
    return _page(request, "voc", _voc_context(journey, themes, drivers, emerging))


def _voc_context(
    journey: pd.DataFrame, themes: pd.DataFrame, drivers: pd.DataFrame, emerging: pd.DataFrame
) -> dict[str, Any]:
    scores = [
        {
            "touchpoint": str(row["touchpoint"] or "(none)"), "metric": row["measure"],
            # CSAT is kept as a percentage of satisfied answers; pages show fractions.
            "value": _clean(row["value"] / 100 if row["measure"] == "csat" else row["value"]),
            "n": int(row["n"]), "low_sample": bool(row["low_sample"]),
        }
        for row in journey.to_dict(orient="records")
        if row["measure"] in ("nps", "csat", "ces")
    ]  # fmt: skip
    return {
        "journey": scores,
        "themes": [
            {
                "theme_key": t["theme_key"], "label": t["label"], "volume": int(t["texts"]),
                "share": _clean(t["share"]), "negative_share": _clean(t["negative_share"]),
                "sentiment": _clean(t["mean_sentiment"]),
                "quote": (t["quote_texts"][0] if isinstance(t["quote_texts"], list)
                          and t["quote_texts"] else None),
            }
            for t in themes.to_dict(orient="records")
        ],
        "drivers": [
            {"factor": str(d.get("factor")), "label": str(d.get("label") or d.get("factor")),
             "impact": _clean(d.get("impact")), "n": int(d.get("n") or 0)}
            for d in drivers.head(15).to_dict(orient="records")
        ],
        "driver_target": "nps",
        "emerging": [
            {"theme_key": e["theme_key"], "label": e["label"], "signal": e["signal"],
             "period_start": _clean(e["period_start"]), "observed": int(e["observed"]),
             "expected": float(e["expected"]), "ratio": float(e["ratio"]),
             "q_value": float(e["q_value"])}
            for e in emerging.to_dict(orient="records")
        ],
    }  # fmt: skip


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    server = server_of(request)
    p = request.query_params
    owner = who.owner if who.role == "csm" else (p.get("owner") or None)
    with server.store() as signals:
        alerts = signals.alerts(status=p.get("status") or None, owner=owner, limit=200)
        tasks = signals.tasks(owner=owner, status=p.get("task_status") or None, limit=200)
        names = {
            str(r["account_id"]): r["name"]
            for r in signals.store.rows("SELECT account_id, name FROM accounts")
        } if len(alerts) or len(tasks) else {}  # fmt: skip
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return _page(
        request,
        "alerts",
        {
            "alerts": [
                {"alert_id": a["alert_id"], "severity": a["severity"], "rule_name": a["rule_name"],
                 "customer_id": a["account_id"] or a["customer_id"],
                 "customer_name": names.get(str(a["account_id"])), "owner": a["owner"],
                 "summary": a["summary"], "status": a["status"],
                 "fired_at": _clean(a["occurred_at"])}
                for a in alerts.sort_values(["status", "priority"], ascending=[False, False])
                .to_dict(orient="records")
            ],
            "tasks": [
                {"task_id": t["task_id"], "title": t["title"], "customer_id": t["customer_id"],
                 "customer_name": names.get(str(t["customer_id"])), "owner": t["owner"],
                 "due_at": _clean(t["due_at"]), "status": t["status"],
                 "overdue": t["status"] in ("open", "in_progress") and t["due_at"] < now}
                for t in tasks.to_dict(orient="records")
            ],
            "filters": {k: v for k, v in {"status": p.get("status"),
                        "task_status": p.get("task_status"), "owner": owner}.items() if v},
            "options": {},
        },
    )  # fmt: skip


def _record_reasons(
    record_id: str, links: list[dict[str, Any]]
) -> tuple[str, float | None, list[str]]:
    """How a source record joined its master: the links that touch it, in words."""
    mine = [
        link for link in links if record_id in (link.get("record_id_l"), link.get("record_id_r"))
    ]
    if not mine:
        return "singleton", None, ["the only record of this customer"]
    methods = sorted({str(link.get("method")) for link in mine})
    best = max((link.get("probability") or 0.0 for link in mine), default=None)
    return ", ".join(methods), best, [str(link.get("reason")) for link in mine]


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: str) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    server = server_of(request)
    story = server.workspace.story
    p = request.query_params
    try:
        with server.lock:
            page = story.customer360(customer_id)
            if who.role == "csm" and page.profile.get("owner") != who.owner:
                raise ApiError(403, "forbidden", f"{customer_id} is not in your book")
            told = story.story(page.master_id, page=page)
            departments = p.getlist("department") or None
            kinds = p.getlist("kind") or None
            timeline = story.timeline(
                page.master_id, departments=departments, kinds=kinds, limit=100
            )
    except UnknownMaster as exc:
        return _page(request, "error", {"status": 404, "message": str(exc)}, status=404)
    except ApiError as exc:
        return _page(request, "error", {"status": exc.status, "message": exc.message}, exc.status)
    return _page(request, "customer", _customer_context(page.to_dict(), told, timeline, p))


def _customer_context(
    c: dict[str, Any], told: Any, timeline: list[dict[str, Any]], p: Any
) -> dict[str, Any]:
    profile, value, risk = c["profile"], c["value"] or {}, c["risk"] or {}
    health = c["health"] or []
    latest = health[-1] if health else {}
    clv = value.get("clv") or {}
    # Cited events stay reachable from the story even when older than the timeline shown.
    shown = {e["event_id"] for e in timeline}
    cited = [e for e in told.citations.values() if e["event_id"] not in shown]
    rows = sorted(timeline + cited, key=lambda e: str(e["occurred_at"]), reverse=True)
    voice = (c.get("voice") or {}).get("texts") or []
    return {
        "currency": value.get("currency") or c.get("currency") or "USD",
        "profile": {
            "customer_id": c["master_id"], "name": profile.get("name") or c["master_id"],
            "segment": profile.get("segment"), "owner": profile.get("owner"),
            "region": profile.get("region"), "health_status": latest.get("status"),
            "risk_band": risk.get("risk_band"), "customer_since": _clean(c.get("first_seen_at")),
        },
        "value": {
            "arr": value.get("arr"), "clv": clv.get("total"), "mrr": value.get("mrr"),
            "mrr_history": [(h["month"], h["mrr"]) for h in value.get("mrr_history", [])],
        },
        "risk": {
            "probability": risk.get("probability"), "band": risk.get("risk_band"),
            "reasons": [r["text"] for r in risk.get("reasons") or []],
            "months_to_churn": _clean(risk.get("expected_months")),
            "health_score": latest.get("score"),
            "health_history": [h.get("score") for h in health],
        },
        "story": [{"text": s.text, "event_ids": list(s.event_ids)} for s in told.sentences],
        "people": [
            {"name": x.get("name") or x["customer_id"], "title": x.get("title"),
             "email": x.get("email"), "phone": x.get("phone")}
            for x in c.get("people") or []
        ],
        "records": [
            dict(zip(("method", "probability", "reasons"),
                     _record_reasons(r["record_id"], c.get("links") or []), strict=True),
                 record_id=r["record_id"], system=r["system"],
                 name=r.get("name") or r.get("company") or r.get("email"))
            for r in c.get("records") or []
        ],
        "voice": [
            {"event_id": v["event_id"], "occurred_at": _clean(v["occurred_at"]),
             "kind": v["kind"], "text": v["text"], "sentiment": v.get("sentiment"),
             "sentiment_score": _clean(v.get("sentiment_score")), "theme": v.get("theme")}
            for v in voice[:20]
        ],
        "alerts": [
            {"alert_id": a["alert_id"], "severity": a["severity"], "rule_name": a["rule_name"],
             "customer_id": a.get("account_id") or a.get("customer_id"),
             "customer_name": profile.get("name"), "owner": a.get("owner"),
             "summary": a["summary"], "status": a["status"], "fired_at": _clean(a["occurred_at"])}
            for a in c.get("alerts") or []
        ],
        "tasks": [
            {"task_id": t["task_id"], "title": t["title"], "customer_id": t.get("customer_id"),
             "customer_name": profile.get("name"), "owner": t.get("owner"),
             "due_at": _clean(t["due_at"]), "status": t["status"],
             "overdue": t["status"] in ("open", "in_progress")
             and str(t["due_at"]) < dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()}
            for t in c.get("tasks") or []
        ],
        "timeline": [
            {"event_id": e["event_id"], "occurred_at": _clean(e["occurred_at"]),
             "department": e.get("department") or "", "kind": e["kind"],
             "summary": e.get("summary") or e["kind"], "source": e.get("source"),
             "amount": _clean(e.get("amount"))}
            for e in rows
        ],
        "departments": sorted((c.get("counts") or {}).keys()),
        "kinds": sorted({e["kind"] for e in rows}),
        "timeline_filter": {k: v for k, v in {"department": p.get("department"),
                                                "kind": p.get("kind")}.items() if v},
    }  # fmt: skip
