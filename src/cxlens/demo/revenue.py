"""Subscriptions month by month: MRR movements (ChartMogul), invoices and customers (Stripe)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import lexicon as lx
from cxlens.demo import noise
from cxlens.demo.arrays import labels, money
from cxlens.demo.churn import PAYMENT_FAILURE, PI_MONTH, Plan
from cxlens.demo.clock import DAY, END, MONTH_START, MONTHS, NO_TIME, STRIPE, fmt, month_of
from cxlens.demo.company import Accounts, People
from cxlens.demo.ids import hex_tokens, token_ids, uuids
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64, Mask

NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION = range(5)
ACTIVITY_TYPES = ("New Business", "Expansion", "Contraction", "Churn", "Reactivation")
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
DRAFT, OPEN, PAID, UNCOLLECTIBLE, VOID = range(5)
_PLAN_SHARE = np.array([[0.0, 0.0, 0.4, 0.6], [0.0, 0.45, 0.45, 0.10], [0.55, 0.40, 0.05, 0.0]])
_SEATS = ((np.log(300), 0.7, 50, 3000), (np.log(45), 0.6, 10, 400), (np.log(6), 0.6, 2, 40))
_PRICE = np.array([p[2] for p in lx.PLANS], dtype=np.int64)  # (plan, currency)
_PRICE_AFTER = np.array(
    [p if p else lx.PLANS[i][2] for i, p in enumerate(lx.PLANS_AFTER_INCREASE)], dtype=np.int64
)


def initial_plans(rng: np.random.Generator, acc: Accounts) -> tuple[I64, I64]:
    """Plan index and seats at signup for every customer account."""
    n = acc.n_customers
    seg = acc.segment[:n]
    cum = np.cumsum(_PLAN_SHARE[seg], axis=1)
    plan = (rng.random(n)[:, None] > cum).sum(axis=1).astype(np.int64)
    plan = np.minimum(plan, 3)
    mu = np.array([s[0] for s in _SEATS])[seg]
    sd = np.array([s[1] for s in _SEATS])[seg]
    lo = np.array([s[2] for s in _SEATS])[seg]
    hi = np.array([s[3] for s in _SEATS])[seg]
    cap = np.maximum(lo, np.minimum(hi, acc.employees[:n]))
    seats = np.clip(np.exp(rng.normal(mu, sd)), lo, cap)
    return plan, np.maximum(seats.astype(np.int64), 1)


@dataclass
class Subscriptions:
    """What each customer pays at each month's billing date (columns are months)."""

    plan: I64
    seats: I64
    price: I64
    billed: Mask
    sub_number: I64
    customer_id: pa.Array
    subscription_id: pa.Array
    #: one entry per MRR movement: account, month, type, plan, seats, delta (cents), sub number
    activities: dict[str, I64]

    def mrr(self) -> I64:
        return self.seats * self.price

    def alive_at_end(self) -> Mask:
        return np.asarray(self.billed[:, -1])


