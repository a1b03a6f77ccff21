"""Sparse features for short texts: word counts -> TF-IDF -> LSA (truncated SVD), unit length.

Sentence embeddings score no better on customer-theme benchmarks and run a hundred times
slower; LSA keeps the synonyms' co-occurrence that raw TF-IDF misses, and its projection is
one sparse matrix product, so assigning new texts stays fast.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from cxlens.errors import ModelError
from cxlens.models.themes.text import Analyzer

F64 = npt.NDArray[np.float64]


def unit_rows(z: F64) -> F64:
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    out: F64 = np.divide(z, norms, out=np.zeros_like(z), where=norms > 0)
    return out


class Features:
    """Fitted vocabulary, IDF weights and LSA basis; `transform` maps texts to unit vectors."""

    def __init__(self, analyzer: Analyzer, dims: int = 100, random_state: int = 0) -> None:
        self.analyzer = analyzer
        self.dims = dims
        self.random_state = random_state
        self.counter = CountVectorizer(analyzer=analyzer, min_df=2, max_df=0.5, dtype=np.float64)
        self.tfidf = TfidfTransformer(sublinear_tf=True)
        self.basis: F64 = np.zeros((0, 0))
        self.surface: dict[str, str] = {}

    def fit(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Fit on `texts`; return their word counts (for c-TF-IDF)."""
        try:
            counts = self.counter.fit_transform(texts)
        except ValueError as exc:  # every word is a stop word or too rare
            raise ModelError(
                f"no words common to at least two of the {len(texts)} texts; give more texts, "
                "or check the language and stop words"
            ) from exc
        weighted = self.tfidf.fit_transform(counts)
        dims = max(1, min(self.dims, weighted.shape[1] - 1, weighted.shape[0] - 1))
        svd = TruncatedSVD(dims, random_state=self.random_state, algorithm="randomized")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # tiny corpora: zero variance
            svd.fit(weighted)
        self.basis = np.ascontiguousarray(svd.components_.T)
        self._learn_surface(texts)
        return sp.csr_matrix(counts)

    def _learn_surface(self, texts: Sequence[str], sample: int = 20_000) -> None:
        """Most frequent written form of every stem, so terms read as words, not stems."""
        vocabulary = self.counter.vocabulary_
        forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for text in texts[:sample]:
            words = self.analyzer.words(text)
            for word, stem in zip(words, self.analyzer.stems(words), strict=True):
                if stem in vocabulary:
                    forms[stem][word] += 1
        self.surface = {s: c.most_common(1)[0][0] for s, c in forms.items()}

    @property
    def vocabulary(self) -> list[str]:
        return list(self.counter.get_feature_names_out())

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(self.counter.transform(texts))

    def embed_counts(self, counts: sp.csr_matrix) -> F64:
        weighted = self.tfidf.transform(counts)
        return unit_rows(np.asarray(weighted @ self.basis))

    def transform(self, texts: Sequence[str]) -> F64:
        return self.embed_counts(self.counts(texts))

    def readable(self, stem: str) -> str:
        return self.surface.get(stem, stem).replace("_", " ")
