"""Builds the demo company end to end: source files under data/, ground truth under truth/."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from cxlens.demo import community, orders, revenue, sales, service, usage, voice
from cxlens.demo import lexicon as lx
from cxlens.demo import texts as tx
from cxlens.demo import truth as tr
from cxlens.demo.arrays import labels
from cxlens.demo.churn import CAUSES, CHAMPION_LEFT, PRICE_INCREASE_FROM, Plan, plan_churn
from cxlens.demo.clock import DAY, ISO_DATE, REFERENCE_DATE, START_DATE, fmt, rng_for, to_date32
from cxlens.demo.company import Accounts, People, make_accounts, make_people
from cxlens.demo.writer import (
    write_csv,
    write_json,
    write_jsonl,
    write_parquet,
    write_parquet_batches,
    write_xlsx,
)
from cxlens.errors import DemoError

MAX_CUSTOMERS = 1_000_000
TRUTH_FILES = {
    "people.parquet": (
        "one row per (system, key_column, source_key) of a person record: the true person_id "
        "and account_id (null for members of the public); persons with several rows are "
        "planted duplicates"
    ),
    "accounts.parquet": (
        "one row per (system, key_column, source_key) naming a company (Salesforce Id, Stripe "
        "customer id, company names as typed in Zendesk and Shopify, deliveries' customer id): "
        "the true account_id"
    ),
    "churn.parquet": (
        "one row per churned customer account: churn date (the Churn MRR activity's date) and "
        "one or two planted causes"
    ),
    "signals.parquet": (
        "every planted signal episode: the churn causes (is_cause) and the same signals on "
        "accounts that never churned (noise)"
    ),
    "texts.parquet": (
        "theme and polarity (-1, 0, 1) of every generated text, keyed by the record that "
        "carries it; feature names the requested feature of missing-feature texts"
    ),
    "customers.parquet": (
        "per customer account: ids in each system, segment, signup, churn and MRR at the "
        "reference date"
    ),
    "buyers.parquet": "shop buyers' latent BG/NBD and Gamma-Gamma parameters",
}


@dataclass(frozen=True)
class DemoManifest:
    """What `generate_demo` wrote."""

    out_dir: Path
    customers: int
    seed: int
    reference_date: date
    #: source file name -> path (under out_dir/data)
    files: dict[str, Path] = field(default_factory=dict)
    #: file name (source or truth) -> number of rows or records
    rows: dict[str, int] = field(default_factory=dict)
    #: truth file name -> path (under out_dir/truth)
    truth: dict[str, Path] = field(default_factory=dict)


def generate_demo(
    out_dir: Path,
    customers: int = 2_000,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> DemoManifest:
    """Write the demo company's source exports and its planted ground truth.

    The same `customers` and `seed` always give byte-identical files: the history ends on
    `REFERENCE_DATE`, whatever today's date.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise DemoError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    # millions of short-lived rows make the cyclic collector rescan everything again and
    # again; nothing here builds reference cycles, so pause it while generating
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out_dir), customers, seed, progress)
    finally:
        if collecting:
            gc.enable()


