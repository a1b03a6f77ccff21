"""Identity resolution's own tables: runs, the links behind every master, the review queue,
analysts' decisions, the audit log of merges and splits, and where golden values came from."""

from __future__ import annotations

from enum import StrEnum

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType


class DecisionKind(StrEnum):
    ACCEPT = "accept"  # these two records are the same party
    REJECT = "reject"  # these two records are not, whatever the model says
    MERGE = "merge"  # these two masters are one
    SPLIT = "split"  # these records are a party of their own


IDENTITY_RUNS = Table(
    name="identity_runs",
    doc="One row per identity resolution run, with the models it trained or used.",
    key=("run_id",),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("mode", T.TEXT, "full, incremental or decision.", nullable=False),
        col("started_at", T.TIMESTAMP, nullable=False),
        col("finished_at", T.TIMESTAMP),
        col("settings", T.JSON, "Thresholds and survivorship in force."),
        col("models", T.JSON, "The trained Splink model per entity (m, u, prior)."),
        col("counts", T.JSON, "Records, links, matches, masters per entity."),
        col("timings", T.JSON, "Seconds per step."),
    ),
)

IDENTITY_LINKS = Table(
    name="identity_links",
    doc="The links that hold each master together: a spanning set of pairs, with their evidence.",
    key=("entity", "record_id_l", "record_id_r"),
    columns=(
        col("entity", T.TEXT, nullable=False),
        col("record_id_l", T.TEXT, nullable=False),
        col("record_id_r", T.TEXT, nullable=False),
        col("method", T.TEXT, "rule, probabilistic or manual.", nullable=False),
        col("rule", T.TEXT, "The deterministic rule, for rule links."),
        col("probability", T.FLOAT, "Match probability (1 for rules and decisions)."),
        col("run_id", T.TEXT, "Run that found the link.", nullable=False),
    ),
    indexes=(("record_id_l",), ("record_id_r",)),
)

IDENTITY_REVIEW = Table(
    name="identity_review",
    doc="Pairs the model was unsure about and left apart, waiting for an analyst.",
    key=("entity", "record_id_l", "record_id_r"),
    columns=(
        col("entity", T.TEXT, nullable=False),
        col("record_id_l", T.TEXT, nullable=False),
        col("record_id_r", T.TEXT, nullable=False),
        col("probability", T.FLOAT, nullable=False),
        col("run_id", T.TEXT, nullable=False),
    ),
)

IDENTITY_DECISIONS = Table(
    name="identity_decisions",
    doc="Analysts' decisions; they bind every later run until undone.",
    key=("decision_id",),
    columns=(
        col("decision_id", T.TEXT, nullable=False),
        col("kind", T.TEXT, "accept, reject, merge or split.", nullable=False),
        col("entity", T.TEXT, nullable=False),
        col("record_id_l", T.TEXT, "First record (pair decisions and merges)."),
        col("record_id_r", T.TEXT, "Second record."),
        col("master_id", T.TEXT, "Master the decision was taken on."),
        col("other_master_id", T.TEXT, "The other master of a merge."),
        col("records", T.JSON, "Records split out (split) as a JSON list."),
        col("others", T.JSON, "Records they were split from (split) as a JSON list."),
        col("actor", T.TEXT, "Who decided.", nullable=False),
        col("reason", T.TEXT, "Why."),
        col("decided_at", T.TIMESTAMP, nullable=False),
        col("undone_at", T.TIMESTAMP),
        col("undone_by", T.TEXT),
        col("undo_reason", T.TEXT),
    ),
)

IDENTITY_AUDIT = Table(
    name="identity_audit",
    doc="Every change to the masters: created, merged, split, retired — and what caused it.",
    key=("audit_id",),
    columns=(
        col("audit_id", T.TEXT, nullable=False),
        col("changed_at", T.TIMESTAMP, nullable=False),
        col("run_id", T.TEXT, nullable=False),
        col("decision_id", T.TEXT, "Set when an analyst's decision caused it."),
        col("action", T.TEXT, "merge or split.", nullable=False),
        col("entity", T.TEXT, nullable=False),
        col("master_id", T.TEXT, "The master that survives (merge) or was split.", nullable=False),
        col("other_master_id", T.TEXT, "The master retired (merge) or created (split)."),
        col("record_ids", T.JSON, "Records that moved, as a JSON list."),
    ),
    indexes=(("master_id",),),
)

MASTER_ATTRIBUTES = Table(
    name="master_attributes",
    doc="Each golden attribute of each master, and the source record it came from.",
    key=("master_id", "attribute"),
    columns=(
        col("master_id", T.TEXT, nullable=False),
        col("entity", T.TEXT, nullable=False),
        col("attribute", T.TEXT, nullable=False),
        col("value", T.TEXT),
        col("record_id", T.TEXT, "Record the value came from.", nullable=False),
        col("rule", T.TEXT, "Survivorship rule that chose it.", nullable=False),
    ),
)

IDENTITY_TABLES = (
    IDENTITY_RUNS,
    IDENTITY_LINKS,
    IDENTITY_REVIEW,
    IDENTITY_DECISIONS,
    IDENTITY_AUDIT,
    MASTER_ATTRIBUTES,
)
