"""Who churns, when and why: the planted ground truth that every other generator obeys.

Each churned account gets one or two causes. A cause is a signal episode placed in the months
before the churn date (usage falling, a burst of urgent tickets, a detractor score, the
champion leaving, a price increase, failed payments); the other generators read the episodes
and make the signal appear in their data. Some accounts that never churn get the same kinds of
episodes as noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from cxlens.demo.clock import DAY, MONTH_START, MONTHS, NO_TIME, START_DATE, month_of
from cxlens.demo.company import Accounts
from cxlens.demo.types import I64, Mask

CAUSES = (
    "usage_decline",
    "support_issues",
    "detractor",
    "champion_left",
    "price_increase",
    "payment_failure",
)

#: The early-warning features (cxlens.risk.features) that show each planted cause: how a
#: churn reason is checked against the truth.
CAUSE_FEATURES: dict[str, set[str]] = {
    "usage_decline": {"usage_trend", "usage_trend_14d", "active_users_ratio", "active_users_30d",
                      "sessions_30d"},
    "support_issues": {"tickets_90d", "urgent_tickets_90d", "urgent_tickets_30d",
                       "unresolved_tickets", "unresolved_urgent", "sentiment_90d"},
    "detractor": {"nps_last", "detractor_90d", "days_since_detractor", "csat_avg_180d",
                  "sentiment_90d"},
    "champion_left": {"champion_left_180d", "days_since_champion_left", "contacts_left_180d"},
    "price_increase": {"mrr_change_90d", "mrr"},
    "payment_failure": {"payment_failures_90d", "days_since_payment_failure"},
}  # fmt: skip
USAGE_DECLINE, SUPPORT_ISSUES, DETRACTOR, CHAMPION_LEFT, PRICE_INCREASE, PAYMENT_FAILURE = range(6)
_CAUSE_WEIGHT = np.array([0.30, 0.20, 0.15, 0.15, 0.0, 0.12])
#: monthly churn hazard per segment (enterprise, mid-market, smb)
_HAZARD = np.array([0.006, 0.012, 0.022])
#: the price increase reaches self-serve plans at a billing date in these months
PRICE_INCREASE_FROM = date(2025, 3, 1)
PI_MONTH = (PRICE_INCREASE_FROM.year - START_DATE.year) * 12 + (
    PRICE_INCREASE_FROM.month - START_DATE.month
)


@dataclass
class Episodes:
    """Signal episodes: on `account`, `signal` shows from `start` to `end`."""

    account: I64
    signal: I64
    start: I64
    end: I64
    #: True when the episode caused the account's churn, False for noise
    cause: Mask

    def of(self, signal: int) -> Episodes:
        m = self.signal == signal
        return Episodes(self.account[m], self.signal[m], self.start[m], self.end[m], self.cause[m])


@dataclass
class Plan:
    """Subscription timeline decisions for the customer accounts (index = account index)."""

    n: int
    #: seconds from the month start to each billing date
    anniversary: I64
    signup: I64
    first_month: I64
    churn_month: I64
    react_month: I64
    pi_month: I64
    #: self-serve plan at signup (eligible for the price increase)
    self_serve: Mask
    causes: I64
    episodes: Episodes

    def billing_time(self, account: I64, month: I64) -> I64:
        t = MONTH_START[month] + self.anniversary[account]
        return np.where(month == self.first_month[account], self.signup[account], t)

    @property
    def churned(self) -> Mask:
        return self.churn_month >= 0

    def churn_time(self) -> I64:
        t = self.billing_time(np.arange(self.n), np.maximum(self.churn_month, 0))
        return np.where(self.churned, t, NO_TIME)


def plan_churn(rng: np.random.Generator, acc: Accounts, self_serve: Mask) -> Plan:
    n = acc.n_customers
    signup = acc.signup[:n]
    seg = acc.segment[:n]
    first = month_of(signup)
    day = np.minimum((signup - MONTH_START[first]) // DAY, 27)
    anniversary = day * DAY + signup % DAY
    gap = rng.geometric(_HAZARD[seg])
    churn_month = np.where(first + 2 + gap < MONTHS, first + 2 + gap, -1).astype(np.int64)

    pi_month = np.full(n, -1, dtype=np.int64)
    eligible = self_serve & (first < PI_MONTH - 2) & ((churn_month < 0) | (churn_month > PI_MONTH))
    pi_month[eligible] = PI_MONTH + rng.integers(0, 3, int(eligible.sum()))
    pi_month[(churn_month >= 0) & (churn_month <= pi_month)] = -1
    eligible = pi_month >= 0
    # the increase pushes some accounts out within a few months
    pushed = eligible & (rng.random(n) < 0.12)
    new_month = pi_month + rng.integers(1, 5, n)
    move = pushed & ((churn_month < 0) | (churn_month > new_month)) & (new_month < MONTHS)
    churn_month[move] = new_month[move]

    churned = churn_month >= 0
    in_window = churned & (pi_month >= 0) & (churn_month > pi_month) & (churn_month <= pi_month + 4)
    weights = np.tile(_CAUSE_WEIGHT, (n, 1))
    weights[:, PAYMENT_FAILURE] *= np.array([0.3, 1.0, 1.6])[seg]
    weights[in_window, PRICE_INCREASE] = 0.6
    weights[move, PRICE_INCREASE] = 1e6
    keys = np.log(np.maximum(weights, 1e-300)) + rng.gumbel(size=weights.shape)
    keys[weights == 0] = -np.inf
    top = np.argsort(-keys, axis=1, kind="stable")[:, :2].astype(np.int64)
    two = rng.random(n) < 0.35
    causes = np.where(churned[:, None], top, -1)
    causes[~two, 1] = -1

    react_month = np.full(n, -1, dtype=np.int64)
    comeback = churned & (churn_month <= MONTHS - 6) & (rng.random(n) < 0.1)
    react_month[comeback] = (churn_month + rng.integers(3, 9, n))[comeback]
    react_month[react_month >= MONTHS] = -1

    plan = Plan(
        n=n,
        anniversary=anniversary.astype(np.int64),
        signup=signup,
        first_month=first,
        churn_month=churn_month,
        react_month=react_month,
        pi_month=pi_month,
        self_serve=self_serve,
        causes=causes,
        episodes=_no_episodes(),
    )
    plan.episodes = _episodes(rng, plan)
    return plan


def _episodes(rng: np.random.Generator, plan: Plan) -> Episodes:
    churn_t = plan.churn_time()
    parts: list[tuple[I64, int, I64, I64, bool]] = []

    def days(lo: int, hi: int, size: int) -> I64:
        return rng.integers(lo, hi + 1, size).astype(np.int64) * DAY

    for cause in range(len(CAUSES)):
        acc = np.nonzero((plan.causes == cause).any(axis=1))[0].astype(np.int64)
        k = len(acc)
        end = churn_t[acc]
        if cause == USAGE_DECLINE:
            start = end - days(56, 112, k)
        elif cause == SUPPORT_ISSUES:
            start, end = end - days(45, 100, k), end - days(5, 20, k)
        elif cause == DETRACTOR:
            start = end - days(20, 120, k)
            end = start
        elif cause == CHAMPION_LEFT:
            start = end - days(30, 120, k)
        elif cause == PRICE_INCREASE:
            start = plan.billing_time(acc, plan.pi_month[acc])
        else:
            start = plan.billing_time(acc, plan.churn_month[acc] - 2)
        floor = plan.signup[acc] + 20 * DAY
        start = np.maximum(start, floor)
        parts.append((acc, cause, start, np.maximum(end, start), True))

    # noise: the same signals on accounts that never churn
    stay = np.nonzero(~plan.churned)[0].astype(np.int64)
    end_of_data = int(MONTH_START[MONTHS])
    rates = {
        USAGE_DECLINE: 0.06,
        SUPPORT_ISSUES: 0.08,
        DETRACTOR: 0.10,
        CHAMPION_LEFT: 0.05,
        PAYMENT_FAILURE: 0.05,
    }
    for signal, rate in rates.items():
        acc = stay[rng.random(len(stay)) < rate]
        lo = plan.signup[acc] + 60 * DAY
        ok = lo < end_of_data - 45 * DAY
        acc, lo = acc[ok], lo[ok]
        start = lo + (rng.random(len(acc)) * (end_of_data - 45 * DAY - lo)).astype(np.int64)
        length = {
            USAGE_DECLINE: days(42, 70, len(acc)),
            SUPPORT_ISSUES: days(20, 50, len(acc)),
            DETRACTOR: np.zeros(len(acc), dtype=np.int64),
            CHAMPION_LEFT: days(0, 0, len(acc)),
            PAYMENT_FAILURE: days(25, 35, len(acc)),
        }[signal]
        end = np.minimum(start + length, end_of_data - DAY)
        parts.append((acc, signal, start, end, False))
    pi = np.nonzero((plan.pi_month >= 0) & ~(plan.causes == PRICE_INCREASE).any(axis=1))[0]
    pi_start = plan.billing_time(pi, plan.pi_month[pi])
    pi_end = np.where(plan.churned[pi], churn_t[pi], end_of_data - DAY)
    parts.append((pi.astype(np.int64), PRICE_INCREASE, pi_start, pi_end, False))

    accounts = np.concatenate([p[0] for p in parts]).astype(np.int64)
    signals = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in parts])
    starts = np.concatenate([p[2] for p in parts]).astype(np.int64)
    ends = np.concatenate([p[3] for p in parts]).astype(np.int64)
    causes = np.concatenate([np.full(len(p[0]), p[4], dtype=bool) for p in parts])
    order = np.lexsort((signals, accounts))
    return Episodes(accounts[order], signals[order], starts[order], ends[order], causes[order])


def _no_episodes() -> Episodes:
    empty = np.zeros(0, dtype=np.int64)
    return Episodes(empty, empty, empty, empty, np.zeros(0, dtype=bool))
