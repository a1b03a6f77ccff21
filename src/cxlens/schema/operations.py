"""Bookkeeping tables: every load, every rejected row, and the store's own version."""

from __future__ import annotations

from enum import StrEnum

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType


class LoadStatus(StrEnum):
    COMMITTED = "committed"
    FAILED = "failed"


LOADS = Table(
    name="loads",
    doc="One row per load attempt: what was read, written and rejected.",
    key=("load_id",),
    columns=(
        col("load_id", T.TEXT, nullable=False),
        col("source", T.TEXT, nullable=False),
        col("location", T.TEXT, "File path or database URL (without password).", nullable=False),
        col("checksum", T.TEXT, "SHA-256 of the file, or of the rows read from a database."),
        col("rows_read", T.INTEGER, nullable=False),
        col("records_loaded", T.INTEGER, "Records inserted or changed.", nullable=False),
        col("events_loaded", T.INTEGER, "Events inserted.", nullable=False),
        col(
            "records_unchanged",
            T.INTEGER,
            "Records already in the store as they are.",
            nullable=False,
        ),
        col(
            "events_unchanged",
            T.INTEGER,
            "Events already in the store (same event_id).",
            nullable=False,
        ),
        col("rows_rejected", T.INTEGER, nullable=False),
        col("started_at", T.TIMESTAMP, nullable=False),
        col("finished_at", T.TIMESTAMP, nullable=False),
        col("status", T.TEXT, "committed or failed.", nullable=False),
        col("message", T.TEXT, "Why a failed load failed."),
    ),
)

REJECTS = Table(
    name="rejects",
    doc="Rows a load refused, with where they came from and why; nothing is lost.",
    key=("load_id", "row_number", "field"),
    columns=(
        col("load_id", T.TEXT, nullable=False),
        col("source", T.TEXT, nullable=False),
        col("location", T.TEXT, nullable=False),
        col(
            "row_number", T.INTEGER, "1-based data row (the header is not counted).", nullable=False
        ),
        col("field", T.TEXT, "Canonical field (and source column) that failed.", nullable=False),
        col("value", T.TEXT, "The offending value as read."),
        col("reason", T.TEXT, nullable=False),
        col("raw", T.JSON, "The whole input row, so it can be fixed and re-loaded."),
    ),
)

META = Table(
    name="cxlens_meta",
    doc="Store-level facts, such as the schema version.",
    key=("key",),
    columns=(col("key", T.TEXT, nullable=False), col("value", T.TEXT)),
)
