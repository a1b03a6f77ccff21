"""How a source's columns become canonical records and events.

A source row can yield several things: a Zendesk ticket row is a person record (the requester)
and up to three events (opened, first response, resolved). Each is one mapping.
A field is a source column name, or a spec with a constant, a template, a value map, a date
format, a time zone or a scale.
"""

from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxlens.schema import EVENT_FIELDS, RECORD_FIELDS, Entity, EventKind

Format = Literal["csv", "parquet", "jsonl", "excel", "sql"]

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class When(_Strict):
    """A row filter: a column that must be filled in, optionally with one of some values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    column: str
    in_: list[str] | None = Field(None, alias="in", description="case-insensitive")
    not_in: list[str] | None = None


WhenValue = str | When


def as_when(value: WhenValue | None) -> When | None:
    return When(column=value) if isinstance(value, str) else value


class FieldSpec(_Strict):
    """Where a canonical field's value comes from and how to read it."""

    column: str | None = None
    columns: list[str] | None = Field(None, description="the first of these that is filled in")
    const: str | float | int | bool | None = None
    template: str | None = Field(None, description="e.g. '{ticket_id}-opened'")
    format: str | list[str] | None = Field(
        None, description="strptime format(s), or 'epoch' / 'epoch_ms' for Unix times"
    )
    timezone: str | None = Field(None, description="zone of times written without one")
    map: dict[str, str | float | None] | None = Field(
        None, description="value map, matched case-insensitively; unmapped values are rejected"
    )
    scale: float | None = Field(None, description="multiply numbers, e.g. 0.01 for cents")
    default: str | float | int | None = None
    add_minutes: str | None = Field(None, description="column of minutes to add to a time")

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        given: list[object] = [
            x for x in (self.column, self.template, self.columns) if x is not None
        ]
        if self.const is not None:
            given.append("const")
        if len(given) != 1:
            raise ValueError("give exactly one of column, columns, const or template")
        return self

    @property
    def source_columns(self) -> list[str]:
        """Source columns this field reads."""
        extra = [self.add_minutes] if self.add_minutes else []
        if self.column is not None:
            return [self.column, *extra]
        if self.columns is not None:
            return [*self.columns, *extra]
        if self.template is not None:
            return [f for _, f, _, _ in string.Formatter().parse(self.template) if f] + extra
        return extra


FieldValue = str | FieldSpec


def as_spec(value: FieldValue) -> FieldSpec:
    return FieldSpec(column=value) if isinstance(value, str) else value


def _check_fields(fields: dict[str, Any], allowed: dict[str, Any], what: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown {what} field(s) {', '.join(unknown)}; valid: {', '.join(sorted(allowed))}"
        )


class RecordMapping(_Strict):
    """Rows → people or accounts as this source knows them."""

    entity: Entity
    system: str | None = Field(None, description="application owning the key; default the source's")
    key: FieldValue
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    account_system: str | None = Field(None, description="system of fields.account_key")
    external_ids: dict[str, FieldValue] = Field(default_factory=dict)
    attributes: list[str] = Field(default_factory=list, description="source columns kept as-is")
    when: WhenValue | None = Field(None, description="only rows where this column is filled in")

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, v: dict[str, FieldValue]) -> dict[str, FieldValue]:
        _check_fields(v, RECORD_FIELDS, "record")
        return v

    def columns(self) -> set[str]:
        cols = set(as_spec(self.key).source_columns) | set(self.attributes)
        for f in [*self.fields.values(), *self.external_ids.values()]:
            cols |= set(as_spec(f).source_columns)
        when = as_when(self.when)
        if when is not None:
            cols.add(when.column)
        return cols


class EventMapping(_Strict):
    """Rows → events of one kind."""

    kind: EventKind | FieldSpec = Field(description="a kind, or a spec reading it per row")
    action: FieldValue | None = None
    id: FieldValue | None = Field(None, description="stable event id; default: a content hash")
    time: FieldValue
    record: FieldValue = Field(description="key of the record the event is about")
    record_system: str | None = None
    account: FieldValue | None = None
    account_system: str | None = None
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    properties: dict[str, FieldValue] = Field(default_factory=dict)
    optional: bool = Field(
        False, description="rows whose time is empty yield no event (instead of a reject)"
    )
    when: WhenValue | None = Field(None, description="only rows where this column is filled in")

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, v: dict[str, FieldValue]) -> dict[str, FieldValue]:
        reserved = {"event_id", "record_id", "account_record_id", "occurred_at", "kind", "action"}
        _check_fields(v, {k: t for k, t in EVENT_FIELDS.items() if k not in reserved}, "event")
        return v

    @model_validator(mode="after")
    def _known_properties(self) -> EventMapping:
        from cxlens.schema import KIND_SPECS

        if isinstance(self.kind, EventKind):
            allowed = KIND_SPECS[self.kind].properties
            what = f"{self.kind.value} property"
        else:
            allowed = {k: t for s in KIND_SPECS.values() for k, t in s.properties.items()}
            what = "event property"
        _check_fields(self.properties, allowed, what)
        return self

    def columns(self) -> set[str]:
        cols: set[str] = set()
        kind = None if isinstance(self.kind, EventKind) else self.kind
        for f in [
            kind,
            self.action,
            self.id,
            self.time,
            self.record,
            self.account,
            *self.fields.values(),
            *self.properties.values(),
        ]:
            if f is not None:
                cols |= set(as_spec(f).source_columns)
        when = as_when(self.when)
        if when is not None:
            cols.add(when.column)
        return cols


class SourceConfig(_Strict):
    """One source of the workspace: where to read and how to map it."""

    path: str | None = Field(None, description="file, relative to the workspace")
    url: str | None = Field(None, description="SQLAlchemy database URL")
    query: str | None = Field(None, description="SQL to read from `url`")
    table: str | None = Field(None, description="table to read from `url`")
    format: Format | None = None
    preset: str | None = None
    system: str | None = Field(None, description="application owning the keys; default: name")
    timezone: str = "UTC"
    encoding: str = "utf-8"
    delimiter: str | None = None
    sheet: str | None = Field(None, description="Excel sheet; default the first")
    rename: dict[str, str] = Field(
        default_factory=dict, description="preset column -> column in your file"
    )
    records: list[RecordMapping] | None = None
    events: list[EventMapping] | None = None

    @model_validator(mode="after")
    def _where_and_what(self) -> SourceConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path (a file) or url (a database)")
        if self.url is not None and (self.query is None) == (self.table is None):
            raise ValueError("a database source needs either query or table")
        if self.preset is None and not self.records and not self.events:
            raise ValueError("give a preset, or records and/or events mappings")
        return self

    def resolved_format(self) -> Format:
        if self.format is not None:
            return self.format
        if self.url is not None:
            return "sql"
        assert self.path is not None  # noqa: S101 - checked by the validator
        lowered = self.path.lower()
        for ext, fmt in _EXTENSIONS.items():
            if lowered.endswith(ext) or lowered.endswith(ext + ".gz"):
                return fmt
        raise ValueError(
            f"cannot tell the format of {self.path}; set format to one of "
            + ", ".join(sorted(set(_EXTENSIONS.values())))
        )
