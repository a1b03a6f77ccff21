"""Events: everything that happens between the company and a customer, in one shape.

Every event has the same core fields; what differs by kind is which actions are allowed,
which fields are required, and which keys its free `properties` may carry (and their types).
Ingestion validates each row against the spec of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cxlens.schema.columns import ColumnType, Table, col


class EventKind(StrEnum):
    ORDER = "order"
    SUBSCRIPTION = "subscription"
    INVOICE = "invoice"
    TICKET = "ticket"
    SURVEY = "survey"
    USAGE = "usage"
    SOCIAL = "social"
    NOTE = "note"
    COMMUNITY = "community"
    DELIVERY = "delivery"
    RELATIONSHIP = "relationship"
    OPPORTUNITY = "opportunity"


class Department(StrEnum):
    SALES = "sales"
    MARKETING = "marketing"
    SUCCESS = "success"
    SUPPORT = "support"
    FINANCE = "finance"
    PRODUCT = "product"
    OPERATIONS = "operations"
    COMMUNITY = "community"


class JourneyStage(StrEnum):
    AWARENESS = "awareness"
    PURCHASE = "purchase"
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    SUPPORT = "support"
    BILLING = "billing"
    RENEWAL = "renewal"
    EXPANSION = "expansion"
    ADVOCACY = "advocacy"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    WEB = "web"
    IN_APP = "in_app"
    SOCIAL = "social"
    IN_PERSON = "in_person"
    API = "api"
    OTHER = "other"


class TicketPriority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True)
class KindSpec:
    """What an event of one kind must and may carry."""

    kind: EventKind
    doc: str
    actions: frozenset[str]
    department: Department
    journey_stage: JourneyStage | None
    required: tuple[str, ...] = ()
    properties: dict[str, ColumnType] = field(default_factory=dict)
    #: Allowed values for properties that are enumerations.
    property_values: dict[str, frozenset[str]] = field(default_factory=dict)


def _spec(
    kind: EventKind,
    doc: str,
    actions: set[str],
    department: Department,
    stage: JourneyStage | None,
    required: tuple[str, ...] = (),
    properties: dict[str, ColumnType] | None = None,
    property_values: dict[str, frozenset[str]] | None = None,
) -> KindSpec:
    return KindSpec(
        kind=kind,
        doc=doc,
        actions=frozenset(actions),
        department=department,
        journey_stage=stage,
        required=required,
        properties=properties or {},
        property_values=property_values or {},
    )


T = ColumnType
KIND_SPECS: dict[EventKind, KindSpec] = {
    s.kind: s
    for s in [
        _spec(
            EventKind.ORDER,
            "A one-off purchase (add-on, services, marketplace item). `amount` is the order "
            "total, `reference` the order id, `quantity` the number of items.",
            {"placed", "refunded", "cancelled"},
            Department.SALES,
            JourneyStage.PURCHASE,
            required=("amount", "currency"),
            properties={"product": T.TEXT, "category": T.TEXT},
        ),
        _spec(
            EventKind.SUBSCRIPTION,
            "A change to recurring revenue. `amount` is the MRR delta (negative for "
            "contraction and churn), `reference` the subscription id, `quantity` the seats.",
            {
                "new",
                "expansion",
                "contraction",
                "churn",
                "reactivation",
                "renewal",
                "pause",
                "resume",
            },
            Department.FINANCE,
            JourneyStage.RENEWAL,
            required=("amount", "currency", "reference"),
            properties={"plan": T.TEXT, "mrr": T.FLOAT, "billing_period": T.TEXT},
        ),
        _spec(
            EventKind.INVOICE,
            "A bill and its payment. `amount` is the invoice total, `reference` the invoice id.",
            {"issued", "paid", "failed", "refunded", "voided"},
            Department.FINANCE,
            JourneyStage.BILLING,
            required=("amount", "currency", "reference"),
            properties={"subscription": T.TEXT, "due_at": T.TIMESTAMP},
        ),
        _spec(
            EventKind.TICKET,
            "A step in a support ticket's life. `reference` is the ticket id; the opening "
            "event carries the subject in `text`, the priority and the SLA due time.",
            {"opened", "first_response", "resolved", "reopened", "closed", "updated"},
            Department.SUPPORT,
            JourneyStage.SUPPORT,
            required=("reference",),
            properties={
                "priority": T.TEXT,
                "sla_due_at": T.TIMESTAMP,
                "status": T.TEXT,
                "category": T.TEXT,
                "assignee": T.TEXT,
            },
            property_values={"priority": frozenset(p.value for p in TicketPriority)},
        ),
        _spec(
            EventKind.SURVEY,
            "An answer to a survey. `action` names the measure (nps 0-10, csat 1-5, ces 1-7), "
            "`score` the answer, `text` the comment.",
            {"nps", "csat", "ces"},
            Department.SUCCESS,
            None,
            required=("score",),
            properties={"survey": T.TEXT, "question": T.TEXT},
        ),
        _spec(
            EventKind.USAGE,
            "Product usage over a period. `action` names the metric (login, active_users, "
            "feature_used, api_calls), `quantity` its value, `properties.feature` the feature.",
            {"login", "active_users", "feature_used", "api_calls", "session"},
            Department.PRODUCT,
            JourneyStage.ADOPTION,
            required=("quantity",),
            properties={"feature": T.TEXT, "period_days": T.INTEGER},
        ),
        _spec(
            EventKind.SOCIAL,
            "A public mention. `text` is the post, `score` the source's own sentiment if any.",
            {"mention", "review", "reply"},
            Department.MARKETING,
            JourneyStage.ADVOCACY,
            required=("text",),
            properties={
                "platform": T.TEXT,
                "handle": T.TEXT,
                "followers": T.INTEGER,
                "url": T.TEXT,
            },
        ),
        _spec(
            EventKind.NOTE,
            "A note by the company's staff. `action` names who wrote it (sales, success, "
            "support, frontline).",
            {"sales", "success", "support", "frontline"},
            Department.SUCCESS,
            None,
            required=("text",),
            properties={"author": T.TEXT, "subject": T.TEXT},
        ),
        _spec(
            EventKind.COMMUNITY,
            "A post, reply, idea or vote in the customer community (a vote has no text).",
            {"post", "reply", "idea", "vote"},
            Department.COMMUNITY,
            JourneyStage.ADVOCACY,
            properties={"title": T.TEXT, "votes": T.INTEGER, "status": T.TEXT, "topic": T.TEXT},
        ),
        _spec(
            EventKind.DELIVERY,
            "Work delivered by the company or an outside provider: when it was promised and "
            "when it happened. `reference` is the delivery or order id.",
            {"scheduled", "delivered", "failed"},
            Department.OPERATIONS,
            JourneyStage.ONBOARDING,
            required=("reference",),
            properties={
                "provider": T.TEXT,
                "promised_at": T.TIMESTAMP,
                "delivered_at": T.TIMESTAMP,
                "service": T.TEXT,
            },
        ),
        _spec(
            EventKind.RELATIONSHIP,
            "A change in who the customer is to the company: contacts added or leaving, "
            "a champion changing, a new owner.",
            {"contact_added", "contact_left", "champion_left", "champion_added", "owner_changed"},
            Department.SUCCESS,
            None,
            properties={"contact": T.TEXT, "role": T.TEXT, "previous": T.TEXT},
        ),
        _spec(
            EventKind.OPPORTUNITY,
            "A sales opportunity moving through the pipeline. `amount` is its value, "
            "`reference` the opportunity id, `properties.stage` the pipeline stage.",
            {"opened", "won", "lost", "stage_changed"},
            Department.SALES,
            JourneyStage.PURCHASE,
            required=("reference",),
            properties={
                "stage": T.TEXT,
                "type": T.TEXT,
                "close_date": T.TIMESTAMP,
                "owner": T.TEXT,
            },
        ),
    ]
}

#: Core fields an event mapping may fill, with their types (properties are separate).
EVENT_FIELDS: dict[str, ColumnType] = {
    "event_id": T.TEXT,
    "record_id": T.TEXT,
    "account_record_id": T.TEXT,
    "occurred_at": T.TIMESTAMP,
    "kind": T.TEXT,
    "action": T.TEXT,
    "department": T.TEXT,
    "journey_stage": T.TEXT,
    "touchpoint": T.TEXT,
    "channel": T.TEXT,
    "reference": T.TEXT,
    "amount": T.FLOAT,
    "currency": T.TEXT,
    "quantity": T.FLOAT,
    "score": T.FLOAT,
    "text": T.TEXT,
}

EVENTS = Table(
    name="events",
    doc="Everything that happened with a customer, from every source, in one shape.",
    key=("event_id",),
    columns=(
        col(
            "event_id",
            T.TEXT,
            "Stable id: the source's own, or a hash of the content.",
            nullable=False,
        ),
        col("source", T.TEXT, "Workspace source that loaded it.", nullable=False),
        col(
            "record_id",
            T.TEXT,
            "Source record (person or account) the event is about.",
            nullable=False,
        ),
        col("account_record_id", T.TEXT, "Account record, when the source names one."),
        col("occurred_at", T.TIMESTAMP, "When it happened (UTC).", nullable=False),
        col("kind", T.TEXT, "One of the event kinds.", nullable=False),
        col("action", T.TEXT, "What happened within the kind (opened, nps, placed...)."),
        col("department", T.TEXT, "Department that owns the interaction."),
        col("journey_stage", T.TEXT, "Stage of the customer journey."),
        col("touchpoint", T.TEXT, "Named touchpoint (checkout, onboarding call...)."),
        col("channel", T.TEXT, "email, phone, chat, web, in_app, social, in_person, api."),
        col("reference", T.TEXT, "Id of the thing it concerns: ticket, order, subscription."),
        col("amount", T.FLOAT, "Money, in `currency` (MRR delta for subscriptions)."),
        col("currency", T.TEXT, "ISO 4217 code."),
        col("quantity", T.FLOAT, "Items, seats, usage count."),
        col("score", T.FLOAT, "Survey answer or source sentiment."),
        col("text", T.TEXT, "Comment, subject, post or note."),
        col("properties", T.JSON, "Kind-specific fields (see the kind specs)."),
        col("load_id", T.TEXT, "Load that wrote the event.", nullable=False),
    ),
    indexes=(("record_id",), ("occurred_at",)),
)
