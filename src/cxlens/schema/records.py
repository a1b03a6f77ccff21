"""Source records: people and accounts as each source knows them.

A record is identified by `record_id` = "<system>:<key>", where the system is the application
that owns the key (salesforce, stripe, zendesk...). Events name the record they are about in the
same way, so an invoice from Stripe and a ticket from Zendesk point at their own records and
identity resolution decides which master customer they belong to.
"""

from __future__ import annotations

from enum import StrEnum

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType


class Entity(StrEnum):
    PERSON = "person"
    ACCOUNT = "account"


def record_id(system: str, key: str) -> str:
    return f"{system}:{key}"


#: Fields a record mapping may fill, with their types.
RECORD_FIELDS: dict[str, ColumnType] = {
    "source_key": T.TEXT,
    "entity": T.TEXT,
    "name": T.TEXT,
    "first_name": T.TEXT,
    "last_name": T.TEXT,
    "email": T.TEXT,
    "phone": T.TEXT,
    "title": T.TEXT,
    "company": T.TEXT,
    "domain": T.TEXT,
    "address": T.TEXT,
    "city": T.TEXT,
    "region": T.TEXT,
    "postal_code": T.TEXT,
    "country": T.TEXT,
    "account_key": T.TEXT,
    "owner": T.TEXT,
    "segment": T.TEXT,
    "industry": T.TEXT,
    "employees": T.INTEGER,
    "handle": T.TEXT,
    "created_at": T.TIMESTAMP,
    "updated_at": T.TIMESTAMP,
}

SOURCE_RECORDS = Table(
    name="source_records",
    doc="People and accounts as each source knows them; the input of identity resolution.",
    key=("record_id",),
    columns=(
        col("record_id", T.TEXT, "<system>:<key>, unique across sources.", nullable=False),
        col("system", T.TEXT, "Application that owns the key.", nullable=False),
        col("source_key", T.TEXT, "The key in that application.", nullable=False),
        col("source", T.TEXT, "Workspace source that last wrote it.", nullable=False),
        col("entity", T.TEXT, "person or account.", nullable=False),
        col("name", T.TEXT, "Full name (person) or company name (account)."),
        col("first_name", T.TEXT),
        col("last_name", T.TEXT),
        col("email", T.TEXT),
        col("phone", T.TEXT),
        col("title", T.TEXT, "Job title."),
        col("company", T.TEXT, "Company name as the source spells it (persons)."),
        col("domain", T.TEXT, "Web domain (accounts)."),
        col("address", T.TEXT),
        col("city", T.TEXT),
        col("region", T.TEXT, "State, province or sales region."),
        col("postal_code", T.TEXT),
        col("country", T.TEXT),
        col("account_record_id", T.TEXT, "The account this person belongs to in the source."),
        col("owner", T.TEXT, "Account owner or CSM."),
        col("segment", T.TEXT, "Customer segment (enterprise, mid-market, smb...)."),
        col("industry", T.TEXT),
        col("employees", T.INTEGER),
        col("handle", T.TEXT, "Social handle."),
        col("external_ids", T.JSON, "Keys of the same party in other systems."),
        col("attributes", T.JSON, "Other source fields kept as they are."),
        col("created_at", T.TIMESTAMP, "When the source created it."),
        col("updated_at", T.TIMESTAMP, "When the source last changed it."),
        col(
            "content_hash",
            T.TEXT,
            "Hash of the mapped fields; unchanged rows are skipped.",
            nullable=False,
        ),
        col("load_id", T.TEXT, "Load that last changed it.", nullable=False),
    ),
    indexes=(("email",),),
)
