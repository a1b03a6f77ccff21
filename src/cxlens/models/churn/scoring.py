"""Score and explain a whole customer base in one call (what the nightly job runs)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cxlens.models.churn.explain import Reason, Template, reasons
from cxlens.models.churn.features import F64
from cxlens.models.churn.model import ChurnModel


def score_and_explain(
    model: ChurnModel,
    X: pd.DataFrame,
    templates: Mapping[str, Template],
    *,
    top: int = 3,
) -> tuple[F64, list[list[Reason]]]:
    """Calibrated churn probability per row and its `top` reasons in plain language; the trees
    are walked once (the contributions give the tree score)."""
    proba, contributions = model.explain(X)
    return proba, reasons(X, contributions, templates, top=top)
