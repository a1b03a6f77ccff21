"""Events as they arrive over the API: the payload's shape, checked against the canonical
event kinds, and the customer each one is about, matched to master customers on exact keys.

Matching is incremental and cheap: a source key already loaded, then an email, then an
account's domain. An identity never seen becomes a provisional master (the same id ingestion
would give it), which the next batch identity resolution may merge into an existing one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxlens.identity.masters import provisional_id
from cxlens.identity.provisional import link_unlinked_records
from cxlens.schema.events import EVENTS, KIND_SPECS, EventKind
from cxlens.schema.records import SOURCE_RECORDS, Entity
from cxlens.store import Store
from cxlens.store.base import arrow_schema

API_SOURCE = "api"
MAX_BATCH = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccountRef(_Strict):
    system: str | None = Field(None, max_length=64, description="Application that owns `key`.")
    key: str | None = Field(None, max_length=200, description="The account's id there.")
    domain: str | None = Field(None, max_length=253)
    name: str | None = Field(None, max_length=300)
    segment: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _identified(self) -> AccountRef:
        if not ((self.system and self.key) or self.domain):
            raise ValueError("an account needs `system` and `key`, or a `domain`")
        return self


class CustomerRef(_Strict):
    system: str | None = Field(None, max_length=64)
    key: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str | None = Field(None, max_length=300)
    handle: str | None = Field(None, max_length=200)
    account: AccountRef | None = None

    @model_validator(mode="after")
    def _identified(self) -> CustomerRef:
        if not ((self.system and self.key) or self.email or self.account):
            raise ValueError("a customer needs `system` and `key`, an `email`, or an `account`")
        return self


class EventIn(_Strict):
    """One event as the API accepts it (fields as in the canonical event model)."""

    event_id: str = Field(
        min_length=1, max_length=200, description="Your stable id: resent = same."
    )
    occurred_at: dt.datetime
    kind: EventKind
    action: str = Field(max_length=64)
    customer: CustomerRef
    channel: str | None = Field(None, max_length=32)
    touchpoint: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=200)
    amount: float | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    quantity: float | None = None
    score: float | None = None
    text: str | None = Field(None, max_length=20_000)
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _fits_its_kind(self) -> EventIn:
        spec = KIND_SPECS[self.kind]
        if self.action not in spec.actions:
            raise ValueError(
                f"action {self.action!r} is not one of {self.kind.value}'s: "
                f"{', '.join(sorted(spec.actions))}"
            )
        missing = [f for f in spec.required if getattr(self, f) in (None, "")]
        if missing:
            raise ValueError(f"a {self.kind.value} event needs {', '.join(missing)}")
        for key, allowed in spec.property_values.items():
            value = self.properties.get(key)
            if value is not None and value not in allowed:
                raise ValueError(
                    f"properties.{key} {value!r} is not one of {', '.join(sorted(allowed))}"
                )
        return self


class EventBatch(_Strict):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


@dataclass
class Matched:
    """An accepted event with the masters it belongs to, ready to store and judge."""

    event: EventIn
    record_id: str
    account_record_id: str | None
    customer_id: str | None
    account_id: str | None
    created: bool  # a provisional master was created for it


class Directory:
    """Exact keys → master ids, held in memory and kept current as identities are created."""

    def __init__(self, store: Store) -> None:
        links = store.rows("SELECT record_id, entity, master_id FROM record_links")
        self.master = {str(r["record_id"]): str(r["master_id"]) for r in links}
        self.email = {
            str(r["email"]).lower(): str(r["customer_id"])
            for r in store.rows(
                "SELECT customer_id, email FROM customers WHERE email IS NOT NULL "
                "ORDER BY updated_at"
            )
        }
        self.domain = {
            str(r["domain"]).lower(): str(r["account_id"])
            for r in store.rows(
                "SELECT account_id, domain FROM accounts WHERE domain IS NOT NULL "
                "ORDER BY updated_at"
            )
        }
        accounts = store.rows("SELECT customer_id, account_id FROM customers")
        self.account_of = {str(r["customer_id"]): r["account_id"] for r in accounts}
        # A representative record per master: events point at a record, not at a master.
        self.record_of: dict[str, str] = {}
        for record_id, master_id in self.master.items():
            self.record_of.setdefault(master_id, record_id)

    def find(self, ref: CustomerRef) -> tuple[str | None, str | None]:
        """The person and account masters an identity already has, creating none (what a
        dry run of the rules needs)."""
        account = None
        if ref.account is not None:
            a = ref.account
            key = f"{a.system}:{a.key}" if a.system and a.key else None
            account = (self.master.get(key) if key else None) or (
                self.domain.get(a.domain.lower()) if a.domain else None
            )
        key = f"{ref.system}:{ref.key}" if ref.system and ref.key else None
        person = (self.master.get(key) if key else None) or (
            self.email.get(ref.email.lower()) if ref.email else None
        )
        if person is not None and account is None:
            found = self.account_of.get(person)
            account = str(found) if found else None
        return person, account


def match(
    events: Sequence[EventIn], directory: Directory, store: Store, load_id: str
) -> list[Matched]:
    """Masters for each event, creating provisional ones (records, links, masters) for
    identities never seen. Runs inside the caller's transaction."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    new_records: dict[str, dict[str, Any]] = {}
    out = []
    for event in events:
        ref = event.customer
        account_record = account_id = None
        if ref.account is not None:
            account_record, account_id = _account(ref.account, directory, new_records, now, load_id)
        record_id, customer_id = _person(ref, account_record, directory, new_records, now, load_id)
        if customer_id is not None and account_id is None:
            found = directory.account_of.get(customer_id)
            account_id = str(found) if found else None
        out.append(
            Matched(
                event=event,
                record_id=record_id or account_record or "",
                account_record_id=account_record,
                customer_id=customer_id,
                account_id=account_id,
                created=False,
            )
        )
    if new_records:
        _create(store, list(new_records.values()))
        created = {r["record_id"] for r in new_records.values()}
        for m in out:
            m.created = m.record_id in created or (m.account_record_id in created)
    return out


