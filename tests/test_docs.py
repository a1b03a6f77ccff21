"""Docs that tests keep true."""

from __future__ import annotations

from pathlib import Path

from cxlens.schema import reference

DOCS = Path(__file__).parent.parent / "docs"


def test_data_model_reference_matches_the_schema() -> None:
    text = (DOCS / "data-model.md").read_text(encoding="utf-8")
    start = text.index(reference.BEGIN) + len(reference.BEGIN) + 1
    end = text.index(reference.END)
    assert text[start:end] == reference.markdown(), (
        "docs/data-model.md is stale: regenerate the section between the markers with "
        "`python -c 'from cxlens.schema import reference; print(reference.markdown())'`"
    )
