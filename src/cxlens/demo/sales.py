"""The CRM side: Salesforce accounts, contacts and opportunities; HubSpot contacts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import lexicon as lx
from cxlens.demo import noise
from cxlens.demo.arrays import labels, money
from cxlens.demo.churn import Plan
from cxlens.demo.clock import DAY, END, HUBSPOT, ISO_DATE, MONTHS, SALESFORCE, YEAR, fmt
from cxlens.demo.company import CUSTOMER, LEAD, PROSPECT, Accounts, People
from cxlens.demo.ids import increasing, salesforce_ids
from cxlens.demo.revenue import EXPANSION, Subscriptions
from cxlens.demo.truth import Truth
from cxlens.demo.types import Arr

STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
OPPORTUNITY_TYPES = ("New Business", "Upsell", "Renewal")


def _s(values: list[str] | list[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


def salesforce_accounts(rng: np.random.Generator, acc: Accounts, truth: Truth) -> pa.Table:
    idx = np.nonzero(acc.kind != LEAD)[0].astype(np.int64)
    n = len(idx)
    u = rng.random((n, 4))
    legal = acc.legal
    name = [legal[i] if u[k, 0] < 0.6 else acc.short[i] for k, i in enumerate(idx.tolist())]
    kind = acc.kind[idx]
    typ = np.where(
        kind == PROSPECT,
        "Prospect",
        np.where(u[:, 1] < 0.85, "Customer - Direct", "Customer - Channel"),
    )
    owner = np.where(
        kind == CUSTOMER,
        np.array(lx.CSMS)[acc.csm[idx]],
        np.array(lx.ACCOUNT_EXECUTIVES)[acc.ae[idx]],
    )
    phones = noise.format_phones(
        rng,
        [acc.phone_cc[i] for i in idx],
        [acc.phone_national[i] for i in idx],
        missing=0.08,
        styles=(0.6, 0.4, 0.0, 0.0, 0.0),
    )
    employees = pa.array(acc.employees[idx], mask=u[:, 2] < 0.08)
    industry = [None if u[k, 3] < 0.05 else acc.industry[i] for k, i in enumerate(idx.tolist())]
    ids = acc.sf_id.take(pa.array(idx))
    truth.account_keys("salesforce", "accounts.csv", "Id", ids, idx)
    return pa.table(
        {
            "Id": ids,
            "Name": _s(name),
            "Website": _s([acc.website[i] for i in idx]),
            "Industry": _s(industry),
            "NumberOfEmployees": employees,
            "Type": pa.array(typ),
            "Customer_Segment__c": labels(lx.SEGMENT_LABELS, acc.segment[idx]),
            "BillingStreet": _s([acc.street[i] for i in idx]),
            "BillingCity": _s([acc.city[i] for i in idx]),
            "BillingState": _s([acc.state[i] for i in idx]),
            "BillingPostalCode": _s([acc.postal[i] for i in idx]),
            "BillingCountry": labels([c.name for c in lx.COUNTRIES], acc.country[idx]),
            "Phone": _s(phones),
            "Owner_Name": pa.array(owner),
            "CreatedDate": fmt(acc.created[idx], SALESFORCE),
            "LastModifiedDate": fmt(acc.modified[idx], SALESFORCE),
        }
    )


def salesforce_contacts(
    rng: np.random.Generator, acc: Accounts, people: People, truth: Truth
) -> tuple[pa.Table, pa.Array]:
    """Contacts table, and each person's contact id (null when not in the CRM)."""
    idx = np.nonzero(people.in_crm)[0].astype(np.int64)
    n = len(idx)
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in idx],
        [people.last[i] for i in idx],
        noise.NameNoise(typo=0.02),
    )
    email = noise.vary_emails(
        rng,
        [people.work_email[i] for i in idx],
        [people.personal_email[i] for i in idx],
        noise.EmailNoise(personal=0.03, missing=0.02),
    )
    phone = noise.format_phones(
        rng,
        [people.phone_cc[i] for i in idx],
        [people.phone_national[i] for i in idx],
        missing=0.3,
        styles=(0.5, 0.4, 0.1, 0.0, 0.0),
    )
    u = rng.random(n)
    title = [None if u[k] < 0.1 else people.title[i] for k, i in enumerate(idx.tolist())]
    ids = salesforce_ids("003", n, salt=3)
    account = people.account[idx]
    left = people.left[idx]
    modified = np.maximum(people.created[idx], left) + rng.integers(0, 60 * DAY, n)
    modified = np.minimum(modified, END - 1)
    truth.person_keys(
        "salesforce",
        "contacts.csv",
        "Id",
        ids,
        idx,
        _s(email),
        _s([f"{f} {la}" if f else la for f, la in zip(first, last, strict=True)]),
    )
    table = pa.table(
        {
            "Id": ids,
            "AccountId": acc.sf_id.take(pa.array(account)),
            "FirstName": _s(first),
            "LastName": _s(last),
            "Email": _s(email),
            "Phone": _s(phone),
            "Title": _s(title),
            "MailingCity": _s([people.city[i] for i in idx]),
            "MailingCountry": pa.array(
                np.array([c.name for c in lx.COUNTRIES])[people.country[idx]]
            ),
            "Champion__c": pa.array(people.role[idx] == lx.ROLE_CHAMPION),
            "Left_Company_Date__c": fmt(left, ISO_DATE),
            "CreatedDate": fmt(people.created[idx], SALESFORCE),
            "LastModifiedDate": fmt(modified, SALESFORCE),
        }
    )
    by_person = np.full(people.n, -1, dtype=np.int64)
    by_person[idx] = np.arange(n)
    contact_of = ids.take(pa.array(np.where(by_person >= 0, by_person, 0)))
    contact_of = pc.if_else(pa.array(by_person >= 0), contact_of, pa.nulls(people.n, pa.string()))
    return table, contact_of