def simulate(
    rng: np.random.Generator, acc: Accounts, plan: Plan, start_plan: I64, start_seats: I64
) -> Subscriptions:
    n = plan.n
    cur = acc.currency[:n]
    seg = acc.segment[:n]
    shape = (n, MONTHS)
    plan_m = np.zeros(shape, dtype=np.int64)
    seats_m = np.zeros(shape, dtype=np.int64)
    price_m = np.zeros(shape, dtype=np.int64)
    billed = np.zeros(shape, dtype=bool)
    subno_m = np.zeros(shape, dtype=np.int64)
    alive = np.zeros(n, dtype=bool)
    pi = np.zeros(n, dtype=bool)
    p_plan = start_plan.copy()
    seats = start_seats.copy()
    subno = np.zeros(n, dtype=np.int64)
    parts: list[dict[str, I64]] = []
    p_exp = np.array([0.05, 0.04, 0.025])[seg]
    p_up, p_down = 0.008, 0.012

    def price() -> I64:
        return np.where(pi, _PRICE_AFTER[p_plan, cur], _PRICE[p_plan, cur])

    def emit(mask: Mask, kind: I64 | int, q: I64, delta: I64, m: int) -> None:
        idx = np.nonzero(mask)[0]
        parts.append(
            {
                "account": idx,
                "month": np.full(len(idx), m),
                "type": np.broadcast_to(np.asarray(kind), (n,))[idx],
                "plan": p_plan[idx],
                "seats": q[idx],
                "delta": delta[idx],
                "sub": subno[idx],
            }
        )

    for m in range(MONTHS):
        before = seats * price()
        new = plan.first_month == m
        react = plan.react_month == m
        leaving = plan.churn_month == m
        active = alive & ~leaving
        near_churn = (plan.churn_month >= m) & (plan.churn_month <= m + 3)
        u = rng.random(n)
        pi_now = active & (plan.pi_month == m)
        free = active & ~pi_now
        grow = free & (u < p_exp * np.where(near_churn, 0.3, 1.0))
        hold = plan.self_serve & (plan.pi_month >= m) & (p_plan == 1)
        up = free & ~grow & (u >= p_exp) & (u < p_exp + p_up) & (p_plan < 3) & ~hold
        down = free & ~grow & ~up & (u >= p_exp + p_up) & (u < p_exp + p_up + p_down) & (seats > 1)
        pi |= pi_now
        more = np.ceil(seats * rng.uniform(0.1, 0.5, n)).astype(np.int64)
        seats = np.where(grow, seats + more, seats)
        p_plan = np.where(up, p_plan + 1, p_plan)
        cut = np.maximum(1, np.floor(seats * rng.uniform(0.1, 0.3, n))).astype(np.int64)
        seats = np.where(down, np.maximum(1, seats - cut), seats)
        # reactivated accounts come back smaller, on a new subscription at the day's list price
        smaller = np.maximum(1, (seats * rng.uniform(0.5, 1.0, n)).astype(np.int64))
        seats = np.where(react, smaller, seats)
        subno = np.where(react, 1, subno)
        pi = np.where(new | react, (m >= PI_MONTH) & (p_plan <= 1), pi)
        after = seats * price()
        changed = pi_now | grow | up | down
        emit(changed, np.where(after >= before, EXPANSION, CONTRACTION), seats, after - before, m)
        emit(new, NEW, seats, after, m)
        emit(react, REACTIVATION, seats, after, m)
        emit(leaving, CHURN, np.zeros(n, dtype=np.int64), -before, m)
        alive = (alive | new | react) & ~leaving
        plan_m[:, m], seats_m[:, m], price_m[:, m] = p_plan, seats, price()
        billed[:, m] = alive
        subno_m[:, m] = subno
    acts = {k: np.concatenate([p[k] for p in parts]).astype(np.int64) for k in parts[0]}
    return Subscriptions(
        plan=plan_m,
        seats=seats_m,
        price=price_m,
        billed=billed,
        sub_number=subno_m,
        customer_id=token_ids("cus_", n, rng, 14, 11),
        subscription_id=token_ids("sub_", 2 * n, rng, 24, 12),
        activities=acts,
    )


@dataclass
class Billing:
    """Stripe's view of each customer account: name and email as the billing system has them."""

    name: pa.Array
    email: pa.Array


