"""Master customers and accounts: one row per real party, whatever the number of sources.

Identity resolution fills these. Until it has run, every source record is its own master, so
every query that goes through masters already works on a fresh workspace.
"""

from __future__ import annotations

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType

CUSTOMERS = Table(
    name="customers",
    doc="Master customers (people), with their golden attributes.",
    key=("customer_id",),
    columns=(
        col("customer_id", T.TEXT, "Stable master id.", nullable=False),
        col("account_id", T.TEXT, "Master account the person belongs to."),
        col("name", T.TEXT),
        col("email", T.TEXT),
        col("phone", T.TEXT),
        col("title", T.TEXT),
        col("country", T.TEXT),
        col("first_seen_at", T.TIMESTAMP),
        col("updated_at", T.TIMESTAMP, "When the master last changed.", nullable=False),
    ),
)

ACCOUNTS = Table(
    name="accounts",
    doc="Master accounts (companies), with their golden attributes.",
    key=("account_id",),
    columns=(
        col("account_id", T.TEXT, "Stable master id.", nullable=False),
        col("name", T.TEXT),
        col("domain", T.TEXT),
        col("segment", T.TEXT),
        col("industry", T.TEXT),
        col("employees", T.INTEGER),
        col("owner", T.TEXT),
        col("region", T.TEXT),
        col("country", T.TEXT),
        col("first_seen_at", T.TIMESTAMP),
        col("updated_at", T.TIMESTAMP, "When the master last changed.", nullable=False),
    ),
)

RECORD_LINKS = Table(
    name="record_links",
    doc="Which master each source record belongs to, and how that was decided.",
    key=("record_id",),
    columns=(
        col("record_id", T.TEXT, nullable=False),
        col("entity", T.TEXT, "person or account.", nullable=False),
        col("master_id", T.TEXT, "customer_id or account_id.", nullable=False),
        col(
            "method",
            T.TEXT,
            "singleton (not resolved yet), unique, rule, probabilistic, manual.",
            nullable=False,
        ),
        col("probability", T.FLOAT, "Match probability for probabilistic links."),
        col("linked_at", T.TIMESTAMP, nullable=False),
    ),
    indexes=(("master_id",),),
)
