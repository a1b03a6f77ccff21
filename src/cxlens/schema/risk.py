"""Early-warning results: churn models and their back-tests, scores with reasons, and the
daily health history."""

from __future__ import annotations

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType

RISK_MODELS = Table(
    name="risk_models",
    doc="One row per trained churn model: how it was trained and how its back-test went.",
    key=("model_id",),
    columns=(
        col("model_id", T.TEXT, nullable=False),
        col("trained_at", T.TIMESTAMP, nullable=False),
        col("model_version", T.TEXT, "Algorithm and settings, e.g. lgbm-3f9a1c.", nullable=False),
        col("cxlens_version", T.TEXT, nullable=False),
        col(
            "horizon_days", T.INTEGER, "Churn within this many days after a cutoff.", nullable=False
        ),
        col("first_cutoff", T.TIMESTAMP, nullable=False),
        col("last_cutoff", T.TIMESTAMP, nullable=False),
        col("rows", T.INTEGER, "Training rows (accounts × cutoffs).", nullable=False),
        col("churn_rate", T.FLOAT, "Share of training rows that churned.", nullable=False),
        col("features", T.JSON, "Feature names, in order.", nullable=False),
        col("backtest", T.JSON, "Back-test of the model and of the health scorecard."),
        col(
            "payload", T.TEXT, "The churn and survival models, serialised, base64.", nullable=False
        ),
    ),
)

RISK_SCORES = Table(
    name="risk_scores",
    doc="Each account's churn risk as of a date, with its reasons and the revenue at stake.",
    key=("model_id", "as_of", "account_id"),
    columns=(
        col("model_id", T.TEXT, nullable=False),
        col("as_of", T.TIMESTAMP, "Features use events before this time only.", nullable=False),
        col("account_id", T.TEXT, "Master account.", nullable=False),
        col(
            "probability",
            T.FLOAT,
            "Calibrated probability of churn within the horizon.",
            nullable=False,
        ),
        col("risk_band", T.TEXT, "high | medium | low", nullable=False),
        col("expected_months", T.FLOAT, "Expected months until churn (survival model)."),
        col("survival", T.JSON, "Probability of still being a customer at 1, 3, 6, 12 months."),
        col("arr", T.FLOAT, "Annual recurring revenue now, in the reporting currency."),
        col("revenue_at_risk", T.FLOAT, "probability × ARR."),
        col(
            "reasons",
            T.JSON,
            "Top reasons: feature, contribution, value, sentence.",
            nullable=False,
        ),
        col("health_score", T.FLOAT, "The scorecard's 0–100 on the same day, for comparison."),
    ),
    indexes=(("account_id",),),
)

HEALTH_SCORES = Table(
    name="health_scores",
    doc="The health scorecard of every active account, one row per account and day.",
    key=("day", "account_id"),
    columns=(
        col("day", T.DATE, nullable=False),
        col("account_id", T.TEXT, nullable=False),
        col("scorecard", T.TEXT, "Scorecard name.", nullable=False),
        col("score", T.FLOAT, "0–100; empty when too few measures are known."),
        col("status", T.TEXT, "green | amber | red | insufficient data", nullable=False),
        col(
            "coverage",
            T.FLOAT,
            "Share of the scorecard's weight that was measured.",
            nullable=False,
        ),
        col("contributions", T.JSON, "Points each measure contributed.", nullable=False),
        col("missing", T.JSON, "Measures not known for this account.", nullable=False),
    ),
    indexes=(("account_id",),),
)

RISK_TABLES = (RISK_MODELS, RISK_SCORES, HEALTH_SCORES)
