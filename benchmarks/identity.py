"""Identity resolution at scale: synthetic people with duplicates, linked end to end.

    python benchmarks/identity.py                          # 100k and 1M records
    python benchmarks/identity.py --records 100000 --diagnose
    python benchmarks/identity.py --records 100000 --json

Generates source records of people in the columns of `source_records`: distinct true persons
(names from Faker's US name pools with their frequencies, a work email at their company's
domain, a phone, a city, a country, a company) and about 20% duplicate records, each perturbed
the way sources perturb people: a typo in a name, a nickname, case changes, the email, phone or
city missing, first and last name swapped, a plus-addressed email; every record writes its
phone its own way. Records come from crm, billing, support and marketing, which spell names
differently ("First" + "Last", "First Last", "Last, First").

Each size then runs in a fresh process (so the memory high-water mark is that size's): the
records are written to a DuckDB workspace store with their provisional masters, as ingestion
leaves them (not timed), and `cxlens resolve` runs end to end (timed): reading the records,
normalising, rules, training, blocking, scoring, clustering, stable master ids, golden records,
audit, and writing everything back. `--engine-only` times only the linkage in the identity
engine (`prepare` + `link_records`), without the store and the masters. Prints the time split, peak
memory, counts and pairwise precision / recall / F1 of the person clusters against the true
persons. Target: 1M records in <= 60 s with F1 >= 0.98. Generation is not timed.
`--diagnose` adds which duplicates were missed (by perturbation, and whether blocking or the
score lost them) and samples of links that join two different persons.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from faker.providers.person.en_US import Provider as Names
from nicknames import NickNamer

from cxlens.identity.linkage import (
    Linkage,
    LinkageSettings,
    link_records,
)
from cxlens.identity.normalize import prepare
from cxlens.identity.provisional import link_unlinked_records
from cxlens.schema.records import SOURCE_RECORDS, Entity
from cxlens.store.base import arrow_schema
from cxlens.workspace import Workspace

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Strs = npt.NDArray[np.str_]

#: Reference figures measured earlier on this machine with a plain tutorial-style Splink
#: pipeline (from the issue): records -> (seconds, F1). Not re-measured here.
REFERENCE: dict[int, tuple[float, float | None]] = {
    100_000: (10.0, None),
    1_000_000: (120.0, 0.971),
}
TARGET_RECORDS, TARGET_SECONDS, TARGET_F1 = 1_000_000, 60.0, 0.98

# Perturbations of a duplicate record (bit flags, kept in the truth for diagnosis).
PERTURBATIONS: dict[str, int] = {
    "typo": 1,
    "nickname": 2,
    "case": 4,
    "no_email": 8,
    "no_phone": 16,
    "no_city": 32,
    "name_swap": 64,
    "email_plus": 128,
    "phone_format": 256,
}

SYSTEMS = np.array(["crm", "billing", "support", "marketing"])
SYSTEM_SHARE = [0.4, 0.25, 0.2, 0.15]
#: Systems with separate first/last name columns; the others only have `name`.
SPLIT_NAME_SYSTEMS = (0, 3)

#: (calling code, spellings, cities, share of companies)
COUNTRIES: list[tuple[str, list[str], list[str], float]] = [
    (
        "1",
        ["United States", "US", "USA", "United States of America"],
        ["New York", "San Francisco", "Chicago", "Austin", "Seattle", "Boston", "Denver",
         "Atlanta", "Los Angeles", "Miami"],
        0.55,
    ),
    (
        "44",
        ["United Kingdom", "UK", "GB", "England"],
        ["London", "Manchester", "Birmingham", "Leeds", "Bristol", "Edinburgh", "Glasgow"],
        0.15,
    ),
    (
        "49",
        ["Germany", "DE", "Deutschland"],
        ["Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne", "Stuttgart"],
        0.10,
    ),
    ("33", ["France", "FR"], ["Paris", "Lyon", "Marseille", "Toulouse", "Lille"], 0.08),
    ("1", ["Canada", "CA"], ["Toronto", "Vancouver", "Montreal", "Calgary", "Ottawa"], 0.07),
    ("61", ["Australia", "AU"], ["Sydney", "Melbourne", "Brisbane", "Perth"], 0.05),
]  # fmt: skip

COMPANY_WORDS = [
    "Blue", "Red", "Green", "Silver", "Golden", "Northern", "Southern", "Eastern", "Western",
    "Pacific", "Atlantic", "Summit", "Pioneer", "Bright", "Rapid", "Clear", "Prime", "Apex",
    "Nova", "Vertex", "Quantum", "Stellar", "Granite", "Cedar", "Maple", "Oak", "Pine", "River",
    "Harbor", "Lake", "Stone", "Iron", "Copper", "Crystal", "Eagle", "Falcon", "Fox", "Wolf",
    "Bear", "Lion", "Tiger", "Hawk", "Orion", "Atlas", "Titan", "Zenith", "Horizon", "Meridian",
    "Beacon", "Anchor", "Compass", "Keystone", "Evergreen", "Sunrise", "Crescent", "Liberty",
    "Heritage", "Frontier", "Vanguard", "Sterling", "Noble", "Royal", "Crown", "Unity",
    "Fusion", "Spark", "Swift", "Agile", "Bold", "Grand", "Urban", "Metro",
]  # fmt: skip
COMPANY_NOUNS = [
    "Data", "Cloud", "Soft", "Tech", "Logic", "Works", "Bridge", "Point", "Path", "Gate",
    "Field", "Line", "Wave", "Stream", "Peak", "Ridge", "Valley", "Forge", "Craft", "Mind",
    "Sense", "Scale", "Shift", "Core", "Grid", "Net", "Link", "Hub", "Box", "Mark", "Star",
    "Sky", "Sea", "Land", "Port", "View", "Vision", "Sphere", "Signal", "Flow",
]  # fmt: skip
COMPANY_SECTORS = [
    "Systems", "Solutions", "Analytics", "Labs", "Software", "Technologies", "Consulting",
    "Partners", "Industries", "Logistics", "Health", "Energy", "Media", "Capital",
]  # fmt: skip
#: Legal forms normalisation removes; each record spells its company with one of them.
LEGAL_SUFFIXES = ["", " Inc", " Inc.", " LLC", " Ltd", " Corp", " GmbH", " Group"]
TITLES = [
    "Account Manager", "VP Sales", "CTO", "CEO", "Engineer", "Data Analyst", "Head of IT",
    "Procurement Lead", "Marketing Manager", "Operations Director", "CFO", "Product Manager",
]  # fmt: skip
PLUS_TAGS = ["news", "crm", "billing", "work", "2024", "x"]


# --------------------------------------------------------------------------- generation


def _pool(names: dict[str, float]) -> tuple[Strs, npt.NDArray[np.float64]]:
    weights = np.array(list(names.values()), dtype=np.float64)
    return np.array(list(names), dtype="<U16"), weights / weights.sum()


def _nicknames(first: Strs) -> Strs:
    """A nickname per formal first name ("" if it has none), e.g. William -> Bill."""
    namer = NickNamer()
    out = []
    for name in first.tolist():
        nicks = sorted(n for n in namer.nicknames_of(name.lower()) if len(n) >= 2)
        out.append(nicks[len(nicks) // 2].title() if nicks else "")
    return np.array(out, dtype="<U16")


def _typos(names: Strs, rng: np.random.Generator) -> Strs:
    """One typo per name (swap two letters, drop one or replace one), never the first letter."""
    width = 16
    arr = np.ascontiguousarray(names, dtype=f"<U{width}")
    n = len(arr)
    codes = arr.view(np.uint32).reshape(n, width).copy()
    length = np.strings.str_len(arr)
    pos = 1 + (rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)  # 1 .. len-2
    op = rng.integers(0, 3, n)
    rows = np.arange(n)
    swap = rows[op == 0]
    a = codes[swap, pos[swap]].copy()
    codes[swap, pos[swap]] = codes[swap, pos[swap] + 1]
    codes[swap, pos[swap] + 1] = a
    drop = op == 1
    shifted = np.concatenate([codes[:, 1:], np.zeros((n, 1), np.uint32)], axis=1)
    codes[drop] = np.where(np.arange(width) >= pos[drop, None], shifted[drop], codes[drop])
    repl = rows[op == 2]
    old = codes[repl, pos[repl]].astype(np.int64) - ord("a")
    codes[repl, pos[repl]] = (ord("a") + (old + rng.integers(1, 26, len(repl))) % 26).astype(
        np.uint32
    )
    return codes.view(f"<U{width}").reshape(n)


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    arrays = [p if isinstance(p, pa.Array) else pa.scalar(p) for p in parts]
    return pc.binary_join_element_wise(*arrays, sep)


def _phones(nsn: I64, calling: pa.Array, nanp: Bools, fmt: I64) -> pa.Array:
    """Ten-digit national numbers written one of six ways (NANP and international styles)."""
    d = pc.cast(pa.array(nsn), pa.string())

    def part(a: int, b: int) -> pa.Array:
        return pc.utf8_slice_codeunits(d, a, b)

    g1, g2, g3 = part(0, 3), part(3, 6), part(6, 10)
    a, b, c = part(0, 2), part(2, 6), part(6, 10)
    us = [
        _join("+1 ", g1, " ", g2, " ", g3),
        _join("(", g1, ") ", g2, "-", g3),
        _join(g1, "-", g2, "-", g3),
        _join("+1", d),
        _join(g1, ".", g2, ".", g3),
        _join("1-", g1, "-", g2, "-", g3),
    ]
    intl = [
        _join("+", calling, " ", a, " ", b, " ", c),
        _join("+", calling, d),
        _join("00", calling, " ", a, " ", b, " ", c),
        _join("0", a, " ", b, " ", c),
        _join("0", a, "-", b, "-", c),
        _join("(0", a, ") ", b, " ", c),
    ]
    return pc.choose(pa.array(fmt + np.where(nanp, 0, 6)), *us, *intl)


def generate(n: int, duplicates: float, seed: int) -> tuple[pa.Table, pa.Table]:
    """(records in the columns of source_records, truth: record_id, person, base, flags)."""
    rng = np.random.default_rng(seed)
    n_dup = round(n * duplicates)
    n_person = n - n_dup

    # -- true persons and their companies
    first_pool, first_p = _pool(Names.first_names)
    last_pool, last_p = _pool(Names.last_names)
    nick_pool = _nicknames(first_pool)
    first_idx = rng.choice(len(first_pool), n_person, p=first_p)
    last_idx = rng.choice(len(last_pool), n_person, p=last_p)

    n_company = max(200, n_person // 20)
    words = (len(COMPANY_WORDS), len(COMPANY_NOUNS), len(COMPANY_SECTORS))
    combo = rng.choice(int(np.prod(words)), n_company, replace=False)
    w1, rest = np.divmod(combo, words[1] * words[2])
    w2, w3 = np.divmod(rest, words[2])
    c_w1 = pc.take(pa.array(COMPANY_WORDS), pa.array(w1))
    c_w2 = pc.take(pa.array(COMPANY_NOUNS), pa.array(w2))
    c_w3 = pc.take(pa.array(COMPANY_SECTORS), pa.array(w3))
    company_name = _join(c_w1, c_w2, " ", c_w3)
    company_domain = _join(pc.utf8_lower(_join(c_w1, c_w2, c_w3)), ".com")
    country_share = np.array([c[3] for c in COUNTRIES])
    company_country = rng.choice(len(COUNTRIES), n_company, p=country_share / country_share.sum())
    city_names = [city for c in COUNTRIES for city in c[2]]
    city_count = np.array([len(c[2]) for c in COUNTRIES])
    city_offset = np.concatenate([[0], np.cumsum(city_count)[:-1]])

    def city_in(country: I64) -> I64:
        within = (rng.random(len(country)) * city_count[country]).astype(np.int64)
        return np.asarray(city_offset[country] + within, np.int64)

    company_city = city_in(company_country)
    size = rng.lognormal(0.0, 1.2, n_company)
    person_company = rng.choice(n_company, n_person, p=size / size.sum())
    person_country = company_country[person_company]
    person_city = np.where(
        rng.random(n_person) < 0.8, company_city[person_company], city_in(person_country)
    )
    person_title = rng.integers(0, len(TITLES), n_person)
    nanp_codes = {i for i, c in enumerate(COUNTRIES) if c[0] == "1"}
    person_nanp = np.isin(person_country, list(nanp_codes))
    person_nsn = np.where(
        person_nanp,
        rng.integers(2, 10, n_person) * 10**9
        + rng.integers(0, 10, n_person) * 10**8
        + rng.integers(2, 10, n_person) * 10**7
        + rng.integers(0, 10**7, n_person),
        rng.integers(10**9, 10**10, n_person),
    )

    # Work emails: first.last, flast, first_last, firstl or first at the company domain;
    # colleagues who would share one get a number (john.smith2).
    f = pc.utf8_lower(pa.array(first_pool[first_idx]))
    la = pc.utf8_lower(pa.array(last_pool[last_idx]))
    fi, li = pc.utf8_slice_codeunits(f, 0, 1), pc.utf8_slice_codeunits(la, 0, 1)
    pattern = rng.choice(5, n_person, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    local = pc.choose(
        pa.array(pattern), _join(f, ".", la), _join(fi, la), _join(f, "_", la), _join(f, li), f
    )
    domain = pc.take(company_domain, pa.array(person_company))
    address = _join(local, "@", domain)
    group = np.asarray(address.dictionary_encode().indices.to_numpy(), dtype=np.int64)
    order = np.argsort(group, kind="stable")
    first_of = np.searchsorted(group[order], group[order])
    rank = np.empty(n_person, np.int64)
    rank[order] = np.arange(n_person) - first_of
    suffix = pc.cast(pa.array(rank + 1), pa.string())
    local = pc.if_else(pa.array(rank > 0), _join(local, suffix), local)

    # -- records: one base record per person, then the duplicates
    person = np.concatenate([np.arange(n_person), rng.integers(0, n_person, n_dup)])
    shuffle = rng.permutation(n)
    person = person[shuffle]
    is_dup = (np.arange(n) >= n_person)[shuffle]
    system = rng.choice(len(SYSTEMS), n, p=SYSTEM_SHARE)
    fmt = rng.integers(0, 6, n)
    base_of = np.empty(n_person, np.int64)
    base_of[person[~is_dup]] = np.flatnonzero(~is_dup)

    flags = np.zeros(n, np.uint16)

    def flag(name: str, p: float, where: Bools | None = None) -> Bools:
        hit = is_dup & (rng.random(n) < p)
        if where is not None:
            hit &= where
        flags[hit] |= PERTURBATIONS[name]
        return hit

    first = first_pool[first_idx[person]]
    last = last_pool[last_idx[person]]
    nick = nick_pool[first_idx[person]]
    m = flag("nickname", 0.2, nick != "")
    first[m] = nick[m]
    m = flag("typo", 0.3)
    on_first = m & (rng.random(n) < 0.5) & (np.strings.str_len(first) >= 3)
    on_last = m & ~on_first & (np.strings.str_len(last) >= 3)
    flags[m & ~on_first & ~on_last] &= ~np.uint16(PERTURBATIONS["typo"])
    first[on_first] = _typos(first[on_first], rng)
    last[on_last] = _typos(last[on_last], rng)
    m = flag("name_swap", 0.05)
    first[m], last[m] = last[m], first[m].copy()
    case = flag("case", 0.2)
    upper = case & (rng.random(n) < 0.5)
    lower = case & ~upper
    first[upper], last[upper] = np.strings.upper(first[upper]), np.strings.upper(last[upper])
    first[lower], last[lower] = np.strings.lower(first[lower]), np.strings.lower(last[lower])
    missing = rng.choice(3, n, p=[0.15 / 0.35, 0.1 / 0.35, 0.1 / 0.35])
    drop = flag("no_email", 0.35)  # one of email, phone, city goes missing
    flags[drop] &= ~np.uint16(PERTURBATIONS["no_email"])
    for i, name in enumerate(("no_email", "no_phone", "no_city")):
        flags[drop & (missing == i)] |= PERTURBATIONS[name]
    plus = flag("email_plus", 0.15)
    fmt_changed = is_dup & (fmt != fmt[base_of[person]])
    flags[fmt_changed] |= PERTURBATIONS["phone_format"]

    def has(name: str) -> pa.Array:
        return pa.array(flags & PERTURBATIONS[name] > 0)

    fa, lna = pa.array(first), pa.array(last)
    split = pa.array(np.isin(system, SPLIT_NAME_SYSTEMS))
    comma = pa.array((SYSTEMS[system] == "billing") & (rng.random(n) < 0.3))
    null_str = pa.scalar(None, pa.string())
    name = pc.if_else(split, null_str, pc.if_else(comma, _join(lna, ", ", fa), _join(fa, " ", lna)))
    rec_local = pc.take(local, pa.array(person))
    tag = pc.take(pa.array(PLUS_TAGS), pa.array(rng.integers(0, len(PLUS_TAGS), n)))
    rec_local = pc.if_else(pa.array(plus), _join(rec_local, "+", tag), rec_local)
    email = _join(rec_local, "@", pc.take(domain, pa.array(person)))
    email = pc.if_else(pa.array(upper), pc.utf8_upper(email), email)
    email = pc.if_else(has("no_email"), null_str, email)
    calling = pc.take(pa.array([c[0] for c in COUNTRIES]), pa.array(person_country[person]))
    phone = _phones(person_nsn[person], calling, person_nanp[person], fmt)
    phone = pc.if_else(has("no_phone"), null_str, phone)
    city = pc.take(pa.array(city_names), pa.array(person_city[person]))
    city = pc.if_else(pa.array(upper), pc.utf8_upper(city), city)
    city = pc.if_else(has("no_city"), null_str, city)
    spellings = [s for c in COUNTRIES for s in c[1]]
    sp_count = np.array([len(c[1]) for c in COUNTRIES])
    sp_offset = np.concatenate([[0], np.cumsum(sp_count)[:-1]])
    rec_country = person_country[person]
    country = pc.take(
        pa.array(spellings),
        pa.array(sp_offset[rec_country] + (rng.random(n) * sp_count[rec_country]).astype(int)),
    )
    company = _join(
        pc.take(company_name, pa.array(person_company[person])),
        pc.take(pa.array(LEGAL_SUFFIXES), pa.array(rng.integers(0, len(LEGAL_SUFFIXES), n))),
    )
    company = pc.if_else(pa.array(upper), pc.utf8_upper(company), company)
    is_crm = pa.array(SYSTEMS[system] == "crm")
    title = pc.if_else(is_crm, pc.take(pa.array(TITLES), pa.array(person_title[person])), null_str)
    sys_arr = pa.array(SYSTEMS[system])
    source_key = _join("k", pc.cast(pa.array(np.arange(n)), pa.string()))
    record_id = _join(sys_arr, ":", source_key)
    start = np.datetime64("2021-01-01T00:00:00", "us")
    created = start + rng.integers(0, 3 * 365 * 86_400, n) * 1_000_000
    updated = created + rng.integers(0, 365 * 86_400, n) * 1_000_000

    schema = arrow_schema(SOURCE_RECORDS)
    filled: dict[str, pa.Array] = {
        "record_id": record_id,
        "system": sys_arr,
        "source_key": source_key,
        "source": sys_arr,
        "entity": pa.array(np.full(n, "person")),
        "name": name,
        "first_name": pc.if_else(split, fa, null_str),
        "last_name": pc.if_else(split, lna, null_str),
        "email": email,
        "phone": phone,
        "title": title,
        "company": company,
        "city": city,
        "country": country,
        "created_at": pa.array(created),
        "updated_at": pa.array(updated),
        "content_hash": _join("h", source_key),
        "load_id": pa.array(np.full(n, "bench")),
    }
    columns = [
        filled[f.name].cast(f.type) if f.name in filled else pa.nulls(n, f.type) for f in schema
    ]
    records = pa.Table.from_arrays(columns, schema=schema)
    truth = pa.table(
        {
            "record_id": record_id,
            "person": pa.array(person),
            "base_record": pa.array(base_of[person]),
            "duplicate": pa.array(is_dup),
            "flags": pa.array(flags),
        }
    )
    return records, truth


# --------------------------------------------------------------------------- evaluation


def _pairs(counts: I64) -> int:
    return int((counts * (counts - 1) // 2).sum())


def pairwise(labels: I64, truth: I64) -> dict[str, float]:
    """Pairwise precision, recall and F1 from cluster, truth and intersection sizes."""
    _, predicted = np.unique(labels, return_counts=True)
    _, actual = np.unique(truth, return_counts=True)
    _, both = np.unique(labels * (int(truth.max()) + 1) + truth, return_counts=True)
    tp, p, t = _pairs(both), _pairs(predicted), _pairs(actual)
    precision = tp / p if p else 1.0
    recall = tp / t if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": t,
        "predicted_pairs": p,
        "correct_pairs": tp,
    }


def _flag_names(mask: int) -> str:
    return "+".join(k for k, v in PERTURBATIONS.items() if mask & v) or "none"


def diagnose(
    engine: duckdb.DuckDBPyConnection, linkage: Linkage, truth: pa.Table, pos: I64
) -> dict[str, Any]:
    """Which duplicates stayed apart from their person's base record, and why; wrong links."""
    n = len(truth)
    label = np.full(n, -1, np.int64)
    label[pos] = linkage.labels
    person = truth["person"].to_numpy()
    base = truth["base_record"].to_numpy()
    dup = truth["duplicate"].to_numpy(zero_copy_only=False)
    flags = truth["flags"].to_numpy().astype(np.int64)
    missed = dup & (label != label[base])
    by_flag = {}
    for name, bit in PERTURBATIONS.items():
        has = dup & (flags & bit > 0)
        by_flag[name] = {
            "duplicates": int(has.sum()),
            "missed": int((has & missed).sum()),
            "miss_rate": float((has & missed).sum() / max(int(has.sum()), 1)),
        }
    combos: dict[str, int] = {}
    for mask, count in zip(*np.unique(flags[missed], return_counts=True), strict=True):
        combos[_flag_names(int(mask))] = int(count)
    ids = truth["record_id"]
    idx = np.flatnonzero(missed)
    miss = pa.table(
        {"a": pc.take(ids, pa.array(idx)), "b": pc.take(ids, pa.array(base[idx])), "i": idx}
    )
    engine.register("_missed", miss)
    engine.register("_review", linkage.review)
    why = engine.sql(
        """
        SELECT CASE WHEN c.join_key_l IS NULL THEN 'not a candidate (blocking)'
                    WHEN r.probability IS NOT NULL THEN 'in review (review <= p < match threshold)'
                    ELSE 'scored below review threshold' END AS reason, count(*) AS n
        FROM _missed AS m
        LEFT JOIN _candidates AS c ON c.join_key_l = least(m.a, m.b)
             AND c.join_key_r = greatest(m.a, m.b)
        LEFT JOIN _review AS r ON r.unique_id_l = least(m.a, m.b)
             AND r.unique_id_r = greatest(m.a, m.b)
        GROUP BY ALL ORDER BY n DESC
        """
    ).fetchall()
    show = "first_name, last_name, email, phone_tail, company, city, country, org"
    examples = engine.sql(
        f"""
        SELECT m.i, l.unique_id, {", ".join("l." + c for c in show.split(", "))},
               r.unique_id, {", ".join("r." + c for c in show.split(", "))}
        FROM (SELECT * FROM _missed USING SAMPLE 8 ROWS (reservoir, 3)) AS m
        JOIN people AS l ON l.unique_id = m.a JOIN people AS r ON r.unique_id = m.b
        """
    ).fetchall()
    missed_examples = [
        {"flags": _flag_names(int(flags[row[0]])), "dup": row[1:10], "base": row[10:]}
        for row in examples
    ]
    engine.unregister("_missed")
    engine.unregister("_review")

    # Wrong links: links joining records of different persons.
    links = linkage.links
    where = pc.index_in(links["unique_id_l"], value_set=ids).to_numpy(zero_copy_only=False)
    where_r = pc.index_in(links["unique_id_r"], value_set=ids).to_numpy(zero_copy_only=False)
    wrong = person[where] != person[where_r]
    kinds: dict[str, int] = {}
    method = links["method"].to_numpy(zero_copy_only=False)
    rule = links["rule"].to_numpy(zero_copy_only=False)
    for mth, rl in zip(method[wrong], rule[wrong], strict=True):
        key = f"{mth}:{rl}" if rl else str(mth)
        kinds[key] = kinds.get(key, 0) + 1
    wl = links.filter(pa.array(wrong))
    engine.register("_wrong", wl)
    wrong_examples = [
        {"probability": row[0], "l": row[1:9], "r": row[9:]}
        for row in engine.sql(
            f"""
            SELECT w.probability, {", ".join("l." + c for c in show.split(", "))},
                   {", ".join("r." + c for c in show.split(", "))}
            FROM (SELECT * FROM _wrong USING SAMPLE 8 ROWS (reservoir, 3)) AS w
            JOIN people AS l ON l.unique_id = w.unique_id_l
            JOIN people AS r ON r.unique_id = w.unique_id_r
            """
        ).fetchall()
    ]
    engine.unregister("_wrong")
    return {
        "duplicates": int(dup.sum()),
        "missed_duplicates": int(missed.sum()),
        "by_perturbation": by_flag,
        "missed_by_combination": dict(sorted(combos.items(), key=lambda kv: -kv[1])[:12]),
        "missed_reason": {r: int(c) for r, c in why},
        "missed_examples": missed_examples,
        "wrong_links": int(wrong.sum()),
        "wrong_links_by_kind": kinds,
        "wrong_link_examples": wrong_examples,
    }


