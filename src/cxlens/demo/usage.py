"""Weekly product usage per account, generated in chunks of accounts to bound memory."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from cxlens.demo import lexicon as lx
from cxlens.demo.churn import USAGE_DECLINE, Plan
from cxlens.demo.clock import DAY, END, WEEK, WEEK0, month_of, rng_for
from cxlens.demo.company import Accounts, People, pick_people
from cxlens.demo.revenue import Subscriptions
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64

METRICS = ("active_users", "login", "session", "api_calls", "feature_used")
CHUNK = 5_000
_FAVOURITE_WEIGHTS = np.cumsum([0.4, 0.25, 0.15, 0.12, 0.08])

SCHEMA = pa.schema(
    [
        ("account_id", pa.dictionary(pa.int32(), pa.string())),
        ("user_email", pa.dictionary(pa.int32(), pa.string())),
        ("date", pa.date32()),
        ("metric", pa.dictionary(pa.int8(), pa.string())),
        ("feature", pa.dictionary(pa.int8(), pa.string())),
        ("value", pa.int64()),
    ]
)


def _alive_weeks(plan: Plan, accounts: I64) -> tuple[I64, I64]:
    """(account, week index) for every week an account was a paying customer."""
    churn = plan.churn_time()[accounts]
    react_month = plan.react_month[accounts]
    back = plan.billing_time(accounts, np.maximum(react_month, 0))
    starts = [plan.signup[accounts], np.where(react_month >= 0, back, END)]
    ends = [np.where(churn >= 0, churn, END), np.full(len(accounts), END)]
    out_a: list[I64] = []
    out_w: list[I64] = []
    for s, e in zip(starts, ends, strict=True):
        w0 = (s - WEEK0 + WEEK - 1) // WEEK
        w1 = (e - WEEK0 + WEEK - 1) // WEEK
        w1 = np.minimum(w1, (END - WEEK0) // WEEK)
        k = np.maximum(w1 - w0, 0)
        a = np.repeat(accounts, k)
        offset = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        out_a.append(a)
        out_w.append(np.repeat(w0, k) + offset)
    a = np.concatenate(out_a).astype(np.int64)
    w = np.concatenate(out_w).astype(np.int64)
    order = np.lexsort((w, a))
    return a[order], w[order]


def _factor(plan: Plan, a: I64, t: I64, signup: I64) -> np.ndarray:
    """Multiplier on normal usage: ramp-up, holidays, and the planted declines and dips."""
    ramp = np.clip((t - signup) / (6 * WEEK) + 1 / 6, 0.15, 1.0)
    f = ramp.astype(np.float64)
    day_of_year = ((t // DAY) - 3) % 365
    f = np.where((day_of_year > 352) | (day_of_year < 3), f * 0.6, f)
    ep = plan.episodes.of(USAGE_DECLINE)
    if len(ep.account):
        # rows per account are contiguous; match each episode against its account's rows
        lo = np.searchsorted(a, ep.account, side="left")
        hi = np.searchsorted(a, ep.account, side="right")
        k = hi - lo
        rows = np.repeat(lo, k) + np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        e = np.repeat(np.arange(len(ep.account)), k)
        x = (t[rows] - ep.start[e]) / np.maximum(ep.end[e] - ep.start[e], DAY)
        inside = (x >= 0) & (x <= 1)
        cause = ep.cause[e]
        decline = np.where(cause, 1 - 0.85 * np.clip(x, 0, 1), 1 - 0.5 * (1 - np.abs(2 * x - 1)))
        rows, decline = rows[inside], decline[inside]
        f[rows] = f[rows] * decline
    return np.asarray(f)


def batches(
    seed: int, acc: Accounts, people: People, plan: Plan, subs: Subscriptions, truth: Truth
) -> Iterator[pa.Table]:
    """Usage tables, one per chunk of accounts, in account order."""
    n = plan.n
    profile = rng_for(seed, "usage-profile")
    adoption = profile.beta(6, 3, n)
    api = profile.random(n) < np.array([0.7, 0.45, 0.2])[acc.segment[:n]]
    favourites = np.argsort(profile.random((n, len(lx.FEATURES))), axis=1)[:, :5]
    emails = pa.array(people.work_email)
    feature_dict = pa.array(lx.FEATURES)
    metric_dict = pa.array(METRICS)
    for c, lo in enumerate(range(0, n, CHUNK)):
        rng = rng_for(seed, f"usage-{c}")
        accounts = np.arange(lo, min(lo + CHUNK, n), dtype=np.int64)
        a, w = _alive_weeks(plan, accounts)
        if not len(a):
            continue
        t = WEEK0 + w * WEEK
        month = np.minimum(month_of(t), subs.seats.shape[1] - 1)
        seats = subs.seats[a, month]
        f = _factor(plan, a, t, plan.signup[a]) * rng.lognormal(0, 0.12, len(a))
        active = rng.binomial(seats, np.clip(adoption[a] * f, 0, 1))
        logins = rng.poisson(active * 3.2)
        sessions = rng.poisson(logins * 1.5)
        k = len(a)
        blocks: list[tuple[I64, I64, I64, I64, I64, I64]] = []  # row, metric, feature, email
        none = np.full(k, -1, dtype=np.int64)
        rows = np.arange(k, dtype=np.int64)
        for code, value in ((0, active), (1, logins), (2, sessions)):
            blocks.append((rows, np.full(k, code), none, none, value.astype(np.int64), rows))
        use_api = api[a]
        calls = rng.poisson(active[use_api] * 250.0 * f[use_api])
        ra = rows[use_api]
        blocks.append(
            (ra, np.full(len(ra), 3), none[use_api], none[use_api], calls.astype(np.int64), ra)
        )
        first = np.searchsorted(_FAVOURITE_WEIGHTS, rng.random(k) * _FAVOURITE_WEIGHTS[-1])
        second = (first + 1 + (rng.random(k) * 4).astype(np.int64)) % 5
        for pick, share in ((first, 1.6), (second, 0.8)):
            feat = favourites[a, np.minimum(pick, 4)].astype(np.int64)
            uses = rng.poisson(active * share + 0.2)
            used = uses > 0
            who = pick_people(rng, acc, people, a[used], t[used])
            blocks.append(
                (
                    rows[used],
                    np.full(int(used.sum()), 4),
                    feat[used],
                    who,
                    uses[used].astype(np.int64),
                    rows[used],
                )
            )
        table, users = _table(blocks, a, t, subs, emails, metric_dict, feature_dict)
        # the product knows its users by login email (people of one chunk only)
        login = emails.take(pa.array(users))
        truth.person_keys(
            "product",
            "product_usage.parquet",
            "user_email",
            login,
            users,
            login,
            pa.nulls(len(users), pa.string()),
        )
        yield table


def _table(
    blocks: list[tuple[I64, I64, I64, I64, I64, I64]],
    a: I64,
    t: I64,
    subs: Subscriptions,
    emails: pa.Array,
    metric_dict: pa.Array,
    feature_dict: pa.Array,
) -> tuple[pa.Table, I64]:
    """The chunk's table, and the people whose emails it names."""
    row = np.concatenate([b[0] for b in blocks])
    metric = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    feature = np.concatenate([b[2] for b in blocks]).astype(np.int64)
    person = np.concatenate([b[3] for b in blocks]).astype(np.int64)
    value = np.concatenate([b[4] for b in blocks]).astype(np.int64)
    order = np.lexsort((feature, metric, row))
    row, metric, feature, person, value = (x[order] for x in (row, metric, feature, person, value))
    acc = a[row]
    base = int(acc.min())
    local_acc = (acc - base).astype(np.int32)
    span = int(acc.max()) - base + 1
    people_used, person_local = np.unique(person[person >= 0], return_inverse=True)
    email_idx = np.full(len(person), -1, dtype=np.int32)
    email_idx[person >= 0] = person_local.astype(np.int32)
    table = pa.table(
        {
            "account_id": pa.DictionaryArray.from_arrays(
                pa.array(local_acc), subs.customer_id.slice(base, span)
            ),
            "user_email": pa.DictionaryArray.from_arrays(
                pa.array(email_idx, mask=email_idx < 0), emails.take(pa.array(people_used))
            ),
            "date": pa.array(((t[row]) // DAY).astype(np.int32)).cast(pa.date32()),
            "metric": pa.DictionaryArray.from_arrays(pa.array(metric.astype(np.int8)), metric_dict),
            "feature": pa.DictionaryArray.from_arrays(
                pa.array(feature.astype(np.int8), mask=feature < 0), feature_dict
            ),
            "value": pa.array(value),
        },
        schema=SCHEMA,
    )
    return table, people_used.astype(np.int64)
