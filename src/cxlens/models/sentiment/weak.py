"""Self-training without labels: the lexicon teaches a model that then reads the company's texts.

A lexicon knows general words; a company's customers have their own ("rebooked", a product
name said with a sigh). Weak supervision (Ratner et al. 2017's
labelling functions, in miniature) turns the lexicon and a few rules into seed labels on the
target texts themselves; only the confident seeds train a `TextClassifier`, which then
relabels every text; the most confident of its labels (class-balanced) train the next round.
The classifier learns the n-grams that co-occur with the seed words, so it reaches texts the
lexicon cannot score.

Caveat: the rules are English, and their precision was read off the airline tweets while
writing them, so the no-label figure there (macro-F1 0.67, lexicon 0.55) is somewhat
optimistic for other English texts; no label was used in training.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cxlens.errors import ModelError
from cxlens.models.sentiment.classifier import TextClassifier, seen_languages, softmax
from cxlens.models.sentiment.lexicon import LexiconSentiment
from cxlens.models.sentiment.result import SentimentModel
from cxlens.models.sentiment.text import has_text

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_COMPLAINT = re.compile(
    r"\b(?:cancel+ed|cancel+ation|delay(?:ed|s)?|late|stranded|stuck|on hold|still waiting|"
    r"lost|missing|broken|damaged|rude|worst|terrible|horrible|awful|refund|unacceptable|"
    r"ridiculous|disappoint\w*|frustrat\w*|never|hours?|hrs|nobody|no one|fail\w*|"
    r"missed|waiting|wait|charged|fees?|complain\w*|ugh|smh|wtf)\b",
    re.I,
)
_PRAISE = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|love|loved|awesome|amazing|great|excellent|best|kudos|"
    r"appreciate\w*|wonderful|fantastic|perfect|happy|glad|recommend\w*)\b|❤|😍|👍|🙏|😊",
    re.I,
)
_QUESTION = re.compile(r"\?\s*(?:$|@|#|http)|^\W*(?:@\w+\s+)*(?:how|what|when|where|why|"
                       r"which|who|can|could|do|does|is|are|will|would)\b", re.I)  # fmt: skip
_MIN_TEXTS = 30


def seed_labels(texts: Sequence[str], base: SentimentModel) -> tuple[I64, F64]:
    """Labelling rules over the base model: seed label (-1 abstain) and confidence per text."""
    result = base.predict(texts)
    prob = np.where(np.isnan(result.probability), 1.0 / 3, result.probability)
    score = np.nan_to_num(result.score)
    complaint = np.fromiter((bool(_COMPLAINT.search(t)) for t in texts), np.bool_, len(texts))
    praise = np.fromiter((bool(_PRAISE.search(t)) for t in texts), np.bool_, len(texts))
    question = np.fromiter((bool(_QUESTION.search(t)) for t in texts), np.bool_, len(texts))
    label = np.full(len(texts), -1, dtype=np.int64)
    confidence = np.zeros(len(texts))
    exclaim = np.fromiter(("!" in t for t in texts), np.bool_, len(texts))
    # (class, rule, strength); measured on the airline tweets, complaint words are 89% negative,
    # praise without complaint at a positive score 71% positive (82% with "!"), and questions
    # without sentiment words 55% neutral — while a high VADER score alone is under 50%.
    votes = (
        (0, complaint & ~praise & (score < 0.1), 0.6 + 0.4 * prob[:, 0]),
        (0, (score < -0.5) & ~praise, prob[:, 0]),
        (2, praise & ~complaint & (score > 0.3), 0.5 + 0.3 * prob[:, 2] + 0.2 * exclaim),
        (1, question & ~complaint & ~praise & (np.abs(score) < 0.15), 0.5 + 0.5 * prob[:, 1]),
    )
    for cls, rule, strength in votes:
        take = rule & (strength > confidence)
        label[take] = cls
        confidence[take] = strength[take]
    label[~(result.label >= 0)] = -1
    return label, confidence


def _balanced_top(label: I64, confidence: F64, share: float) -> npt.NDArray[np.bool_]:
    """The most confident `share` of each class's candidates, at most 3x the rarest class."""
    keep = np.zeros(len(label), dtype=np.bool_)
    counts = [int((label == c).sum()) for c in range(3)]
    cap = 3 * max(min(counts), 1)
    for c in range(3):
        idx = np.flatnonzero(label == c)
        take = min(len(idx), max(1, int(share * len(idx))), cap)
        keep[idx[np.argsort(-confidence[idx], kind="stable")[:take]]] = True
    return keep


def _student() -> TextClassifier:
    """n-grams only: with lexicon features (or naive Bayes) as inputs, the student learns to
    copy the lexicon's mistakes instead of the vocabulary around the seeds (macro-F1 on the
    airline tweets 0.57 instead of 0.66)."""
    return TextClassifier(name="self-trained", lexicon=False, naive_bayes=0.0)


def self_train(
    texts: Sequence[str],
    base: SentimentModel | None = None,
    *,
    rounds: int = 3,
    random_state: int = 0,
) -> TextClassifier:
    """Train a `TextClassifier` on unlabelled `texts` from lexicon seeds and its own labels.

    `random_state` is accepted for a stable interface; the steps are deterministic.
    """
    del random_state
    texts = [t if isinstance(t, str) else "" for t in texts]
    usable = has_text(texts)
    if usable.sum() < _MIN_TEXTS:
        raise ModelError(f"self-training needs at least {_MIN_TEXTS} texts; got {usable.sum()}")
    base = base or LexiconSentiment()
    languages = seen_languages(texts) & base.languages or base.languages
    label, confidence = seed_labels(texts, base)
    label[~usable] = -1
    missing = [c for c in range(3) if not (label == c).any()]
    if len(missing) > 1:
        raise ModelError("the seed rules found texts of only one sentiment class; need two")
    keep = _balanced_top(label, confidence, share=0.8)
    chosen = np.flatnonzero(usable)
    model = _student()
    x, words = model.fit_features([texts[i] for i in chosen])  # vocabulary of all the texts
    model.languages = languages
    rows = keep[chosen]
    model.fit_matrix(x[rows], words[rows], label[chosen][rows])
    for step in range(rounds):
        prob = softmax(model.margins(x, words))
        label = prob.argmax(axis=1)
        rows = _balanced_top(label, prob.max(axis=1), share=0.5 + 0.4 * (step + 1) / rounds)
        model.fit_matrix(x[rows], words[rows], label[rows])
    return model