# --------------------------------------------------------------------------- measurement


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _duckdb_mb(engine: duckdb.DuckDBPyConnection) -> float:
    [(used,)] = engine.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
    return float(used or 0) / 2**20


class _DuckDBPeak(threading.Thread):
    """Samples DuckDB's buffer-managed memory every `interval` seconds from its own cursor."""

    def __init__(self, engine: duckdb.DuckDBPyConnection, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.cursor = engine.cursor()
        self.interval = interval
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, _duckdb_mb(self.cursor))

    def stop(self) -> float:
        self.done.set()
        self.join()
        self.cursor.close()
        return self.peak


def measure(data: Path, want_diagnosis: bool) -> dict[str, Any]:
    """One timed end-to-end run over the records in `data` (meant for a fresh process)."""
    records = pq.read_table(data / "records.parquet")
    truth = pq.read_table(data / "truth.parquet")
    rss_before = _rss_mb()
    engine = duckdb.connect()
    sampler = _DuckDBPeak(engine)
    sampler.start()

    started = time.perf_counter()
    engine.register("_input", records)
    engine.execute("CREATE TABLE records AS SELECT * FROM _input")
    engine.unregister("_input")
    loaded = time.perf_counter()
    prepare(engine)
    prepared = time.perf_counter()
    linkages = link_records(engine, LinkageSettings())
    finished = time.perf_counter()

    duckdb_peak = sampler.stop()
    duckdb_end = _duckdb_mb(engine)
    people, accounts = linkages[Entity.PERSON], linkages[Entity.ACCOUNT]
    link_total = finished - prepared
    timings = {
        "total": finished - started,
        "load": loaded - started,
        "prepare": prepared - loaded,
        **{k: v for k, v in people.timings.items()},
        "accounts+orgs": link_total - sum(people.timings.values()),
    }
    pos = np.asarray(
        pc.index_in(people.ids, value_set=truth["record_id"]).to_numpy(zero_copy_only=False),
        np.int64,
    )
    assert (pos >= 0).all() and len(pos) == len(truth)
    person = truth["person"].to_numpy()[pos]
    result: dict[str, Any] = {
        "records": len(records),
        "persons": int(len(np.unique(truth["person"].to_numpy()))),
        "timings": timings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before,
        "duckdb_peak_mb": duckdb_peak,
        "duckdb_end_mb": duckdb_end,
        "duckdb_settings": engine.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchall()[0],
        "counts": people.counts,
        "account_counts": accounts.counts,
        "metrics": pairwise(np.asarray(people.labels, np.int64), person),
    }
    if want_diagnosis:
        result["diagnosis"] = diagnose(engine, people, truth, pos)
    engine.close()
    return result


