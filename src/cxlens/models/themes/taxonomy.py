"""The theme taxonomy analysts curate: plain frozen data that the service layer stores as JSON.

Every edit returns a new `Taxonomy`, so a stored version is never changed behind anyone's
back. Keys are never reused: a retired or merged theme keeps its key in the taxonomy, so
old assignments still resolve and a new theme cannot take an old one's place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from cxlens.errors import ModelError
from cxlens.models.themes.rules import compile_rules

STATUSES = ("active", "merged", "retired")


@dataclass(frozen=True)
class ThemeSpec:
    """One theme of the taxonomy (see the package docstring for the meaning of each field)."""

    key: str
    label: str
    terms: tuple[str, ...]
    pinned: bool = False
    rules: tuple[str, ...] = ()
    status: str = "active"
    merged_into: str | None = None
    renamed: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ModelError(f"theme {self.key}: status {self.status!r} is not one of {STATUSES}")
        if (self.status == "merged") != (self.merged_into is not None):
            raise ModelError(f"theme {self.key}: merged_into is set exactly when status is merged")

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "terms": list(self.terms),
            "pinned": self.pinned,
            "rules": list(self.rules),
            "status": self.status,
            "merged_into": self.merged_into,
            "renamed": self.renamed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> ThemeSpec:
        try:
            merged = d.get("merged_into")
            return cls(
                key=str(d["key"]),
                label=str(d["label"]),
                terms=tuple(str(t) for t in d.get("terms", ()) or ()),  # type: ignore[attr-defined]
                pinned=bool(d.get("pinned", False)),
                rules=tuple(str(r) for r in d.get("rules", ()) or ()),  # type: ignore[attr-defined]
                status=str(d.get("status", "active")),
                merged_into=None if merged is None else str(merged),
                renamed=bool(d.get("renamed", False)),
            )
        except (KeyError, TypeError) as exc:
            raise ModelError(f"not a theme: {d!r} ({exc})") from exc


def new_key(seed: str, taken: Iterable[str]) -> str:
    """A short key derived from `seed` (the theme's terms), never one already `taken`."""
    used = set(taken)
    for attempt in range(10_000):
        digest = hashlib.sha1(f"{seed}|{attempt}".encode(), usedforsecurity=False).hexdigest()
        key = f"t-{digest[:6]}"
        if key not in used:
            return key
    raise ModelError("could not derive a new theme key")  # pragma: no cover


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[ThemeSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        keys = [t.key for t in self.themes]
        if len(set(keys)) != len(keys):
            raise ModelError(f"duplicate theme keys in taxonomy: {sorted(keys)}")
        for theme in self.themes:
            if theme.merged_into is not None and theme.merged_into not in keys:
                raise ModelError(f"theme {theme.key} is merged into unknown {theme.merged_into}")

    def active(self) -> tuple[ThemeSpec, ...]:
        return tuple(t for t in self.themes if t.status == "active")

    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.themes)

    def get(self, key: str) -> ThemeSpec:
        for theme in self.themes:
            if theme.key == key:
                return theme
        known = ", ".join(f"{t.key} ({t.label})" for t in self.active())
        raise ModelError(f"unknown theme key {key!r}; active themes: {known or 'none'}")

    def resolve(self, key: str) -> str | None:
        """The active theme that `key` now stands for (following merges); None if retired."""
        seen: set[str] = set()
        theme = self.get(key)
        while theme.status == "merged" and theme.merged_into is not None:
            if theme.key in seen:
                raise ModelError(f"theme {key} is merged in a cycle")
            seen.add(theme.key)
            theme = self.get(theme.merged_into)
        return theme.key if theme.status == "active" else None

    def _replace(self, key: str, **changes: object) -> Taxonomy:
        self.get(key)
        return Taxonomy(
            tuple(replace(t, **changes) if t.key == key else t for t in self.themes)  # type: ignore[arg-type]
        )

    def _active(self, key: str) -> ThemeSpec:
        theme = self.get(key)
        if theme.status != "active":
            raise ModelError(f"theme {key} is {theme.status}; only active themes can be edited")
        return theme

    def rename(self, key: str, label: str) -> Taxonomy:
        self._active(key)
        if not label.strip():
            raise ModelError("a theme label cannot be empty")
        return self._replace(key, label=label.strip(), renamed=True)

    def pin(self, key: str, pinned: bool = True) -> Taxonomy:
        self._active(key)
        return self._replace(key, pinned=pinned)

    def add_rule(self, key: str, pattern: str) -> Taxonomy:
        theme = self._active(key)
        compile_rules([pattern])  # fail now, with the pattern in the message
        if pattern in theme.rules:
            return self
        return self._replace(key, rules=(*theme.rules, pattern))

    def remove_rule(self, key: str, pattern: str) -> Taxonomy:
        theme = self.get(key)
        if pattern not in theme.rules:
            raise ModelError(f"theme {key} has no rule {pattern!r}; its rules: {list(theme.rules)}")
        return self._replace(key, rules=tuple(r for r in theme.rules if r != pattern))

    def merge(
        self, keys: Sequence[str], into: str | None = None, label: str | None = None
    ) -> Taxonomy:
        """Fold `keys` into `into` (default: the first key); the others become `merged`."""
        if not keys:
            raise ModelError("merge needs at least one theme key")
        target = into if into is not None else keys[0]
        sources = [self._active(k) for k in dict.fromkeys([*keys, target])]
        rules = tuple(dict.fromkeys(r for t in sources for r in t.rules))
        terms = tuple(dict.fromkeys(w for t in sources for w in t.terms))[:15]
        themes = []
        for theme in self.themes:
            if theme.key == target:
                theme = replace(
                    theme, rules=rules, terms=terms, pinned=any(t.pinned for t in sources)
                )
                if label is not None:
                    theme = replace(theme, label=label, renamed=True)
            elif theme.key in keys:
                theme = replace(theme, status="merged", merged_into=target)
            themes.append(theme)
        return Taxonomy(tuple(themes))

    def retire(self, key: str) -> Taxonomy:
        self.get(key)
        return self._replace(key, status="retired", merged_into=None)

    def add_theme(
        self, label: str, rules: Sequence[str] = (), terms: Sequence[str] = ()
    ) -> Taxonomy:
        """An analyst-defined theme (pinned): assigned by its rules, and its terms seed a
        cluster on the next discovery."""
        if not label.strip():
            raise ModelError("a theme label cannot be empty")
        if not rules and not terms:
            raise ModelError(f"theme {label!r} needs rules or seed terms to find its texts")
        compile_rules(rules)
        key = new_key(label + "|" + "|".join(terms) + "|".join(rules), self.keys())
        spec = ThemeSpec(key, label.strip(), tuple(terms), True, tuple(rules), renamed=True)
        return Taxonomy((*self.themes, spec))

    def with_theme(self, theme: ThemeSpec) -> Taxonomy:
        return Taxonomy((*self.themes, theme))

    def to_json(self) -> str:
        return json.dumps({"version": 1, "themes": [t.to_dict() for t in self.themes]})

    @classmethod
    def from_json(cls, s: str) -> Taxonomy:
        try:
            data = json.loads(s)
            items = data["themes"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"not a taxonomy JSON document: {exc}") from exc
        return cls(tuple(ThemeSpec.from_dict(d) for d in items))