def _generate(
    out_dir: Path, customers: int, seed: int, progress: Callable[[str], None] | None
) -> DemoManifest:
    say = progress or (lambda _msg: None)
    data = out_dir / "data"
    truth_dir = out_dir / "truth"
    data.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    rows: dict[str, int] = {}
    truth = tr.Truth()

    def out(name: str, count: int) -> None:
        files[name] = data / name
        rows[name] = count
        say(f"wrote {name} ({count:,} rows)")

    def r(stream: str) -> np.random.Generator:
        return rng_for(seed, stream)

    say(f"building {customers:,} customer accounts")
    acc = make_accounts(r("accounts"), customers)
    people = make_people(r("people"), acc)
    start_plan, start_seats = revenue.initial_plans(r("plans"), acc)
    plan = plan_churn(r("churn"), acc, start_plan <= 1)
    champions = plan.episodes.of(CHAMPION_LEFT)
    champ = acc.person_start[champions.account]
    people.left[champ] = np.maximum(champions.start, people.created[champ] + DAY)
    subs = revenue.simulate(r("subscriptions"), acc, plan, start_plan, start_seats)

    out(
        "accounts.csv",
        write_csv(
            data / "accounts.csv", sales.salesforce_accounts(r("salesforce-accounts"), acc, truth)
        ),
    )
    contacts, contact_of = sales.salesforce_contacts(r("salesforce-contacts"), acc, people, truth)
    out("contacts.csv", write_csv(data / "contacts.csv", contacts))
    del contacts
    customers_t, billing = revenue.stripe_customers(
        r("stripe-customers"), acc, people, plan, subs, truth
    )
    out("stripe_customers.csv", write_csv(data / "stripe_customers.csv", customers_t))
    out(
        "mrr_activities.csv",
        write_csv(
            data / "mrr_activities.csv",
            revenue.mrr_activities(r("mrr"), plan, subs, billing, acc.currency),
        ),
    )
    out(
        "stripe_invoices.csv",
        write_csv(
            data / "stripe_invoices.csv", revenue.invoices(r("invoices"), acc, plan, subs, billing)
        ),
    )
    out(
        "opportunities.csv",
        write_csv(
            data / "opportunities.csv", sales.opportunities(r("opportunities"), acc, plan, subs)
        ),
    )
    out(
        "hubspot_contacts.csv",
        write_csv(
            data / "hubspot_contacts.csv", sales.hubspot_contacts(r("hubspot"), acc, people, truth)
        ),
    )
    tickets = service.tickets(r("tickets"), acc, people, plan, subs, truth)
    out("zendesk_tickets.csv", write_csv(data / "zendesk_tickets.csv", tickets.table))
    shop = orders.orders(r("orders"), acc, people, plan, truth)
    out("shopify_orders.csv", write_csv(data / "shopify_orders.csv", shop.table))
    jobs = orders.deliveries(r("deliveries"), shop, subs, truth)
    out("deliveries.xlsx", write_xlsx(data / "deliveries.xlsx", "Deliveries", jobs.columns))
    answers, detractors = voice.surveys(
        r("surveys"), acc, people, plan, subs, tickets, shop, jobs, truth
    )
    out("survey_responses.csv", write_csv(data / "survey_responses.csv", answers))
    buyers = shop.buyers
    del answers, tickets, jobs, shop
    out(
        "tasks.csv",
        write_csv(
            data / "tasks.csv",
            service.tasks(r("tasks"), acc, people, plan, subs, contact_of, detractors, truth),
        ),
    )
    out(
        "social_mentions.csv",
        write_csv(data / "social_mentions.csv", community.social(r("social"), acc, people, truth)),
    )
    out(
        "community_posts.jsonl",
        write_jsonl(
            data / "community_posts.jsonl", community.community(r("community"), acc, people, truth)
        ),
    )
    say("writing weekly product usage")
    out(
        "product_usage.parquet",
        write_parquet_batches(
            data / "product_usage.parquet",
            usage.SCHEMA,
            usage.batches(seed, acc, people, plan, subs, truth),
        ),
    )

    say("writing ground truth")
    truth_files = _write_truth(truth_dir, truth, acc, people, plan, subs, buyers, seed, rows)
    return DemoManifest(
        out_dir=out_dir,
        customers=customers,
        seed=seed,
        reference_date=REFERENCE_DATE,
        files=files,
        rows=rows,
        truth=truth_files,
    )


def _write_truth(
    truth_dir: Path,
    truth: tr.Truth,
    acc: Accounts,
    people: People,
    plan: Plan,
    subs: revenue.Subscriptions,
    buyers: orders.Buyers,
    seed: int,
    rows: dict[str, int],
) -> dict[str, Path]:
    n = plan.n
    account_ids = acc.true_id
    builders: dict[str, Callable[[], pa.Table]] = {
        "people.parquet": lambda: tr.people_table(
            truth, people.true_id, people.account, account_ids
        ),
        "accounts.parquet": lambda: tr.accounts_table(truth, account_ids, acc.sf_id),
        "texts.parquet": lambda: tr.texts_table(truth),
        "churn.parquet": lambda: _churn_table(acc, plan, subs),
        "signals.parquet": lambda: _signals_table(acc, plan, subs),
        "customers.parquet": lambda: _customers_table(acc, plan, subs),
        "buyers.parquet": lambda: _buyers_table(acc, people, buyers),
    }
    paths: dict[str, Path] = {}
    for name, build in builders.items():
        # one at a time: each truth table can be large
        rows[f"truth/{name}"] = write_parquet(truth_dir / name, build())
        paths[name] = truth_dir / name
    churned = int(plan.churned.sum())
    write_json(
        truth_dir / "truth.json",
        {
            "seed": seed,
            "customers": n,
            "reference_date": REFERENCE_DATE.isoformat(),
            "history_starts": START_DATE.isoformat(),
            "price_increase_from": PRICE_INCREASE_FROM.isoformat(),
            "churned_accounts": churned,
            "churn_causes": list(CAUSES),
            "themes": list(tx.THEMES),
            "emerging_issue": {
                "theme": tx.THEMES[community.INCIDENT_THEME],
                "source": "social_mentions.csv",
                "days": community.INCIDENT_DAYS,
                "until": REFERENCE_DATE.isoformat(),
            },
            "requested_features": [
                {"feature": p, "topic": t, "segment": lx.SEGMENTS[s]} for p, t, s in tx.IDEAS
            ],
            "files": TRUTH_FILES,
            "rows": dict(sorted(rows.items())),
        },
    )
    paths["truth.json"] = truth_dir / "truth.json"
    return paths


