"""Sentiment of customer texts: negative / neutral / positive, with a score in [-1, 1].

* `LexiconSentiment` — works out of the box (English): VADER plus customer-service words;
* `TextClassifier` — TF-IDF word and character n-grams with a linear SVM, trained on labels;
* `train_domain_model` — a `TextClassifier` trained on the company's own survey comments
  (labelled by their NPS / CSAT / CES scores), with its cross-validated gain over the lexicon;
* `self_train` — a `TextClassifier` for texts with no labels at all, taught by the lexicon.

Every model returns a `SentimentResult`; texts confidently in a language a model does not
handle are flagged (`supported` False, label -1, NaN score) rather than mis-scored.
"""

from cxlens.models.sentiment.classifier import TextClassifier
from cxlens.models.sentiment.domain import DomainTraining, train_domain_model
from cxlens.models.sentiment.language import detect_language
from cxlens.models.sentiment.lexicon import LexiconSentiment
from cxlens.models.sentiment.result import LABELS, SentimentModel, SentimentResult
from cxlens.models.sentiment.survey import labels_from_scores, macro_f1
from cxlens.models.sentiment.weak import self_train

__all__ = [
    "LABELS",
    "DomainTraining",
    "LexiconSentiment",
    "SentimentModel",
    "SentimentResult",
    "TextClassifier",
    "detect_language",
    "labels_from_scores",
    "macro_f1",
    "self_train",
    "train_domain_model",
]
