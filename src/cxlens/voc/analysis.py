"""One text-analytics run: language, sentiment and themes of every text, then what drives
satisfaction and churn and which themes are emerging. Everything a run finds is stored with it.

Steps, in order:
1. read every text of the configured kinds, with its author's master customer and account;
2. sentiment out of the box (lexicon); when enough survey comments carry a score, train the
   domain model on them (the score is a free label) and keep it if cross-validation says it
   beats the lexicon;
3. themes: discover them with the analysts' taxonomy in force (pinned, renamed, merged and
   rule themes survive), assign every text, pick representative quotes;
4. drivers of NPS, CSAT (themes and touchpoints) and churn (negative themes per account);
5. emerging issues per period against each theme's baseline;
6. store the run, its models, every text's result and the new taxonomy version together.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cxlens.config import VocSettings
from cxlens.errors import MetricError, ModelError
from cxlens.models.drivers import (
    DriverSettings,
    csat_outcome,
    group_gaps,
    key_drivers,
    nps_outcome,
)
from cxlens.models.emerging import EmergingSettings, emerging_issues
from cxlens.models.sentiment import (
    LABELS,
    DomainTraining,
    LexiconSentiment,
    SentimentModel,
    labels_from_scores,
    self_train,
    train_domain_model,
)
from cxlens.models.themes import Taxonomy, ThemeAssignment, ThemeModel
from cxlens.schema.voc import (
    VOC_DRIVERS,
    VOC_EMERGING,
    VOC_MODELS,
    VOC_RUNS,
    VOC_TEXTS,
    VOC_THEMES,
)
from cxlens.store import Store
from cxlens.store.base import arrow_schema
from cxlens.voc import taxonomy as taxonomy_store
from cxlens.voc.frames import churn_dates, customer_texts, survey_answers

NEGATIVE = LABELS.index("negative")
PRAISE_PREFIX = "praise:"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class VocRun:
    run_id: str | None
    as_of: pd.Timestamp
    texts: int
    sentiment_model: str
    domain: DomainTraining | None
    domain_note: str
    languages: dict[str, int]
    unsupported: int
    taxonomy_version: int | None
    themes: pd.DataFrame
    drivers: pd.DataFrame
    emerging: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        gain = None
        if self.domain is not None:
            gain = {
                "labelled_comments": self.domain.n,
                "lexicon_macro_f1": round(self.domain.baseline_f1, 4),
                "domain_macro_f1": round(self.domain.domain_f1, 4),
                "gain": round(self.domain.gain, 4),
            }
        return {
            "domain_model": gain,
            "domain_note": self.domain_note,
            "languages": self.languages,
            "unsupported": self.unsupported,
            "themes": len(self.themes),
            "emerging": int(self.emerging["emerging"].sum()) if len(self.emerging) else 0,
            "seconds": {k: round(v, 2) for k, v in self.timings.items()},
        }


def analyse(
    store: Store,
    settings: VocSettings,
    *,
    save: bool = True,
    actor: str = "cxlens",
    progress: Progress | None = None,
) -> VocRun:
    say = progress or (lambda _: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    say("reading texts")
    texts = customer_texts(store, settings.kinds)
    if texts.empty:
        raise MetricError(
            f"no texts of kinds {', '.join(settings.kinds)} in the store; load surveys, "
            "tickets, social mentions, notes or community posts first"
        )
    body = texts["text"].astype(str).tolist()
    lap("read")

    say(f"sentiment of {len(body):,} texts")
    model, domain, note = _sentiment_model(texts, settings)
    sentiment = _score(texts, body, model, settings)
    lap("sentiment")

    say("themes")
    in_force = taxonomy_store.current(store)
    themes = ThemeModel.discover(
        body,
        n_themes=settings.themes,
        taxonomy=in_force.taxonomy if in_force else None,
        random_state=settings.seed,
    )
    assignment = themes.assign(body)
    quotes = themes.quotes(body, assignment, per_theme=3)
    terms = themes.terms(body, assignment)
    lap("themes")

    frame = texts.assign(
        **sentiment,
        theme=_theme_keys(assignment),
        theme_weight=assignment.weight,
        theme_source=assignment.source,
    )
    theme_table = _theme_table(frame, themes.taxonomy, assignment, quotes, terms)
    labels = dict(zip(theme_table["theme_key"], theme_table["label"], strict=True))

    say("drivers")
    drivers = _drivers(store, frame, labels, settings)
    lap("drivers")

    say("emerging issues")
    emerging = _emerging(frame, labels, settings)
    lap("emerging")

    languages = frame["language"].value_counts().to_dict()
    run = VocRun(
        run_id=None,
        as_of=pd.Timestamp(frame["occurred_at"].max()),
        texts=len(frame),
        sentiment_model=model.name,
        domain=domain,
        domain_note=note,
        languages={str(k): int(v) for k, v in languages.items()},
        unsupported=int((~frame["supported"].astype(bool)).sum()),
        taxonomy_version=None,
        themes=theme_table,
        drivers=drivers,
        emerging=emerging,
        timings=timings,
    )
    if not save:
        return run
    say("saving")
    run = _save(store, run, frame, model, themes, in_force is None, actor)
    lap("save")
    return run


def _theme_keys(assignment: ThemeAssignment) -> np.ndarray:
    keys = np.array([*assignment.keys, None], dtype=object)
    return np.asarray(keys[np.where(assignment.theme >= 0, assignment.theme, len(assignment.keys))])


def _score(
    texts: pd.DataFrame, body: list[str], model: SentimentModel, settings: VocSettings
) -> dict[str, np.ndarray]:
    """Language and sentiment per text: the domain model on the kinds it was made for (the
    customers' own words), the lexicon on the rest."""
    lexicon = LexiconSentiment()
    mine = texts["kind"].isin(settings.domain_kinds).to_numpy(copy=True)
    if model.name == lexicon.name:
        mine[:] = False
    columns: dict[str, np.ndarray] = {
        "language": np.empty(len(body), dtype=object),
        "supported": np.zeros(len(body), dtype=bool),
        "label": np.full(len(body), -1, dtype=np.int8),
        "sentiment_score": np.full(len(body), np.nan),
        "sentiment_model": np.where(mine, model.name, lexicon.name).astype(object),
    }
    for scorer, rows in ((model, np.flatnonzero(mine)), (lexicon, np.flatnonzero(~mine))):
        if not len(rows):
            continue
        result = scorer.predict([body[i] for i in rows])
        columns["language"][rows] = result.language
        columns["supported"][rows] = result.supported
        columns["label"][rows] = result.label
        columns["sentiment_score"][rows] = result.score
    return columns


def _sentiment_model(
    texts: pd.DataFrame, settings: VocSettings
) -> tuple[SentimentModel, DomainTraining | None, str]:
    lexicon = LexiconSentiment()
    surveys = texts[texts["kind"] == "survey"].dropna(subset=["score"])
    labels = labels_from_scores(surveys["action"].astype(str).to_numpy(), surveys["score"])
    usable = int((labels >= 0).sum())
    if usable < settings.domain_min_labels:
        return (
            lexicon,
            None,
            f"{usable} scored survey comments, fewer than the {settings.domain_min_labels} "
            "the domain model needs: the lexicon scores every text",
        )
    try:
        domain = train_domain_model(
            surveys["text"].astype(str).tolist(),
            surveys["action"].astype(str).to_numpy(),
            surveys["score"].to_numpy(dtype=float),
            base=lexicon,
            random_state=settings.seed,
        )
    except ModelError as exc:
        return lexicon, None, f"domain model not trained: {exc}"
    if domain.gain <= 0:
        return (
            lexicon,
            domain,
            f"domain model did not beat the lexicon ({domain.domain_f1:.3f} vs "
            f"{domain.baseline_f1:.3f} macro-F1): the lexicon scores every text",
        )
    note = (
        f"domain model trained on {domain.n:,} scored survey comments: macro-F1 "
        f"{domain.domain_f1:.3f} vs {domain.baseline_f1:.3f} for the lexicon"
    )
    if not settings.adapt:
        return domain.model, domain, note
    # Survey comments are one register; social posts and community threads another. The
    # domain model labels the customers' other texts, and its confident labels teach a model
    # of their words (self-training), so it reads them as well as it reads surveys.
    words = texts.loc[texts["kind"].isin(settings.domain_kinds), "text"].astype(str).tolist()
    try:
        adapted = self_train(words, base=domain.model, random_state=settings.seed)
    except ModelError:
        return domain.model, domain, note
    adapted.name = "domain+adapted"
    return adapted, domain, f"{note}, adapted to {len(words):,} texts of the customers"


def _theme_table(
    frame: pd.DataFrame,
    taxonomy: Taxonomy,
    assignment: ThemeAssignment,
    quotes: dict[str, list[int]],
    terms: dict[str, tuple[str, ...]],
) -> pd.DataFrame:
    event_ids = frame["event_id"].to_numpy()
    scored = frame["label"].to_numpy() >= 0
    negative = frame["label"].to_numpy() == NEGATIVE
    score = frame["sentiment_score"].to_numpy(dtype=float)
    rows = []
    for spec in taxonomy.active():
        if spec.key not in assignment.keys:
            continue
        members = assignment.theme == assignment.keys.index(spec.key)
        n = int(members.sum())
        judged = members & scored
        rows.append(
            {
                "theme_key": spec.key,
                "label": spec.label,
                "terms": list(terms.get(spec.key) or spec.terms),
                "pinned": bool(spec.pinned),
                "texts": n,
                "share": n / len(frame),
                "negative_share": float(negative[judged].mean()) if judged.any() else None,
                "mean_sentiment": float(score[judged].mean()) if judged.any() else None,
                "quotes": [str(event_ids[i]) for i in quotes.get(spec.key, [])],
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in VOC_THEMES.column_names if c != "run_id"])
    return table.sort_values("texts", ascending=False, ignore_index=True)


def _theme_flags(
    frame: pd.DataFrame, keys: list[str], where: pd.Series | None = None
) -> pd.DataFrame:
    theme = frame["theme"]
    if where is not None:
        theme = theme.where(where)
    return pd.DataFrame({k: (theme == k).to_numpy() for k in keys}, index=frame.index)


def _drivers(
    store: Store, frame: pd.DataFrame, labels: dict[str, str], settings: VocSettings
) -> pd.DataFrame:
    keys = list(labels)
    driver_settings = DriverSettings(seed=settings.seed, min_n=max(10, settings.min_sample // 3))
    answers = survey_answers(store)
    themed = answers.merge(frame[["event_id", "theme", "label"]], on="event_id", how="left")
    parts = []
    for target, code in (("nps", nps_outcome), ("csat", csat_outcome)):
        rows = themed[themed["measure"] == target].reset_index(drop=True)
        if len(rows) < 2 * driver_settings.min_n:
            continue
        y = code(rows["score"].to_numpy(dtype=float))
        base = float(y.mean())
        touchpoint = rows["touchpoint"]
        # A theme is a problem where customers complain about it and a strength where they
        # praise it; the two enter one model, so each effect is net of the other.
        complaints = _theme_flags(rows, keys, where=rows["label"] == NEGATIVE)
        praise = _theme_flags(rows, keys, where=rows["label"] == LABELS.index("positive"))
        flags = pd.concat([complaints, praise.add_prefix(PRAISE_PREFIX)], axis=1)
        try:
            by_theme = key_drivers(y, flags, rows[["touchpoint"]], driver_settings)
        except ModelError:
            by_theme = None  # too few answers, or no theme common enough: nothing to say
        if by_theme is not None:
            positive = by_theme["factor"].str.startswith(PRAISE_PREFIX)
            by_theme["factor"] = by_theme["factor"].str.removeprefix(PRAISE_PREFIX)
            kind = np.where(positive, "theme_praise", "theme")
            parts.append(by_theme.assign(target=target, factor_kind=kind, base=base))
        try:
            by_touchpoint = group_gaps(y, touchpoint.to_numpy(), driver_settings)
            parts.append(by_touchpoint.assign(target=target, factor_kind="touchpoint", base=base))
        except ModelError:
            pass
    churn = _churn_drivers(store, frame, keys, settings, driver_settings)
    if churn is not None:
        parts.append(churn)
    if not parts:
        return pd.DataFrame(columns=[c for c in VOC_DRIVERS.column_names if c != "run_id"])
    drivers = pd.concat(parts, ignore_index=True)
    is_theme = drivers["factor_kind"].str.startswith("theme")
    drivers["label"] = np.where(
        is_theme, drivers["factor"].map(labels).fillna(drivers["factor"]), drivers["factor"]
    )
    return drivers


def _churn_drivers(
    store: Store,
    frame: pd.DataFrame,
    keys: list[str],
    settings: VocSettings,
    driver_settings: DriverSettings,
) -> pd.DataFrame | None:
    """Accounts that voiced a theme negatively in the year before a cutoff, against whether they
    churned within the horizon after it. The cutoff is one horizon before the latest text, so
    every account's outcome is fully observed."""
    horizon = pd.Timedelta(days=settings.churn_horizon_days)
    cutoff = pd.Timestamp(frame["occurred_at"].max()) - horizon
    window = frame[
        (frame["occurred_at"] < cutoff)
        & (frame["occurred_at"] >= cutoff - pd.Timedelta(days=365))
        & frame["account"].notna()
    ]
    if window.empty:
        return None
    churns = churn_dates(store)
    gone_before = set(churns.loc[churns["occurred_at"] < cutoff, "account"])
    left = set(
        churns.loc[
            (churns["occurred_at"] >= cutoff) & (churns["occurred_at"] < cutoff + horizon),
            "account",
        ]
    )
    window = window[~window["account"].isin(gone_before)]
    negative = window["label"] == NEGATIVE
    flags = _theme_flags(window, keys, where=negative)
    per_account = flags.groupby(window["account"].to_numpy()).any()
    if len(per_account) < 2 * driver_settings.min_n:
        return None
    y = np.where(per_account.index.isin(list(left)), 100.0, 0.0)
    if y.min() == y.max():
        return None
    try:
        table = key_drivers(y, per_account, settings=driver_settings)
    except ModelError:
        return None
    return table.assign(target="churn", factor_kind="theme", base=float(y.mean()))


def _emerging(frame: pd.DataFrame, labels: dict[str, str], settings: VocSettings) -> pd.DataFrame:
    label = frame["label"].to_numpy()
    negative = pd.Series(label == NEGATIVE, index=frame.index, dtype="boolean")
    negative[label < 0] = pd.NA  # not scored: no say in negativity
    found = emerging_issues(
        pd.DataFrame(
            {"theme": frame["theme"], "occurred_at": frame["occurred_at"], "negative": negative}
        ),
        EmergingSettings(
            freq=settings.emerging_period,
            baseline=settings.emerging_baseline,
            min_count=settings.emerging_min_count,
            min_ratio=settings.emerging_min_ratio,
            alpha=settings.emerging_alpha,
        ),
    )
    found = found.rename(columns={"theme": "theme_key"})
    found["label"] = found["theme_key"].map(labels).fillna(found["theme_key"])
    return found


def _encode(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def _save(
    store: Store,
    run: VocRun,
    frame: pd.DataFrame,
    model: SentimentModel,
    themes: ThemeModel,
    first: bool,
    actor: str,
) -> VocRun:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = "voc_" + now.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
    label = frame["label"].to_numpy()
    texts = pd.DataFrame(
        {
            "run_id": run_id,
            "event_id": frame["event_id"],
            "customer_id": frame["customer"],
            "occurred_at": frame["occurred_at"],
            "kind": frame["kind"],
            "touchpoint": frame["touchpoint"],
            "language": frame["language"],
            "supported": frame["supported"].astype(bool),
            "sentiment": [LABELS[i] if i >= 0 else None for i in label],
            "sentiment_score": frame["sentiment_score"],
            "sentiment_model": frame["sentiment_model"],
            "theme_key": frame["theme"],
            "theme_weight": frame["theme_weight"],
            "theme_source": [s or None for s in frame["theme_source"]],
        }
    )
    models = [{"run_id": run_id, "kind": "themes", "payload": _encode(themes.to_bytes())}]
    to_bytes = getattr(model, "to_bytes", None)
    if callable(to_bytes):
        models.append({"run_id": run_id, "kind": "sentiment", "payload": _encode(to_bytes())})
    with store.transaction():
        taxonomy_version = taxonomy_store.save(
            store,
            themes.taxonomy,
            actor=actor,
            action="discover",
            detail={"run_id": run_id, "first": first, "themes": len(themes.taxonomy.active())},
        )
        run = VocRun(**{**run.__dict__, "run_id": run_id, "taxonomy_version": taxonomy_version})
        row = {
            "run_id": run_id,
            "ran_at": now,
            "as_of": run.as_of.to_pydatetime(),
            "texts": run.texts,
            "sentiment_model": run.sentiment_model,
            "model_version": version("cxlens"),
            "taxonomy_version": taxonomy_version,
            "metrics": json.dumps(run.metrics()),
        }
        store.append(VOC_RUNS, pa.Table.from_pylist([row], arrow_schema(VOC_RUNS)))
        store.append(VOC_MODELS, pa.Table.from_pylist(models, arrow_schema(VOC_MODELS)))
        store.append(VOC_TEXTS, _arrow(texts, VOC_TEXTS))
        store.append(
            VOC_THEMES,
            _arrow(
                run.themes.assign(
                    run_id=run_id,
                    terms=run.themes["terms"].map(json.dumps),
                    quotes=run.themes["quotes"].map(json.dumps),
                ),
                VOC_THEMES,
            ),
        )
        store.append(VOC_DRIVERS, _arrow(run.drivers.assign(run_id=run_id), VOC_DRIVERS))
        store.append(VOC_EMERGING, _arrow(run.emerging.assign(run_id=run_id), VOC_EMERGING))
    return run


def _arrow(frame: pd.DataFrame, table: Any) -> pa.Table:
    columns = table.column_names
    return pa.Table.from_pandas(frame[columns], schema=arrow_schema(table), preserve_index=False)
