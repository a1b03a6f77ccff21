"""Real-time signals: API keys, alerts raised by rules, the tasks their playbooks open, and the
notifications sent for them (with every delivery attempt)."""

from __future__ import annotations

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType

API_KEYS = Table(
    name="api_keys",
    doc="Keys of the REST and event API. Only a hash of each key is kept.",
    key=("key_id",),
    columns=(
        col("key_id", T.TEXT, "Public part, shown in logs.", nullable=False),
        col("name", T.TEXT, "Who or what uses it.", nullable=False),
        col("role", T.TEXT, "admin, analyst, csm or ingest.", nullable=False),
        col("owner", T.TEXT, "For csm keys: the owner whose book of business they see."),
        col("key_hash", T.TEXT, "SHA-256 of the whole key.", nullable=False),
        col("created_at", T.TIMESTAMP, nullable=False),
        col("revoked_at", T.TIMESTAMP),
    ),
)

ALERTS = Table(
    name="alerts",
    doc="One row per rule firing that passed de-duplication and cool-down.",
    key=("alert_id",),
    columns=(
        col("alert_id", T.TEXT, "Hash of rule and triggering event: fires once.", nullable=False),
        col("rule_id", T.TEXT, nullable=False),
        col("rule_name", T.TEXT, nullable=False),
        col("severity", T.TEXT, "P1 (act now) to P4.", nullable=False),
        col("priority", T.FLOAT, "Severity weight × the customer's value: the inbox order."),
        col("customer_id", T.TEXT, "Master customer (or account) the alert is about."),
        col("account_id", T.TEXT),
        col("owner", T.TEXT, "Who hears of it: the account owner, or the rule's queue."),
        col("event_id", T.TEXT, "The event that fired it.", nullable=False),
        col("occurred_at", T.TIMESTAMP, "When that event happened.", nullable=False),
        col("fired_at", T.TIMESTAMP, "When the alert was stored.", nullable=False),
        col("summary", T.TEXT, "One sentence for the inbox.", nullable=False),
        col("context", T.JSON, "The customer's value, health, risk and the rule's figures."),
        col("playbook", T.TEXT, "Playbook whose tasks it opened."),
        col("holdout", T.BOOLEAN, "Held out of the playbook to measure its effect."),
        col("status", T.TEXT, "open, acknowledged or closed.", nullable=False),
    ),
    indexes=(("customer_id",), ("rule_id", "customer_id")),
)

TASKS = Table(
    name="tasks",
    doc="Steps of a playbook, opened for an alert, owned by a person or a queue.",
    key=("task_id",),
    columns=(
        col("task_id", T.TEXT, nullable=False),
        col("alert_id", T.TEXT, nullable=False),
        col("playbook", T.TEXT, nullable=False),
        col("step", T.INTEGER, "Position in the playbook, from 1.", nullable=False),
        col("title", T.TEXT, nullable=False),
        col("customer_id", T.TEXT),
        col("owner", T.TEXT, "The customer's owner, or the step's queue."),
        col("status", T.TEXT, "open, in_progress, done or dismissed.", nullable=False),
        col("due_at", T.TIMESTAMP, nullable=False),
        col("created_at", T.TIMESTAMP, nullable=False),
        col("updated_at", T.TIMESTAMP, nullable=False),
        col("reason", T.TEXT, "Why it was dismissed."),
        col("outcome", T.TEXT, "What came of it: saved, lost, recovered, no_change or text."),
    ),
    indexes=(("alert_id",), ("owner", "status")),
)

TASK_HISTORY = Table(
    name="task_history",
    doc="Every change of a task's status, by whom and why.",
    key=("task_id", "changed_at", "to_status"),
    columns=(
        col("task_id", T.TEXT, nullable=False),
        col("changed_at", T.TIMESTAMP, nullable=False),
        col("actor", T.TEXT, nullable=False),
        col("from_status", T.TEXT),
        col("to_status", T.TEXT, nullable=False),
        col("note", T.TEXT),
    ),
)

DELIVERIES = Table(
    name="deliveries",
    doc="A notification of an alert to one channel: pending, delivered or dead (given up).",
    key=("delivery_id",),
    columns=(
        col("delivery_id", T.TEXT, nullable=False),
        col("alert_id", T.TEXT, nullable=False),
        col("channel", T.TEXT, "Channel name in the rules file.", nullable=False),
        col("payload", T.JSON, "The notification as sent.", nullable=False),
        col("status", T.TEXT, "pending, delivered or dead.", nullable=False),
        col("attempts", T.INTEGER, nullable=False),
        col("next_attempt_at", T.TIMESTAMP, "When a pending delivery is tried next."),
        col("created_at", T.TIMESTAMP, nullable=False),
        col("delivered_at", T.TIMESTAMP),
        col("last_error", T.TEXT),
    ),
    indexes=(("status", "next_attempt_at"),),
)

DELIVERY_ATTEMPTS = Table(
    name="delivery_attempts",
    doc="The delivery log: every try, its outcome and how long it took.",
    key=("delivery_id", "attempt"),
    columns=(
        col("delivery_id", T.TEXT, nullable=False),
        col("attempt", T.INTEGER, nullable=False),
        col("attempted_at", T.TIMESTAMP, nullable=False),
        col("ok", T.BOOLEAN, nullable=False),
        col("status_code", T.INTEGER, "HTTP status or SMTP reply code."),
        col("error", T.TEXT),
        col("seconds", T.FLOAT, nullable=False),
    ),
)

SIGNALS_TABLES = (API_KEYS, ALERTS, TASKS, TASK_HISTORY, DELIVERIES, DELIVERY_ATTEMPTS)