def measure_store(data: Path) -> dict[str, Any]:
    """`cxlens resolve` end to end through a DuckDB workspace (meant for a fresh process).

    Not timed: writing the records into the store and giving each its provisional master,
    as ingestion leaves them. Timed: the whole run — reading the records from the store,
    normalising, rules, training, blocking, scoring, clustering, stable ids, golden records,
    audit, and writing links, masters and golden attributes back in one transaction."""
    records = pq.read_table(data / "records.parquet")
    truth = pq.read_table(data / "truth.parquet")
    root = Path(tempfile.mkdtemp(prefix="cxlens-identity-store-"))
    ws = Workspace.init(root)
    with ws.store.transaction():
        ws.store.append(SOURCE_RECORDS, records)
        link_unlinked_records(ws.store)
    del records
    rss_before = _rss_mb()
    report = ws.identity.resolve()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    links = ws.store.query(
        "SELECT record_id, master_id FROM record_links WHERE entity = 'person' ORDER BY record_id"
    )
    pos = np.asarray(
        pc.index_in(links["record_id"], value_set=truth["record_id"]).to_numpy(
            zero_copy_only=False
        ),
        np.int64,
    )
    masters = np.asarray(
        pc.dictionary_encode(links["master_id"]).combine_chunks().indices, np.int64
    )
    person = truth["person"].to_numpy()[pos]
    people = report.entities["person"]
    result: dict[str, Any] = {
        "records": len(truth),
        "persons": int(len(np.unique(truth["person"].to_numpy()))),
        "timings": {"total": report.seconds, **report.timings},
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "duckdb_peak_mb": float("nan"),
        "duckdb_end_mb": float("nan"),
        "duckdb_settings": ("store", "default"),
        "counts": {
            "records": people.records,
            "masters": people.masters,
            "rule_links": people.rule_links,
            "probabilistic_links": people.probabilistic_links,
            "candidates": people.candidates,
            "review": people.review,
        },
        "account_counts": {},
        "metrics": pairwise(masters, person),
    }
    ws.close()
    shutil.rmtree(root, ignore_errors=True)
    return result


