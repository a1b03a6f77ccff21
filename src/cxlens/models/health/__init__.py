"""Health scorecards: configured measures and weights → a 0–100 score and red / amber / green.

* `Scorecard` / `Measure` — the scorecard as validated data (thresholds, points or categories
  per measure, weights, bands, per-segment overrides, an explicit policy for missing values);
* `load_scorecard` — from YAML or a dict, with errors that name the measure and field;
  `default_scorecard` — the packaged SaaS scorecard (`default_scorecard.yaml`);
* `score` — a whole customer base at once, vectorised per measure: score, status, coverage
  and each measure's contribution;
* `trend` — change and direction from the daily score history.
"""

from cxlens.models.health.load import default_scorecard, load_scorecard
from cxlens.models.health.scoring import INSUFFICIENT, HealthScores, measure_score, score
from cxlens.models.health.spec import Bands, Measure, Scorecard, SegmentOverride, Thresholds
from cxlens.models.health.trend import trend

__all__ = [
    "INSUFFICIENT",
    "Bands",
    "HealthScores",
    "Measure",
    "Scorecard",
    "SegmentOverride",
    "Thresholds",
    "default_scorecard",
    "load_scorecard",
    "measure_score",
    "score",
    "trend",
]
