"""How the same person or company looks different in each system.

People type their names, emails and phone numbers differently in every form: nicknames,
typos, case changes, personal instead of work emails, plus-addressing, missing fields, phone
formats. Random choices are drawn with numpy up front; the string edits are plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlens.demo.lexicon import NICKNAMES

_NEAR_KEYS = {
    "a": "sqw",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}


def typo(text: str, r: float) -> str:
    """One keyboard slip: swap, drop, double or hit a neighbouring key (`r` in [0, 1))."""
    if len(text) < 4:
        return text
    pos = 1 + int(r * 997) % (len(text) - 2)
    kind = int(r * 4)
    if kind == 0:
        return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
    if kind == 1:
        return text[:pos] + text[pos + 1 :]
    if kind == 2:
        return text[:pos] + text[pos] + text[pos:]
    near = _NEAR_KEYS.get(text[pos].lower(), "")
    if not near:
        return text[:pos] + text[pos + 1 :]
    return text[:pos] + near[int(r * 7919) % len(near)] + text[pos + 1 :]


@dataclass(frozen=True)
class NameNoise:
    nickname: float = 0.0
    typo: float = 0.0
    upper: float = 0.0
    lower: float = 0.0
    initial: float = 0.0
    missing_first: float = 0.0


def vary_names(
    rng: np.random.Generator, first: list[str], last: list[str], noise: NameNoise
) -> tuple[list[str | None], list[str]]:
    """First and last names as another system holds them."""
    n = len(first)
    u = rng.random((n, 6))
    out_first: list[str | None] = []
    out_last: list[str] = []
    for i in range(n):
        f, la = first[i], last[i]
        ui = u[i]
        if ui[0] < noise.nickname:
            f = NICKNAMES.get(f, f)
        if ui[1] < noise.typo:
            if ui[5] < 0.6:
                la = typo(la, ui[5] / 0.6)
            else:
                f = typo(f, (ui[5] - 0.6) / 0.4)
        if ui[2] < noise.upper:
            f, la = f.upper(), la.upper()
        elif ui[2] < noise.upper + noise.lower:
            f, la = f.lower(), la.lower()
        if ui[3] < noise.initial:
            f = f[0] + "."
        out_first.append(None if ui[4] < noise.missing_first else f)
        out_last.append(la)
    return out_first, out_last


def full_names(
    first: list[str | None], last: list[str], rng: np.random.Generator, last_first: float = 0.0
) -> list[str]:
    """'First Last', sometimes 'Last, First' as some forms store it."""
    flip = rng.random(len(last)) < last_first
    return [
        (f"{la}, {f}" if flip[i] else f"{f} {la}") if f else la
        for i, (f, la) in enumerate(zip(first, last, strict=True))
    ]


@dataclass(frozen=True)
class EmailNoise:
    personal: float = 0.0
    plus: float = 0.0
    case: float = 0.0
    typo: float = 0.0
    missing: float = 0.0


_PLUS_TAGS = ("support", "lumio", "billing", "shop", "news", "work")


def vary_emails(
    rng: np.random.Generator, work: list[str], personal: list[str], noise: EmailNoise
) -> list[str | None]:
    """The email a person gives a system: work or personal, with tags and case changes."""
    n = len(work)
    u = rng.random((n, 5))
    out: list[str | None] = []
    for i in range(n):
        ui = u[i]
        if ui[4] < noise.missing:
            out.append(None)
            continue
        email = personal[i] if ui[0] < noise.personal else work[i]
        local, _, domain = email.partition("@")
        if ui[1] < noise.plus:
            local = f"{local}+{_PLUS_TAGS[int(ui[1] * 1000) % len(_PLUS_TAGS)]}"
        if ui[2] < noise.case:
            local = ".".join(p.capitalize() for p in local.split("."))
            if ui[2] < noise.case / 3:
                domain = domain.capitalize()
        if ui[3] < noise.typo:
            local = typo(local, ui[3] / max(noise.typo, 1e-9))
        out.append(f"{local}@{domain}")
    return out


def format_phones(
    rng: np.random.Generator,
    cc: list[str],
    national: list[str],
    missing: float,
    styles: tuple[float, ...] = (0.3, 0.3, 0.2, 0.1, 0.1),
) -> list[str | None]:
    """Phone numbers in the formats people type: +1 415-555-0134, (415) 555-0134, ..."""
    n = len(cc)
    style = rng.choice(len(styles), size=n, p=np.asarray(styles) / sum(styles))
    gone = rng.random(n) < missing
    ext = rng.integers(100, 999, size=n)
    out: list[str | None] = []
    for i in range(n):
        if gone[i]:
            out.append(None)
            continue
        c, num = cc[i], national[i]
        s = int(style[i])
        if c == "1":
            a, b, d = num[:3], num[3:6], num[6:]
            text = (
                f"+1 {a}-{b}-{d}",
                f"({a}) {b}-{d}",
                f"+1{num}",
                f"{a}.{b}.{d}",
                f"{a}-{b}-{d} x{ext[i]}",
            )[s]
        else:
            head, rest = num[:-7], num[-7:]
            text = (
                f"+{c} {head} {rest[:3]} {rest[3:]}",
                f"0{head} {rest[:3]} {rest[3:]}",
                f"+{c}{num}",
                f"+{c} ({head}) {rest}",
                f"00{c} {head} {rest}",
            )[s]
        out.append(text)
    return out


@dataclass(frozen=True)
class CompanyNoise:
    short: float = 0.0
    suffix_style: float = 0.0
    case: float = 0.0
    ampersand: float = 0.0
    typo: float = 0.0
    domain: float = 0.0
    missing: float = 0.0


def vary_companies(
    rng: np.random.Generator,
    short: list[str],
    suffix: list[str],
    domain: list[str],
    noise: CompanyNoise,
) -> list[str | None]:
    """A company's name as typed into another system."""
    n = len(short)
    u = rng.random((n, 7))
    out: list[str | None] = []
    for i in range(n):
        ui = u[i]
        if ui[6] < noise.missing:
            out.append(None)
            continue
        if ui[5] < noise.domain:
            out.append(domain[i])
            continue
        name = short[i]
        if ui[3] < noise.ampersand:
            name = name.replace(" & ", " and ") if " & " in name else name
        if ui[4] < noise.typo:
            name = typo(name, ui[4] / max(noise.typo, 1e-9))
        if ui[0] >= noise.short:
            sfx = suffix[i]
            if ui[1] < noise.suffix_style:
                sfx = sfx.rstrip(".")
                name = f"{name}, {sfx}" if ui[1] < noise.suffix_style / 2 else f"{name} {sfx}"
            else:
                name = f"{name} {sfx}"
        if ui[2] < noise.case:
            name = name.upper() if ui[2] < noise.case / 2 else name.lower()
        out.append(name)
    return out
