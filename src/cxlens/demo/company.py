"""The demo company's market: customer, prospect and lead companies, and their people."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from faker.providers.person.en_US import Provider as PersonProvider

from cxlens.demo import lexicon as lx
from cxlens.demo.clock import DAY, END, NO_TIME, START, office_seconds
from cxlens.demo.ids import salesforce_ids, to_strings
from cxlens.demo.types import I64, Mask

CUSTOMER, PROSPECT, LEAD = 0, 1, 2
_NATIONAL_LEN = {"1": 10, "44": 10, "49": 10, "33": 9, "31": 9, "353": 9, "34": 9, "61": 9}
_SURNAME_STEMS = (
    "field",
    "wood",
    "brook",
    "ford",
    "ton",
    "dale",
    "worth",
    "well",
    "mill",
    "bridge",
    "gate",
    "hill",
    "stone",
    "vale",
    "haven",
)


@dataclass
class Accounts:
    """Companies: customers first (0 .. n_customers-1), then prospects, then marketing leads."""

    n: int
    n_customers: int
    kind: I64
    true_id: list[str]
    sf_id: pa.Array
    short: list[str]
    suffix: list[str]
    domain: list[str]
    website: list[str]
    segment: I64
    employees: I64
    industry: list[str]
    country: I64
    city: list[str]
    state: list[str]
    postal: list[str]
    street: list[str]
    phone_cc: list[str]
    phone_national: list[str]
    currency: I64
    csm: I64
    ae: I64
    created: I64
    signup: I64
    modified: I64
    person_start: I64
    person_count: I64

    @property
    def legal(self) -> list[str]:
        return [f"{s} {x}" for s, x in zip(self.short, self.suffix, strict=True)]


@dataclass
class People:
    """Everyone who appears anywhere: contacts of companies, then members of the public."""

    n: int
    account: I64
    true_id: list[str]
    first: list[str]
    last: list[str]
    role: I64
    title: list[str]
    work_email: list[str]
    personal_email: list[str]
    handle: list[str]
    phone_cc: list[str]
    phone_national: list[str]
    city: list[str]
    country: I64
    created: I64
    left: I64
    in_crm: Mask


def _weighted(names: dict[str, float]) -> tuple[list[str], np.ndarray]:
    keys = list(names)
    w = np.array([names[k] for k in keys], dtype=np.float64)
    return keys, w / w.sum()


def _company_candidates(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], I64]:
    """Unique company short names, their domain stems and business-type index."""
    last = list(PersonProvider.last_names)
    types = [t for t, _ in lx.BUSINESS_TYPES]
    n_types = len(types)
    caps = np.array(
        [
            len(lx.NAME_PREFIXES) * len(lx.NAME_STEMS) * n_types,
            len(last) * n_types,
            len(last) * (len(last) - 1),
            len(last) * len(_SURNAME_STEMS) * n_types,
        ],
        dtype=np.int64,
    )
    want = np.array([0.45, 0.15, 0.15, 0.25]) * n * 1.1 + 10
    take = np.minimum(want, caps * 0.7).astype(np.int64)
    short_fall = int(n * 1.1 + 40) - int(take.sum())
    if short_fall > 0:
        slack = caps * 0.7 - take
        take += np.ceil(short_fall * slack / slack.sum()).astype(np.int64)
    names: list[str] = []
    stems: list[str] = []
    kinds: list[int] = []
    for pattern, k in enumerate(take):
        picks = rng.choice(int(caps[pattern]), size=int(k), replace=False)
        for p in picks.tolist():
            t = p % n_types
            if pattern == 0:
                q = p // n_types
                core = (
                    lx.NAME_PREFIXES[q // len(lx.NAME_STEMS)]
                    + lx.NAME_STEMS[q % len(lx.NAME_STEMS)]
                )
                name, stem = f"{core} {types[t]}", core + types[t]
            elif pattern == 1:
                core = last[p // n_types]
                name, stem = f"{core} {types[t]}", core + types[t]
            elif pattern == 2:
                a, b = divmod(p, len(last) - 1)
                b += b >= a
                t = (a * 31 + b) % n_types
                name, stem = f"{last[a]} & {last[b]} {types[t]}", last[a] + last[b]
            else:
                q = p // n_types
                core = last[q // len(_SURNAME_STEMS)] + _SURNAME_STEMS[q % len(_SURNAME_STEMS)]
                name, stem = f"{core} {types[t]}", core + types[t]
            names.append(name)
            stems.append(re.sub(r"[^a-z0-9]", "", stem.lower()))
            kinds.append(t)
    order = rng.permutation(len(names))
    seen_names: set[str] = set()
    seen_stems: set[str] = set()
    out_n: list[str] = []
    out_s: list[str] = []
    out_t: list[int] = []
    for i in order.tolist():
        if names[i] in seen_names or stems[i] in seen_stems:
            continue
        seen_names.add(names[i])
        seen_stems.add(stems[i])
        out_n.append(names[i])
        out_s.append(stems[i])
        out_t.append(kinds[i])
        if len(out_n) == n:
            break
    if len(out_n) < n:
        raise ValueError(f"cannot name {n} companies; at most about 1.5 million are supported")
    return out_n, out_s, np.array(out_t, dtype=np.int64)


def _national_numbers(rng: np.random.Generator, cc: list[str], area: list[str]) -> list[str]:
    """Phone numbers without the country code: area code, then digits (555 in North America)."""
    digits = to_strings((rng.integers(0, 10, size=(len(cc), 8)) + ord("0")).astype(np.uint8))
    lead = (2 + rng.integers(0, 7, len(cc))).tolist()
    out: list[str] = []
    for c, a, tail, first in zip(cc, area, digits.to_pylist(), lead, strict=True):
        rest = _NATIONAL_LEN[c] - len(a)
        out.append(a + "555" + tail[:4] if c == "1" else a + str(first) + tail[: rest - 1])
    return out


def _growth_times(rng: np.random.Generator, n: int, lo: int, hi: int, rate: float) -> I64:
    """Times in [lo, hi) with density growing exponentially (a growing business)."""
    u = rng.random(n)
    span = (hi - lo) / (365 * DAY)
    years = np.log1p(u * np.expm1(rate * span)) / rate
    return np.asarray(lo + years * 365 * DAY, dtype=np.int64)


def make_accounts(rng: np.random.Generator, customers: int) -> Accounts:
    n_prospects = max(1, round(customers * 0.15))
    n_leads = max(1, round(customers * 0.15))
    n = customers + n_prospects + n_leads
    kind = np.repeat(
        np.array([CUSTOMER, PROSPECT, LEAD], dtype=np.int64), [customers, n_prospects, n_leads]
    )
    short, stems, btype = _company_candidates(rng, n)
    segment = rng.choice(3, size=n, p=lx.SEGMENT_SHARE).astype(np.int64)
    lo = np.array([lx.SEGMENT_EMPLOYEES[s][0] for s in range(3)])[segment]
    hi = np.array([lx.SEGMENT_EMPLOYEES[s][1] for s in range(3)])[segment]
    employees = np.exp(rng.uniform(np.log(lo), np.log(hi))).astype(np.int64)
    weights = np.array([c.weight for c in lx.COUNTRIES])
    country = rng.choice(len(lx.COUNTRIES), size=n, p=weights / weights.sum()).astype(np.int64)
    u = rng.random((n, 6))
    suffix, domain, website, city, state, postal, street, cc, area = ([] for _ in range(9))
    currency = np.zeros(n, dtype=np.int64)
    local = np.zeros(n, dtype=bool)
    forms = ("https://www.{}", "www.{}", "http://{}", "{}", "https://{}")
    for i, (ci_, u0, u1, u2, u3, u4, u5) in enumerate(
        zip(country.tolist(), *u.T.tolist(), strict=True)
    ):
        c = lx.COUNTRIES[ci_]
        suffix.append(c.suffixes[int(u0 * len(c.suffixes))])
        tld = "io" if c.code == "US" and u1 < 0.12 else c.tld
        domain.append(f"{stems[i]}.{tld}")
        website.append(forms[int(u1 * 997) % 5].format(domain[-1]))
        place = c.cities[int(u2 * len(c.cities))]
        city.append(place[0])
        state.append(place[1])
        postal.append(_postal(c.code, place[2], int(u3 * 1e6)))
        number = 1 + int(u4 * 2400)
        road = c.streets[int(u4 * 7919) % len(c.streets)]
        street.append(f"{number} {road}" if c.number_first else f"{road} {number % 180 + 1}")
        cc.append(c.phone_cc)
        area.append(place[3])
        local[i] = u5 < c.local_currency_share
    codes = np.array([lx.CURRENCIES.index(c.currency) for c in lx.COUNTRIES])
    currency[local] = codes[country[local]]
    signup = np.full(n, NO_TIME, dtype=np.int64)
    signup[:customers] = _growth_times(rng, customers, START, END - 21 * DAY, 0.6)
    signup[:customers] = signup[:customers] // DAY * DAY + office_seconds(rng, customers)
    created = np.where(
        kind == CUSTOMER,
        signup - rng.integers(10, 150, n) * DAY,
        _growth_times(rng, n, START - 90 * DAY, END - DAY, 0.6),
    )
    modified = np.maximum(created, END - rng.integers(1, 400, n) * DAY - rng.integers(0, DAY, n))
    return Accounts(
        n=n,
        n_customers=customers,
        kind=kind,
        true_id=[f"A{i + 1:07d}" for i in range(n)],
        sf_id=salesforce_ids("001", n, salt=1),
        short=short,
        suffix=suffix,
        domain=domain,
        website=website,
        segment=segment,
        employees=employees,
        industry=[lx.BUSINESS_TYPES[int(t)][1] for t in btype],
        country=country,
        city=city,
        state=state,
        postal=postal,
        street=street,
        phone_cc=cc,
        phone_national=_national_numbers(rng, cc, area),
        currency=currency,
        csm=rng.integers(0, len(lx.CSMS), n),
        ae=rng.integers(0, len(lx.ACCOUNT_EXECUTIVES), n),
        created=created,
        signup=signup,
        modified=modified,
        person_start=np.zeros(n, dtype=np.int64),
        person_count=np.zeros(n, dtype=np.int64),
    )


def _postal(code: str, base: str, r: int) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    if code == "US":
        return f"{base}{r % 100:02d}"
    if code in ("DE", "FR"):
        return f"{base}{r % 1000:03d}"
    if code == "ES":
        return f"{base}{r % 100:02d}"
    if code == "GB":
        return f"{base} {r % 9 + 1}{letters[r % 20]}{letters[(r // 20) % 20]}"
    if code == "CA":
        return f"{base} {r % 9 + 1}{letters[r % 20]}{r // 20 % 9 + 1}"
    if code == "NL":
        return f"{base} {letters[r % 20]}{letters[(r // 20) % 20]}"
    if code == "IE":
        return f"{base} {letters[r % 20]}{r % 1000:03d}"
    return base


class _Unique:
    """Hands out distinct strings: `stem + tail`, else `stem + k + tail` with k counting up.

    The next k is remembered per candidate, so common names cost O(1), not a rescan.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.next: dict[str, int] = {}

    def take(self, stem: str, tail: str = "", first: int = 1) -> str:
        text = stem + tail
        if text in self.seen:
            k = self.next.get(text, first)
            while f"{stem}{k}{tail}" in self.seen:
                k += 1
            self.next[text] = k + 1
            text = f"{stem}{k}{tail}"
        self.seen.add(text)
        return text


