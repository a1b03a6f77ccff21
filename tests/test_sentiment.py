"""Sentiment models against real labelled data (airline tweets, Olist reviews) and planted cases."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from cxlens.errors import ModelError
from cxlens.models.sentiment import (
    LABELS,
    LexiconSentiment,
    SentimentModel,
    TextClassifier,
    detect_language,
    labels_from_scores,
    macro_f1,
    self_train,
    train_domain_model,
)

DATA = Path(__file__).parents[2] / "shared" / "data"
CLASSES = {"negative": 0, "neutral": 1, "positive": 2}


@cache
def tweets() -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(DATA / "airline-tweets" / "Tweets.csv")
    return frame["text"].tolist(), frame["airline_sentiment"].map(CLASSES).to_numpy()


@cache
def reviews() -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(DATA / "olist" / "olist_classified_public_dataset.csv")
    return frame["review_comment_message"].fillna("").tolist(), frame["review_score"].to_numpy()


def test_labels_from_scores_bands() -> None:
    kinds = ["nps"] * 11 + ["csat"] * 5 + ["ces"] * 7
    scores = list(range(11)) + list(range(1, 6)) + list(range(1, 8))
    expected = [0] * 7 + [1] * 2 + [2] * 2 + [0, 0, 1, 2, 2] + [0, 0, 0, 1, 1, 2, 2]
    assert labels_from_scores(kinds, scores).tolist() == expected
    odd = labels_from_scores(["nps", "csat", "other", "NPS", "ces"], [np.nan, 6, 5, 10, 0])
    assert odd.tolist() == [-1, -1, -1, 2, -1]
    assert labels_from_scores("csat", np.array([1.0, 3.0, 5.0])).dtype == np.int8


def test_macro_f1_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro"))


def test_detect_language_english_portuguese_and_short() -> None:
    codes, confidence = detect_language(
        [
            "The flight was delayed again and nobody told us anything",
            "o produto chegou antes do prazo, muito obrigado pela atenção",
            "ok",
            "",
        ]
    )
    assert codes.tolist() == ["en", "pt", "und", "und"]
    assert confidence[0] > 0.9 and confidence[1] > 0.9


def test_lexicon_flags_portuguese_and_keeps_english() -> None:
    texts, _ = reviews()
    pt = LexiconSentiment().predict(texts[:400])
    assert (~pt.supported).mean() > 0.95
    assert (pt.label[~pt.supported] == -1).all() and np.isnan(pt.score[~pt.supported]).all()
    en = LexiconSentiment().predict(tweets()[0][:2000])
    assert en.supported.mean() > 0.99


def test_lexicon_clear_examples() -> None:
    model: SentimentModel = LexiconSentiment()
    result = model.predict(
        [
            "My flight was Cancelled Flightled and I have been on hold for 2 hours",
            "Still waiting for my refund, three weeks now 😡",
            "Thank you so much, the crew was amazing! ❤",
            "What time does the gate open tomorrow?",
            "   ",
        ]
    )
    assert result.labels() == ["negative", "negative", "positive", "neutral", None]
    assert result.score[0] < -0.5 and result.score[2] > 0.5 and np.isnan(result.score[4])
    assert result.probability.shape == (5, 3)
    assert np.allclose(result.probability[:4].sum(axis=1), 1.0)
    assert result.label.dtype == np.int8 and LABELS[result.label[2]] == "positive"


def test_text_classifier_roundtrip() -> None:
    texts, y = tweets()
    model = TextClassifier().fit(texts[:1500], y[:1500])
    assert model.languages == frozenset({"en"})
    again = TextClassifier.from_bytes(model.to_bytes())
    sample = texts[1500:1600]
    assert np.array_equal(again.predict(sample).probability, model.predict(sample).probability)
    assert model.predict(sample).label.dtype == np.int8
    with pytest.raises(ModelError, match="not a saved sentiment model"):
        TextClassifier.from_bytes(b"not a model")


def test_text_classifier_refuses_bad_training() -> None:
    with pytest.raises(ModelError, match="at least two sentiment classes"):
        TextClassifier().fit(["good", "great", "fine"], [2, 2, 2])
    with pytest.raises(ModelError, match="labels must be 0/1/2"):
        TextClassifier().fit(["good", "bad"], [2, 5])
    with pytest.raises(ModelError, match="one label per text"):
        TextClassifier().fit(["good", "bad"], [2])
    with pytest.raises(ModelError, match="not fitted"):
        TextClassifier().predict(["hello there"])


def test_domain_model_on_portuguese_reviews_beats_lexicon() -> None:
    texts, scores = reviews()
    result = train_domain_model(texts[:900], "csat", scores[:900], folds=3)
    assert result.languages == frozenset({"pt"})
    assert result.n == 900
    assert result.domain_f1 > 0.55
    assert result.gain == pytest.approx(result.domain_f1 - result.baseline_f1)
    assert result.gain > 0.3
    scored = result.model.predict(texts[900:1000])
    assert scored.supported.mean() > 0.95
    assert not result.model.predict(tweets()[0][:50]).supported.any()


def test_domain_model_says_what_is_missing() -> None:
    texts = [f"good service number {i}" for i in range(60)]
    with pytest.raises(ModelError, match="negative 0"):
        train_domain_model(texts, "nps", [10] * 30 + [8] * 30)
    with pytest.raises(ModelError, match="at least 50"):
        train_domain_model(texts[:10], "nps", [0, 5, 10] * 3 + [9])


def test_self_train_needs_enough_texts() -> None:
    with pytest.raises(ModelError, match="at least"):
        self_train(["great", "awful"])


@pytest.mark.slow
def test_airline_supervised_cross_validated() -> None:
    texts, y = tweets()
    predicted = np.empty(len(y), dtype=np.int64)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y):
        model = TextClassifier().fit(
            [texts[i] for i in train], y[train], languages=frozenset({"en"})
        )
        predicted[test] = model.predict([texts[i] for i in test]).label
    assert macro_f1(y, predicted) >= 0.78


@pytest.mark.slow
def test_airline_without_labels() -> None:
    texts, y = tweets()
    result = self_train(texts).predict(texts)
    assert macro_f1(y, np.where(result.label >= 0, result.label, 1)) >= 0.65


def test_missing_and_empty_texts_are_not_scored() -> None:
    result = LexiconSentiment().predict([None, float("nan"), "", "great flight, thanks!"])  # type: ignore[list-item]
    assert result.labels() == [None, None, None, "positive"]
    assert np.isnan(result.probability[:3]).all() and result.supported.all()
    assert len(LexiconSentiment().predict([]).label) == 0
