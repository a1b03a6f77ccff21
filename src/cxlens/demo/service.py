"""Support and staff notes: Zendesk tickets and Salesforce tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import lexicon as lx
from cxlens.demo import noise
from cxlens.demo import texts as tx
from cxlens.demo.arrays import labels
from cxlens.demo.churn import (
    CHAMPION_LEFT,
    PAYMENT_FAILURE,
    PRICE_INCREASE,
    SUPPORT_ISSUES,
    USAGE_DECLINE,
    Plan,
)
from cxlens.demo.clock import DAY, END, ISO_DATE, MONTH_START, NO_TIME, ZENDESK, fmt
from cxlens.demo.company import PROSPECT, Accounts, People, pick_people
from cxlens.demo.ids import increasing, salesforce_ids, scrambled
from cxlens.demo.revenue import Subscriptions
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64

PRIORITIES = ("Low", "Normal", "High", "Urgent")
STATUSES = ("new", "open", "pending", "solved", "closed")
VIA = ("Web form", "Email", "Chat", "Phone call (incoming)", "API")
_BASE_THEME = np.array([0.14, 0.22, 0.12, 0.26, 0.07, 0.14, 0.05])
_RATE = np.array([1.2, 0.45, 0.15])
_FIRST_REPLY = np.array([600.0, 240.0, 60.0, 20.0])
_SOLVE_HOURS = np.array([96.0, 48.0, 24.0, 6.0])
_SLA_DAYS = np.array([7, 4, 2, 1])


@dataclass
class Tickets:
    """What other generators need to know about the tickets."""

    table: pa.Table
    account: I64
    person: I64
    created: I64
    solved: I64
    priority: I64
    first_reply: I64
    theme: I64


def _base_tickets(
    rng: np.random.Generator, acc: Accounts, plan: Plan, subs: Subscriptions
) -> tuple[I64, I64]:
    a, m = np.nonzero(subs.billed)
    seats = subs.seats[a, m]
    lam = _RATE[acc.segment[a]] * np.clip((seats / 20.0) ** 0.3, 0.5, 3.0)
    k = rng.poisson(lam)
    a, m = np.repeat(a, k).astype(np.int64), np.repeat(m, k).astype(np.int64)
    span = MONTH_START[m + 1] - MONTH_START[m]
    t = MONTH_START[m] + (rng.random(len(a)) * span).astype(np.int64)
    t = np.maximum(t, plan.signup[a] + 3_600)
    churn = plan.churn_time()[a]
    keep = (t < END) & ((churn < 0) | (t < churn) | (plan.react_month[a] >= 0))
    return a[keep], t[keep]


def tickets(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    plan: Plan,
    subs: Subscriptions,
    truth: Truth,
) -> Tickets:
    a, t = _base_tickets(rng, acc, plan, subs)
    n0 = len(a)
    cdf = np.cumsum(_BASE_THEME)
    theme = np.searchsorted(cdf, rng.random(n0) * cdf[-1]).astype(np.int64)
    early = t < plan.signup[a] + 60 * DAY
    theme[early & (rng.random(n0) < 0.5)] = tx.ONBOARDING
    prio = np.searchsorted(np.cumsum([0.2, 0.55, 0.2, 0.05]), rng.random(n0)).astype(np.int64)
    prio = np.where((theme == tx.MISSING_FEATURE) & (prio > 1), 1, prio)
    burst = np.zeros(n0, dtype=np.int64)  # 0 normal, 1 noise burst, 2 churn-cause burst
    parts_a, parts_t, parts_theme, parts_prio, parts_burst = [a], [t], [theme], [prio], [burst]
    ep = plan.episodes.of(SUPPORT_ISSUES)
    k = rng.integers(2, 6, len(ep.account)) - (~ep.cause)
    ea = np.repeat(ep.account, k)
    et = np.repeat(ep.start, k) + (
        rng.random(len(ea)) * np.repeat(ep.end - ep.start + DAY, k)
    ).astype(np.int64)
    parts_a.append(ea)
    parts_t.append(np.minimum(et, END - 3_600))
    parts_theme.append(
        rng.choice(
            [tx.BUGS, tx.PERFORMANCE, tx.SUPPORT_SPEED], len(ea), p=[0.45, 0.35, 0.2]
        ).astype(np.int64)
    )
    parts_prio.append(rng.choice([2, 3], len(ea), p=[0.5, 0.5]).astype(np.int64))
    parts_burst.append(np.where(np.repeat(ep.cause, k), 2, 1).astype(np.int64))
    for signal, share in ((PAYMENT_FAILURE, 0.6), (PRICE_INCREASE, 0.25)):
        ep = plan.episodes.of(signal)
        pick = rng.random(len(ep.account)) < np.where(ep.cause, share, share / 3)
        parts_a.append(ep.account[pick])
        parts_t.append(
            np.minimum(ep.start[pick] + rng.integers(DAY, 10 * DAY, int(pick.sum())), END - 3_600)
        )
        parts_theme.append(np.full(int(pick.sum()), tx.BILLING))
        parts_prio.append(np.full(int(pick.sum()), 2 if signal == PAYMENT_FAILURE else 1))
        parts_burst.append(np.zeros(int(pick.sum()), dtype=np.int64))
    a = np.concatenate(parts_a).astype(np.int64)
    t = np.concatenate(parts_t).astype(np.int64)
    theme = np.concatenate(parts_theme).astype(np.int64)
    prio = np.concatenate(parts_prio).astype(np.int64)
    burst = np.concatenate(parts_burst)
    order = np.lexsort((a, t))
    a, t, theme, prio, burst = a[order], t[order], theme[order], prio[order], burst[order]
    n = len(a)
    slow = np.where(burst == 2, 5.0, np.where(burst == 1, 2.0, 1.0))
    reply = np.maximum(1, rng.lognormal(np.log(_FIRST_REPLY[prio] * slow), 0.9)).astype(np.int64)
    reply_at = t + reply * 60
    resolved = rng.random(n) < np.where(burst == 2, 0.45, np.where(burst == 1, 0.8, 0.97))
    solve = rng.lognormal(np.log(_SOLVE_HOURS[prio] * slow), 0.8) * 3_600
    solved = np.where(resolved, reply_at + solve.astype(np.int64), NO_TIME)
    solved = np.where(solved >= END, NO_TIME, solved)
    replied = reply_at < END
    u = rng.random(n)
    status = np.where(
        solved >= 0,
        np.where(solved < END - 4 * DAY, 4, 3),
        np.where(~replied, 0, np.where(u < 0.6, 1, 2)),
    )
    person = pick_people(rng, acc, people, a, t)
    ident = _requesters(rng, people, person, t, truth)
    requester_id, requester, email, identity = ident
    pol = tx.ticket_theme_polarity(theme, rng)
    subject, idea = tx.draw(rng, tx.SUBJECT, theme, pol)
    org = _organizations(rng, acc, a, truth)
    technical = np.isin(theme, [tx.BUGS, tx.PERFORMANCE])
    # Incident, Problem, Task, Question
    ticket_type = np.where(
        technical, np.where(u < 0.6, 0, 1), np.where((theme == tx.BILLING) & (u < 0.5), 2, 3)
    )
    # Billing, Tier 2, Technical Support, Customer Care
    group = np.where(theme == tx.BILLING, 0, np.where(technical, np.where(prio >= 2, 1, 2), 3))
    assignee = labels(lx.SUPPORT_AGENTS, rng.integers(0, len(lx.SUPPORT_AGENTS), n))
    assignee = pc.if_else(pa.array(status == 0), pa.nulls(n, pa.string()), assignee)
    via = rng.choice(len(VIA), size=n, p=[0.4, 0.35, 0.15, 0.07, 0.03])
    ids = increasing(rng, n, 1_000, (1, 1))
    table = pa.table(
        {
            "Id": pa.array(ids),
            "Requester id": requester_id.take(pa.array(identity)),
            "Requester": requester.take(pa.array(identity)),
            "Requester email": email.take(pa.array(identity)),
            "Organization": org,
            "Subject": subject,
            "Status": labels(STATUSES, status),
            "Priority": labels(PRIORITIES, prio),
            "Ticket type": labels(("Incident", "Problem", "Task", "Question"), ticket_type),
            "Via": labels(VIA, via),
            "Group": labels(("Billing", "Tier 2", "Technical Support", "Customer Care"), group),
            "Assignee": assignee,
            "Created at": fmt(t, ZENDESK),
            "First reply time in minutes": pa.array(reply, mask=~replied),
            "Due date": fmt(t + _SLA_DAYS[prio] * DAY, ZENDESK),
            "Solved at": fmt(solved, ZENDESK),
        }
    )
    truth.text_labels(
        "zendesk", "zendesk_tickets.csv", "Id", pa.array(ids), "Subject", theme, pol, idea
    )
    return Tickets(table, a, person, t, solved, prio, np.where(replied, reply, -1), theme)


def _requesters(
    rng: np.random.Generator, people: People, person: I64, when: I64, truth: Truth
) -> tuple[pa.Array, pa.Array, pa.Array, I64]:
    """Zendesk users: one per requester, a second one (personal email) for a few."""
    users, first_row = np.unique(person, return_index=True)
    second = people.in_crm[users] & (rng.random(len(users)) < 0.08)
    owner = np.concatenate([users, users[second]]).astype(np.int64)
    n1 = len(users)
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in owner],
        [people.last[i] for i in owner],
        noise.NameNoise(nickname=0.1, lower=0.05, initial=0.02, missing_first=0.05),
    )
    work = [people.work_email[i] for i in owner]
    personal = [people.personal_email[i] for i in owner]
    email = noise.vary_emails(
        rng, work[:n1], personal[:n1], noise.EmailNoise(personal=0.1, plus=0.05, case=0.03)
    )
    email += noise.vary_emails(
        rng, work[n1:], personal[n1:], noise.EmailNoise(personal=0.7, plus=1.0, case=0.1)
    )
    names = noise.full_names(first, last, rng)
    from_email = rng.random(len(owner)) < 0.05
    names = [
        (e or "").split("@")[0] if f and e else nm
        for nm, e, f in zip(names, email, from_email, strict=True)
    ]
    uid = 360_000_000_000 + scrambled(len(owner), 11, 5, base=10) // 10
    pos = np.searchsorted(users, person)
    identity = pos.copy()
    dup_of = np.full(n1, -1, dtype=np.int64)
    dup_of[np.nonzero(second)[0]] = n1 + np.arange(int(second.sum()))
    alt = dup_of[pos]
    later = (alt >= 0) & (when > when[first_row][pos]) & (rng.random(len(person)) < 0.6)
    identity[later] = alt[later]
    used = np.zeros(len(owner), dtype=bool)
    used[identity] = True
    uid_arr, name_arr, email_arr = pa.array(uid), pa.array(names), pa.array(email, type=pa.string())
    keep = np.nonzero(used)[0]
    truth.person_keys(
        "zendesk",
        "zendesk_tickets.csv",
        "Requester id",
        uid_arr.take(keep),
        owner[keep],
        email_arr.take(keep),
        name_arr.take(keep),
    )
    return uid_arr, name_arr, email_arr, identity


def _organizations(rng: np.random.Generator, acc: Accounts, account: I64, truth: Truth) -> pa.Array:
    """Zendesk organization names: one spelling per account, missing on some tickets."""
    orgs, inverse = np.unique(account, return_inverse=True)
    names = noise.vary_companies(
        rng,
        [acc.short[i] for i in orgs],
        [acc.suffix[i] for i in orgs],
        [acc.domain[i] for i in orgs],
        noise.CompanyNoise(short=0.6, suffix_style=0.3, case=0.05, ampersand=0.2, typo=0.02),
    )
    table = pa.array(names, type=pa.string())
    truth.account_keys(
        "zendesk", "zendesk_tickets.csv", "Organization", table, orgs.astype(np.int64)
    )
    return pc.if_else(
        pa.array(rng.random(len(account)) < 0.1),
        pa.nulls(len(account), pa.string()),
        table.take(pa.array(inverse)),
    )


_SIGNAL_NOTES = {
    CHAMPION_LEFT: (
        "Customer Success",
        "Note",
        "Champion left",
        "{name} has left {company}. We need a new executive sponsor.",
        tx.NO_THEME,
        tx.NEG,
    ),
    USAGE_DECLINE: (
        "Customer Success",
        "Call",
        "Usage dropping",
        "Active users at {company} are down sharply over the last weeks; the team "
        "seems to be moving work elsewhere.",
        tx.NO_THEME,
        tx.NEG,
    ),
    SUPPORT_ISSUES: (
        "Support",
        "Note",
        "Escalation",
        "Several urgent tickets open for {company}; the customer is frustrated "
        "with our response times.",
        tx.SUPPORT_SPEED,
        tx.NEG,
    ),
    PRICE_INCREASE: (
        "Customer Success",
        "Email",
        "Pricing pushback",
        "{company} is unhappy with the new pricing and asked about downgrading.",
        tx.BILLING,
        tx.NEG,
    ),
    PAYMENT_FAILURE: (
        "Customer Success",
        "Email",
        "Payment failed",
        "Card declined again for {company}; reminded finance to update the payment details.",
        tx.BILLING,
        tx.NEG,
    ),
}
_SIGNAL_SHARE = {
    CHAMPION_LEFT: (1.0, 1.0),
    USAGE_DECLINE: (0.5, 0.2),
    SUPPORT_ISSUES: (0.5, 0.2),
    PRICE_INCREASE: (0.6, 0.1),
    PAYMENT_FAILURE: (0.4, 0.2),
}
_ROLES = ("Sales", "Customer Success", "Support", "Field")


def tasks(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    plan: Plan,
    subs: Subscriptions,
    contact_of: pa.Array,
    detractors: tuple[I64, I64],
    truth: Truth,
) -> pa.Table:
    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("account", "time", "role", "kind", "routine", "theme", "pol", "text")
    }

    def add(
        account: I64,
        when: I64,
        role: int,
        routine: I64,
        theme: I64 | int,
        pol: I64 | int,
        text: Sequence[str | None] | None = None,
    ) -> None:
        k = len(account)
        rows["account"].append(account)
        rows["time"].append(when)
        rows["role"].append(np.full(k, role))
        rows["routine"].append(routine)
        rows["theme"].append(np.broadcast_to(np.asarray(theme), (k,)).copy())
        rows["pol"].append(np.broadcast_to(np.asarray(pol), (k,)).copy())
        rows["text"].append(np.array(text if text is not None else [None] * k, dtype=object))
        rows["kind"].append(rng.integers(0, 4, k))

    n = plan.n
    pros = np.nonzero(acc.kind == PROSPECT)[0]
    sales_acc = np.concatenate([np.repeat(np.arange(n), 3), np.repeat(pros, 2)]).astype(np.int64)
    anchor = np.where(sales_acc < n, plan.signup[np.minimum(sales_acc, n - 1)], END)
    anchor = np.where(sales_acc < n, anchor, acc.created[sales_acc] + 40 * DAY)
    when = anchor - rng.integers(3, 90, len(sales_acc)) * DAY
    pick = rng.integers(0, len(tx.ROUTINE_NOTES["Sales"]), len(sales_acc))
    add(sales_acc, np.minimum(when, END - DAY), 0, pick, tx.NO_THEME, tx.NEU)
    a, m = np.nonzero(subs.billed)
    rate = np.array([1.0, 0.4, 0.12])[acc.segment[a]]
    hits = rng.random(len(a)) < rate
    a, m = a[hits].astype(np.int64), m[hits].astype(np.int64)
    when = plan.billing_time(a, m) + rng.integers(0, 25 * DAY, len(a))
    feedback = rng.random(len(a)) < 0.2
    # routine CSM notes; the kickoff (index 3) only in an account's first month
    note = rng.integers(0, len(tx.ROUTINE_NOTES["Customer Success"]), len(a))
    note = np.where((note == 3) & (m != plan.first_month[a]), 1, note)
    note = np.where(m == plan.first_month[a], 3, note)
    add(a[~feedback], when[~feedback], 1, note[~feedback], tx.NO_THEME, tx.NEU)
    fa = a[feedback]
    theme = rng.choice(7, len(fa), p=[0.12, 0.12, 0.12, 0.12, 0.1, 0.22, 0.2]).astype(np.int64)
    pol = np.where(
        theme == tx.PRAISE, tx.POS, np.where(theme == tx.MISSING_FEATURE, tx.NEU, tx.NEG)
    )
    pol = np.where((theme == tx.ONBOARDING) & (rng.random(len(fa)) < 0.5), tx.POS, pol)
    add(fa, when[feedback], 1, np.full(len(fa), -1), theme, pol)
    ent = np.nonzero((acc.segment[:n] == 0) & subs.billed.any(axis=1))[0]
    visits = plan.signup[ent] + rng.integers(20, 400, len(ent)) * DAY
    churn = plan.churn_time()[ent]
    on_site = (churn < 0) | (visits < churn)
    ent, visits = ent[on_site], visits[on_site]
    add(ent, visits, 3, rng.integers(0, 2, len(ent)), tx.NO_THEME, tx.NEU)
    company = acc.short
    for signal, (role, _kind, _subject, text, theme_s, pol_s) in _SIGNAL_NOTES.items():
        ep = plan.episodes.of(signal)
        share = np.where(ep.cause, _SIGNAL_SHARE[signal][0], _SIGNAL_SHARE[signal][1])
        chosen = rng.random(len(ep.account)) < share
        ea = ep.account[chosen]
        when = ep.start[chosen] + rng.integers(3, 20, len(ea)) * DAY
        champ = acc.person_start[ea]
        texts = [
            text.format(name=f"{people.first[c]} {people.last[c]}", company=company[e])
            for c, e in zip(champ.tolist(), ea.tolist(), strict=True)
        ]
        add(ea, when, _ROLES.index(role), np.full(len(ea), -2 - signal), theme_s, pol_s, texts)
    da, dt = detractors
    called = rng.random(len(da)) < 0.3
    k = int(called.sum())
    add(
        da[called],
        dt[called] + rng.integers(1, 7, k) * DAY,
        1,
        np.full(k, -100),
        tx.NO_THEME,
        tx.NEG,
        ["Called after a low NPS score; the customer listed several frustrations."] * k,
    )
    return _task_table(rng, acc, people, contact_of, rows, truth)


def _task_table(
    rng: np.random.Generator,
    acc: Accounts,
    people: People,
    contact_of: pa.Array,
    rows: dict[str, list[np.ndarray]],
    truth: Truth,
) -> pa.Table:
    account = np.concatenate(rows["account"]).astype(np.int64)
    when = np.concatenate(rows["time"]).astype(np.int64)
    keep = when < END
    cols = {k: np.concatenate(v)[keep] for k, v in rows.items()}
    account, when = account[keep], when[keep]
    order = np.lexsort((account, when))
    cols = {k: v[order] for k, v in cols.items()}
    account, when = account[order], when[order]
    n = len(account)
    role = cols["role"].astype(np.int64)
    routine = cols["routine"].astype(np.int64)
    theme = cols["theme"].astype(np.int64)
    pol = cols["pol"].astype(np.int64)
    drawn, idea = tx.draw(
        rng,
        tx.NOTE,
        np.where(routine == -1, theme, tx.PRAISE),
        np.where(routine == -1, pol, tx.POS),
    )
    subject = np.empty(n, dtype=object)
    desc = np.empty(n, dtype=object)
    kinds = np.array(["Call", "Email", "Meeting", "Note"])[cols["kind"].astype(np.int64)]
    drawn_list = drawn.to_pylist()
    for i in range(n):
        r = int(routine[i])
        if r >= 0:
            notes = tx.ROUTINE_NOTES[_ROLES[int(role[i])]]
            subject[i], desc[i] = notes[r % len(notes)]
        elif r == -1:
            subject[i], desc[i] = "Customer feedback", drawn_list[i]
        elif r == -100:
            subject[i], desc[i], kinds[i] = "Detractor follow-up", cols["text"][i], "Call"
        else:
            spec = _SIGNAL_NOTES[-2 - r]
            subject[i], desc[i], kinds[i] = spec[2], cols["text"][i], spec[1]
    idea = np.where(routine == -1, idea, -1)
    who = pick_people(rng, acc, people, account, when)
    who_id = contact_of.take(pa.array(who))
    owner = np.where(
        role == 0,
        np.array(lx.ACCOUNT_EXECUTIVES)[acc.ae[account]],
        np.where(
            role == 1,
            np.array(lx.CSMS)[acc.csm[account]],
            np.where(
                role == 2,
                np.array(lx.SUPPORT_AGENTS)[account % 8],
                np.array(lx.FIELD_STAFF)[account % 3],
            ),
        ),
    )
    ids = salesforce_ids("00T", n, salt=9)
    truth.text_labels("salesforce", "tasks.csv", "Id", ids, "Description", theme, pol, idea)
    return pa.table(
        {
            "Id": ids,
            "WhoId": who_id,
            "WhatId": acc.sf_id.take(pa.array(account)),
            "Subject": pa.array(subject.tolist(), type=pa.string()),
            "Description": pa.array(desc.tolist(), type=pa.string()),
            "ActivityDate": fmt(when, ISO_DATE),
            "Type": pa.array(kinds),
            "Owner_Name": pa.array(owner),
            "Owner_Role": labels(_ROLES, role),
        }
    )