def _record(
    record_id: str, entity: Entity, now: dt.datetime, load_id: str, **fields: Any
) -> dict[str, Any]:
    system, _, key = record_id.partition(":")
    row: dict[str, Any] = {c: None for c in SOURCE_RECORDS.column_names}
    row.update(
        record_id=record_id, system=system, source_key=key, source=API_SOURCE,
        entity=entity.value, created_at=now, updated_at=now, load_id=load_id,
        content_hash=record_id, **fields,
    )  # fmt: skip
    return row


def _account(
    ref: AccountRef,
    directory: Directory,
    new: dict[str, dict[str, Any]],
    now: dt.datetime,
    load_id: str,
) -> tuple[str, str]:
    record_id = f"{ref.system}:{ref.key}" if ref.system and ref.key else f"domain:{ref.domain}"
    master = directory.master.get(record_id)
    if master is None and ref.domain:
        master = directory.domain.get(ref.domain.lower())
        if master is not None:
            record_id = directory.record_of.get(master, record_id)
    if master is None:
        master = provisional_id(Entity.ACCOUNT, record_id)
        new[record_id] = _record(
            record_id, Entity.ACCOUNT, now, load_id, name=ref.name,
            domain=ref.domain.lower() if ref.domain else None, segment=ref.segment,
            owner=ref.owner,
        )  # fmt: skip
        directory.master[record_id] = master
        directory.record_of.setdefault(master, record_id)
        if ref.domain:
            directory.domain[ref.domain.lower()] = master
    return record_id, master


def _person(
    ref: CustomerRef,
    account_record: str | None,
    directory: Directory,
    new: dict[str, dict[str, Any]],
    now: dt.datetime,
    load_id: str,
) -> tuple[str | None, str | None]:
    if not ((ref.system and ref.key) or ref.email):
        return None, None  # an event about the account only
    record_id = f"{ref.system}:{ref.key}" if ref.system and ref.key else f"email:{ref.email}"
    master = directory.master.get(record_id)
    if master is None and ref.email:
        master = directory.email.get(ref.email.lower())
        if master is not None:
            record_id = directory.record_of.get(master, record_id)
    if master is None:
        master = provisional_id(Entity.PERSON, record_id)
        new[record_id] = _record(
            record_id, Entity.PERSON, now, load_id, name=ref.name,
            email=ref.email.lower() if ref.email else None, handle=ref.handle,
            account_record_id=account_record,
        )  # fmt: skip
        directory.master[record_id] = master
        directory.record_of.setdefault(master, record_id)
        if ref.email:
            directory.email[ref.email.lower()] = master
        account = directory.master.get(account_record) if account_record else None
        directory.account_of[master] = account
    return record_id, master


def _create(store: Store, records: list[dict[str, Any]]) -> None:
    """Records, singleton links and provisional masters for identities first seen here."""
    store.append(SOURCE_RECORDS, pa.Table.from_pylist(records, arrow_schema(SOURCE_RECORDS)))
    link_unlinked_records(store, records=[r["record_id"] for r in records])


def event_rows(matched: Sequence[Matched], load_id: str) -> pa.Table:
    rows = []
    for m in matched:
        e = m.event
        spec = KIND_SPECS[e.kind]
        rows.append(
            {
                "event_id": e.event_id,
                "source": API_SOURCE,
                "record_id": m.record_id,
                "account_record_id": m.account_record_id,
                "occurred_at": e.occurred_at,
                "kind": e.kind.value,
                "action": e.action,
                "department": spec.department.value,
                "journey_stage": spec.journey_stage.value if spec.journey_stage else None,
                "touchpoint": e.touchpoint,
                "channel": e.channel or "api",
                "reference": e.reference,
                "amount": e.amount,
                "currency": e.currency,
                "quantity": e.quantity,
                "score": e.score,
                "text": e.text,
                "properties": json.dumps(e.properties) if e.properties else None,
                "load_id": load_id,
            }
        )
    return pa.Table.from_pylist(rows, arrow_schema(EVENTS))


def as_rule_event(m: Matched) -> dict[str, Any]:
    """What the rules see of an event."""
    e = m.event
    return {
        "event_id": e.event_id, "kind": e.kind.value, "action": e.action,
        "occurred_at": e.occurred_at, "channel": e.channel, "touchpoint": e.touchpoint,
        "reference": e.reference, "amount": e.amount, "currency": e.currency,
        "quantity": e.quantity, "score": e.score, "text": e.text, "source": API_SOURCE,
        "properties": e.properties, "customer_id": m.customer_id, "account_id": m.account_id,
    }  # fmt: skip
