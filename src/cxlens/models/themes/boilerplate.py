"""Boilerplate: sentences that frame a text rather than say what it is about.

Openers and closers ("Thanks in advance.", "This needs attention.", "Call notes:", "Sent
from my phone") recur across texts about anything, so word counts cluster texts by their
framing instead of their subject. They are told apart from recurring *content* by their
companions: a closer sits beside hundreds of different sentences, while a stock complaint
("Search is painfully slow") recurs beside only the few framings people wrap it in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_NOT_WORD = re.compile(r"[^\w ]+")


def _norm(part: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", part.lower()).split())


def sentences(text: str) -> list[str]:
    """The text's sentences, normalised (lower case, punctuation dropped), empty ones out."""
    return [n for n in (_norm(p) for p in _SENTENCE_END.split(text)) if n]


def strip_boilerplate(text: str, boilerplate: frozenset[str]) -> str:
    """The text without its boilerplate sentences; the others as written."""
    parts = _SENTENCE_END.split(text)
    kept = [p for p in parts if _norm(p) not in boilerplate]
    return text if len(kept) == len(parts) else " ".join(kept)


def find_boilerplate(
    texts: Sequence[str], *, min_texts: int = 10, min_companions: int = 25
) -> frozenset[str]:
    """Sentences found in at least `min_texts` texts beside at least `min_companions`
    different other sentences."""
    seen: defaultdict[str, int] = defaultdict(int)
    companions: defaultdict[str, set[str]] = defaultdict(set)
    for text in dict.fromkeys(texts):  # each distinct text once: repeats add no companions
        parts = sentences(text)
        if len(parts) < 2:
            continue
        distinct = set(parts)
        for s in distinct:
            seen[s] += 1
            if len(companions[s]) < min_companions:
                companions[s].update(distinct - {s})
    return frozenset(
        s for s, n in seen.items() if n >= min_texts and len(companions[s]) >= min_companions
    )
