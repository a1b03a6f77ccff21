"""Text analytics throughput: sentiment + theme assignment on 100,000 customer texts.

    python benchmarks/voc.py                 # 100,000 texts, median of 3
    python benchmarks/voc.py --texts 20000 --repeat 1

The corpus is real customer text from ../shared/data (airline tweets, Bitext support
utterances, Olist reviews in Portuguese), topped up to the size asked with two-message
threads joined from the same source, so nearly every text is distinct (caching by text
cannot flatter the figure). Times, on the same texts in the same run:

* cxlens sentiment with the lexicon (out of the box) and with a domain model (trained here
  on the tweets' labels, as a company's would be on its survey scores), language detection
  included;
* cxlens theme assignment with a taxonomy discovered on a 20,000-text sample;
* the named baselines: VADER's own analyser, text by text (the lexicon peer), and a plain
  TF-IDF + logistic-regression pipeline's predict.

Prints texts per second and ratios. Target: sentiment + theme assignment >= 1,000 texts/s
on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxlens.models.sentiment import LABELS, LexiconSentiment, TextClassifier
from cxlens.models.themes import ThemeModel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def real_texts() -> dict[str, list[str]]:
    tweets = pd.read_csv(DATA / "airline-tweets" / "Tweets.csv")
    bitext = pd.concat(
        [
            pd.read_csv(DATA / "bitext" / name, encoding="utf-8-sig")["utterance"]
            for name in (
                "Bitext_20K_utterances_customer_support.csv",
                "Bitext_Sample_Customer_Service_Training_Dataset.csv",
            )
        ]
    )
    olist = pd.read_csv(DATA / "olist" / "olist_classified_public_dataset.csv")
    return {
        "tweets": tweets["text"].dropna().astype(str).tolist(),
        "bitext": bitext.dropna().astype(str).tolist(),
        "olist": olist["review_comment_message"].dropna().astype(str).tolist(),
    }


def corpus(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    sources = real_texts()
    texts = [t for group in sources.values() for t in group]
    groups = list(sources.values())
    weights = np.array([len(g) for g in groups], dtype=float)
    while len(texts) < n:
        g = groups[int(rng.choice(len(groups), p=weights / weights.sum()))]
        a, b = rng.integers(0, len(g), 2)
        texts.append(f"{g[a]} {g[b]}")
    order = rng.permutation(len(texts))[:n]
    return [texts[i] for i in order]


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts = corpus(args.texts, args.seed)
    n = len(texts)
    length = np.mean([len(t) for t in texts])
    print(f"{n:,} texts, {len(set(texts)):,} distinct, mean {length:.0f} characters")

    tweets = pd.read_csv(DATA / "airline-tweets" / "Tweets.csv")
    labels = tweets["airline_sentiment"].map({name: i for i, name in enumerate(LABELS)})
    start = time.perf_counter()
    domain = TextClassifier().fit(tweets["text"].astype(str).tolist(), labels.to_numpy())
    took = time.perf_counter() - start
    print(f"domain model trained on {len(tweets):,} labelled tweets in {took:.1f} s")

    start = time.perf_counter()
    sample = texts[:20_000]
    themes = ThemeModel.discover(sample, random_state=args.seed)
    print(
        f"themes discovered on {len(sample):,} texts in {time.perf_counter() - start:.1f} s: "
        f"{len(themes.taxonomy.active())} themes"
    )

    lexicon = LexiconSentiment()
    t_lexicon = timed(lambda: lexicon.predict(texts), args.repeat)
    t_domain = timed(lambda: domain.predict(texts), args.repeat)
    t_assign = timed(lambda: themes.assign(texts), args.repeat)

    vader = SentimentIntensityAnalyzer()
    peer_n = min(n, 20_000)
    t_vader = timed(lambda: [vader.polarity_scores(t) for t in texts[:peer_n]], 1) * n / peer_n
    plain = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    plain.fit(tweets["text"].astype(str).tolist(), labels.to_numpy())
    t_plain = timed(lambda: plain.predict(texts), args.repeat)

    def rate(seconds: float) -> str:
        return f"{n / seconds:>9,.0f} texts/s  ({seconds:6.2f} s)"

    print(f"\nmedian of {args.repeat}, {n:,} texts")
    print(f"  sentiment, lexicon + language detection   {rate(t_lexicon)}")
    print(f"  sentiment, domain model + language        {rate(t_domain)}")
    print(f"  theme assignment                          {rate(t_assign)}")
    print(f"  sentiment (domain) + themes               {rate(t_domain + t_assign)}")
    print(f"  sentiment (lexicon) + themes              {rate(t_lexicon + t_assign)}")
    print("baselines")
    print(f"  VADER, text by text (no language check)   {rate(t_vader)}")
    print(f"  plain TF-IDF + logistic regression        {rate(t_plain)}")
    print(
        f"\nratios: cxlens lexicon sentiment runs at {t_vader / t_lexicon:.2f}x VADER alone "
        f"(it adds language detection and its own terms); the domain model at "
        f"{t_plain / t_domain:.2f}x a plain word TF-IDF + LR (it adds character n-grams, "
        f"lexicon features and language detection); sentiment + themes "
        f"{n / (t_domain + t_assign):,.0f} texts/s against a target of 1,000"
    )


if __name__ == "__main__":
    main()
