"""`ThemeModel`: discover themes in customer texts, assign texts to them, split a theme.

The model keeps its features (vocabulary, IDF, LSA basis) and one unit centre per theme;
what each theme means to people lives in its `Taxonomy`, which analysts edit and the
service layer stores. Assigning is one sparse product and one dense product per batch,
plus one compiled regex per theme that has keyword rules; rules win over the model.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from cxlens.errors import ModelError
from cxlens.models.themes.boilerplate import find_boilerplate
from cxlens.models.themes.clustering import choose_k, class_tfidf, spherical_kmeans
from cxlens.models.themes.features import F64, Features
from cxlens.models.themes.reconcile import Found, reconcile
from cxlens.models.themes.rules import compile_rules
from cxlens.models.themes.taxonomy import Taxonomy, ThemeSpec, new_key
from cxlens.models.themes.text import Analyzer, detect_language

FORMAT_VERSION = 1
N_TERMS = 10
#: Least cosine to the nearest theme centre for a text to be assigned by the model.
MIN_SIMILARITY = 0.1
#: A pinned theme seeds a cluster from its top SEED_TERMS terms when at least SEED_SUPPORT of
#: the texts (and 3) reach SEED_SIMILARITY to them; otherwise it keeps only its rules.
SEED_TERMS, SEED_SUPPORT, SEED_SIMILARITY = 5, 0.005, 0.35


@dataclass(frozen=True)
class ThemeAssignment:
    """Primary theme of every text: `theme[i]` indexes `keys` (-1: no theme)."""

    keys: tuple[str, ...]
    theme: npt.NDArray[np.int64]
    weight: F64
    source: npt.NDArray[np.object_]

    def key_of(self, i: int) -> str | None:
        index = int(self.theme[i])
        return None if index < 0 else self.keys[index]


def _first_copies(docs: Sequence[str]) -> npt.NDArray[np.bool_]:
    """True for the first copy of each text: a template sent a thousand times is one voice,
    and left in it would pull the clusters towards itself."""
    seen: set[str] = set()
    first = np.zeros(len(docs), dtype=bool)
    for i, doc in enumerate(docs):
        norm = " ".join(doc.lower().split())
        if norm not in seen:
            seen.add(norm)
            first[i] = True
    return first


def _as_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ModelError("give a sequence of texts, not a single string")
    return ["" if t is None else str(t) for t in texts]


@dataclass
class ThemeModel:
    features: Features
    centres: dict[str, F64]
    taxonomy: Taxonomy
    min_similarity: float = MIN_SIMILARITY
    _rules: dict[str, object] = field(default_factory=dict, repr=False)

    # -- discovery ---------------------------------------------------------------------------

    @classmethod
    def discover(
        cls,
        texts: Sequence[str],
        *,
        n_themes: int | None = None,
        taxonomy: Taxonomy | None = None,
        random_state: int = 0,
        language: str = "auto",
        stop_words: Sequence[str] = (),
        max_themes: int = 12,
    ) -> ThemeModel:
        """Find themes in `texts`; with a previous `taxonomy`, keep its keys, analyst labels,
        pins, rules and merges (see `reconcile`). `n_themes` defaults to the silhouette's
        choice up to `max_themes`; `language` is "en", "pt" or "auto"; `stop_words` are extra
        words to ignore (a brand's name, say)."""
        # One BLAS thread: these matrices are small, and threads fight on shared machines.
        with threadpool_limits(1):
            return cls._discover(
                texts,
                n_themes=n_themes,
                taxonomy=taxonomy,
                random_state=random_state,
                language=language,
                stop_words=stop_words,
                max_themes=max_themes,
            )

    @classmethod
    def _discover(
        cls,
        texts: Sequence[str],
        *,
        n_themes: int | None = None,
        taxonomy: Taxonomy | None = None,
        random_state: int = 0,
        language: str = "auto",
        stop_words: Sequence[str] = (),
        max_themes: int = 12,
    ) -> ThemeModel:
        docs = _as_texts(texts)
        if not any(d.strip() for d in docs):
            raise ModelError("no texts to discover themes in (all empty)")
        if n_themes is not None and n_themes < 1:
            raise ModelError(f"n_themes must be at least 1, got {n_themes}")
        previous = taxonomy or Taxonomy()
        if language == "auto":
            language = detect_language(docs)
        analyzer = Analyzer(language, stop_words)
        analyzer.boilerplate = find_boilerplate(docs)
        features = Features(analyzer, random_state=random_state)
        counts = features.fit(docs)
        z = features.embed_counts(counts)

        # Texts claimed by analyst rules are theirs; clusters describe the rest.
        probe = cls(features, {}, previous)
        claimed = probe._rule_hits(docs)[0] >= 0
        usable = np.flatnonzero((np.abs(z).sum(axis=1) > 0) & ~claimed & _first_copies(docs))
        # Pinned themes with terms seed their own cluster, if their texts are still about:
        # a seed with no texts would only pull in texts of other themes.
        seeded, seeds = [], []
        support = max(3, int(SEED_SUPPORT * len(usable)))
        for theme in previous.active():
            if theme.pinned and theme.terms:
                pseudo = " ".join(theme.terms[:SEED_TERMS])
                vector = features.embed_counts(features.counts([pseudo]))[0]
                if int((z[usable] @ vector >= SEED_SIMILARITY).sum()) >= support:
                    seeded.append(theme.key)
                    seeds.append(vector)
        if len(usable) < 2 and any(t.rules for t in previous.active()):
            # The analysts' rules cover every text: nothing left to discover.
            tax, _ = reconcile(previous, [], [], features.analyzer.stem)
            return cls(features, {}, tax)
        if len(usable) < 2:
            raise ModelError(
                f"only {len(usable)} of {len(docs)} texts have words to cluster; give more texts"
            )
        k = n_themes or choose_k(z[usable], 3, max_themes, random_state)
        k = max(min(k, len(usable) - 1), len(seeded), 1)
        labels, centres = spherical_kmeans(
            z[usable],
            k,
            seeds=np.array(seeds) if seeds else None,
            random_state=random_state,
        )
        sizes = np.bincount(labels, minlength=k)
        found = describe(features, counts[usable], labels, k)
        # Seeded clusters keep their slots even when empty; other empty clusters are no theme.
        slots = [i for i in range(k) if i < len(seeded) or sizes[i] > 0]
        tax, keys = reconcile(previous, seeded, [found[i] for i in slots], features.analyzer.stem)
        kept = {key: centres[i] for i, key in zip(slots, keys, strict=True) if sizes[i] > 0}
        for key, vector in zip(seeded, seeds, strict=True):
            kept.setdefault(key, vector)
        return cls(features, kept, tax)

    # -- using ------------------------------------------------------------------------------

    def with_taxonomy(self, taxonomy: Taxonomy) -> ThemeModel:
        """This model under an edited taxonomy (renames, merges, pins, rules)."""
        missing = [k for k in self.centres if k not in taxonomy.keys()]
        if missing:
            raise ModelError(f"the taxonomy lacks themes this model has: {missing}")
        return ThemeModel(self.features, dict(self.centres), taxonomy, self.min_similarity)

    def _compiled(self) -> list[tuple[str, object]]:
        token = self.taxonomy.to_json()
        if self._rules.get("token") != token:
            compiled = [(t.key, compile_rules(t.rules)) for t in self.taxonomy.active() if t.rules]
            self._rules.clear()
            self._rules.update({"token": token, "rules": compiled})
        return self._rules["rules"]  # type: ignore[return-value]

    def _rule_hits(self, docs: Sequence[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
        """Index (into the returned keys) of the rule theme matching earliest in each text."""
        rules = self._compiled()
        hit = np.full(len(docs), -1, dtype=np.int64)
        if not rules:
            return hit, []
        first = np.full(len(docs), np.iinfo(np.int64).max, dtype=np.int64)
        for j, (_, regex) in enumerate(rules):
            search = regex.search  # type: ignore[attr-defined]
            for i, doc in enumerate(docs):
                match = search(doc)
                if match is not None and match.start() < first[i]:
                    first[i] = match.start()
                    hit[i] = j
        return hit, [key for key, _ in rules]

    def assign(self, texts: Sequence[str]) -> ThemeAssignment:
        """Primary theme of each text: the first-matching keyword rule, else the nearest
        theme centre when its cosine reaches `min_similarity`, else none (-1)."""
        with threadpool_limits(1):
            return self._assign(texts)

    def _assign(self, texts: Sequence[str]) -> ThemeAssignment:
        docs = _as_texts(texts)
        active = self.taxonomy.active()
        keys = tuple(t.key for t in active)
        column = {key: j for j, key in enumerate(keys)}
        n = len(docs)
        theme = np.full(n, -1, dtype=np.int64)
        weight = np.zeros(n)
        source = np.full(n, "", dtype=object)
        targets = [(k, self.taxonomy.resolve(k)) for k in self.centres]
        usable = [(k, t) for k, t in targets if t is not None]
        if usable and n:
            matrix = np.array([self.centres[k] for k, _ in usable])
            to_column = np.array([column[t] for _, t in usable], dtype=np.int64)
            z = self.features.transform(docs)
            scores = z @ matrix.T
            best = scores.argmax(axis=1)
            weight = scores[np.arange(n), best]
            ok = weight >= self.min_similarity
            theme[ok] = to_column[best[ok]]
            source[ok] = "model"
            weight = np.where(ok, weight, 0.0)
        hit, rule_keys = self._rule_hits(docs)
        if rule_keys:
            rule_column = np.array([column[k] for k in rule_keys], dtype=np.int64)
            ruled = hit >= 0
            theme[ruled] = rule_column[hit[ruled]]
            weight[ruled] = 1.0
            source[ruled] = "rule"
        return ThemeAssignment(keys, theme, weight, source)

    def split(self, key: str, texts: Sequence[str], parts: int = 2) -> ThemeModel:
        """Re-cluster the texts of theme `key` into `parts` new themes; `key` is retired."""
        spec = self.taxonomy.get(key)
        if spec.status != "active":
            raise ModelError(f"theme {key} is {spec.status}; only active themes can be split")
        if parts < 2:
            raise ModelError(f"split needs at least 2 parts, got {parts}")
        docs = _as_texts(texts)
        assignment = self.assign(docs)
        mine = [i for i in range(len(docs)) if assignment.key_of(i) == key]
        counts = self.features.counts([docs[i] for i in mine])
        z = self.features.embed_counts(counts)
        rows = np.flatnonzero(np.abs(z).sum(axis=1) > 0)
        if len(rows) < 2 * parts:
            raise ModelError(
                f"theme {key} ({spec.label}) holds {len(rows)} of these texts; "
                f"splitting it into {parts} needs at least {2 * parts}"
            )
        labels, centres = spherical_kmeans(z[rows], parts, random_state=0)
        found = describe(self.features, counts[rows], labels, parts)
        tax = self.taxonomy.retire(key)
        new_centres = {k: v for k, v in self.centres.items() if k != key}
        for i, part in enumerate(found):
            new = new_key(key + "|" + "|".join(part.terms), tax.keys())
            tax = tax.with_theme(ThemeSpec(new, part.label, part.terms))
            new_centres[new] = centres[i]
        return ThemeModel(self.features, new_centres, tax, self.min_similarity)

    def quotes(
        self, texts: Sequence[str], assignment: ThemeAssignment, per_theme: int = 3
    ) -> dict[str, list[int]]:
        """Indices of representative texts per theme: closest to the theme centre, distinct,
        and of at least four words when the theme has enough of those."""
        docs = _as_texts(texts)
        if len(docs) != len(assignment.theme):
            raise ModelError(f"{len(docs)} texts but the assignment covers {len(assignment.theme)}")
        z = self.features.transform(docs)
        out: dict[str, list[int]] = {}
        for j, key in enumerate(assignment.keys):
            members = np.flatnonzero(assignment.theme == j)
            centre = self.centres.get(key)
            closeness = z[members] @ centre if centre is not None else assignment.weight[members]
            long_enough = np.array([len(docs[i].split()) >= 4 for i in members], dtype=bool)
            order = np.lexsort((-closeness, ~long_enough))
            picked: list[int] = []
            seen: set[str] = set()
            for position in order:
                i = int(members[position])
                norm = " ".join(docs[i].lower().split())
                if norm and norm not in seen:
                    seen.add(norm)
                    picked.append(i)
                if len(picked) == per_theme:
                    break
            out[key] = picked
        return out

    # -- persistence ------------------------------------------------------------------------

    def terms(
        self, texts: Sequence[str], assignment: ThemeAssignment
    ) -> dict[str, tuple[str, ...]]:
        """Top c-TF-IDF terms of the texts each theme was assigned, rule themes included: what
        a theme is about in these texts, not when it was found."""
        docs = _as_texts(texts)
        keep = assignment.theme >= 0
        if not keep.any():
            return {}
        counts = self.features.counts([d for d, k in zip(docs, keep, strict=True) if k])
        found = describe(self.features, counts, assignment.theme[keep], len(assignment.keys))
        return {key: f.terms for key, f in zip(assignment.keys, found, strict=True) if f.terms}

    def to_bytes(self) -> bytes:
        state = {
            "version": FORMAT_VERSION,
            "features": self.features,
            "centres": self.centres,
            "taxonomy": self.taxonomy.to_json(),
            "min_similarity": self.min_similarity,
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> ThemeModel:
        """Load bytes written by `to_bytes` (from cxlens's own store only: this unpickles)."""
        try:
            state = pickle.loads(data)  # noqa: S301 - bytes this class wrote to our store
        except Exception as exc:
            raise ModelError(f"not a saved theme model: {exc}") from exc
        version = state.get("version") if isinstance(state, dict) else None
        if version != FORMAT_VERSION:
            raise ModelError(
                f"saved theme model has format {version}, this cxlens reads {FORMAT_VERSION}; "
                "discover the themes again"
            )
        return cls(
            state["features"],
            state["centres"],
            Taxonomy.from_json(state["taxonomy"]),
            state["min_similarity"],
        )


def describe(
    features: Features, counts: sp.csr_matrix, labels: npt.NDArray[np.int64], k: int
) -> list[Found]:
    """Top c-TF-IDF terms and a three-term label for each of `k` clusters; the label skips
    terms that top many clusters ("flight" in airline tweets), which name no theme."""
    scores = class_tfidf(counts, labels, k)
    vocabulary = features.vocabulary
    tops = [[int(i) for i in np.argsort(-row)[:N_TERMS] if row[i] > 0] for row in scores]
    spread = Counter(i for top in tops for i in top)
    common = max(2, k // 3)
    found = []
    for top in tops:
        terms = tuple(features.readable(vocabulary[i]) for i in top)
        named = [features.readable(vocabulary[i]) for i in top if spread[i] <= common]
        label = " / ".join((named or list(terms))[:3]) or "(no words)"
        found.append(Found(terms, label))
    return found
