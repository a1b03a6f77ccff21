"""What every sentiment model returns, and the interface others code against.

One result shape for all models means callers (metrics, signals, the API) never care whether
a score came from the lexicon or from a model trained on the company's own survey comments.
Texts a model cannot judge — empty, or confidently in a language it was not built for — are
kept in place but flagged (label -1, NaN score) so they are never silently mis-scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
NOT_SCORED = -1


@dataclass(frozen=True)
class SentimentResult:
    """Per-text sentiment: class index, score in [-1, 1], class probabilities, language."""

    label: npt.NDArray[np.int8]  # 0/1/2 (index into LABELS), -1 when not scored
    score: npt.NDArray[np.float64]  # P(positive) - P(negative); NaN when not scored
    probability: npt.NDArray[np.float64]  # (n, 3); NaN rows when not scored
    language: npt.NDArray[np.object_]  # ISO 639-1 code, or "und" when undetermined
    supported: npt.NDArray[np.bool_]  # False when confidently in a language the model lacks

    def labels(self) -> list[str | None]:
        """Label names, None for texts that were not scored."""
        return [LABELS[i] if i >= 0 else None for i in self.label.tolist()]

    def __len__(self) -> int:
        return len(self.label)


class SentimentModel(Protocol):
    """Anything that turns texts into a `SentimentResult`."""

    name: str
    version: str
    languages: frozenset[str]

    def predict(self, texts: Sequence[str]) -> SentimentResult: ...


def assemble(
    probability: npt.NDArray[np.float64],
    scored: npt.NDArray[np.bool_],
    language: npt.NDArray[np.object_],
    supported: npt.NDArray[np.bool_],
) -> SentimentResult:
    """Build a result from probabilities of the scored texts (rows in the order of `scored`)."""
    n = len(scored)
    full = np.full((n, 3), np.nan)
    full[scored] = probability
    label = np.full(n, NOT_SCORED, dtype=np.int8)
    label[scored] = probability.argmax(axis=1).astype(np.int8) if len(probability) else []
    score = full[:, 2] - full[:, 0]
    return SentimentResult(label, score, full, language, supported)
