"""Every table of the store, in creation order, and the schema version."""

from __future__ import annotations

from cxlens.schema.columns import Table
from cxlens.schema.customers import ACCOUNTS, CUSTOMERS, RECORD_LINKS
from cxlens.schema.events import EVENTS
from cxlens.schema.identity import IDENTITY_TABLES
from cxlens.schema.operations import LOADS, META, REJECTS
from cxlens.schema.records import SOURCE_RECORDS
from cxlens.schema.risk import RISK_TABLES
from cxlens.schema.signals import SIGNALS_TABLES
from cxlens.schema.value import VALUE_TABLES
from cxlens.schema.voc import VOC_TABLES

#: Bumped whenever a table changes shape; the store refuses to open a newer one.
SCHEMA_VERSION = 6

TABLES: tuple[Table, ...] = (
    META,
    LOADS,
    REJECTS,
    SOURCE_RECORDS,
    EVENTS,
    CUSTOMERS,
    ACCOUNTS,
    RECORD_LINKS,
    *IDENTITY_TABLES,
    *VALUE_TABLES,
    *VOC_TABLES,
    *RISK_TABLES,
    *SIGNALS_TABLES,
)