def _churn_table(acc: Accounts, plan: Plan, subs: revenue.Subscriptions) -> pa.Table:
    idx = np.nonzero(plan.churned)[0].astype(np.int64)
    when = plan.churn_time()[idx]
    causes = plan.causes[idx]
    names = np.array(CAUSES + ("",), dtype=object)
    first, second = names[causes[:, 0]], names[np.where(causes[:, 1] >= 0, causes[:, 1], -1)]
    react = plan.react_month[idx]
    back = np.where(react >= 0, plan.billing_time(idx, np.maximum(react, 0)), -1)
    return pa.table(
        {
            "account_id": pa.array([acc.true_id[i] for i in idx], type=pa.string()),
            "salesforce_id": acc.sf_id.take(pa.array(idx)),
            "stripe_customer_id": subs.customer_id.take(pa.array(idx)),
            "churn_date": to_date32(when),
            "cause_1": pa.array(first.tolist(), type=pa.string()),
            "cause_2": pa.array([c or None for c in second.tolist()], type=pa.string()),
            "causes": pa.array(
                [
                    ";".join(c for c in (a, b) if c)
                    for a, b in zip(first.tolist(), second.tolist(), strict=True)
                ]
            ),
            "voluntary": pa.array(~(causes == CAUSES.index("payment_failure")).any(axis=1)),
            "reactivated_date": to_date32(back),
        }
    )


def _signals_table(acc: Accounts, plan: Plan, subs: revenue.Subscriptions) -> pa.Table:
    ep = plan.episodes
    return pa.table(
        {
            "account_id": pa.array([acc.true_id[i] for i in ep.account], type=pa.string()),
            "stripe_customer_id": subs.customer_id.take(pa.array(ep.account)),
            "signal": labels(CAUSES, ep.signal),
            "start": fmt(ep.start, ISO_DATE).cast(pa.date32()),
            "end": fmt(ep.end, ISO_DATE).cast(pa.date32()),
            "is_cause": pa.array(ep.cause),
            "churned": pa.array(plan.churned[ep.account]),
        }
    )


def _customers_table(acc: Accounts, plan: Plan, subs: revenue.Subscriptions) -> pa.Table:
    n = plan.n
    mrr = subs.mrr()[:, -1] * subs.alive_at_end()
    return pa.table(
        {
            "account_id": pa.array(acc.true_id[:n]),
            "salesforce_id": acc.sf_id.slice(0, n),
            "stripe_customer_id": subs.customer_id,
            "name": pa.array(acc.legal[:n]),
            "domain": pa.array(acc.domain[:n]),
            "segment": labels(lx.SEGMENTS, acc.segment[:n]),
            "country": labels([c.code for c in lx.COUNTRIES], acc.country[:n]),
            "currency": labels(lx.CURRENCIES, acc.currency[:n]),
            "signup_date": to_date32(plan.signup),
            "churned": pa.array(plan.churned),
            "churn_date": to_date32(plan.churn_time()),
            "active_at_reference": pa.array(subs.alive_at_end()),
            "mrr_at_reference": pa.array(mrr / 100.0),
            "price_increase": pa.array(plan.pi_month >= 0),
        }
    )


def _buyers_table(acc: Accounts, people: People, b: orders.Buyers) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([people.true_id[i] for i in b.person]),
            "account_id": pa.array([acc.true_id[i] for i in b.account]),
            "purchase_rate_per_month": pa.array(b.rate),
            "dropout_probability": pa.array(b.dropout),
            "spend_scale": pa.array(b.spend_scale),
            "first_purchase": to_date32(np.where(b.birth < b.death, b.birth, -1)),
            "dropped_out_at": to_date32(b.death),
        }
    )
