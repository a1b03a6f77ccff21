"""A domain model from the company's own survey comments, with proof that it helps.

`train_domain_model` labels comments by their survey scores, measures how well the
out-of-the-box lexicon and a cross-validated `TextClassifier` agree with those labels on the
same comments, then fits the classifier on all of them. The gain is the reason to switch: a
domain model is used where it beats the lexicon, and works in the comments' own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cxlens.errors import ModelError
from cxlens.models.sentiment.classifier import TextClassifier, seen_languages
from cxlens.models.sentiment.lexicon import LexiconSentiment
from cxlens.models.sentiment.result import LABELS, SentimentModel
from cxlens.models.sentiment.survey import labels_from_scores, macro_f1
from cxlens.models.sentiment.text import has_text

MIN_TEXTS = 50
MIN_PER_CLASS = 5


@dataclass(frozen=True)
class DomainTraining:
    """A fitted domain model and how it compares with the lexicon on the same comments.

    `baseline_f1` scores the lexicon on every labelled comment, counting the comments it
    cannot score (another language) as neutral — what a user of the lexicon would see.
    """

    model: TextClassifier
    n: int
    baseline_f1: float
    domain_f1: float
    gain: float
    languages: frozenset[str]


def _folds(y: npt.NDArray[np.int64], folds: int, seed: int) -> list[npt.NDArray[np.int64]]:
    """Stratified fold assignment (each class dealt round-robin after a seeded shuffle)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = np.arange(len(idx)) % folds
    return [np.flatnonzero(fold == k) for k in range(folds)]


def train_domain_model(
    texts: Sequence[str],
    kinds: npt.NDArray[np.object_] | Sequence[str] | str,
    scores: npt.ArrayLike,
    *,
    folds: int = 5,
    base: SentimentModel | None = None,
    random_state: int = 0,
) -> DomainTraining:
    """Train a `TextClassifier` on survey comments labelled by their scores (NPS/CSAT/CES)."""
    texts = [t if isinstance(t, str) else "" for t in texts]
    label = labels_from_scores(kinds, scores).astype(np.int64)
    if len(label) != len(texts):
        raise ModelError(f"need one score per text: got {len(texts)} texts, {len(label)} scores")
    usable = np.flatnonzero((label >= 0) & has_text(texts))
    y = label[usable]
    counts = np.bincount(y, minlength=3)
    if len(usable) < MIN_TEXTS or (counts < MIN_PER_CLASS).any():
        have = ", ".join(f"{LABELS[c]} {counts[c]}" for c in range(3))
        raise ModelError(
            f"a domain model needs at least {MIN_TEXTS} scored comments with {MIN_PER_CLASS} of "
            f"each sentiment; got {len(usable)} ({have}). Comments need a survey kind "
            "(nps, csat, ces) and a score in range."
        )
    if folds < 2:
        raise ModelError(f"folds must be at least 2; got {folds}")
    chosen = [texts[i] for i in usable]
    languages = seen_languages(chosen)
    predicted = np.empty(len(y), dtype=np.int64)
    for test in _folds(y, folds, random_state):
        train = np.setdiff1d(np.arange(len(y)), test)
        fold_model = TextClassifier().fit([chosen[i] for i in train], y[train], languages=languages)
        predicted[test] = fold_model.probabilities([chosen[i] for i in test]).argmax(axis=1)
    lexicon = (base or LexiconSentiment()).predict(chosen).label.astype(np.int64)
    baseline = macro_f1(y, np.where(lexicon >= 0, lexicon, 1))
    domain = macro_f1(y, predicted)
    model = TextClassifier().fit(chosen, y, languages=languages)
    return DomainTraining(model, len(y), baseline, domain, domain - baseline, languages)
