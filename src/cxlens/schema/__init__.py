"""The canonical customer model: records, customers, accounts, events and their kinds (no IO)."""

from cxlens.schema.columns import Column, ColumnType, Table
from cxlens.schema.customers import ACCOUNTS, CUSTOMERS, RECORD_LINKS
from cxlens.schema.events import (
    EVENT_FIELDS,
    EVENTS,
    KIND_SPECS,
    Channel,
    Department,
    EventKind,
    JourneyStage,
    KindSpec,
    TicketPriority,
)
from cxlens.schema.operations import LOADS, META, REJECTS, LoadStatus
from cxlens.schema.records import RECORD_FIELDS, SOURCE_RECORDS, Entity, record_id
from cxlens.schema.tables import SCHEMA_VERSION, TABLES

__all__ = [
    "ACCOUNTS",
    "CUSTOMERS",
    "EVENTS",
    "EVENT_FIELDS",
    "KIND_SPECS",
    "LOADS",
    "META",
    "RECORD_FIELDS",
    "RECORD_LINKS",
    "REJECTS",
    "SCHEMA_VERSION",
    "SOURCE_RECORDS",
    "TABLES",
    "Channel",
    "Column",
    "ColumnType",
    "Department",
    "Entity",
    "EventKind",
    "JourneyStage",
    "KindSpec",
    "LoadStatus",
    "Table",
    "TicketPriority",
    "record_id",
]
