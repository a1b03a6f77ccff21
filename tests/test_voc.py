"""Voice of the customer over a workspace: the demo company's texts, on every store backend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_mutual_info_score
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import ModelError
from cxlens.voc import NoVocRun
from cxlens.workspace import Workspace
from workspaces import demo_workspace

pytestmark = pytest.mark.slow


def _demo(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Workspace:
    return demo_workspace(tmp_path, customers=300, seed=5, backend=backend, request=request)


def _truth(tmp_path: Path) -> pd.DataFrame:
    truth = pd.read_parquet(tmp_path / "truth" / "texts.parquet")
    suffix = truth["system"].map({"zendesk": "-opened"}).fillna("")
    truth["event_id"] = truth["system"] + ":" + truth["source_key"] + suffix
    return truth[["event_id", "theme", "polarity"]]


def test_voice_of_the_demo_company(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    ws = _demo(tmp_path, backend, request)
    voc = ws.voc
    with pytest.raises(NoVocRun, match="cxlens voc analyse"):
        voc.themes()

    # The demo company sells software: like `cxlens demo`, start from the SaaS topic library.
    voc.load_library("saas", actor="test")
    run = voc.analyse()
    texts_in_store = ws.store.scalar(
        "SELECT count(*) FROM events WHERE kind IN ('survey', 'ticket', 'social', 'community', "
        "'note') AND text IS NOT NULL AND trim(text) <> ''"
    )
    assert run.run_id is not None and run.texts == texts_in_store
    assert ws.store.scalar("SELECT count(*) FROM voc_texts WHERE run_id = ?", [run.run_id]) == (
        texts_in_store
    )
    # The company's survey comments carry scores: the domain model is trained on them and
    # must have earned its place over the lexicon.
    assert run.domain is not None and run.domain.gain > 0 and run.sentiment_model != "lexicon"

    # Every text is scored or flagged; the planted polarity is recovered.
    scored = voc.texts(limit=100_000)
    assert len(scored) == texts_in_store
    truth = _truth(tmp_path).merge(scored, on="event_id")
    assert len(truth) > 0.95 * len(scored)
    assert set(truth.loc[truth["kind"] == "note", "sentiment_model"]) == {"lexicon"}
    prose = truth[truth["kind"].isin(["survey", "social", "community"])]
    assert set(prose["sentiment_model"]) == {"domain+adapted"}
    names = {-1: "negative", 0: "neutral", 1: "positive"}
    assert (prose["sentiment"] == prose["polarity"].map(names)).mean() > 0.85
    polar = truth[truth["polarity"] != 0]
    assert (polar["sentiment"] == polar["polarity"].map(names)).mean() > 0.7

    # Themes: the planted ones are recovered.
    themes = voc.themes()
    assert len(themes) >= 5 and themes["label"].str.len().min() > 0
    assert all(len(t) >= 3 for t in themes["terms"])
    assert all(1 <= len(q) <= 3 for q in themes["quote_texts"])
    themed = truth[truth["theme"] != "none"]
    ami = adjusted_mutual_info_score(themed["theme"], themed["theme_key"].fillna("-"))
    assert ami > 0.5, ami

    # Drivers: NPS by theme and by touchpoint, with intervals around the impact.
    drivers = voc.drivers("nps")
    assert set(drivers["factor_kind"]) == {"theme", "theme_praise", "touchpoint"}
    complaints = drivers[drivers["factor_kind"] == "theme"].set_index("label")
    # Fixing complaints raises NPS; the library's billing and speed complaints cost points.
    assert complaints["impact"].max() > 0
    assert complaints.loc["Performance & reliability", "impact_low"] > 0
    assert (drivers["impact_low"] <= drivers["impact"] + 1e-9).all()
    assert (drivers["impact"] <= drivers["impact_high"] + 1e-9).all()
    assert drivers["base"].nunique() == 1

    # The planted incident (speed complaints in the last two weeks) is an emerging issue.
    emerging = voc.emerging(periods=3)
    assert not emerging.empty
    incident = truth[truth["event_id"].str.startswith("social:")]
    late = incident[
        incident["occurred_at"] >= incident["occurred_at"].max() - pd.Timedelta(days=14)
    ]
    performance_keys = set(late.loc[late["theme"] == "performance", "theme_key"].dropna())
    assert set(emerging["theme_key"]) & performance_keys

    # A second run keeps the first; both are listed.
    voc.analyse()
    assert len(voc.runs()) == 2
    ws.close()


def test_analysts_curate_the_taxonomy_and_it_persists(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ws = _demo(tmp_path, "duckdb", request)
    voc = ws.voc
    voc.analyse()
    themes = voc.themes()
    first, second, third = themes["theme_key"].iloc[:3]

    voc.rename(first, "Our first theme", actor="ana")
    voc.pin(first, actor="ana")
    voc.merge([second, third], label="Merged pair", actor="ana")
    voc.add_theme("Invoices", ["invoice*", "charged twice"], actor="ana")
    with pytest.raises(ModelError):
        voc.rename("t-unknown", "x", actor="ana")
    history = voc.taxonomy_history()
    assert [v.action for v in history][-4:] == ["rename", "pin", "merge", "add"]
    assert history[-1].actor == "ana"

    run = voc.analyse()
    after = voc.themes().set_index("theme_key")
    assert after.loc[first, "label"] == "Our first theme" and after.loc[first, "pinned"]
    assert "Merged pair" in set(after["label"])
    invoices = after[after["label"] == "Invoices"]
    assert len(invoices) == 1 and invoices["texts"].iloc[0] > 0
    texts = voc.texts(theme=invoices.index[0], limit=10_000)
    assert texts["text"].str.contains("invoice|charged twice", case=False).all()
    assert run.taxonomy_version == len(voc.taxonomy_history())

    big = after.sort_values("texts", ascending=False).index[0]
    voc.split(big, parts=2, actor="ana")
    voc.analyse()
    keys = set(voc.themes()["theme_key"])
    assert big not in keys
    ws.close()


def test_voc_commands_print_json(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _demo(tmp_path, "duckdb", request).close()
    runner = CliRunner()
    w = ["-w", str(tmp_path), "--json"]
    analysed = runner.invoke(app, ["voc", "analyse", *w])
    assert analysed.exit_code == 0, analysed.output
    summary = json.loads(analysed.output)
    assert summary["texts"] > 1000 and summary["domain_model"]["gain"] > 0
    for command in (["themes"], ["drivers"], ["emerging", "--all"], ["texts"], ["runs"]):
        result = runner.invoke(app, ["voc", *command, *w])
        assert result.exit_code == 0, (command, result.output)
        assert isinstance(json.loads(result.output), list)
    themes = json.loads(runner.invoke(app, ["voc", "themes", *w]).output)
    key = themes[0]["theme_key"]
    renamed = runner.invoke(app, ["voc", "theme", "rename", key, "Speed", "-w", str(tmp_path)])
    assert renamed.exit_code == 0 and "version" in renamed.output
    plain = runner.invoke(app, ["voc", "drivers", "-w", str(tmp_path)])
    assert plain.exit_code == 0 and "would move NPS by about" in plain.output
    missing = runner.invoke(app, ["voc", "theme", "rename", "t-nope", "x", "-w", str(tmp_path)])
    assert missing.exit_code != 0 and "t-nope" in missing.output


def test_texts_in_another_language_are_flagged_not_scored(tmp_path: Path) -> None:
    """A small survey export, English and Portuguese: too few scored comments for a domain
    model, so the lexicon scores the English ones and flags the Portuguese ones."""
    english = [
        ("Support answered within an hour, great experience.", 10),
        ("The dashboards are painfully slow and keep timing out.", 3),
        ("Invoices are wrong again and nobody replies to our emails.", 2),
        ("Onboarding was smooth and the team was live in two weeks.", 9),
    ]
    portuguese = [
        ("O produto chegou quebrado e ninguém respondeu aos meus e-mails.", 2),
        ("Entrega muito rápida, recomendo a loja para todos os amigos.", 10),
    ]
    rows = [
        '"Response ID","Respondent Email","Respondent Name","Survey","Metric","Score","Comment",'
        '"Touchpoint","Channel","Submitted At"'
    ]
    for i in range(60):
        text, score = (english + portuguese)[i % 6]
        rows.append(
            f'"R{i}","p{i}@example.com",,"NPS","NPS",{score},"{text}","Product","Web",'
            f'"2026-0{1 + i % 6}-10T10:00:00Z"'
        )
    (tmp_path / "nps.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = Workspace.init(tmp_path)
    ws.add_source("nps", {"preset": "survey_responses", "path": "nps.csv"})
    ws.ingest()
    run = ws.voc.analyse()
    assert run.texts == 60 and run.sentiment_model == "lexicon" and run.domain is None
    assert "fewer than the 200" in run.domain_note
    texts = ws.voc.texts(limit=100)
    pt = texts[texts["text"].str.contains("produto|Entrega")]
    assert len(pt) == 20 and set(pt["language"]) == {"pt"}
    assert not pt["supported"].any() and pt["sentiment"].isna().all()
    en = texts[~texts.index.isin(pt.index)]
    assert en["supported"].all() and en["sentiment"].notna().all()
    slow = en[en["text"].str.contains("painfully slow")]
    assert set(slow["sentiment"]) == {"negative"}
    assert run.unsupported == 20
    ws.close()
