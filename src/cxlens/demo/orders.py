"""One-off purchases in the shop (Shopify) and the service jobs behind them (providers).

Buyers follow the BG/NBD story: while "alive" a buyer purchases as a Poisson process with a
gamma-distributed rate, after each purchase they drop out with a beta-distributed probability,
and their order values are gamma distributed around a gamma-distributed personal mean
(Gamma-Gamma). The latent values are written to the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import lexicon as lx
from cxlens.demo import noise
from cxlens.demo.arrays import labels, money
from cxlens.demo.churn import Plan
from cxlens.demo.clock import DAY, END, NO_TIME, fmt_us_eastern
from cxlens.demo.company import Accounts, People
from cxlens.demo.ids import increasing
from cxlens.demo.revenue import Subscriptions
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64, Mask
from cxlens.demo.xlsx import Column

MONTH = 30.44 * DAY
_ALPHA = np.array([2.0, 3.0, 5.0])  # gamma rate of the purchase rate, per segment
_SPEND = np.array([2_500.0, 700.0, 180.0])  # mean order value in USD, per segment
_FX = np.array([1.0, 0.92, 0.79])
_TAX = {"CA": 0.05, "GB": 0.2, "AU": 0.1}
_UNIT = np.array([p.price_usd_cents for p in lx.PRODUCTS], dtype=np.int64)
_SERVICE = np.array([p.category == "service" for p in lx.PRODUCTS])


@dataclass
class Buyers:
    person: I64
    account: I64
    rate: np.ndarray
    dropout: np.ndarray
    spend_scale: np.ndarray
    birth: I64
    death: I64


@dataclass
class Orders:
    table: pa.Table
    account: I64
    person: I64
    created: I64
    order_id: I64
    email: pa.Array
    product: I64
    buyers: Buyers


def _buyers(rng: np.random.Generator, acc: Accounts, plan: Plan) -> tuple[Buyers, Mask]:
    n = plan.n
    start, count = acc.person_start[:n], acc.person_count[:n]
    first_pos = np.where(rng.random(n) < 0.6, 0, np.minimum(1, count - 1))
    primary = start + first_pos
    extra = np.nonzero((rng.random(n) < 0.3) & (count >= 2))[0]
    step = 1 + (rng.random(len(extra)) * (count[extra] - 1)).astype(np.int64)
    other = start[extra] + (first_pos[extra] + step) % count[extra]
    person = np.concatenate([primary, other]).astype(np.int64)
    account = np.concatenate([np.arange(n), extra]).astype(np.int64)
    k = len(person)
    seg = acc.segment[account]
    rate = rng.gamma(1.0, 1.0 / _ALPHA[seg])  # purchases per month while alive
    dropout = rng.beta(1.0, 5.0, k)
    q, p = 4.0, 5.0
    gamma = _SPEND[seg] * (q - 1) / p
    nu = rng.gamma(q, 1.0 / gamma)
    onboarding = (np.arange(k) < n) & (rng.random(k) < np.array([0.8, 0.6, 0.2])[seg])
    wait = rng.exponential(1.0 / rate) * MONTH
    birth = plan.signup[account] + np.where(
        onboarding, rng.integers(0, 10 * DAY, k), wait.astype(np.int64)
    )
    churn = plan.churn_time()[account]
    end = np.where(churn >= 0, churn, END)
    return Buyers(
        person, account, rate, dropout, nu, birth.astype(np.int64), end.astype(np.int64)
    ), onboarding


def _purchases(rng: np.random.Generator, b: Buyers) -> tuple[I64, I64]:
    """(buyer, time) of every purchase: Poisson while alive, geometric dropout after each."""
    out_b: list[I64] = []
    out_t: list[I64] = []
    t = b.birth.copy()
    live = np.nonzero(t < b.death)[0].astype(np.int64)
    t = t[live]
    dead_at = np.full(len(b.person), NO_TIME, dtype=np.int64)
    while len(live):
        out_b.append(live)
        out_t.append(t)
        drop = rng.random(len(live)) < b.dropout[live]
        dead_at[live[drop]] = t[drop]
        t = t + (rng.exponential(1.0 / b.rate[live]) * MONTH).astype(np.int64)
        go = ~drop & (t < b.death[live])
        live, t = live[go], t[go]
    b.death = np.where(dead_at >= 0, dead_at, NO_TIME)
    return np.concatenate(out_b), np.concatenate(out_t)


def orders(
    rng: np.random.Generator, acc: Accounts, people: People, plan: Plan, truth: Truth
) -> Orders:
    buyers, onboarding = _buyers(rng, acc, plan)
    who, when = _purchases(rng, buyers)
    order = np.lexsort((who, when))
    who, when = who[order], when[order]
    is_first = np.zeros(len(who), dtype=bool)
    is_first[np.unique(who, return_index=True)[1]] = True
    n = len(who)
    account = buyers.account[who]
    cur = acc.currency[account]
    spend = rng.gamma(5.0, 1.0 / buyers.spend_scale[who]) * 100  # cents, USD
    product = _choose_products(rng, spend)
    product = np.where(is_first & onboarding[who], lx.ONBOARDING_PRODUCT, product)
    unit = np.round(_UNIT[product] * _FX[cur]).astype(np.int64)
    qty = np.where(
        _SERVICE[product] & (product != lx.ONBOARDING_PRODUCT),
        np.clip(np.round(spend / _UNIT[product]), 1, 10),
        1,
    )
    qty = np.where(~_SERVICE[product], np.clip(np.round(spend / _UNIT[product]), 1, 20), qty)
    qty = np.where(product == lx.ONBOARDING_PRODUCT, 1, qty).astype(np.int64)
    subtotal = unit * qty
    codes = [c.code for c in lx.COUNTRIES]
    tax = np.array([_TAX.get(c, 0.0) for c in codes])[acc.country[account]]
    total = np.round(subtotal * (1 + tax)).astype(np.int64)
    u = rng.random(n)
    status = np.where(u < 0.05, 1, 0)  # paid, refunded, pending
    status[(when > END - 14 * DAY) & (u > 0.9)] = 2
    ids = increasing(rng, n, 5_480_000_000_000, (1_000, 90_000))
    email, name, phone, company = _buyer_identities(rng, acc, people, buyers, truth)
    idx = pa.array(who)
    table = pa.table(
        {
            "Id": pa.array(ids),
            "Name": pa.array([f"#{1001 + i}" for i in range(n)]),
            "Email": email.take(idx),
            "Billing Name": name.take(idx),
            "Billing Phone": phone.take(idx),
            "Billing Company": company.take(idx),
            "Financial Status": labels(("paid", "refunded", "pending"), status),
            "Created at": fmt_us_eastern(when),
            "Currency": labels(lx.CURRENCIES, cur),
            "Subtotal": money(subtotal),
            "Total": money(total),
            "Lineitem quantity": pa.array(qty),
            "Lineitem name": labels([p.name for p in lx.PRODUCTS], product),
            "Lineitem sku": labels([p.sku for p in lx.PRODUCTS], product),
            "Vendor": labels([p.vendor for p in lx.PRODUCTS], product),
        }
    )
    return Orders(table, account, buyers.person[who], when, ids, email.take(idx), product, buyers)


def _choose_products(rng: np.random.Generator, spend: np.ndarray) -> I64:
    """A product whose price suits the order value (several units of cheap items)."""
    cheap = np.nonzero(~_SERVICE & (_UNIT <= 25_000))[0]
    big = np.nonzero(_SERVICE & (np.arange(len(_UNIT)) != lx.ONBOARDING_PRODUCT))[0]
    big = np.concatenate([big, np.nonzero(_UNIT >= 90_000)[0]])
    big = np.unique(big)
    u = rng.random(len(spend))
    small = cheap[(u * len(cheap)).astype(np.int64)]
    large = big[(u * len(big)).astype(np.int64)]
    return np.where(spend < 60_000, small, large).astype(np.int64)


def _buyer_identities(
    rng: np.random.Generator, acc: Accounts, people: People, b: Buyers, truth: Truth
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    p = b.person
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in p],
        [people.last[i] for i in p],
        noise.NameNoise(nickname=0.15, typo=0.03, upper=0.02, initial=0.03),
    )
    email = noise.vary_emails(
        rng,
        [people.work_email[i] for i in p],
        [people.personal_email[i] for i in p],
        noise.EmailNoise(personal=0.25, plus=0.05, case=0.05),
    )
    phone = noise.format_phones(
        rng, [people.phone_cc[i] for i in p], [people.phone_national[i] for i in p], missing=0.4
    )
    a = b.account
    company = noise.vary_companies(
        rng,
        [acc.short[i] for i in a],
        [acc.suffix[i] for i in a],
        [acc.domain[i] for i in a],
        noise.CompanyNoise(
            short=0.5, suffix_style=0.3, case=0.08, ampersand=0.3, typo=0.03, missing=0.25
        ),
    )
    names = noise.full_names(first, last, rng)
    email_arr = pa.array(email, type=pa.string())
    name_arr = pa.array(names, type=pa.string())
    company_arr = pa.array(company, type=pa.string())
    truth.person_keys("shopify", "shopify_orders.csv", "Email", email_arr, p, email_arr, name_arr)
    truth.account_keys("shopify", "shopify_orders.csv", "Billing Company", company_arr, a)
    return email_arr, name_arr, pa.array(phone, type=pa.string()), company_arr


@dataclass
class Deliveries:
    columns: list[Column]
    account: I64
    person: I64
    done: I64
    status: I64
    job_id: pa.Array


DELIVERY_STATUSES = ("delivered", "late", "failed", "scheduled")


def deliveries(
    rng: np.random.Generator, orders_: Orders, subs: Subscriptions, truth: Truth
) -> Deliveries:
    jobs = np.nonzero(_SERVICE[orders_.product])[0]
    k = len(jobs)
    product = orders_.product[jobs]
    created = orders_.created[jobs]
    lead_lo = np.array([p.lead_days[0] for p in lx.PRODUCTS])[product]
    lead_hi = np.array([p.lead_days[1] for p in lx.PRODUCTS])[product]
    promised = created + rng.integers(lead_lo, lead_hi + 1) * DAY
    names = [p for p, _, _ in lx.PROVIDERS]
    options = [lx.PRODUCTS[int(x)].providers for x in product]
    provider = np.array(
        [names.index(o[int(u * len(o))]) for o, u in zip(options, rng.random(k), strict=True)],
        dtype=np.int64,
    )
    on_time = np.array([r for _, r, _ in lx.PROVIDERS])[provider]
    fail = np.array([f for _, _, f in lx.PROVIDERS])[provider]
    u = rng.random(k)
    failed = u < fail
    late = ~failed & (u > fail + on_time * (1 - fail))
    delay = np.where(
        late,
        np.maximum(1, rng.gamma(1.5, 6.0, k)).astype(np.int64) * DAY,
        -rng.integers(0, 5, k) * DAY,
    )
    done = np.where(failed, NO_TIME, promised + delay)
    status = np.where(failed, 2, np.where(late, 1, 0))
    pending = ~failed & (done >= END)
    status = np.where(pending & (promised >= END), 3, status)
    done = np.where(pending, NO_TIME, done)
    account = orders_.account[jobs]
    job_id = pa.array([f"JOB-{100_001 + i}" for i in range(k)])
    cus = subs.customer_id.take(pa.array(account))
    email = orders_.email.take(pa.array(jobs))
    email_list = email.to_pylist()
    columns: list[Column] = [
        ("Job ID", "str", job_id.to_pylist()),
        ("Order ID", "int", orders_.order_id[jobs].tolist()),
        ("Customer ID", "str", cus.to_pylist()),
        ("Customer Email", "str", email_list),
        ("Provider", "str", [names[int(x)] for x in provider]),
        ("Service", "str", [lx.PRODUCTS[int(x)].name for x in product]),
        ("Promised Date", "date", (promised // DAY).tolist()),
        ("Delivered Date", "date", [None if x < 0 else x // DAY for x in done.tolist()]),
        ("Status", "str", [DELIVERY_STATUSES[int(x)] for x in status]),
    ]
    buyer = orders_.person[jobs]
    first_seen = {e: i for i, e in reversed(list(enumerate(email_list)))}
    once = np.sort(np.fromiter(first_seen.values(), dtype=np.int64, count=len(first_seen)))
    truth.person_keys(
        "deliveries",
        "deliveries.xlsx",
        "Customer Email",
        email.take(pa.array(once)),
        buyer[once],
        email.take(pa.array(once)),
        pa.nulls(len(once), pa.string()),
    )
    _, once = np.unique(account, return_index=True)
    once = np.sort(once)
    truth.account_keys(
        "deliveries", "deliveries.xlsx", "Customer ID", cus.take(pa.array(once)), account[once]
    )
    return Deliveries(
        columns, account, orders_.person[jobs], np.where(done >= 0, done, promised), status, job_id
    )
