"""Themes in the voice of the customer: comments, tickets, social posts and notes.

`ThemeModel.discover` finds themes with sparse features (TF-IDF -> LSA) and spherical
k-means, choosing their number by silhouette unless told, and labels them with class-based
TF-IDF terms. Analysts then curate the `Taxonomy` (rename, merge, split, pin, keyword rules,
their own themes); the next discovery carries that work over, matching rediscovered themes
to the old ones so keys and labels stay put. On real labelled data, unsupervised methods all
land near the same agreement with human labels; the analyst's rules and seeds move it.
"""

from cxlens.models.themes.model import ThemeAssignment, ThemeModel
from cxlens.models.themes.rules import compile_rules
from cxlens.models.themes.taxonomy import Taxonomy, ThemeSpec
from cxlens.models.themes.text import LANGUAGES, PORTUGUESE_STOP_WORDS

__all__ = [
    "LANGUAGES",
    "PORTUGUESE_STOP_WORDS",
    "Taxonomy",
    "ThemeAssignment",
    "ThemeModel",
    "ThemeSpec",
    "compile_rules",
]
