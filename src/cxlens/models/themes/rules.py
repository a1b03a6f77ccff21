"""Analyst keyword rules -> one compiled regex per theme.

Syntax (case-insensitive): words and phrases match whole words ("late flight" also matches
"late  flight"); a trailing `*` matches any word ending ("refund*" -> refund, refunded);
`re:` starts a regular expression used as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cxlens.errors import ModelError


def rule_regex(pattern: str) -> str:
    text = pattern.strip()
    if not text:
        raise ModelError("a keyword rule cannot be empty")
    if text.startswith("re:"):
        return f"(?:{text[3:]})"
    words = []
    for word in text.split():
        star = word.endswith("*")
        word = re.escape(word.rstrip("*"))
        words.append(word + (r"\w*" if star else ""))
    return r"\b" + r"\s+".join(words) + r"\b"


def compile_rules(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `patterns`; None when there are none."""
    patterns = list(patterns)
    parts = [rule_regex(p) for p in patterns]
    if not parts:
        return None
    try:
        return re.compile("|".join(parts), re.IGNORECASE)
    except re.error as exc:
        raise ModelError(f"invalid keyword rule in {list(patterns)!r}: {exc}") from exc
