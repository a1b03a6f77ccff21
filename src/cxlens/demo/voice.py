"""Survey answers (NPS, CSAT, CES) at every touchpoint, with comments of known theme."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlens.demo import noise
from cxlens.demo import texts as tx
from cxlens.demo.churn import DETRACTOR, PRICE_INCREASE, Plan
from cxlens.demo.clock import DAY, END, ISO_OFFSET, fmt
from cxlens.demo.company import Accounts, People, pick_people
from cxlens.demo.ids import token_ids
from cxlens.demo.orders import Deliveries, Orders
from cxlens.demo.revenue import Subscriptions
from cxlens.demo.service import Tickets
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64

#: (survey, metric, touchpoint, channel)
SURVEYS = (
    ("Onboarding CSAT", "CSAT", "Onboarding", "Email"),
    ("Support CSAT", "CSAT", "Support ticket", "Email"),
    ("Renewal NPS", "NPS", "Renewal", "Email"),
    ("In-app NPS", "NPS", "Product", "In-app"),
    ("Checkout CES", "CES", "Checkout", "Web"),
    ("Delivery CSAT", "CSAT", "Delivery", "SMS"),
    ("Product CES", "CES", "Product", "In-app"),
)
ONBOARDING_S, SUPPORT_S, RENEWAL_S, INAPP_S, CHECKOUT_S, DELIVERY_S, PRODUCT_S = range(7)
METRICS = ("NPS", "CSAT", "CES")
#: account, person, time, survey, raw score, origin (0 regular, 1 planted detractor, 2 pricing)
Part = tuple[I64, I64, I64, int, np.ndarray, int]
_T = tx
Choices = dict[int, tuple[tuple[int, int, float], ...]]
_GENERAL: Choices = {
    0: (
        (_T.PERFORMANCE, _T.NEG, 0.2),
        (_T.BUGS, _T.NEG, 0.25),
        (_T.SUPPORT_SPEED, _T.NEG, 0.15),
        (_T.MISSING_FEATURE, _T.NEG, 0.15),
        (_T.BILLING, _T.NEG, 0.15),
        (_T.ONBOARDING, _T.NEG, 0.1),
    ),
    1: (
        (_T.MISSING_FEATURE, _T.NEU, 0.35),
        (_T.PERFORMANCE, _T.NEG, 0.15),
        (_T.PRAISE, _T.POS, 0.2),
        (_T.BILLING, _T.NEU, 0.1),
        (_T.BUGS, _T.NEG, 0.1),
        (_T.SUPPORT_SPEED, _T.POS, 0.1),
    ),
    2: (
        (_T.PRAISE, _T.POS, 0.6),
        (_T.SUPPORT_SPEED, _T.POS, 0.15),
        (_T.MISSING_FEATURE, _T.NEU, 0.15),
        (_T.ONBOARDING, _T.POS, 0.1),
    ),
}
#: per survey (by touchpoint kind): per band (0 negative, 1 middle, 2 positive) theme choices
_COMMENTS: dict[int, Choices] = {
    ONBOARDING_S: {
        0: (
            (_T.ONBOARDING, _T.NEG, 0.7),
            (_T.SUPPORT_SPEED, _T.NEG, 0.15),
            (_T.BUGS, _T.NEG, 0.15),
        ),
        1: (
            (_T.ONBOARDING, _T.NEG, 0.4),
            (_T.MISSING_FEATURE, _T.NEU, 0.3),
            (_T.ONBOARDING, _T.POS, 0.3),
        ),
        2: ((_T.ONBOARDING, _T.POS, 0.7), (_T.PRAISE, _T.POS, 0.3)),
    },
    SUPPORT_S: {
        0: (
            (_T.SUPPORT_SPEED, _T.NEG, 0.6),
            (_T.BUGS, _T.NEG, 0.2),
            (_T.PERFORMANCE, _T.NEG, 0.1),
            (_T.BILLING, _T.NEG, 0.1),
        ),
        1: (
            (_T.SUPPORT_SPEED, _T.NEG, 0.4),
            (_T.SUPPORT_SPEED, _T.POS, 0.3),
            (_T.MISSING_FEATURE, _T.NEU, 0.3),
        ),
        2: ((_T.SUPPORT_SPEED, _T.POS, 0.75), (_T.PRAISE, _T.POS, 0.25)),
    },
    CHECKOUT_S: {
        0: ((_T.BILLING, _T.NEG, 0.7), (_T.BUGS, _T.NEG, 0.3)),
        1: ((_T.BILLING, _T.NEU, 0.6), (_T.MISSING_FEATURE, _T.NEU, 0.4)),
        2: ((_T.BILLING, _T.POS, 0.5), (_T.PRAISE, _T.POS, 0.5)),
    },
    DELIVERY_S: {
        0: ((_T.ONBOARDING, _T.NEG, 0.8), (_T.SUPPORT_SPEED, _T.NEG, 0.2)),
        1: ((_T.ONBOARDING, _T.NEG, 0.5), (_T.ONBOARDING, _T.POS, 0.5)),
        2: ((_T.ONBOARDING, _T.POS, 0.8), (_T.PRAISE, _T.POS, 0.2)),
    },
}
_BANDS = {"NPS": (6, 8), "CSAT": (2, 3), "CES": (3, 5)}
_RANGE = {"NPS": (0, 10), "CSAT": (1, 5), "CES": (1, 7)}


def idea_preferences(segment: I64) -> np.ndarray:
    """Probability of each requested feature per row, by the segment that asks for it."""
    aff = np.array([s for _, _, s in tx.IDEAS])
    rank = np.zeros(len(aff))
    for s in range(3):
        members = np.nonzero(aff == s)[0]
        rank[members] = np.arange(len(members))
    base = 1.0 / np.sqrt(rank + 1.0)
    w = base[None, :] * np.where(aff[None, :] == segment[:, None], 5.0, 1.0)
    return np.asarray(w / w.sum(axis=1, keepdims=True))


def _sample_ideas(rng: np.random.Generator, segment: I64) -> I64:
    p = np.cumsum(idea_preferences(np.arange(3)), axis=1)
    u = rng.random(len(segment))
    return np.asarray((u[:, None] > p[segment]).sum(axis=1), dtype=np.int64)


def _themes(rng: np.random.Generator, survey: I64, band: I64) -> tuple[I64, I64]:
    n = len(survey)
    theme = np.zeros(n, dtype=np.int64)
    pol = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for s in range(len(SURVEYS)):
        table = _COMMENTS.get(s, _GENERAL)
        for b in range(3):
            rows = np.nonzero((survey == s) & (band == b))[0]
            if not len(rows):
                continue
            choices = table[b]
            cdf = np.cumsum([w for _, _, w in choices])
            pick = np.minimum(np.searchsorted(cdf / cdf[-1], u[rows]), len(choices) - 1)
            theme[rows] = np.array([c[0] for c in choices])[pick]
            pol[rows] = np.array([c[1] for c in choices])[pick]
    return theme, pol


def surveys(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    plan: Plan,
    subs: Subscriptions,
    tickets: Tickets,
    orders: Orders,
    deliveries: Deliveries,
    truth: Truth,
) -> tuple[pa.Table, tuple[I64, I64]]:
    n = plan.n
    sat = rng.normal(0.0, 1.0, n)
    parts: list[Part] = []

    def add(p: tuple[I64, I64, I64, int, np.ndarray], kind: int = 0) -> None:
        parts.append((*p, kind))

    # onboarding CSAT from the champion, worse when the onboarding job went badly
    a = np.nonzero(rng.random(n) < 0.45)[0].astype(np.int64)
    t = plan.signup[a] + rng.integers(30, 50, len(a)) * DAY
    bad = np.zeros(n)
    bad_job = deliveries.status >= 1
    np.maximum.at(
        bad, deliveries.account[bad_job], np.where(deliveries.status[bad_job] == 2, 2.0, 1.2)
    )
    add(
        (
            a,
            acc.person_start[a],
            t,
            ONBOARDING_S,
            4.2 + 0.5 * sat[a] - bad[a] + rng.normal(0, 0.7, len(a)),
        )
    )
    # support CSAT after solved tickets: slow first replies hurt
    solved = np.nonzero((tickets.solved >= 0) & (rng.random(len(tickets.solved)) < 0.22))[0]
    target = np.array([600.0, 240.0, 60.0, 20.0])[tickets.priority[solved]]
    ratio = np.maximum(tickets.first_reply[solved], 1) / target
    ta = tickets.account[solved]
    add(
        (
            ta,
            tickets.person[solved],
            tickets.solved[solved] + rng.integers(3_600, 72 * 3_600, len(solved)),
            SUPPORT_S,
            4.5
            + 0.3 * sat[ta]
            - 0.8 * np.clip(np.log2(ratio), 0, 3)
            + rng.normal(0, 0.7, len(solved)),
        )
    )
    # renewal NPS before each anniversary, from the champion and one more contact
    for year in (1, 2, 3):
        m = plan.first_month + 12 * year - 1
        ok = m < subs.billed.shape[1]
        a = np.nonzero(ok)[0].astype(np.int64)
        a = a[subs.billed[a, m[a]]]
        for nth in (0, 1):
            r = a[rng.random(len(a)) < 0.35]
            when = plan.billing_time(r, m[r]) - rng.integers(10, 30, len(r)) * DAY
            person = acc.person_start[r] if nth == 0 else pick_people(rng, acc, people, r, when)
            add((r, person, when, RENEWAL_S, _nps(rng, sat[r])))
    # in-app NPS and product CES from active users
    a, m = np.nonzero(subs.billed)
    for survey, every, phase, share, cap in ((INAPP_S, 4, 0, 0.25, 5), (PRODUCT_S, 6, 3, 0.2, 3)):
        pick = (m + a) % every == phase
        pa_, pm = a[pick].astype(np.int64), m[pick].astype(np.int64)
        k = rng.binomial(np.minimum(subs.seats[pa_, pm], cap), share)
        ra, rm = np.repeat(pa_, k), np.repeat(pm, k)
        when = plan.billing_time(ra, rm) + rng.integers(0, 28 * DAY, len(ra))
        score = (
            _nps(rng, sat[ra])
            if survey == INAPP_S
            else 5.2 + 0.6 * sat[ra] + rng.normal(0, 1.1, len(ra))
        )
        add((ra, pick_people(rng, acc, people, ra, when), when, survey, score))
    # checkout CES after shop orders, delivery CSAT after service jobs
    o = np.nonzero(rng.random(len(orders.account)) < 0.18)[0]
    refunded = np.asarray(
        orders.table["Financial Status"].to_numpy(zero_copy_only=False)[o] == "refunded"
    )
    add(
        (
            orders.account[o],
            orders.person[o],
            orders.created[o] + rng.integers(300, 2 * DAY, len(o)),
            CHECKOUT_S,
            5.8 + 0.4 * sat[orders.account[o]] - 2.0 * refunded + rng.normal(0, 1.0, len(o)),
        )
    )
    d = np.nonzero((deliveries.status <= 2) & (rng.random(len(deliveries.status)) < 0.35))[0]
    base = np.array([4.5, 3.0, 1.6])[deliveries.status[d]]
    add(
        (
            deliveries.account[d],
            deliveries.person[d],
            deliveries.done[d] + rng.integers(DAY, 5 * DAY, len(d)),
            DELIVERY_S,
            base + 0.3 * sat[deliveries.account[d]] + rng.normal(0, 0.6, len(d)),
        )
    )
    # planted: detractor answers, and grumbling about the new price
    ep = plan.episodes.of(DETRACTOR)
    who = np.where(
        rng.random(len(ep.account)) < 0.6,
        acc.person_start[ep.account],
        pick_people(rng, acc, people, ep.account, ep.start),
    )
    in_app = rng.random(len(ep.account)) < 0.5
    for kind_of_survey, chosen in ((INAPP_S, in_app), (RENEWAL_S, ~in_app)):
        parts.append(
            (
                ep.account[chosen],
                who[chosen],
                ep.start[chosen],
                kind_of_survey,
                rng.integers(0, 5, int(chosen.sum())).astype(np.float64),
                1,
            )
        )
    ep = plan.episodes.of(PRICE_INCREASE)
    pi = rng.random(len(ep.account)) < np.where(ep.cause, 0.4, 0.08)
    pa_ = ep.account[pi]
    when = ep.start[pi] + rng.integers(5, 40, len(pa_)) * DAY
    parts.append(
        (
            pa_,
            pick_people(rng, acc, people, pa_, when),
            when,
            RENEWAL_S,
            rng.integers(3, 7, len(pa_)).astype(np.float64),
            2,
        )
    )
    return _table(rng, acc, people, plan, parts, truth)


def _nps(rng: np.random.Generator, sat: np.ndarray) -> np.ndarray:
    return np.asarray(8.3 + 1.5 * sat + rng.normal(0, 1.2, len(sat)))


def _table(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    plan: Plan,
    parts: list[Part],
    truth: Truth,
) -> tuple[pa.Table, tuple[I64, I64]]:
    account = np.concatenate([p[0] for p in parts]).astype(np.int64)
    person = np.concatenate([p[1] for p in parts]).astype(np.int64)
    when = np.concatenate([p[2] for p in parts]).astype(np.int64)
    survey = np.concatenate([np.full(len(p[0]), p[3]) for p in parts]).astype(np.int64)
    raw = np.concatenate([p[4] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[5]) for p in parts]).astype(np.int64)
    churn = plan.churn_time()[account]
    back = plan.billing_time(account, np.maximum(plan.react_month[account], 0))
    gone = (churn >= 0) & (when >= churn) & ((plan.react_month[account] < 0) | (when < back))
    keep = (when < END) & ~gone
    account, person, when, survey, raw, kind = (
        x[keep] for x in (account, person, when, survey, raw, kind)
    )
    order = np.lexsort((account, when))
    account, person, when, survey, raw, kind = (
        x[order] for x in (account, person, when, survey, raw, kind)
    )
    n = len(account)
    metric = np.array([METRICS.index(s[1]) for s in SURVEYS])[survey]
    lo = np.array([_RANGE[m][0] for m in METRICS])[metric]
    hi = np.array([_RANGE[m][1] for m in METRICS])[metric]
    score = np.clip(np.round(raw), lo, hi).astype(np.int64)
    cut1 = np.array([_BANDS[m][0] for m in METRICS])[metric]
    cut2 = np.array([_BANDS[m][1] for m in METRICS])[metric]
    band = np.where(score <= cut1, 0, np.where(score <= cut2, 1, 2))
    theme, pol = _themes(rng, survey, band)
    theme = np.where(kind == 2, tx.BILLING, theme)
    pol = np.where(kind == 2, tx.NEG, pol)
    commented = rng.random(n) < np.where(kind > 0, 0.85, 0.55)
    idea = np.where(theme == tx.MISSING_FEATURE, _sample_ideas(rng, acc.segment[account]), -1)
    comment, named = tx.draw(rng, tx.COMMENT, theme, pol, idea)
    comment = pa.array(comment.to_numpy(zero_copy_only=False), mask=~commented)
    email, name, ident = _respondents(rng, people, person, truth)
    ids = token_ids("R_", n, rng, 15, 31)
    spec = np.array(SURVEYS)
    c = np.nonzero(commented)[0]
    truth.text_labels(
        "survey",
        "survey_responses.csv",
        "Response ID",
        ids.take(pa.array(c)),
        "Comment",
        theme[c],
        pol[c],
        named[c],
    )
    table = pa.table(
        {
            "Response ID": ids,
            "Respondent Email": email.take(pa.array(ident)),
            "Respondent Name": name.take(pa.array(ident)),
            "Survey": pa.array(spec[survey, 0]),
            "Metric": pa.array(spec[survey, 1]),
            "Score": pa.array(score),
            "Comment": comment,
            "Touchpoint": pa.array(spec[survey, 2]),
            "Channel": pa.array(spec[survey, 3]),
            "Submitted At": fmt(when, ISO_OFFSET),
        }
    )
    det = kind == 1
    return table, (account[det], when[det])


def _respondents(
    rng: np.random.Generator, people: People, person: I64, truth: Truth
) -> tuple[pa.Array, pa.Array, I64]:
    users, inverse = np.unique(person, return_inverse=True)
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in users],
        [people.last[i] for i in users],
        noise.NameNoise(nickname=0.1, lower=0.05, typo=0.02),
    )
    names = noise.full_names(first, last, rng)
    blank = rng.random(len(users)) < 0.3
    email = noise.vary_emails(
        rng,
        [people.work_email[i] for i in users],
        [people.personal_email[i] for i in users],
        noise.EmailNoise(personal=0.1, plus=0.03, case=0.05),
    )
    email_arr = pa.array(email, type=pa.string())
    name_arr = pa.array(
        [None if b else x for x, b in zip(names, blank, strict=True)], type=pa.string()
    )
    truth.person_keys(
        "survey", "survey_responses.csv", "Respondent Email", email_arr, users, email_arr, name_arr
    )
    return email_arr, name_arr, inverse.astype(np.int64)