def _emails(first: list[str], last: list[str], domain: list[str], pattern: I64) -> list[str]:
    unique = _Unique()
    out: list[str] = []
    for f, la, d, p in zip(first, last, domain, pattern.tolist(), strict=True):
        f, la = f.lower(), la.lower()
        if p == 0:
            local = f"{f}.{la}"
        elif p == 1:
            local = f[0] + la
        elif p == 2:
            local = f
        elif p == 3:
            local = f + la[0]
        else:
            local = f"{f}_{la}"
        out.append(unique.take(local, "@" + d, first=2))
    return out


def _personal(
    rng: np.random.Generator, first: list[str], last: list[str]
) -> tuple[list[str], list[str]]:
    """Personal emails and social handles, unique across everyone."""
    n = len(first)
    dom_pick = (rng.random(n) * len(lx.PERSONAL_DOMAINS)).astype(np.int64).tolist()
    form_e = rng.integers(0, 4, n).tolist()
    form_h = rng.integers(0, 4, n).tolist()
    nums = rng.integers(1, 9_999, n).tolist()
    unique_e, unique_h = _Unique(), _Unique()
    emails: list[str] = []
    handles: list[str] = []
    for f0, l0, d, fe, fh, num in zip(first, last, dom_pick, form_e, form_h, nums, strict=True):
        f, la = f0.lower(), l0.lower()
        if fe == 0:
            local = f"{f}.{la}{num % 100}"
        elif fe == 1:
            local = f"{f}{la}{num}"
        elif fe == 2:
            local = f"{f}{la[0]}{num % 1000}"
        else:
            local = f"{f[0]}{la}{num % 100}"
        emails.append(unique_e.take(local, "@" + lx.PERSONAL_DOMAINS[d]))
        if fh == 0:
            handle = f + la
        elif fh == 1:
            handle = f"{f}_{la}"
        elif fh == 2:
            handle = f"{f[0]}{la}{num % 100}"
        else:
            handle = f"{f}.{la[:3]}"
        handles.append(unique_h.take(handle))
    return emails, handles


