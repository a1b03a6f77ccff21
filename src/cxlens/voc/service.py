"""The voice-of-the-customer namespace of a workspace: satisfaction, text analytics runs, their
stored results, and the analysts' edits of the theme taxonomy."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from cxlens.config import VocSettings
from cxlens.errors import MetricError, ModelError
from cxlens.metrics.frames import survey_responses
from cxlens.metrics.satisfaction import satisfaction, trend
from cxlens.models.themes import Taxonomy, ThemeModel
from cxlens.models.themes.library import with_library
from cxlens.store import Store
from cxlens.voc import taxonomy as taxonomy_store
from cxlens.voc.analysis import Progress, VocRun, analyse

VoiceBreakdown = Literal["touchpoint", "journey_stage", "channel", "segment", "region", "owner"]
DriverTarget = Literal["nps", "csat", "churn"]


class NoVocRun(MetricError):
    """Results were asked for before any text-analytics run."""


class Voice:
    """Satisfaction along the journey; sentiment, themes, drivers and emerging issues of every
    customer text; the theme taxonomy analysts curate."""

    def __init__(self, store: Store, settings: VocSettings | None = None) -> None:
        self.store = store
        self.settings = settings or VocSettings()

    # ---- satisfaction ---------------------------------------------------------------------
    def satisfaction(
        self,
        *,
        by: Sequence[VoiceBreakdown] = ("touchpoint",),
        period: str | None = None,
        min_sample: int | None = None,
    ) -> pd.DataFrame:
        responses = survey_responses(self.store)
        if responses.empty:
            raise MetricError("no survey answers in the store")
        minimum = min_sample or self.settings.min_sample
        if period is None:
            return satisfaction(responses, by=list(by), min_sample=minimum)
        return trend(responses, period=period, by=list(by), min_sample=minimum)

    # ---- runs -----------------------------------------------------------------------------
    def analyse(
        self, *, save: bool = True, actor: str = "cxlens", progress: Progress | None = None
    ) -> VocRun:
        """Score, theme and explain every text; stores the run unless `save` is False."""
        return analyse(self.store, self.settings, save=save, actor=actor, progress=progress)

    def runs(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.store.query(
            "SELECT run_id, ran_at, as_of, texts, sentiment_model, model_version, "
            "taxonomy_version, metrics FROM voc_runs ORDER BY ran_at"
        ).to_pandas()
        frame["metrics"] = frame["metrics"].map(json.loads)
        return frame

    def latest_run(self) -> str:
        run = self.store.scalar("SELECT run_id FROM voc_runs ORDER BY ran_at DESC LIMIT 1")
        if run is None:
            raise NoVocRun("no text-analytics run yet: run `cxlens voc analyse` first")
        return str(run)

    def _run(self, run_id: str | None) -> str:
        if run_id is None:
            return self.latest_run()
        if self.store.scalar("SELECT count(*) FROM voc_runs WHERE run_id = ?", [run_id]) == 0:
            raise NoVocRun(f"no text-analytics run {run_id}; see `cxlens voc runs`")
        return run_id

    # ---- results --------------------------------------------------------------------------
    def themes(self, run_id: str | None = None) -> pd.DataFrame:
        """Themes of a run (the latest by default), largest first, with quotes as texts."""
        run = self._run(run_id)
        frame: pd.DataFrame = self.store.query(
            "SELECT theme_key, label, terms, pinned, texts, share, negative_share, "
            "mean_sentiment, quotes FROM voc_themes WHERE run_id = ? ORDER BY texts DESC",
            [run],
        ).to_pandas()
        frame["terms"] = frame["terms"].map(json.loads)
        frame["quotes"] = frame["quotes"].map(json.loads)
        quoted = sorted({q for qs in frame["quotes"] for q in qs})
        text = self._texts_of(quoted)
        frame["quote_texts"] = frame["quotes"].map(lambda qs: [text.get(q, "") for q in qs])
        return frame

    def _texts_of(self, event_ids: list[str]) -> dict[str, str]:
        if not event_ids:
            return {}
        marks = ", ".join("?" for _ in event_ids)
        rows = self.store.rows(
            f"SELECT event_id, text FROM events WHERE event_id IN ({marks})", event_ids
        )
        return {str(r["event_id"]): str(r["text"]) for r in rows}

    def drivers(
        self, target: DriverTarget | None = None, run_id: str | None = None
    ) -> pd.DataFrame:
        """What moves NPS, CSAT and churn; one row per (target, factor), biggest gain first."""
        run = self._run(run_id)
        where = "run_id = ?" + (" AND target = ?" if target else "")
        params = [run, target] if target else [run]
        frame: pd.DataFrame = self.store.query(
            "SELECT target, factor_kind, factor, label, n, share, effect, impact, impact_low, "
            f"impact_high, base FROM voc_drivers WHERE {where} "
            "ORDER BY target, impact DESC",
            params,
        ).to_pandas()
        return frame

    def emerging(
        self, run_id: str | None = None, *, periods: int | None = 1, all_tests: bool = False
    ) -> pd.DataFrame:
        """Emerging themes in the last `periods` periods (all when None); every test when
        `all_tests`, only the flagged ones otherwise."""
        run = self._run(run_id)
        frame: pd.DataFrame = self.store.query(
            "SELECT theme_key, label, period_start, signal, observed, expected, ratio, p_value, "
            "q_value, emerging FROM voc_emerging WHERE run_id = ? "
            "ORDER BY period_start DESC, q_value",
            [run],
        ).to_pandas()
        if periods is not None and len(frame):
            starts = sorted(frame["period_start"].unique())[-periods:]
            frame = frame[frame["period_start"].isin(starts)]
        if not all_tests:
            frame = frame[frame["emerging"].astype(bool)]
        return frame.reset_index(drop=True)

    def texts(
        self,
        *,
        run_id: str | None = None,
        customer: str | None = None,
        theme: str | None = None,
        sentiment: str | None = None,
        limit: int = 50,
    ) -> pd.DataFrame:
        """Texts of a run with their sentiment and theme, newest first, filtered."""
        run = self._run(run_id)
        where, params = ["t.run_id = ?"], [run]
        for column, value in (
            ("t.customer_id", customer),
            ("t.theme_key", theme),
            ("t.sentiment", sentiment),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        frame: pd.DataFrame = self.store.query(
            "SELECT t.event_id, t.occurred_at, t.customer_id, t.kind, t.touchpoint, t.language, "
            "t.supported, t.sentiment, t.sentiment_score, t.sentiment_model, t.theme_key, "
            "t.theme_source, e.text "
            "FROM voc_texts AS t JOIN events AS e ON e.event_id = t.event_id "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY t.occurred_at DESC, t.event_id LIMIT {int(limit)}",
            params,
        ).to_pandas()
        return frame

    # ---- taxonomy -------------------------------------------------------------------------
    def taxonomy(self) -> Taxonomy:
        found = taxonomy_store.current(self.store)
        if found is None:
            raise NoVocRun("no theme taxonomy yet: run `cxlens voc analyse` first")
        return found.taxonomy

    def _editable(self) -> Taxonomy:
        """The taxonomy in force, or an empty one: analysts may start before any run."""
        found = taxonomy_store.current(self.store)
        return found.taxonomy if found else Taxonomy()

    def load_library(self, name: str, *, actor: str) -> int:
        """Add a topic library's themes (pinned keyword rules) to the taxonomy."""
        before = self._editable()
        after = with_library(before, name)
        added = [t.label for t in after.themes[len(before.themes) :]]
        return self._edit(after, actor, "library", {"library": name, "added": added})

    def taxonomy_history(self) -> list[taxonomy_store.TaxonomyVersion]:
        return taxonomy_store.history(self.store)

    def _edit(self, taxonomy: Taxonomy, actor: str, action: str, detail: dict[str, Any]) -> int:
        with self.store.transaction():
            return taxonomy_store.save(
                self.store, taxonomy, actor=actor, action=action, detail=detail
            )

    def rename(self, key: str, label: str, *, actor: str) -> int:
        old = self._editable().get(key).label
        return self._edit(
            self._editable().rename(key, label),
            actor,
            "rename",
            {"key": key, "from": old, "to": label},
        )

    def merge(
        self, keys: Sequence[str], *, into: str | None = None, label: str | None = None, actor: str
    ) -> int:
        merged = self._editable().merge(list(keys), into=into, label=label)
        return self._edit(
            merged, actor, "merge", {"keys": list(keys), "into": into, "label": label}
        )

    def pin(self, key: str, *, pinned: bool = True, actor: str) -> int:
        return self._edit(
            self._editable().pin(key, pinned), actor, "pin" if pinned else "unpin", {"key": key}
        )

    def add_rule(self, key: str, pattern: str, *, actor: str) -> int:
        return self._edit(
            self._editable().add_rule(key, pattern), actor, "rule", {"key": key, "add": pattern}
        )

    def remove_rule(self, key: str, pattern: str, *, actor: str) -> int:
        return self._edit(
            self._editable().remove_rule(key, pattern),
            actor,
            "rule",
            {"key": key, "remove": pattern},
        )

    def add_theme(self, label: str, rules: Sequence[str], *, actor: str) -> int:
        return self._edit(
            self._editable().add_theme(label, rules=tuple(rules)),
            actor,
            "add",
            {"label": label, "rules": list(rules)},
        )

    def split(self, key: str, *, parts: int = 2, actor: str) -> int:
        """Re-cluster the texts of `key` (in the latest run) into `parts` themes."""
        run = self.latest_run()
        payload = self.store.scalar(
            "SELECT payload FROM voc_models WHERE run_id = ? AND kind = 'themes'", [run]
        )
        if payload is None:
            raise ModelError(f"run {run} kept no theme model; run `cxlens voc analyse` again")
        # The run's model, with the analysts' edits made since that run.
        taxonomy = self.taxonomy()
        taxonomy.get(key)  # unknown keys fail here, with the taxonomy's own message
        model = ThemeModel.from_bytes(base64.b64decode(str(payload))).with_taxonomy(taxonomy)
        texts = (
            self.store.query(
                "SELECT e.text FROM voc_texts AS t JOIN events AS e ON e.event_id = t.event_id "
                "WHERE t.run_id = ? AND t.theme_key = ?",
                [run, key],
            )
            .column("text")
            .to_pylist()
        )
        split = model.split(key, [str(t) for t in texts], parts=parts)
        before = {t.key for t in model.taxonomy.themes}
        created = [t.key for t in split.taxonomy.active() if t.key not in before]
        return self._edit(
            split.taxonomy,
            actor,
            "split",
            {"key": key, "parts": parts, "texts": len(texts), "into": created},
        )
