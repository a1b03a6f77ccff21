"""Charts as inline SVG strings, drawn on the server: nothing to load, nothing to run.

Every chart scales with its container (`viewBox`, `width="100%"`), names itself for screen
readers (`role="img"`, `aria-label`, `<title>`), escapes all text, and puts the raw number of
every mark in a `data-value` attribute so a test can compare what is shown with the API.
Numbers are formatted for people by the `format_*` functions, which the templates share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import NamedTuple, TypeGuard

Formatter = Callable[[float], str]
Format = str | Formatter

PALETTE = ("#2563eb", "#c2410c", "#0f766e", "#7c3aed", "#be123c", "#0e7490")
ACCENT = "#c2410c"
INK, SOFT, GRID = "#1e293b", "#475569", "#e2e8f0"
COLORS = {
    "green": "#15803d", "amber": "#b45309", "red": "#b91c1c", "insufficient data": "#94a3b8",
    "promoters": "#15803d", "passives": "#94a3b8", "detractors": "#b91c1c",
    "low": "#15803d", "medium": "#b45309", "high": "#b91c1c",
    "positive": "#15803d", "neutral": "#94a3b8", "negative": "#b91c1c",
}  # fmt: skip
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "KRW": "₩"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class Series(NamedTuple):
    """One line: a name and (label, value) points; a `None` value leaves a gap."""

    name: str
    points: Sequence[tuple[str, float | None]]


# -- numbers for people -------------------------------------------------------------------


def is_number(value: object) -> TypeGuard[float]:
    """A finite int or float (not a bool): something worth drawing or printing."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def raw_number(value: object) -> str:
    """The number as a `data-value` attribute holds it (round-trips); empty when missing."""
    if not is_number(value):
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))


def format_num(value: object, digits: int = 0, *, compact: bool = False) -> str:
    """12,345 · 3.5 · with `compact` 1.2k, 12M, 3.4B; "—" when missing."""
    if not is_number(value):
        return "—"
    v = float(value)
    sign = "−" if v < 0 and round(abs(v), digits) > 0 else ""
    v = abs(v)
    if compact and v >= 1000:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if v >= size * 0.9995:
                scaled = v / size
                text = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
                return f"{sign}{text.removesuffix('.0')}{suffix}"
    return f"{sign}{v:,.{digits}f}"


def format_pct(value: object, digits: int = 1) -> str:
    """A fraction as a percentage: 0.1234 → 12.3%."""
    return "—" if not is_number(value) else format_num(float(value) * 100, digits) + "%"


def format_money(
    value: object, currency: str | None = None, *, compact: bool = False, digits: int | None = None
) -> str:
    """$12,345 · €1.2M · CHF 980 · $49.90 (cents only below 100); "—" when missing."""
    if not is_number(value):
        return "—"
    v = float(value)
    if digits is None:
        digits = 0 if abs(v) >= 100 or v == int(v) else 2
    text = format_num(abs(v), digits, compact=compact)
    sign = "−" if v < 0 and text.strip("0.,") else ""
    code = (currency or "").upper()
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{code} {text}" if code else f"{sign}{text}"


def formatter(spec: Format, *, compact: bool = False) -> Formatter:
    """A format spec as a function: "num", "num:1", "pct", "pct:0", "money", "money:EUR",
    or any callable taking a float."""
    if callable(spec):
        return spec
    kind, _, arg = spec.partition(":")
    if kind == "money":
        return lambda v: format_money(v, arg or None, compact=compact)
    if kind == "pct":
        return lambda v: format_pct(v, int(arg or (0 if compact else 1)))
    if kind == "num":
        return lambda v: format_num(v, int(arg or 0), compact=compact)
    raise ValueError(f"unknown number format {spec!r}: use num, pct or money[:CUR]")


