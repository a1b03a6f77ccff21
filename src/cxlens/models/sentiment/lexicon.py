"""Lexicon sentiment that works out of the box: VADER plus a customer-service vocabulary.

VADER (Hutto & Gilbert 2014) was built on social media; it misses the words of service
failures ("stranded", "on hold", "still waiting", "refund") and calls most complaints
neutral. Those words and a few emoji are added here; phrases become single tokens first
because VADER scores words one at a time. The compound score becomes three class
probabilities through a soft threshold, so the lexicon shares one result shape with the
trained models. English only: texts confidently in another language are flagged, not scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from cxlens.models.sentiment.language import guess_languages
from cxlens.models.sentiment.result import SentimentResult, assemble
from cxlens.models.sentiment.text import has_text, normalise

#: Words of customer service, on VADER's scale (-4 .. 4); overrides VADER's own values.
SERVICE_WORDS: dict[str, float] = {
    "cancelled": -1.8, "canceled": -1.8, "cancellation": -1.5, "cancellations": -1.5,
    "delayed": -1.8, "delay": -1.5, "delays": -1.5, "late": -1.2, "stranded": -2.5,
    "stuck": -1.5, "overbooked": -2.0, "rebooked": -0.8, "refund": -1.0, "refunds": -1.0,
    "reimburse": -0.8, "reimbursement": -0.8, "waiting": -0.8, "waited": -1.2,
    "nightmare": -2.8, "outage": -2.2, "downtime": -2.0, "crashed": -2.0, "crashes": -2.0,
    "crashing": -2.0, "buggy": -2.0, "bug": -1.2, "bugs": -1.2, "glitch": -1.5, "error": -1.2,
    "errors": -1.2, "slow": -1.2, "unusable": -2.5, "unresponsive": -2.0, "overcharged": -2.2,
    "fee": -0.6, "fees": -0.8, "disconnected": -1.5, "lied": -2.5, "lies": -2.0,
    "incompetent": -2.8, "incompetence": -2.8, "unhelpful": -2.0, "misplaced": -1.5,
    "damaged": -2.0, "missing": -1.3, "hrs": -0.5, "hours": -0.5, "smh": -1.5, "ugh": -1.8,
    "wtf": -2.5, "seriously": -0.8, "joke": -1.2, "smooth": 1.5, "seamless": 2.0,
    "fixed": 1.0, "resolved": 1.5, "solved": 1.5, "quick": 1.0, "quickly": 1.0,
    "prompt": 1.0, "promptly": 1.2, "recommend": 1.8, "recommended": 1.8, "kudos": 2.5,
    "thx": 1.8, "ty": 1.2, "appreciated": 2.0, "appreciate": 1.8, "onhold": -1.8,
    "stillwaiting": -2.2, "hungup": -2.2, "neveragain": -2.8, "notworking": -2.0,
    "wasteoftime": -2.8, "noresponse": -2.0, "noanswer": -1.8, "cxlposemoji": 2.2,
    "cxlnegemoji": -2.2,
}  # fmt: skip

_PHRASES: dict[str, str] = {
    r"on hold": "onhold",
    r"still (?:waiting|no|not|haven't|hasn't|nothing)": "stillwaiting",
    r"hung up": "hungup",
    r"never again": "neveragain",
    r"(?:not|isn't|doesn't|don't|aren't|stopped) work(?:ing|s)?": "notworking",
    r"waste of (?:time|money)": "wasteoftime",
    r"no (?:response|reply|call back|callback)": "noresponse",
    r"no (?:answer|one answers|one picks up)": "noanswer",
}
_PHRASE = re.compile(
    "|".join(f"(?P<{token}>\\b{pattern}\\b)" for pattern, token in _PHRASES.items()), re.I
)
_POSITIVE_EMOJI = "😍❤♥💕💖💙👍😊🙂😀😁😃😄🙏🎉💯👏🙌✨🥰😘🤗🌟⭐"
_NEGATIVE_EMOJI = "😡🤬😠👎😤😒🙄😞😢😭💔😩😫😑😐😕☹🙁😣😖🤦"
_EMOJI = re.compile("|".join(re.escape(e) for e in _POSITIVE_EMOJI + _NEGATIVE_EMOJI))

#: Compound score where positive (or negative) becomes as likely as neutral, and steepness.
THRESHOLD = 0.25
STEEPNESS = 8.0


def _emoji(match: re.Match[str]) -> str:
    return " cxlposemoji " if match.group(0) in _POSITIVE_EMOJI else " cxlnegemoji "


def prepare(text: str) -> str:
    """Clean a text and turn service phrases and emoji into single lexicon tokens."""
    text = normalise(text)
    if not text.isascii():
        text = _EMOJI.sub(_emoji, text)
    return _PHRASE.sub(_phrase, text)


def _phrase(match: re.Match[str]) -> str:
    return match.lastgroup or match.group(0)


@cache
def analyzer() -> Any:
    """VADER with the service vocabulary (built once)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    vader.lexicon.update(SERVICE_WORDS)
    return vader


def compound(texts: Sequence[str]) -> np.ndarray:
    """VADER compound score (-1 .. 1) of each text with the service vocabulary."""
    vader = analyzer()
    return np.fromiter(
        (vader.polarity_scores(prepare(t))["compound"] for t in texts),
        dtype=np.float64,
        count=len(texts),
    )


def probabilities(score: np.ndarray) -> np.ndarray:
    """Compound scores as (negative, neutral, positive) probabilities (soft thresholds)."""
    logits = np.column_stack(
        [STEEPNESS * (-score - THRESHOLD), np.zeros_like(score), STEEPNESS * (score - THRESHOLD)]
    )
    logits -= logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    return np.asarray(prob / prob.sum(axis=1, keepdims=True), dtype=np.float64)


class LexiconSentiment:
    """English lexicon sentiment (VADER + customer-service words); needs no training."""

    name = "lexicon"
    version = "1"
    languages: frozenset[str] = frozenset({"en"})

    def predict(self, texts: Sequence[str]) -> SentimentResult:
        texts = [t if isinstance(t, str) else "" for t in texts]  # None / NaN: not scored
        guess = guess_languages(texts)
        supported = guess.supported(self.languages)
        scored = supported & has_text(texts)
        chosen = [texts[i] for i in np.flatnonzero(scored)]
        distinct = {t: k for k, t in enumerate(dict.fromkeys(chosen))}
        values = compound(list(distinct))
        index = np.fromiter((distinct[t] for t in chosen), dtype=np.int64, count=len(chosen))
        return assemble(probabilities(values[index]), scored, guess.code, supported)
