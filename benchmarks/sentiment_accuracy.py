"""Sentiment accuracy on real data, against simple peers, with timings.

    python benchmarks/sentiment_accuracy.py
    python benchmarks/sentiment_accuracy.py --demo /tmp/sent_demo   # after `cxlens demo -w ...`

Data (read from ../shared/data, see its README): the Figure Eight airline tweets (14,640,
3 classes) and the Olist Portuguese reviews (3,584, scores 1-5). Prints macro-F1 of:

* airline, supervised 5-fold stratified CV: `TextClassifier` vs the README baseline (TF-IDF
  word + character n-grams, logistic regression) on the same folds;
* airline, no labels: VADER (default +-0.05 thresholds), `LexiconSentiment`, `self_train`;
* Olist: `train_domain_model` on review scores read as CSAT — lexicon vs cross-validated
  domain model (lexicon's unsupported Portuguese counted as neutral, and on the texts it scores);
* the demo company (when --demo is given): lexicon vs a domain model trained on its survey
  comments, against the planted polarity of every text;
* throughput of `predict` on 100,000 distinct short texts.
Targets: supervised >= 0.78, no-label >= 0.60, predict >= 3,000 texts/s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from cxlens.models.sentiment import (
    LexiconSentiment,
    TextClassifier,
    macro_f1,
    self_train,
    train_domain_model,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLASSES = {"negative": 0, "neutral": 1, "positive": 2}
ROWS: list[tuple[str, str, float, float]] = []


def timed(label: str, data: str, run: Callable[[], float]) -> float:
    start = time.perf_counter()
    value = run()
    seconds = time.perf_counter() - start
    ROWS.append((label, data, value, seconds))
    print(f"  {label:<48} {data:<10} {value:7.3f}  {seconds:6.1f} s", flush=True)
    return value


def scored_or_neutral(label: np.ndarray) -> np.ndarray:
    return np.where(label >= 0, label, 1)


def cross_validated(texts: list[str], y: np.ndarray, fit_predict: Any, seed: int) -> float:
    predicted = np.empty(len(y), dtype=np.int64)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y)
    for train, test in folds:
        predicted[test] = fit_predict([texts[i] for i in train], y[train], [texts[i] for i in test])
    return macro_f1(y, predicted)


def ours(train: list[str], y: np.ndarray, test: list[str]) -> np.ndarray:
    model = TextClassifier().fit(train, y, languages=frozenset({"en"}))
    return np.asarray(model.probabilities(test).argmax(axis=1))


def plain(train: list[str], y: np.ndarray, test: list[str]) -> np.ndarray:
    """The README's baseline: TF-IDF word + character n-grams, logistic regression."""
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    x_train = sparse.hstack([words.fit_transform(train), chars.fit_transform(train)], "csr")
    x_test = sparse.hstack([words.transform(test), chars.transform(test)], "csr")
    model = LogisticRegression(max_iter=1000).fit(x_train, y)
    return np.asarray(model.predict(x_test))