def run_child(data: Path, want_diagnosis: bool, engine_only: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(data)]
    if want_diagnosis:
        cmd.append("--diagnose")
    if engine_only:
        cmd.append("--engine-only")
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the timings over runs, the highest memory, the first run's counts."""
    out = dict(runs[0])
    out["runs"] = len(runs)
    out["timings"] = {
        k: statistics.median(r["timings"][k] for r in runs) for k in runs[0]["timings"]
    }
    for k in ("peak_rss_mb", "duckdb_peak_mb"):
        out[k] = max(r[k] for r in runs)
    return out


# --------------------------------------------------------------------------- reporting


def print_table(results: list[dict[str, Any]]) -> None:
    head = f"{'':28}" + "".join(f"{r['records']:>14,}" for r in results)
    print("\nidentity resolution (median of runs; fresh process per size)")
    print(head)
    print("-" * len(head))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:28}" + "".join(f"{v:>14}" for v in values))

    row("true persons", [f"{r['persons']:,}" for r in results])
    row("runs", [str(r["runs"]) for r in results])
    for k in results[0]["timings"]:
        label = "total s" if k == "total" else f"  {k} s"
        row(label, [f"{r['timings'][k]:.2f}" for r in results])
    row("records/s", [f"{r['records'] / r['timings']['total']:,.0f}" for r in results])
    row("peak RSS MB", [f"{r['peak_rss_mb']:,.0f}" for r in results])
    row("  RSS before timed part MB", [f"{r['rss_before_mb']:,.0f}" for r in results])
    engine_only = not all(np.isnan(float(r["duckdb_peak_mb"])) for r in results)
    if engine_only:
        row("  DuckDB peak MB (sampled)", [f"{r['duckdb_peak_mb']:,.0f}" for r in results])
        row("  DuckDB at end MB", [f"{r['duckdb_end_mb']:,.0f}" for r in results])
    for k in results[0]["counts"]:
        row(f"{k}", [f"{r['counts'][k]:,}" for r in results])
    for k in ("precision", "recall", "f1"):
        row(f"pairwise {k}", [f"{r['metrics'][k]:.4f}" for r in results])
    row("true pairs", [f"{r['metrics']['true_pairs']:,}" for r in results])
    row("predicted pairs", [f"{r['metrics']['predicted_pairs']:,}" for r in results])

    if engine_only:
        limit, threads = results[0]["duckdb_settings"]
        print(f"(DuckDB in memory: memory_limit {limit}, threads {threads}; peak RSS includes")
        print(" the input Arrow table, read before the timed part: see 'RSS before timed part')")
    else:
        print("(end to end through a DuckDB workspace store; peak RSS is the whole process)")

    for r in results:
        t = r["timings"]
        steps = {k: v for k, v in t.items() if k != "total"}
        top = max(steps, key=lambda k: steps[k])
        print(f"\n{r['records']:,}: slowest step {top} ({steps[top] / t['total']:.0%} of total)")
        if r["records"] == TARGET_RECORDS:
            ok = t["total"] <= TARGET_SECONDS and r["metrics"]["f1"] >= TARGET_F1
            print(
                f"  target 1M <= {TARGET_SECONDS:.0f} s with F1 >= {TARGET_F1}: "
                f"{t['total']:.1f} s, F1 {r['metrics']['f1']:.4f} -> {'MET' if ok else 'NOT MET'}"
            )
        if r["records"] in REFERENCE:
            ref_s, ref_f1 = REFERENCE[r["records"]]
            f1_note = f", F1 {ref_f1}" if ref_f1 is not None else ""
            ratio = t["total"] / ref_s
            speed = f"{ratio:.1f}x slower" if ratio > 1 else f"{1 / ratio:.1f}x faster"
            print(
                f"  vs plain tutorial-style Splink pipeline ({ref_s:.0f} s{f1_note}; reference "
                f"figures measured earlier on this machine, not re-run): time ratio ours / "
                f"reference = {ratio:.2f} ({speed})"
            )
        if "diagnosis" in r:
            print_diagnosis(r["diagnosis"])


