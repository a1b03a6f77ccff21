"""Pages from templates: one Jinja2 environment, the filters the templates use, `render`.

The context each page takes is written down in `cxlens.web.contexts`. Templates build their
charts themselves from that plain data through the functions of `cxlens.web.charts`, so a
route passes numbers, never markup. Everything is escaped unless a chart drew it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from cxlens.web import charts
from cxlens.web.contexts import DEFAULT_SORTS

STATIC_DIR: Path = Path(__file__).parent / "static"
PAGES = ("overview", "customers", "customer", "voc", "alerts", "error")
DEFAULTS: dict[str, Any] = {"currency": "USD", "as_of": None, "static_url": "/static", "q": ""}
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


# -- filters ----------------------------------------------------------------------------


def money(value: object, currency: str | None = None, compact: bool = False) -> str:
    """{{ arr | money(currency) }} → $12,345; with compact=True → $12k."""
    return charts.format_money(value, currency, compact=compact)


def pct(value: object, digits: int = 1) -> str:
    """{{ 0.1234 | pct }} → 12.3%."""
    return charts.format_pct(value, digits)


def num(value: object, digits: int = 0) -> str:
    """{{ 12345.6 | num }} → 12,346; {{ 3.14159 | num(2) }} → 3.14."""
    return charts.format_num(value, digits)


def when(value: object) -> dt.datetime | None:
    """A datetime, date or ISO 8601 string as an aware datetime (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None


def date(value: object, with_time: bool = False) -> str:
    """{{ "2025-03-04T10:30:00Z" | date }} → 4 Mar 2025 (with_time: 4 Mar 2025 10:30)."""
    t = when(value)
    if t is None:
        return "—" if value in (None, "") else str(value)
    text = f"{t.day} {_MONTHS[t.month - 1]} {t.year}"
    return f"{text} {t:%H:%M}" if with_time else text


def ago(value: object, now: object = None) -> str:
    """How long ago (or how far ahead) a time is, in words: "3 days ago", "in 2 hours"."""
    t, ref = when(value), when(now) or dt.datetime.now(dt.UTC)
    if t is None:
        return date(value)
    seconds = (ref - t).total_seconds()
    past, s = seconds >= 0, abs(seconds)
    if s < 60:
        return "just now"
    days = s / 86400
    for size, unit in ((365, "year"), (30, "month"), (7, "week"), (1, "day")):
        if days >= size * (2 if unit == "week" else 1):
            count = int(days // size)
            break
    else:
        count, unit = (int(s // 3600), "hour") if s >= 3600 else (int(s // 60), "minute")
    if unit == "day" and count == 1:
        return "yesterday" if past else "tomorrow"
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{words} ago" if past else f"in {words}"


@pass_context
def _ago(context: Context, value: object) -> str:
    return ago(value, context.get("now"))


def slug(value: object) -> str:
    """A CSS-class-safe token: "insufficient data" → insufficient-data."""
    return re.sub(r"[^a-z0-9]+", "-", str(value or "none").lower()).strip("-") or "none"


def spec(kind: str, currency: str | None = None) -> str:
    """A KPI format (money, pct, num, score) as a chart format spec."""
    return {"money": f"money:{currency or ''}", "score": "num:1"}.get(kind, kind)


def show(
    value: object, kind: str = "num", currency: str | None = None, compact: bool = False
) -> str:
    """A number by its format name: money, pct, num, score (one decimal), or a chart spec;
    `compact` shortens large numbers (1.2M)."""
    if not charts.is_number(value):
        return "—"
    compact = compact and kind in ("money", "num")  # shares and scores keep their digits
    return charts.formatter(spec(kind, currency), compact=compact)(value)


# -- helpers for templates --------------------------------------------------------------


def qs(params: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """A query string from `params` with `changes` applied; empty values are left out."""
    merged = {**(params or {}), **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


def links_for(labels: Any, base: str, param: str, **extra: Any) -> dict[str, str]:
    """{label: base?param=label} for each label (or each first item of a pair)."""
    out = {}
    for item in labels:
        label = item if isinstance(item, str) else item[0]
        out[str(label)] = base + qs(extra, **{param: label})
    return out


def ordered(mapping: Mapping[str, Any], first: list[str]) -> list[tuple[str, Any]]:
    """The items of `mapping`, those named in `first` first and in that order."""
    keys = [k for k in first if k in mapping] + [k for k in mapping if k not in first]
    return [(k, mapping[k]) for k in keys]


def pairs(rows: Any, label: str, value: str) -> list[tuple[str, float]]:
    """(row[label], row[value]) for each row whose value is a number: bars for a chart."""
    return [(str(r[label]), r[value]) for r in rows if charts.is_number(r[value])]


def journey_bars(rows: Any, metric: str) -> dict[str, Any]:
    """Bars of one satisfaction metric by touchpoint, labelled with their sample size, and
    the labels of small samples (to highlight)."""
    bars, small = [], set()
    for r in rows:
        if r["metric"] == metric and charts.is_number(r["value"]):
            label = f"{r['touchpoint']} (n={r['n']})"
            bars.append((label, r["value"]))
            if r["low_sample"]:
                small.add(label)
    return {"bars": bars, "small": small}


def _markup(draw: Callable[..., str]) -> Callable[..., Markup]:
    def call(*args: Any, **kwargs: Any) -> Markup:
        return Markup(draw(*args, **kwargs))  # noqa: S704 - charts escape every text they draw

    call.__doc__ = draw.__doc__
    return call


def _series(name: str, points: Any) -> charts.Series:
    return charts.Series(str(name), [(str(p[0]), p[1]) for p in points or []])


ENV = Environment(
    loader=PackageLoader("cxlens.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(
    money=money, pct=pct, num=num, date=date, ago=_ago, slug=slug, raw=charts.raw_number
)
ENV.globals.update(
    line_chart=_markup(charts.line_chart),
    bar_chart=_markup(charts.bar_chart),
    sparkline=_markup(charts.sparkline),
    gauge=_markup(charts.gauge),
    stacked_bar=_markup(charts.stacked_bar),
    Series=_series,
    show=show,
    spec=spec,
    ordered=ordered,
    pairs=pairs,
    journey_bars=journey_bars,
    qs=qs,
    links_for=links_for,
    DEFAULT_SORTS=DEFAULT_SORTS,
)


def render(page: str, context: Mapping[str, Any]) -> str:
    """The HTML of `page` (overview, customers, customer, voc, alerts, error; ".html" may be
    given) for `context`, whose keys each page documents in `cxlens.web.contexts`. A required
    key that is missing raises `jinja2.UndefinedError`: empty data is an empty list, not
    an absent key."""
    name = page.removesuffix(".html")
    if name not in PAGES:
        raise ValueError(f"unknown page {page!r}: one of {', '.join(PAGES)}")
    return ENV.get_template(f"{name}.html").render({**DEFAULTS, **context, "view": name})