def vader(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    c = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    return np.where(c >= 0.05, 2, np.where(c <= -0.05, 0, 1))


def airline(seed: int) -> list[str]:
    frame = pd.read_csv(DATA / "airline-tweets" / "Tweets.csv")
    texts = frame["text"].astype(str).tolist()
    y = frame["airline_sentiment"].map(CLASSES).to_numpy()
    print(f"airline tweets ({len(texts):,}):")
    timed(
        "supervised 5-fold: TextClassifier",
        "airline",
        lambda: cross_validated(texts, y, ours, seed),
    )
    timed(
        "supervised 5-fold: TF-IDF word+char + LR",
        "airline",
        lambda: cross_validated(texts, y, plain, seed),
    )
    timed("no labels: VADER", "airline", lambda: macro_f1(y, vader(texts)))
    lexicon = LexiconSentiment()
    timed(
        "no labels: lexicon",
        "airline",
        lambda: macro_f1(y, scored_or_neutral(lexicon.predict(texts).label)),
    )

    def no_labels() -> float:
        model = self_train(texts, random_state=seed)
        return macro_f1(y, scored_or_neutral(model.predict(texts).label))

    timed("no labels: self_train(texts)", "airline", no_labels)
    return texts


def olist(seed: int) -> list[str]:
    frame = pd.read_csv(DATA / "olist" / "olist_classified_public_dataset.csv")
    texts = frame["review_comment_message"].fillna("").astype(str).tolist()
    scores = frame["review_score"].to_numpy()
    print(f"olist reviews ({len(texts):,}, Portuguese, score 1-5 as CSAT):")
    start = time.perf_counter()
    result = train_domain_model(texts, "csat", scores, random_state=seed)
    seconds = time.perf_counter() - start
    lexicon = LexiconSentiment().predict(texts)
    y = np.asarray(pd.Series(scores).map({1: 0, 2: 0, 3: 1, 4: 2, 5: 2}))
    scored = lexicon.label >= 0
    ROWS.append(("domain gain", "olist", result.gain, seconds))
    print(f"  lexicon flags {1 - lexicon.supported.mean():.1%} as not English; domain model "
          f"languages {sorted(result.languages)}, n={result.n}, {seconds:.1f} s")  # fmt: skip
    print(
        f"  lexicon (unsupported = neutral)                  olist      {result.baseline_f1:7.3f}"
    )
    print(f"  lexicon on the {scored.sum()} texts it scores               olist      "
          f"{macro_f1(y[scored], lexicon.label[scored]):7.3f}")  # fmt: skip
    print(f"  domain model, 5-fold CV                          olist      {result.domain_f1:7.3f}")
    print(f"  gain                                             olist      {result.gain:+7.3f}")
    return texts


def demo(workspace: Path, seed: int) -> None:
    import duckdb

    con = duckdb.connect(str(workspace / "cxlens.duckdb"), read_only=True)
    events = con.sql(
        "select event_id, kind, action, score, text from events where text is not null"
    ).df()
    con.close()
    truth = pd.read_parquet(workspace / "truth" / "texts.parquet")
    opened = np.where(truth["system"] == "zendesk", "-opened", "")
    truth["event_id"] = truth["system"] + ":" + truth["source_key"].astype(str) + opened
    joined = truth.merge(events, on="event_id", how="inner")
    texts = joined["text"].astype(str).tolist()
    y = joined["polarity"].to_numpy() + 1
    survey = events[(events["kind"] == "survey") & events["action"].isin(["nps", "csat", "ces"])]
    print(
        f"demo company ({len(texts):,} texts with planted polarity, "
        f"{len(survey):,} survey comments):"
    )
    lexicon = LexiconSentiment()
    timed(
        "lexicon, all texts",
        "demo",
        lambda: macro_f1(y, scored_or_neutral(lexicon.predict(texts).label)),
    )
    trained: dict[str, Any] = {}

    def domain() -> float:
        trained["r"] = train_domain_model(
            survey["text"].tolist(),
            survey["action"].to_numpy(),
            survey["score"].to_numpy(),
            random_state=seed,
        )
        return macro_f1(y, scored_or_neutral(trained["r"].model.predict(texts).label))

    timed("domain (trained on survey scores), all texts", "demo", domain)
    r = trained["r"]
    print(
        f"  on the survey comments themselves: lexicon {r.baseline_f1:.3f}, "
        f"domain 5-fold CV {r.domain_f1:.3f}"
    )
    # What `cxlens voc analyse` does: the domain model, adapted by self-training to the
    # customers' prose (survey, social, community), scores those; the lexicon the rest.
    prose = joined["kind"].isin(["survey", "social", "community"]).to_numpy()

    def product() -> float:
        words = [t for t, p in zip(texts, prose, strict=True) if p]
        adapted = self_train(words, base=r.model, random_state=seed)
        label = lexicon.predict(texts).label.copy()
        label[prose] = adapted.predict(words).label
        return macro_f1(y, scored_or_neutral(label))

    timed("as `voc analyse` runs it, all texts", "demo", product)
    for system in sorted(joined["system"].unique()):
        mine = (joined["system"] == system).to_numpy()
        sub = [t for t, m in zip(texts, mine, strict=True) if m]
        lex = macro_f1(y[mine], scored_or_neutral(lexicon.predict(sub).label))
        dom = macro_f1(y[mine], scored_or_neutral(r.model.predict(sub).label))
        print(f"    {system:<12} n={mine.sum():5d}  lexicon {lex:.3f}  domain {dom:.3f}")


def throughput(tweets: list[str], reviews: list[str], n: int) -> None:
    base = tweets + reviews
    texts = [f"{base[i % len(base)]} #{i}" for i in range(n)]  # all distinct: no caching help
    labels = np.arange(len(tweets)) % 3
    domain = TextClassifier().fit(tweets, labels, languages=frozenset({"en"}))
    print(f"throughput of predict on {n:,} distinct texts (language detection included):")
    for name, model in (("lexicon", LexiconSentiment()), ("TextClassifier", domain)):
        start = time.perf_counter()
        model.predict(texts)
        seconds = time.perf_counter() - start
        print(f"  {name:<16} {n / seconds:9,.0f} texts/s  ({seconds:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, help="workspace made by `cxlens demo -w ...`")
    parser.add_argument("--throughput", type=int, default=100_000, help="texts (0 to skip)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'':2}{'measure':<48} {'data':<10} {'macro-F1':>7}  {'time':>8}")
    tweets = airline(args.seed)
    reviews = olist(args.seed)
    if args.demo:
        demo(args.demo, args.seed)
    if args.throughput:
        throughput(tweets, reviews, args.throughput)


if __name__ == "__main__":
    main()