# -- shared drawing ----------------------------------------------------------------------


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _f(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _svg(kind: str, width: float, height: float, title: str, body: str, size: int = 14) -> str:
    t = _a(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" width="100%" style="--w:{_f(width)}" '
        f'role="img" aria-label="{t}" font-size="{size}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{t}</title>{body}</svg>"
    )


def _empty(kind: str, width: float, height: float, title: str, note: str = "No data yet") -> str:
    text = f'<text x="{_f(width / 2)}" y="{_f(height / 2 + 4)}" text-anchor="middle" fill="{SOFT}">'
    return _svg(kind + " no-data", width, height, title, f"{text}{_a(note)}</text>")


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round numbers from at or below `lo` to at or above `hi`, about `count` steps."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    mag = 10 ** math.floor(math.log10((hi - lo) / count))
    for step in (m * mag for m in (1, 2, 2.5, 5, 10, 20)):
        start = math.floor(lo / step + 1e-9) * step
        steps = math.ceil((hi - start) / step - 1e-9)
        if steps <= count + 1:
            break
    return [round(start + i * step, 10) for i in range(steps + 1)]


def _paths(points: Sequence[tuple[str, str] | None], attrs: str) -> str:
    """One path per unbroken run of (x, y) points: `None` breaks the line, a lone point
    draws no path (its dot shows it)."""
    runs: list[list[str]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(" ".join(point))
    return "".join(
        f'<path class="line" d="M{" L".join(r)}" fill="none" {attrs}/>' for r in runs if len(r) > 1
    )


def _short(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: max(chars - 1, 1)] + "…"


def _grid(
    ticks: Sequence[float],
    pos: Callable[[float], float],
    span: tuple[float, float],
    at: float,
    short: Formatter,
    *,
    across: bool,
) -> str:
    """Gridlines at each tick over `span`, labelled at `at`: horizontal lines when `across`
    (labels left of the plot), vertical ones otherwise (labels below); zero drawn darker."""
    out = []
    for t in ticks:
        p, a, b = _f(pos(t)), _f(span[0]), _f(span[1])
        if across:
            line = f'x1="{a}" x2="{b}" y1="{p}" y2="{p}"'
            text = f'x="{_f(at)}" y="{p}" dy="4" text-anchor="end"'
        else:
            line = f'x1="{p}" x2="{p}" y1="{a}" y2="{b}"'
            text = f'x="{p}" y="{_f(at)}" text-anchor="middle"'
        out.append(
            f'<line class="grid" {line} stroke="{SOFT if t == 0 else GRID}"/><text class="tick" '
            f'{text} fill="{SOFT}" data-value="{raw_number(t)}">{_a(short(t))}</text>'
        )
    return "".join(out)


def pretty_label(label: str) -> str:
    """2025-03 (or 2025-03-01) → Mar 2025; anything else unchanged."""
    m = _MONTH.match(label)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{_MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return label


def _color(label: str, index: int) -> str:
    return COLORS.get(label.lower(), PALETTE[index % len(PALETTE)])


# -- charts ------------------------------------------------------------------------------


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_format: Format = "num",
    height: int = 220,
    width: int = 640,
) -> str:
    """Lines over shared x labels (in order of first appearance); `None` breaks a line."""
    index: dict[str, int] = {}
    for s in series:
        for label, _ in s.points:
            index.setdefault(label, len(index))
    labels = list(index)
    values = [v for s in series for _, v in s.points if is_number(v)]
    if not values:
        return _empty("line-chart", width, height, title)
    full, short = formatter(y_format), formatter(y_format, compact=True)
    ticks = _ticks(min(0.0, *values), max(values))
    legend = 22 if len(series) > 1 else 0
    left, right, top, bottom = 60, 36, 12 + legend, 30
    pw, ph = width - left - right, height - top - bottom
    lo, hi = ticks[0], ticks[-1]

    def x_of(i: int) -> float:
        return left + (pw / 2 if len(labels) == 1 else i * pw / (len(labels) - 1))

    def y_of(v: float) -> float:
        return top + ph - (v - lo) / (hi - lo) * ph

    out = [_grid(ticks, y_of, (left, width - right), left - 8, short, across=True)]
    every = max(1, math.ceil(len(labels) / max(2, pw // 80)))
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % every == 0:
            out.append(
                f'<text class="tick x" x="{_f(x_of(i))}" y="{height - 10}" '
                f'text-anchor="middle" fill="{SOFT}">{_a(pretty_label(label))}</text>'
            )
    radius = 3 if len(labels) <= 40 else 2
    for n, s in enumerate(series):
        color, name = PALETTE[n % len(PALETTE)], _a(s.name)
        points: list[tuple[str, str] | None] = []
        dots = []
        for label, v in s.points:
            if not is_number(v):
                points.append(None)
                continue
            x, y = _f(x_of(index[label])), _f(y_of(float(v)))
            points.append((x, y))
            tip = f"{s.name} · {pretty_label(label)}: {full(float(v))}"
            dots.append(
                f'<circle class="point" cx="{x}" cy="{y}" r="{radius}" fill="{color}" '
                f'data-series="{name}" data-label="{_a(label)}" '
                f'data-value="{raw_number(v)}"><title>{_a(tip)}</title></circle>'
            )
        style = f'stroke="{color}" stroke-width="2.5" stroke-linejoin="round" data-series="{name}"'
        out.append(_paths(points, style))
        out.extend(dots)
        if legend:
            lx = left + n * 150
            out.append(
                f'<rect x="{lx}" y="4" width="12" height="12" rx="2" fill="{color}"/>'
                f'<text x="{lx + 18}" y="14" fill="{INK}">{_a(_short(s.name, 18))}</text>'
            )
    return _svg("line-chart", width, height, title, "".join(out))


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    value_format: Format = "num",
    horizontal: bool = True,
    highlight: frozenset[str] | set[str] = frozenset(),
    links: Mapping[str, str] | None = None,
    width: int = 460,
) -> str:
    """One bar per (label, value); a label in `links` makes its bar a link (drill-down),
    one in `highlight` draws it in the accent colour. Negative values grow left (down)."""
    links = links or {}
    if not bars:
        return _empty("bar-chart", width, 120, title)
    full, short = formatter(value_format), formatter(value_format, compact=True)
    nums = [float(v) if is_number(v) else 0.0 for _, v in bars]
    ticks = _ticks(min(0.0, *nums), max(0.0, *nums), 4)
    lo, hi = ticks[0], ticks[-1]
    label_w = min(int(width * 0.38), 8 + 8 * max(len(label) for label, _ in bars))
    if horizontal:
        left, top, height = label_w + 8, 6, 30 + 28 * len(bars)
        pad = 52 if lo < 0 else 0  # room for the values of negative bars

        def pos(v: float) -> float:
            return left + pad + (v - lo) / (hi - lo) * (width - left - pad - 56)

        out = [_grid(ticks, pos, (top, height - 22), height - 6, short, across=False)]
    else:
        left, top, height = 56, 18, 220
        slot = (width - left - 8) / len(bars)

        def pos(v: float) -> float:
            return height - 28 - (v - lo) / (hi - lo) * (height - top - 28)

        out = [_grid(ticks, pos, (left, width - 8), left - 8, short, across=True)]
    for i, ((label, value), v) in enumerate(zip(bars, nums, strict=True)):
        a, b = sorted((pos(0.0), pos(v)))
        if horizontal:
            y = top + i * 28
            rect = f'x="{_f(a)}" y="{y + 5}" width="{_f(max(b - a, 1))}" height="18"'
            label_at, chars = f'x="{left - 8}" y="{y + 18}" text-anchor="end"', label_w // 8
            value_at = (
                f'x="{_f(b + 4)}" y="{y + 18}" text-anchor="start"'
                if v >= 0
                else f'x="{_f(a - 4)}" y="{y + 18}" text-anchor="end"'
            )
        else:
            cx, bw = left + slot * (i + 0.5), min(slot * 0.7, 48)
            rect = (
                f'x="{_f(cx - bw / 2)}" y="{_f(a)}" width="{_f(bw)}" height="{_f(max(b - a, 1))}"'
            )
            label_at = f'x="{_f(cx)}" y="{height - 10}" text-anchor="middle"'
            chars = max(int(slot // 7), 2)
            value_at = f'x="{_f(cx)}" y="{_f(a - 4 if v >= 0 else b + 14)}" text-anchor="middle"'
        mark = (
            f'<rect {rect} rx="2" fill="{ACCENT if label in highlight else PALETTE[0]}" '
            f'data-label="{_a(label)}" data-value="{raw_number(value)}"/>'
            f'<text class="label" {label_at} fill="{INK}">{_a(_short(label, chars))}</text>'
            f'<text class="value" {value_at} fill="{INK}" data-value="{raw_number(value)}">'
            f"{_a(short(v))}</text>"
        )
        out.append(_bar(label, full(v), mark, links.get(label), i))
    return _svg("bar-chart", width, height, title, "".join(out))


def _bar(label: str, shown: str, mark: str, href: str | None, index: int) -> str:
    group = (
        f'<g class="bar" data-label="{_a(label)}" data-index="{index}">'
        f"<title>{_a(label)}: {_a(shown)}</title>{mark}</g>"
    )
    return f'<a href="{_a(href)}" class="drill">{group}</a>' if href else group


def sparkline(
    values: Sequence[float | None],
    *,
    width: int = 120,
    height: int = 28,
    label: str = "Trend",
    value_format: Format = "num",
) -> str:
    """A small trend line without axes; `None` leaves a gap, the latest value gets a dot."""
    nums = [float(v) for v in values if is_number(v)]
    if not nums:
        return _empty("sparkline", width, height, f"{label}: no data", "no trend yet")
    fmt = formatter(value_format)
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    step = (width - 6) / max(len(values) - 1, 1)

    def at(i: int, v: float) -> tuple[str, str]:
        return _f(3 + i * step), _f(height - 3 - (v - lo) / span * (height - 6))

    points = [at(i, v) if is_number(v) else None for i, v in enumerate(values)]
    paths = _paths(points, f'stroke="{PALETTE[0]}" stroke-width="1.5" stroke-linejoin="round"')
    x, y = next(p for p in reversed(points) if p is not None)
    title = f"{label}: from {fmt(nums[0])} to {fmt(nums[-1])}" if len(nums) > 1 else label
    dot = (
        f'<circle class="point last" cx="{x}" cy="{y}" r="2.5" '
        f'fill="{PALETTE[0]}" data-value="{raw_number(nums[-1])}"/>'
    )
    values_attr = ",".join(raw_number(v) for v in values)
    body = f'<g data-values="{values_attr}">{paths}{dot}</g>'
    return _svg("sparkline", width, height, title, body, size=10)


def gauge(
    value: float | None, *, bands: tuple[float, float] = (40, 70), label: str = "Health score"
) -> str:
    """A half-dial for a 0–100 score: red below `bands[0]`, amber below `bands[1]`, else green."""
    width, height, cx, cy, r = 160, 96, 80, 88, 64
    track = f"M{cx - r} {cy} A{r} {r} 0 0 1 {cx + r} {cy}"
    out = [f'<path d="{track}" fill="none" stroke="{GRID}" stroke-width="14"/>']
    if is_number(value):
        v = min(max(float(value), 0.0), 100.0)
        status = "red" if v < bands[0] else "amber" if v < bands[1] else "green"
        angle = math.pi * (1 - v / 100)
        x, y = _f(cx + r * math.cos(angle)), _f(cy - r * math.sin(angle))
        if v > 0:
            out.append(
                f'<path class="value-arc" d="M{cx - r} {cy} A{r} {r} 0 0 1 {x} {y}" '
                f'fill="none" stroke="{COLORS[status]}" stroke-width="14"/>'
            )
        out.append(
            f'<text class="value" x="{cx}" y="{cy - 8}" text-anchor="middle" '
            f'font-size="28" font-weight="700" fill="{INK}" data-value="{raw_number(value)}"'
            f' data-status="{status}">{_a(format_num(v))}</text>'
        )
        title = f"{label}: {format_num(v)} of 100 ({status})"
    else:
        out.append(
            f'<text class="value" x="{cx}" y="{cy - 8}" text-anchor="middle" '
            f'font-size="18" fill="{SOFT}" data-value="">n/a</text>'
        )
        title = f"{label}: not enough data"
    return _svg("gauge", width, height, title, "".join(out))


def stacked_bar(
    parts: Sequence[tuple[str, float]],
    *,
    title: str,
    value_format: Format = "num",
    links: Mapping[str, str] | None = None,
    width: int = 460,
) -> str:
    """One bar split by share (a distribution: promoters / passives / detractors, health
    statuses), with a legend of counts and shares below; known names get their colours."""
    links = links or {}
    fmt = formatter(value_format)
    total = sum(float(v) for _, v in parts if is_number(v) and v > 0)
    cols = 2 if width < 560 else 3
    chars = max(int(width / cols / 7.5) - 12, 6)
    height = 40 + 22 * math.ceil(max(len(parts), 1) / cols)
    if total <= 0:
        return _empty("stacked-bar", width, height, title)
    out, x = [], 0.0
    for i, (label, value) in enumerate(parts):
        v = float(value) if is_number(value) and value > 0 else 0.0
        w = v / total * width
        share = format_pct(v / total, 0)
        lx, ly = (i % cols) * width / cols, 44 + 22 * (i // cols)
        color = _color(label, i)
        ink = INK if color == COLORS["passives"] else "#ffffff"  # contrast on the light grey
        frac = f'data-value="{raw_number(v / total)}">{share}'
        inside = f'<text x="{_f(x + w / 2)}" y="19" text-anchor="middle" fill="{ink}" {frac}</text>'
        group = (
            f'<g class="segment" data-label="{_a(label)}"><title>{_a(label)}: {_a(fmt(v))} '
            f'({share})</title><rect x="{_f(x)}" y="0" width="{_f(w)}" height="28" '
            f'fill="{color}" data-label="{_a(label)}" data-value="{raw_number(value)}"/>'
            f'{inside if w >= 36 else ""}<rect x="{_f(lx)}" y="{_f(ly)}" width="12" '
            f'height="12" rx="2" fill="{color}"/><text x="{_f(lx + 18)}" '
            f'y="{_f(ly + 11)}" fill="{INK}">{_a(_short(label, chars))} <tspan data-value='
            f'"{raw_number(value)}">{_a(fmt(v))}</tspan> (<tspan {frac}</tspan>)</text></g>'
        )
        href = links.get(label)
        out.append(f'<a href="{_a(href)}" class="drill">{group}</a>' if href else group)
        x += w
    return _svg("stacked-bar", width, height, title, "".join(out))