def opportunities(
    rng: np.random.Generator, acc: Accounts, plan: Plan, subs: Subscriptions
) -> pa.Table:
    n = plan.n
    mrr = subs.mrr()
    rows: list[tuple[Arr, ...]] = []  # account, type, stage, amount, close
    first_mrr = mrr[np.arange(n), plan.first_month]
    rows.append((np.arange(n), np.zeros(n), np.full(n, 4), 12 * first_mrr, plan.signup))
    act = subs.activities
    up = (
        (act["type"] == EXPANSION)
        & (acc.segment[act["account"]] <= 1)
        & (act["seats"] > subs.seats[act["account"], np.maximum(act["month"] - 1, 0)])
    )
    up &= rng.random(len(up)) < 0.7
    a = act["account"][up]
    rows.append(
        (
            a,
            np.ones(len(a)),
            np.full(len(a), 4),
            12 * act["delta"][up],
            plan.billing_time(a, act["month"][up]),
        )
    )
    lost = np.nonzero((acc.segment[:n] <= 1) & (rng.random(n) < 0.3))[0]
    lost_month = plan.first_month[lost] + rng.integers(3, 30, len(lost))
    ok = (lost_month < MONTHS) & subs.billed[lost, np.minimum(lost_month, MONTHS - 1)]
    lost, lost_month = lost[ok], lost_month[ok]
    rows.append(
        (
            lost,
            np.ones(len(lost)),
            np.full(len(lost), 5),
            12 * mrr[lost, lost_month] // 4,
            plan.billing_time(lost, lost_month),
        )
    )
    annual = np.nonzero(acc.segment[:n] <= 1)[0]
    for year in (1, 2, 3):
        m = plan.first_month[annual] + 12 * year
        inside = m < MONTHS
        a, mm = annual[inside], m[inside]
        won = subs.billed[a, mm] & (plan.churn_month[a] != mm)
        rows.append(
            (
                a[won],
                np.full(int(won.sum()), 2),
                np.full(int(won.sum()), 4),
                12 * mrr[a[won], mm[won]],
                plan.billing_time(a[won], mm[won]),
            )
        )
        due = annual[~inside]
        close = plan.signup[due] + 365 * DAY * year
        soon = (close < END + 120 * DAY) & subs.alive_at_end()[due] & (close >= END)
        d = due[soon]
        left = (close[soon] - END) // DAY
        stage = np.where(left > 90, 1, np.where(left > 60, 2, 3))
        rows.append((d, np.full(len(d), 2), stage, 12 * mrr[d, MONTHS - 1], close[soon]))
    churn = np.nonzero(plan.churned & (acc.segment[:n] <= 1))[0]
    last_mrr = mrr[churn, np.maximum(plan.churn_month[churn] - 1, 0)]
    rows.append(
        (
            churn,
            np.full(len(churn), 2),
            np.full(len(churn), 5),
            12 * last_mrr,
            plan.churn_time()[churn],
        )
    )
    pros = np.nonzero(acc.kind == PROSPECT)[0]
    won_lost = rng.random(len(pros)) < 0.55
    guess = np.array([30_000_00, 4_000_00, 300_00])[acc.segment[pros]] * 12
    guess = (guess * rng.lognormal(0, 0.4, len(pros))).astype(np.int64) // 100 * 100
    span = np.maximum(END - acc.created[pros] - 30 * DAY, DAY)
    close = np.where(
        won_lost,
        acc.created[pros] + 30 * DAY + rng.integers(0, span),
        END + rng.integers(10, 120, len(pros)) * DAY,
    )
    rows.append(
        (
            pros,
            np.zeros(len(pros)),
            np.where(won_lost, 5, rng.integers(0, 4, len(pros))),
            guess,
            close,
        )
    )
    account = np.concatenate([r[0] for r in rows]).astype(np.int64)
    typ = np.concatenate([r[1] for r in rows]).astype(np.int64)
    stage = np.concatenate([r[2] for r in rows]).astype(np.int64)
    amount = np.concatenate([r[3] for r in rows]).astype(np.int64)
    close = np.concatenate([r[4] for r in rows]).astype(np.int64)
    k = len(account)
    created = close - rng.integers(14, 120, k) * DAY - rng.integers(0, DAY, k)
    created = np.where(stage <= 3, np.minimum(created, END - rng.integers(1, 60, k) * DAY), created)
    created = np.maximum(created, acc.created[account] - (typ == 0) * 60 * DAY)
    order = np.lexsort((account, created))
    account, typ, stage, amount, close, created = (
        x[order] for x in (account, typ, stage, amount, close, created)
    )
    year = fmt(close, YEAR)
    short = pa.array(acc.short).take(pa.array(account))
    label = labels(OPPORTUNITY_TYPES, typ)
    name = pc.binary_join_element_wise(short, pc.binary_join_element_wise(label, year, " "), " - ")
    return pa.table(
        {
            "Id": salesforce_ids("006", k, salt=6),
            "AccountId": acc.sf_id.take(pa.array(account)),
            "Name": name,
            "StageName": labels(STAGES, stage),
            "Amount": money(amount),
            "CurrencyIsoCode": labels(lx.CURRENCIES, acc.currency[account]),
            "Type": label,
            "CloseDate": fmt(close, ISO_DATE),
            "CreatedDate": fmt(created, SALESFORCE),
            "Owner_Name": labels(lx.ACCOUNT_EXECUTIVES, acc.ae[account]),
        }
    )