def stripe_customers(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    plan: Plan,
    subs: Subscriptions,
    truth: Truth,
) -> tuple[pa.Table, Billing]:
    n = plan.n
    seg = acc.segment[:n]
    champ = acc.person_start[:n]
    finance = champ + np.minimum(1, acc.person_count[:n] - 1)
    u = rng.random((n, 4))
    names = noise.vary_companies(
        rng,
        acc.short[:n],
        acc.suffix[:n],
        acc.domain[:n],
        noise.CompanyNoise(
            short=0.35, suffix_style=0.3, case=0.06, ampersand=0.3, typo=0.03, domain=0.02
        ),
    )
    person_named = (seg == 2) & (u[:, 0] < 0.1)
    emails: list[str | None] = []
    for i in range(n):
        if person_named[i]:
            p = int(champ[i])
            names[i] = f"{people.first[p]} {people.last[p]}"
        if seg[i] == 2 or u[i, 1] < 0.3:
            p = int(champ[i] if seg[i] == 2 else finance[i])
            emails.append(people.personal_email[p] if u[i, 2] < 0.08 else people.work_email[p])
        else:
            box = ("billing", "ap", "accounts.payable", "finance", "invoices")[int(u[i, 2] * 5)]
            emails.append(f"{box}@{acc.domain[i]}")
    phones = noise.format_phones(rng, acc.phone_cc[:n], acc.phone_national[:n], missing=0.45)
    desc_options = np.array(
        [
            None,
            "PO required on invoices",
            "EU VAT registered",
            "Migrated from invoice billing",
            "Annual true-up in January",
        ],
        dtype=object,
    )
    description = desc_options[np.where(u[:, 3] < 0.75, 0, 1 + (u[:, 3] * 100).astype(int) % 4)]
    created = plan.signup - rng.integers(60, 3_600, n)
    sf_meta = pc.if_else(
        pa.array(rng.random(n) < 0.6), acc.sf_id.slice(0, n), pa.nulls(n, pa.string())
    )
    iso = [lx.COUNTRIES[int(c)].code for c in acc.country[:n]]
    # a few accounts also have a stray second customer (a card checkout that was never used)
    dup = np.nonzero(rng.random(n) < 0.015)[0]
    dup_ids = token_ids("cus_", len(dup), rng, 14, 13)
    dup_names = noise.vary_companies(
        rng,
        [acc.short[i] for i in dup],
        [acc.suffix[i] for i in dup],
        [acc.domain[i] for i in dup],
        noise.CompanyNoise(short=0.7, case=0.2, typo=0.1),
    )
    dup_mail = [people.work_email[int(acc.person_start[i] + acc.person_count[i] - 1)] for i in dup]
    dup_created = plan.signup[dup] + rng.integers(1, 200, len(dup)) * DAY
    dup_created = np.minimum(dup_created, END - DAY)
    table = pa.table(
        {
            "id": pa.concat_arrays([subs.customer_id, dup_ids]),
            "Name": pa.array(names + dup_names, type=pa.string()),
            "Email": pa.array(emails + dup_mail, type=pa.string()),
            "Phone": pa.array(phones + [None] * len(dup), type=pa.string()),
            "Description": pa.array(list(description) + [None] * len(dup), type=pa.string()),
            "Created (UTC)": fmt(np.concatenate([created, dup_created]), STRIPE),
            "Address Line1": pa.array(acc.street[:n] + [None] * len(dup), type=pa.string()),
            "Address City": pa.array(acc.city[:n] + [acc.city[i] for i in dup], type=pa.string()),
            "Address Country": pa.array(iso + [iso[i] for i in dup], type=pa.string()),
            "Metadata: salesforce_id": pa.concat_arrays([sf_meta, pa.nulls(len(dup), pa.string())]),
        }
    )
    order = np.argsort(np.concatenate([created, dup_created]), kind="stable")
    owner = np.concatenate([np.arange(n), dup]).astype(np.int64)
    truth.account_keys("stripe", "stripe_customers.csv", "id", table["id"].combine_chunks(), owner)
    billing = Billing(
        name=table["Name"].combine_chunks().slice(0, n),
        email=table["Email"].combine_chunks().slice(0, n),
    )
    return table.take(pa.array(order)), billing


def mrr_activities(
    rng: np.random.Generator, plan: Plan, subs: Subscriptions, billing: Billing, currency: I64
) -> pa.Table:
    a = subs.activities
    when = plan.billing_time(a["account"], a["month"])
    order = np.lexsort((a["type"], a["account"], when))
    acc = a["account"][order]
    sub_idx = acc * 2 + a["sub"][order]
    return pa.table(
        {
            "Date": fmt(when[order], "%Y-%m-%d"),
            "Customer": billing.name.take(pa.array(acc)),
            "Customer external ID": subs.customer_id.take(pa.array(acc)),
            "Activity type": labels(ACTIVITY_TYPES, a["type"][order]),
            "Plan": labels([p[1] for p in lx.PLANS], a["plan"][order]),
            "Quantity": pa.array(a["seats"][order]),
            "MRR movement": money(a["delta"][order]),
            "Currency": labels(lx.CURRENCIES, currency[acc]),
            "Subscription external ID": subs.subscription_id.take(pa.array(sub_idx)),
            "Activity ID": uuids(rng, len(acc)),
        }
    )


def _payment_trouble(rng: np.random.Generator, plan: Plan, subs: Subscriptions) -> I64:
    """Per account and month: 0 normal, 1 paid late after retries, 2 never collected."""
    state = np.zeros(subs.billed.shape, dtype=np.int64)
    ep = plan.episodes.of(PAYMENT_FAILURE)
    cause, acc = ep.cause, ep.account
    last = plan.churn_month[acc[cause]] - 1
    state[acc[cause], last] = 2
    state[acc[cause], last - 1] = np.where(rng.random(int(cause.sum())) < 0.5, 1, 2)
    noisy = acc[~cause]
    m = np.minimum(month_of(ep.start[~cause]) + 1, MONTHS - 1)
    state[noisy, m] = np.where(rng.random(len(noisy)) < 0.7, 1, 2)
    return state


