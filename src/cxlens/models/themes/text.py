"""Turning customer text into tokens: cleaning, stop words and a light stemmer per language.

Short customer texts repeat few words, so "delayed", "delays" and "delay" must count as one
word for the clusters to see that two complaints are about the same thing; a full stemmer
is not needed, a handful of suffix rules does the job and keeps tokenising fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from cxlens.errors import ModelError
from cxlens.models.themes.boilerplate import strip_boilerplate

#: Languages with stop words and a stemmer; "auto" picks one per corpus from stop-word counts.
LANGUAGES = ("en", "pt")

_NOISE = re.compile(r"@\w+|#|https?://\S+|www\.\S+|\S+@\S+")
_WORD = re.compile(r"[^\W\d_]{2,}")

# Words every social post or ticket carries whatever it is about.
_EN_EXTRA = frozenset(
    "amp rt im ive dont doesnt didnt cant wont isnt thats youre just got get getting "
    "ll ve re don didn doesn isn wasn aren http https com www thanks thank pls please "
    "hi hello dear".split()
)

PORTUGUESE_STOP_WORDS = frozenset(
    """
    a ao aos aquela aquelas aquele aqueles aquilo as ate com como da das de dela delas dele
    deles depois do dos e ela elas ele eles em entre era eram essa essas esse esses esta
    estas este estes eu foi foram ha isso isto ja la lhe lhes mais mas me mesmo meu meus
    minha minhas muito muita muitos muitas na nas nem no nos nossa nossas nosso nossos num
    numa o os ou para pela pelas pelo pelos por qual quando que quem se sem ser seu seus so
    sua suas tambem te tem tinha to tu tua tuas um uma umas uns voce voces vos ai aqui ali
    estou esta estao estava estavam sao sou somos fui vai vou ser seria sera tenho temos
    tive teve ter tendo pois porque pra pro q ne sim bem entao apenas cada
    agora assim onde outro outra outros outras dia dias ate hoje ja
    """.split()
)
# Kept on purpose: "nao", "ainda", "sem", "nada" ("ainda nao recebi" is a delivery problem).

# English negations join the next content word as an extra token ("not_received"): alone they
# are in every complaint, joined they tell "arrived" from "not arrived".
_NEGATIONS = {"en": frozenset({"not", "no", "never"}), "pt": frozenset()}

# Suffixes stripped, longest first; a stem keeps at least three letters.
_SUFFIXES = {
    "en": ("ations", "ation", "ings", "ing", "edly", "ied", "ies", "ed", "es", "ly", "s"),
    "pt": (
        "amente", "mente", "acoes", "acao", "icoes", "icao", "coes", "cao", "oes", "ados",
        "adas", "idos", "idas", "ado", "ada", "ido", "ida", "os", "as", "es", "s", "o", "a",
        "e",
    ),
}  # fmt: skip


def strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def _stem(word: str, language: str) -> str:
    for suffix in _SUFFIXES[language]:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            return stem + "y" if suffix in ("ies", "ied") else stem
    return word


def detect_language(texts: Sequence[str], sample: int = 2_000) -> str:
    """The language whose stop words are most frequent in (a sample of) `texts`."""
    counts = dict.fromkeys(LANGUAGES, 0)
    # Only words of one language count ("do", "a" and "me" are both English and Portuguese).
    english = frozenset(ENGLISH_STOP_WORDS) - PORTUGUESE_STOP_WORDS
    portuguese = PORTUGUESE_STOP_WORDS - frozenset(ENGLISH_STOP_WORDS) | {"nao", "ainda"}
    for text in texts[:sample]:
        for word in _WORD.findall(strip_accents(str(text).lower())):
            counts["en"] += word in english
            counts["pt"] += word in portuguese
    return max(counts, key=lambda k: counts[k])


class Analyzer:
    """Text -> stemmed content words. A class, not a closure, so fitted models pickle."""

    def __init__(self, language: str, extra_stop_words: Iterable[str] = ()) -> None:
        if language not in LANGUAGES:
            raise ModelError(f"unknown language {language!r}; use one of {LANGUAGES} or 'auto'")
        self.language = language
        base = ENGLISH_STOP_WORDS | _EN_EXTRA
        if language == "pt":
            base = base | PORTUGUESE_STOP_WORDS
        self.stop_words = frozenset(strip_accents(w.lower()) for w in (*base, *extra_stop_words))
        self.boilerplate: frozenset[str] = frozenset()

    def without_boilerplate(self, text: str) -> str:
        if not self.boilerplate:
            return text
        return strip_boilerplate(text, self.boilerplate)

    def words(self, text: str) -> list[str]:
        """Content words as written (accents removed, lower case), before stemming; a
        negation adds "neg_word" beside the word it negates."""
        clean = _NOISE.sub(" ", self.without_boilerplate(str(text)).lower())
        if self.language != "en":
            clean = strip_accents(clean)
        negations, stop = _NEGATIONS[self.language], self.stop_words
        out: list[str] = []
        negation = ""
        for word in _WORD.findall(clean):
            if word in negations:
                negation = word
            elif word not in stop:
                if negation:
                    out.append(f"{negation}_{word}")
                    negation = ""
                out.append(word)
        return out

    def stem(self, word: str) -> str:
        return _stem(strip_accents(word.lower()), self.language)

    def stems(self, words: list[str]) -> list[str]:
        language = self.language
        return [_stem(w, language) for w in words]

    def __call__(self, text: str) -> list[str]:
        return self.stems(self.words(text))
