"""Value results kept per run, so every figure has a history and says which model made it."""

from __future__ import annotations

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType

VALUE_RUNS = Table(
    name="value_runs",
    doc="One row per lifetime-value run: models, their version and fitted parameters.",
    key=("run_id",),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("fitted_at", T.TIMESTAMP, "When the models were fitted.", nullable=False),
        col("as_of", T.TIMESTAMP, "End of the order history used.", nullable=False),
        col("model", T.TEXT, "Purchase and spend models, e.g. bgnbd+gamma_gamma.", nullable=False),
        col("model_version", T.TEXT, "cxlens version that fitted them.", nullable=False),
        col("currency", T.TEXT, nullable=False),
        col("horizon_months", T.INTEGER, nullable=False),
        col("discount_rate", T.FLOAT, nullable=False),
        col("params", T.JSON, "Fitted parameters.", nullable=False),
        col("customers", T.INTEGER, nullable=False),
    ),
)

CUSTOMER_VALUES = Table(
    name="customer_values",
    doc="Each customer's value in each run.",
    key=("run_id", "customer_id"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("customer_id", T.TEXT, "Master customer (or account) id.", nullable=False),
        col("frequency", T.INTEGER, "Repeat purchase days."),
        col("recency", T.FLOAT, "Weeks from first to last purchase."),
        col("age", T.FLOAT, "Weeks from first purchase to the end of the history."),
        col("monetary_value", T.FLOAT, "Mean value of repeat purchases."),
        col("p_alive", T.FLOAT, "Probability the customer is still active."),
        col("expected_purchases", T.FLOAT, "Over the horizon."),
        col("expected_spend", T.FLOAT, "Per purchase."),
        col("clv", T.FLOAT, "Discounted expected value over the horizon."),
        col("clv_low", T.FLOAT, "Lower end of its 90% interval (parameter uncertainty)."),
        col("clv_high", T.FLOAT, "Upper end of its 90% interval."),
        col("rfm", T.TEXT, "R, F and M scores, e.g. 545."),
        col("rfm_segment", T.TEXT),
        col("revenue_at_risk", T.FLOAT, "CLV × (1 − p_alive): value that lapsing may lose."),
    ),
    indexes=(("customer_id",),),
)

VALUE_TABLES = (VALUE_RUNS, CUSTOMER_VALUES)
