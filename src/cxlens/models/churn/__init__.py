"""Churn: who is likely to leave, why, and when.

* `ChurnModel` — LightGBM trees (blended with a penalised logistic regression) with
  out-of-fold calibrated probabilities and tree-SHAP `contributions`;
* `reasons` — the top features raising each customer's risk, in plain language from templates;
  `score_and_explain` runs model and reasons over a whole customer base;
* `evaluate` — ROC-AUC, PR-AUC, top-decile lift, Brier and a calibration table;
* `SurvivalModel` — months to churn and survival curves (Weibull AFT via lifelines);
* `prepare` — optional clean-up of a raw customer table (numeric text, categories, ratios).

On the public IBM Telco data, 5-fold CV over 3 seeds, `ChurnModel()` reaches ROC-AUC 0.851
(tests/test_churn_models.py).
"""

from cxlens.models.churn.evaluation import Evaluation, evaluate
from cxlens.models.churn.explain import Reason, reasons
from cxlens.models.churn.features import prepare
from cxlens.models.churn.model import ChurnModel
from cxlens.models.churn.scoring import score_and_explain
from cxlens.models.churn.survival import SurvivalModel

__all__ = [
    "ChurnModel",
    "Evaluation",
    "Reason",
    "SurvivalModel",
    "evaluate",
    "prepare",
    "reasons",
    "score_and_explain",
]