_COUNTRY_ALIASES = {
    "United States": ("USA", "US"),
    "United Kingdom": ("UK", "England"),
    "Germany": ("Deutschland",),
    "Netherlands": ("The Netherlands",),
}


def hubspot_contacts(
    rng: np.random.Generator, acc: Accounts, people: People, truth: Truth
) -> pa.Table:
    kind = np.where(people.account >= 0, acc.kind[np.maximum(people.account, 0)], -1)
    pick = (kind == LEAD) | ((kind >= 0) & (rng.random(people.n) < 0.6))
    idx = np.nonzero(pick)[0].astype(np.int64)
    n = len(idx)
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in idx],
        [people.last[i] for i in idx],
        noise.NameNoise(nickname=0.12, typo=0.03, lower=0.03, upper=0.01),
    )
    email = noise.vary_emails(
        rng,
        [people.work_email[i] for i in idx],
        [people.personal_email[i] for i in idx],
        noise.EmailNoise(personal=0.2, plus=0.03, case=0.05, typo=0.01),
    )
    phone = noise.format_phones(
        rng, [people.phone_cc[i] for i in idx], [people.phone_national[i] for i in idx], missing=0.5
    )
    a = people.account[idx]
    company = noise.vary_companies(
        rng,
        [acc.short[i] for i in a],
        [acc.suffix[i] for i in a],
        [acc.domain[i] for i in a],
        noise.CompanyNoise(
            short=0.5,
            suffix_style=0.3,
            case=0.1,
            ampersand=0.3,
            typo=0.04,
            domain=0.05,
            missing=0.15,
        ),
    )
    u = rng.random((n, 4))
    title = [None if u[k, 0] < 0.3 else people.title[i] for k, i in enumerate(idx.tolist())]
    city = [None if u[k, 1] < 0.2 else people.city[i] for k, i in enumerate(idx.tolist())]
    country: list[str | None] = []
    for k, i in enumerate(idx.tolist()):
        name = lx.COUNTRIES[int(people.country[i])].name
        alias = _COUNTRY_ALIASES.get(name, ())
        country.append(
            alias[int(u[k, 2] * 97) % len(alias)]
            if alias and u[k, 2] < 0.12
            else None
            if u[k, 2] > 0.95
            else name
        )
    stage_sets = {
        CUSTOMER: ("Customer", "Customer", "Customer", "Customer", "Evangelist"),
        PROSPECT: ("Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity"),
        LEAD: ("Subscriber", "Lead", "Lead", "Marketing Qualified Lead"),
    }
    stage = [
        stage_sets[int(kind[i])][int(u[k, 3] * len(stage_sets[int(kind[i])]))]
        for k, i in enumerate(idx.tolist())
    ]
    owners = np.array(lx.ACCOUNT_EXECUTIVES + lx.MARKETERS)
    owner = owners[
        np.where(kind[idx] == LEAD, len(lx.ACCOUNT_EXECUTIVES) + rng.integers(0, 2, n), acc.ae[a])
    ]
    owner_col = pc.if_else(pa.array(rng.random(n) < 0.1), pa.nulls(n, pa.string()), pa.array(owner))
    created = people.created[idx] - rng.integers(0, 90 * DAY, n)
    order = np.argsort(created, kind="stable")
    record = np.empty(n, dtype=np.int64)
    record[order] = increasing(rng, n, 1_000, (1, 40))
    modified = np.minimum(created + rng.integers(DAY, 500 * DAY, n), END - 1)
    names = [f"{f} {la}" if f else la for f, la in zip(first, last, strict=True)]
    truth.person_keys(
        "hubspot", "hubspot_contacts.csv", "Record ID", pa.array(record), idx, _s(email), _s(names)
    )
    table = pa.table(
        {
            "Record ID": pa.array(record),
            "First Name": _s(first),
            "Last Name": _s(last),
            "Email": _s(email),
            "Phone Number": _s(phone),
            "Company Name": _s(company),
            "Job Title": _s(title),
            "City": _s(city),
            "Country/Region": _s(country),
            "Lifecycle Stage": _s(stage),
            "Contact owner": owner_col,
            "Create Date": fmt(created, HUBSPOT),
            "Last Modified Date": fmt(modified, HUBSPOT),
        }
    )
    return table.take(pa.array(order))
