"""Text clean-up shared by the sentiment models.

Mentions, links and HTML entities carry no sentiment but add thousands of rare features.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_LINKS = re.compile(r"https?://\S+|www\.\S+")
_MENTIONS = re.compile(r"@\w+")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


def normalise(text: str) -> str:
    """One text, cleaned (case kept: VADER reads capitals as emphasis). Each rule runs only
    when a cheap test says it may apply: this is on the path of every prediction."""
    lowered = text.lower()
    if "http" in lowered or "www." in lowered:
        text = _LINKS.sub(" URL ", text)
    if "@" in text:
        text = _MENTIONS.sub(" @user ", text)
    if "&" in text:
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return " ".join(text.split())


def has_text(texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    """True for texts with at least one letter or digit (or emoji) worth scoring."""
    return np.fromiter(
        (isinstance(t, str) and any(not c.isspace() and c not in _PUNCT for c in t) for t in texts),
        dtype=np.bool_,
        count=len(texts),
    )


_PUNCT = frozenset(".,;:!?-_'\"()[]{}/\\|*&^%$#@~`+=<>")