def make_people(rng: np.random.Generator, acc: Accounts) -> People:
    seg = acc.segment
    lo = np.array([4, 3, 2])[seg]
    hi = np.array([12, 6, 3])[seg]
    count = rng.integers(lo, hi + 1)
    count[acc.kind == PROSPECT] = rng.integers(1, 4, int((acc.kind == PROSPECT).sum()))
    count[acc.kind == LEAD] = rng.integers(1, 3, int((acc.kind == LEAD).sum()))
    acc.person_count = count.astype(np.int64)
    acc.person_start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    n_company = int(count.sum())
    n_public = max(1, round(acc.n_customers * 0.3))
    n = n_company + n_public
    account = np.concatenate([np.repeat(np.arange(acc.n), count), np.full(n_public, -1)]).astype(
        np.int64
    )
    first_pool, first_w = _weighted(PersonProvider.first_names)
    last_pool, last_w = _weighted(PersonProvider.last_names)
    first = [first_pool[i] for i in rng.choice(len(first_pool), size=n, p=first_w)]
    last = [last_pool[i] for i in rng.choice(len(last_pool), size=n, p=last_w)]
    pos = np.arange(n) - np.where(account >= 0, acc.person_start[account], 0)
    second = rng.choice([lx.ROLE_ADMIN, lx.ROLE_FINANCE], size=n)
    role = np.where(
        pos == 0,
        lx.ROLE_CHAMPION,
        np.where(
            pos == 1,
            second,
            np.where(pos == 2, lx.ROLE_FINANCE + lx.ROLE_ADMIN - second, lx.ROLE_USER),
        ),
    ).astype(np.int64)
    role[account < 0] = lx.ROLE_USER
    titles = [
        lx.TITLES[r][int(u * len(lx.TITLES[r]))]
        for r, u in zip(role.tolist(), rng.random(n).tolist(), strict=True)
    ]
    pattern = rng.choice(5, size=acc.n, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    safe = np.maximum(account, 0)
    company_emails = _emails(
        first[:n_company],
        last[:n_company],
        [acc.domain[a] for a in account[:n_company].tolist()],
        pattern[account[:n_company]],
    )
    personal, handles = _personal(rng, first, last)
    country = np.where(
        account >= 0,
        acc.country[safe],
        rng.choice(len(lx.COUNTRIES), size=n, p=np.array([c.weight for c in lx.COUNTRIES]) / 1.0),
    )
    cities: list[str] = []
    cc: list[str] = []
    area: list[str] = []
    city_area = {(c.code, x[0]): x[3] for c in lx.COUNTRIES for x in c.cities}
    moved = rng.random(n)
    for a, ci_, u in zip(account.tolist(), country.tolist(), moved.tolist(), strict=True):
        c = lx.COUNTRIES[ci_]
        if a >= 0 and u < 0.8:
            name = acc.city[a]
            cities.append(name)
            area.append(city_area[(c.code, name)])
        else:
            place = c.cities[int(u * 7919) % len(c.cities)]
            cities.append(place[0])
            area.append(place[3])
        cc.append(c.phone_cc)
    base = np.where(account >= 0, acc.created[safe], START)
    created = base + np.where(
        pos == 0, rng.integers(0, 30 * DAY, n), rng.integers(0, np.maximum(END - base, DAY), n) // 2
    )
    created = np.minimum(created, END - DAY)
    left = np.full(n, NO_TIME, dtype=np.int64)
    leaver = (role == lx.ROLE_USER) & (account >= 0) & (rng.random(n) < 0.06)
    # Nobody leaves after the history ends: people who joined in its last two months stay.
    leaver &= created + 61 * DAY < END
    span = np.maximum(END - created - 60 * DAY, DAY)
    left[leaver] = (created + 60 * DAY + rng.integers(0, span))[leaver]
    in_crm = (account >= 0) & ((pos == 0) | (rng.random(n) < 0.7))
    in_crm &= acc.kind[safe] != LEAD
    in_crm |= (account >= 0) & (acc.kind[safe] == PROSPECT)
    return People(
        n=n,
        account=account,
        true_id=[f"P{i + 1:08d}" for i in range(n)],
        first=first,
        last=last,
        role=role,
        title=titles,
        work_email=company_emails + personal[n_company:],
        personal_email=personal,
        handle=handles,
        phone_cc=cc,
        phone_national=_national_numbers(rng, cc, area),
        city=cities,
        country=country.astype(np.int64),
        created=created.astype(np.int64),
        left=left,
        in_crm=in_crm,
    )


def pick_people(
    rng: np.random.Generator, acc: Accounts, people: People, account: I64, when: I64, tries: int = 4
) -> I64:
    """A person of each account who had not left the company at `when`."""
    start = acc.person_start[account]
    count = acc.person_count[account]
    chosen = start + (rng.random(len(account)) * count).astype(np.int64)
    for _ in range(tries):
        gone = (people.left[chosen] >= 0) & (people.left[chosen] <= when)
        if not gone.any():
            break
        chosen[gone] = (start + (rng.random(len(account)) * count).astype(np.int64))[gone]
    return chosen