def print_diagnosis(d: dict[str, Any]) -> None:
    print(
        f"  duplicates apart from their person's base record: {d['missed_duplicates']:,} "
        f"of {d['duplicates']:,}"
    )
    print(f"  {'perturbation':14}{'duplicates':>12}{'missed':>9}{'miss rate':>11}")
    for name, v in d["by_perturbation"].items():
        print(f"  {name:14}{v['duplicates']:>12,}{v['missed']:>9,}{v['miss_rate']:>11.2%}")
    print("  missed, by combination of perturbations:")
    for k, v in d["missed_by_combination"].items():
        print(f"    {v:>7,}  {k}")
    print("  why missed:")
    for k, v in d["missed_reason"].items():
        print(f"    {v:>7,}  {k}")
    print("  missed examples (first, last, email, phone_tail, company, city, country, org):")
    for e in d["missed_examples"]:
        print(f"    [{e['flags']}]\n      dup  {e['dup']}\n      base {e['base']}")
    print(f"  wrong links (joining two persons): {d['wrong_links']:,} {d['wrong_links_by_kind']}")
    for e in d["wrong_link_examples"]:
        print(f"    p={e['probability']:.3f}\n      {e['l']}\n      {e['r']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of duplicates")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated data here")
    parser.add_argument("--diagnose", action="store_true", help="missed and wrong links")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="time the linkage in the identity engine only (no store, no masters)",
    )
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        if args.engine_only or args.diagnose:
            print(json.dumps(measure(args.child, args.diagnose), default=str))
        else:
            print(json.dumps(measure_store(args.child), default=str))
        return

    base = args.workdir or Path(tempfile.mkdtemp(prefix="cxlens-identity-"))
    base.mkdir(parents=True, exist_ok=True)
    log = sys.stderr if args.json else sys.stdout
    results = []
    for n in args.records:
        data = base / f"people-{n}-{args.duplicates}-{args.seed}"
        if not (data / "truth.parquet").exists():
            t = time.perf_counter()
            records, truth = generate(n, args.duplicates, args.seed)
            gen_s = time.perf_counter() - t
            data.mkdir(parents=True, exist_ok=True)
            pq.write_table(records, data / "records.parquet")
            pq.write_table(truth, data / "truth.parquet")
            del records, truth
            print(f"generated {n:,} records in {gen_s:.1f} s (not timed; {data})", file=log)
        runs = []
        for i in range(args.repeat):
            runs.append(run_child(data, args.diagnose, args.engine_only))
            print(
                f"{n:,} records, run {i + 1}: {runs[-1]['timings']['total']:.1f} s, "
                f"F1 {runs[-1]['metrics']['f1']:.4f}",
                file=log,
            )
        results.append(summarise(runs))
    if args.workdir is None:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(
            json.dumps(
                {"reference_measured_earlier": REFERENCE, "results": results}, indent=2, default=str
            )
        )
    else:
        print_table(results)


if __name__ == "__main__":
    main()