def invoices(
    rng: np.random.Generator, acc: Accounts, plan: Plan, subs: Subscriptions, billing: Billing
) -> pa.Table:
    n = plan.n
    trouble = _payment_trouble(rng, plan, subs)
    a, m = np.nonzero(subs.billed)
    a = a.astype(np.int64)
    m = m.astype(np.int64)
    k = len(a)
    issued = plan.billing_time(a, m)
    amount = subs.mrr()[a, m]
    state = trouble[a, m]
    invoiced = (acc.segment[:n] == 0) | ((acc.segment[:n] == 1) & (rng.random(n) < 0.6))
    by_invoice = invoiced[a]
    pay_delay = np.where(by_invoice, rng.integers(3 * DAY, 40 * DAY, k), rng.integers(30, 7_200, k))
    pay_delay = np.where(
        state == 1,
        np.where(by_invoice, rng.integers(35, 70, k) * DAY, rng.integers(3, 16, k) * DAY),
        pay_delay,
    )
    paid_at = issued + pay_delay
    status = np.where(paid_at < END, PAID, OPEN)
    gave_up = (state == 2) & (issued + 21 * DAY < END)
    status[gave_up] = UNCOLLECTIBLE
    status[(state == 2) & ~gave_up] = OPEN
    void = (state == 0) & (rng.random(k) < 0.002)
    status[void] = VOID
    paid = status == PAID
    due = np.where(by_invoice, issued + 30 * DAY, NO_TIME)
    # drafts: the next invoice of live accounts billed in the first days after the export
    live = np.nonzero(subs.alive_at_end())[0].astype(np.int64)
    next_bill = MONTH_START[MONTHS] + plan.anniversary[live]
    live = live[next_bill < END + 2 * DAY]
    d = len(live)
    a = np.concatenate([a, live])
    issued = np.concatenate([issued, np.full(d, END - 3_600)])
    amount = np.concatenate([amount, subs.mrr()[live, MONTHS - 1]])
    status = np.concatenate([status, np.full(d, DRAFT)])
    paid = np.concatenate([paid, np.zeros(d, dtype=bool)])
    paid_at = np.concatenate([np.where(paid[:k], paid_at, NO_TIME), np.full(d, NO_TIME)])
    due = np.concatenate([due, np.where(invoiced[live], END + 30 * DAY - 3_600, NO_TIME)])
    sub_idx = a * 2 + np.concatenate([subs.sub_number[a[:k], m], subs.sub_number[live, -1]])
    order = np.lexsort((issued, a))
    a, issued, amount, status = a[order], issued[order], amount[order], status[order]
    paid, paid_at, due, sub_idx = paid[order], paid_at[order], due[order], sub_idx[order]
    first = np.r_[True, a[1:] != a[:-1]]
    seq = np.arange(len(a)) - np.maximum.accumulate(np.where(first, np.arange(len(a)), 0)) + 1
    by_time = np.argsort(issued, kind="stable")
    a, issued, amount, status = a[by_time], issued[by_time], amount[by_time], status[by_time]
    paid, paid_at, due, sub_idx = paid[by_time], paid_at[by_time], due[by_time], sub_idx[by_time]
    seq = seq[by_time]
    prefix = hex_tokens(rng, n, 8, 21).take(pa.array(a))
    counter = pc.utf8_lpad(pa.array(seq).cast(pa.string()), 4, "0")
    number = pc.binary_join_element_wise(prefix, counter, "-")
    number = pc.if_else(pa.array(status == DRAFT), pa.nulls(len(a), pa.string()), number)
    return pa.table(
        {
            "id": token_ids("in_", len(a), rng, 24, 22),
            "Customer": subs.customer_id.take(pa.array(a)),
            "Customer Email": billing.email.take(pa.array(a)),
            "Customer Name": billing.name.take(pa.array(a)),
            "Number": number,
            "Status": labels(INVOICE_STATUSES, status),
            "Amount Due": money(amount),
            "Amount Paid": money(np.where(paid, amount, 0)),
            "Currency": labels([c.lower() for c in lx.CURRENCIES], acc.currency[a]),
            "Date (UTC)": fmt(issued, STRIPE),
            "Due Date (UTC)": fmt(due, STRIPE),
            "Paid At (UTC)": fmt(paid_at, STRIPE),
            "Subscription": subs.subscription_id.take(pa.array(sub_idx)),
        }
    )
