"""Reference lists normalisation relies on: nicknames, countries, calling codes, mail providers.

They are loaded once into the identity engine as small tables, so normalising a million records
is a join, not a Python loop.
"""

from __future__ import annotations

from functools import cache

import duckdb
import phonenumbers
import pyarrow as pa
import pycountry
from nicknames import NickNamer

#: Mail providers whose addresses belong to a person, not to their employer's domain.
FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
    "ymail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com",
    "live.com", "live.co.uk", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "protonmail.com", "proton.me", "pm.me", "gmx.de", "gmx.net", "gmx.com", "web.de",
    "t-online.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com", "fastmail.com",
    "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "libero.it", "virgilio.it",
    "btinternet.com", "sky.com", "bigpond.com", "optusnet.com.au", "qq.com", "163.com",
    "naver.com", "rediffmail.com", "seznam.cz", "wp.pl", "o2.pl", "telefonica.net",
    "ziggo.nl", "kpnmail.nl", "shaw.ca", "rogers.com", "sympatico.ca", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "eircom.net",
)  # fmt: skip

#: Shared mailboxes: many people write from them, so they never prove two records are one.
ROLE_MAILBOXES: tuple[str, ...] = (
    "info", "admin", "support", "sales", "billing", "accounts", "accounts.payable", "ap",
    "finance", "invoices", "contact", "hello", "office", "team", "noreply", "no-reply",
    "help", "service", "enquiries", "inquiries", "marketing", "hr", "it", "webmaster",
    "mail", "reception", "orders", "purchasing", "procurement",
)  # fmt: skip

#: Words that say what kind of company it is, not which one ("Acme Ltd" = "ACME Limited").
LEGAL_FORMS: tuple[str, ...] = (
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "plc", "corp", "corporation",
    "co", "company", "gmbh", "ag", "kg", "mbh", "ug", "sa", "sas", "sarl", "sl", "slu", "srl",
    "spa", "bv", "nv", "vof", "pty", "pte", "oy", "ab", "as", "aps", "kk", "the", "and",
    "group", "holdings", "holding",
)  # fmt: skip

#: Spellings people type for countries that pycountry's official names miss.
_COUNTRY_ALIASES = {
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
    "britain": "GB", "northern ireland": "GB", "usa": "US", "u.s.": "US", "u.s.a.": "US",
    "america": "US", "united states of america": "US", "the netherlands": "NL",
    "holland": "NL", "deutschland": "DE", "espana": "ES", "españa": "ES", "schweiz": "CH",
    "suisse": "CH", "österreich": "AT", "osterreich": "AT", "italia": "IT", "brasil": "BR",
    "south korea": "KR", "korea": "KR", "russia": "RU", "uae": "AE",
}  # fmt: skip


@cache
def country_table() -> pa.Table:
    """Every spelling of a country (code, name, official and common names) → ISO 3166 alpha-2,
    with its international calling code."""
    spelling: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (
            c.alpha_2,
            c.alpha_3,
            c.name,
            getattr(c, "official_name", None),
            getattr(c, "common_name", None),
        ):
            if name:
                spelling.setdefault(name.lower(), c.alpha_2)
    spelling.update(_COUNTRY_ALIASES)
    codes = sorted(set(spelling.values()))
    calling = {code: phonenumbers.country_code_for_region(code) or None for code in codes}
    keys = sorted(spelling)
    return pa.table(
        {
            "spelling": keys,
            "iso2": [spelling[k] for k in keys],
            "calling_code": [
                str(calling[spelling[k]]) if calling[spelling[k]] else None for k in keys
            ],
        }
    )


@cache
def nickname_table() -> pa.Table:
    """Each first name with the formal names it can stand for (itself included)."""
    namer = NickNamer()
    names: list[str] = []
    forms: list[list[str]] = []
    for name, formal in sorted(namer.canonical_lookup.items()):
        names.append(name)
        forms.append(sorted({name, *formal}))
    return pa.table({"name": names, "forms": pa.array(forms, type=pa.list_(pa.string()))})


def register_reference(engine: duckdb.DuckDBPyConnection) -> None:
    """Create the reference tables in the identity engine (idempotent)."""
    engine.register("_ref_countries", country_table())
    engine.register("_ref_nicknames", nickname_table())
    engine.register("_ref_free_mail", pa.table({"domain": list(FREE_MAIL_DOMAINS)}))
    engine.register("_ref_role_mailboxes", pa.table({"local": list(ROLE_MAILBOXES)}))
    legal = "|".join(sorted(LEGAL_FORMS, key=len, reverse=True))
    engine.execute(f"CREATE OR REPLACE MACRO _legal_forms() AS '\\b({legal})\\b'")
