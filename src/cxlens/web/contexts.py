"""What each page takes: the context `render(page, context)` expects, as plain data.

Everything is dicts, lists, str, int, float, bool and None, so a context serialises to JSON
as it is (a tuple may be given as a two-item list). Conventions:

- money is in the reporting currency (`currency`, an ISO 4217 code), a float, not cents;
- `pct` values are fractions (0.123 is shown 12.3%): NRR, GRR, logo churn, churn probability,
  shares, CSAT (share of satisfied answers); NPS is a score from -100 to 100, CES a mean;
- times are ISO 8601 strings (or datetime / date objects); a naive time is read as UTC;
- months are "YYYY-MM"; a missing number is None and shows as "—".

Links the pages build (the routes should serve them):
  /                           overview
  /customers?q=&segment=&health_status=&risk_band=&owner=&value_tier=&sort=&page=&page_size=
  /customers/<customer_id>    the 360; its timeline filters with ?department= and ?kind=
  /voc                        voice of the customer
  /alerts?status=&task_status=&owner=
  <static_url>/cxlens.css     STATIC_DIR mounted at `static_url` (default /static)
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

Month = str  # "YYYY-MM"
When = str  # ISO 8601 date or time
KpiFormat = Literal["money", "pct", "num", "score"]


class Page(TypedDict, total=False):
    """Keys every page accepts; all optional."""

    currency: str  # reporting currency, default "USD"
    as_of: When | None  # the date the figures describe, shown in the header
    now: When  # reference time for "3 days ago" (default: the time of rendering)
    static_url: str  # where STATIC_DIR is served, default "/static"
    q: str  # the search box's current text


# -- overview ---------------------------------------------------------------------------


class Kpi(TypedDict):
    name: str  # data-metric: arr, nrr, grr, logo_churn, nps, csat, revenue_at_risk
    label: str  # "Annual recurring revenue"
    value: float | None
    format: KpiFormat  # "score" shows a plain number with one decimal (NPS)
    currency: str | None  # for "money"; None uses the page's currency
    trend: list[float | None]  # oldest first, for the sparkline; may be empty
    href: str  # the drill-down
    change: NotRequired[float | None]  # vs the previous period, in the KPI's own unit
    good: NotRequired[Literal["up", "down"]]  # which way is good (default "up")


class OverviewContext(Page):
    kpis: list[Kpi]
    arr_by_month: list[tuple[Month, float | None]]
    at_risk_by_owner: list[tuple[str, float]]  # (owner, revenue at risk), largest first
    health_counts: dict[str, int]  # green / amber / red / insufficient data -> customers


# -- customers --------------------------------------------------------------------------


class CustomerRow(TypedDict):
    customer_id: str
    name: str
    segment: str | None
    owner: str | None
    arr: float | None
    clv: float | None
    health_score: float | None  # 0-100
    health_status: str | None  # green | amber | red | insufficient data
    churn_probability: float | None  # fraction
    risk_band: str | None  # low | medium | high
    open_alerts: int
    value_tier: NotRequired[str | None]


class CustomerFilters(TypedDict, total=False):
    """The current filters, echoed into the form and the pagination links."""

    q: str
    segment: str
    health_status: str
    risk_band: str
    owner: str
    value_tier: str


class FilterOptions(TypedDict, total=False):
    """Choices of the filter form; missing lists show a free-text field (or defaults)."""

    segments: list[str]
    health_statuses: list[str]  # default green, amber, red, insufficient data
    risk_bands: list[str]  # default low, medium, high
    owners: list[str]
    value_tiers: list[str]
    sorts: list[tuple[str, str]]  # (value, label); default: see DEFAULT_SORTS
    page_sizes: list[int]  # default 25, 50, 100


DEFAULT_SORTS: list[tuple[str, str]] = [
    ("-revenue_at_risk", "Revenue at risk"),
    ("-arr", "ARR, highest first"),
    ("-clv", "CLV, highest first"),
    ("-churn_probability", "Churn risk, highest first"),
    ("health_score", "Health, lowest first"),
    ("-open_alerts", "Open alerts"),
    ("name", "Name"),
]


class CustomersContext(Page):
    rows: list[CustomerRow]
    total: int  # customers matching the filters, all pages
    page: int  # from 1
    pages: int  # at least 1
    page_size: int
    filters: CustomerFilters
    options: FilterOptions
    sort: str


# -- the customer 360 -------------------------------------------------------------------


class Profile(TypedDict):
    customer_id: str
    name: str
    segment: str | None
    owner: str | None
    region: str | None
    health_status: str | None
    risk_band: str | None
    value_tier: NotRequired[str | None]
    customer_since: NotRequired[When | None]


class ValueCard(TypedDict):
    arr: float | None
    clv: float | None
    mrr: float | None  # the latest month
    mrr_history: list[tuple[Month, float | None]]


class RiskCard(TypedDict):
    probability: float | None  # fraction
    band: str | None
    reasons: list[str]  # top reasons, each a sentence
    months_to_churn: float | None  # expected
    health_score: float | None
    health_history: list[float | None]  # oldest first


class StorySentence(TypedDict):
    text: str
    event_ids: list[str]  # cited: links to #event-<id> in the timeline


class Person(TypedDict):
    name: str
    title: str | None
    email: str | None
    phone: str | None
    role: NotRequired[str | None]  # champion, decision maker, ...


class SourceRecord(TypedDict):
    record_id: str  # "<system>:<key>"
    system: str
    name: str | None  # as that system spells it
    method: str  # how it joined the master: key, rule, model, decision, ...
    probability: float | None  # match probability, fraction
    reasons: list[str]  # why it was merged, in words


class VoiceItem(TypedDict):
    event_id: str
    occurred_at: When
    kind: str  # survey, ticket, social, note, ...
    text: str
    sentiment: str | None  # negative | neutral | positive
    sentiment_score: float | None  # -1..1
    theme: str | None  # the theme's label


class AlertRow(TypedDict):
    alert_id: str
    severity: str  # P1..P4
    rule_name: str
    customer_id: str | None
    customer_name: str | None
    owner: str | None
    summary: str
    status: str  # open | acknowledged | closed
    fired_at: When


class TaskRow(TypedDict):
    task_id: str
    title: str
    customer_id: str | None
    customer_name: str | None
    owner: str | None
    due_at: When
    status: str  # open | in_progress | done | dismissed
    overdue: bool


class TimelineRow(TypedDict):
    event_id: str
    occurred_at: When
    department: str  # sales, support, billing, product, marketing, ...
    kind: str
    summary: str
    source: str | None  # the system it came from
    amount: NotRequired[float | None]  # money, when the event carries one


class TimelineFilter(TypedDict, total=False):
    department: str
    kind: str


class CustomerContext(Page):
    profile: Profile
    value: ValueCard
    risk: RiskCard
    story: list[StorySentence]
    people: list[Person]
    records: list[SourceRecord]
    voice: list[VoiceItem]
    alerts: list[AlertRow]
    tasks: list[TaskRow]
    timeline: list[TimelineRow]  # newest first, already filtered
    departments: list[str]  # for the filter links
    kinds: list[str]
    timeline_filter: TimelineFilter


# -- voice of the customer --------------------------------------------------------------


class JourneyScore(TypedDict):
    touchpoint: str  # or journey stage
    metric: Literal["nps", "csat", "ces"]
    value: float | None
    n: int  # answers
    low_sample: bool


class ThemeRow(TypedDict):
    theme_key: str
    label: str
    volume: int  # texts
    share: float  # of all texts
    negative_share: float | None
    sentiment: float | None  # mean score, -1..1
    quote: str | None


class Driver(TypedDict):
    factor: str
    label: str
    impact: float | None  # points the target moves if fixed
    n: int


class EmergingIssue(TypedDict):
    theme_key: str
    label: str
    signal: str  # volume | negativity
    period_start: When
    observed: int
    expected: float
    ratio: float
    q_value: float


class VocContext(Page):
    journey: list[JourneyScore]
    themes: list[ThemeRow]
    drivers: list[Driver]
    driver_target: str  # nps | csat | churn: what the drivers move
    emerging: list[EmergingIssue]
    nps_mix: NotRequired[dict[str, int]]  # promoters / passives / detractors -> answers
    texts: NotRequired[int]  # texts analysed


# -- alerts and tasks -------------------------------------------------------------------


class AlertFilters(TypedDict, total=False):
    status: str  # alert status
    task_status: str
    owner: str


class AlertOptions(TypedDict, total=False):
    statuses: list[str]  # default open, acknowledged, closed
    task_statuses: list[str]  # default open, in_progress, done, dismissed
    owners: list[str]


class AlertsContext(Page):
    alerts: list[AlertRow]  # inbox order
    tasks: list[TaskRow]
    filters: AlertFilters
    options: AlertOptions


class ErrorContext(Page):
    status: int
    message: str
    detail: NotRequired[str]
