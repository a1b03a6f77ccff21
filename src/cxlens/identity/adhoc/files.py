"""The export files of ad-hoc matching: reading CSV and Parquet, mapping their columns onto
record fields by header name, detecting the entity, the canonical records SQL, and writing."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa

from cxlens.errors import ConfigError, SourceError
from cxlens.identity.adhoc.errors import (
    MissingFile,
    NoUsableColumns,
    UnknownColumn,
    UnknownField,
    UnsupportedFormat,
    UnsupportedOutput,
)
from cxlens.schema.columns import ColumnType
from cxlens.schema.records import SOURCE_RECORDS, Entity

# ---- formats and columns ------------------------------------------------------------------

Format = Literal["csv", "parquet"]

_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".csv.gz": "csv",
    ".tsv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Fields a column can be mapped onto, with the normalised header names that mean them
#: (`normalise_header`: "E-mail Address" → "emailaddress"). When several columns mean the same
#: field, the earlier name wins ("Phone" before "Mobile").
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "source_key": (
        "id", "recordid", "key", "contactid", "customerid", "personid", "leadid", "userid",
        "uuid", "uid", "externalid",
    ),
    "email": (
        "email", "emailaddress", "email1", "mail", "workemail", "primaryemail",
        "contactemail", "customeremail", "businessemail", "personalemail",
    ),
    "first_name": ("firstname", "givenname", "forename", "first", "fname", "prenom", "vorname"),
    "last_name": ("lastname", "surname", "familyname", "last", "lname", "nom", "nachname"),
    "name": (
        "name", "fullname", "contactname", "customername", "personname", "displayname",
        "contact", "customer",
    ),
    "phone": (
        "phone", "phonenumber", "telephone", "telephonenumber", "tel", "mobile",
        "mobilephone", "mobilenumber", "cellphone", "cell", "workphone", "businessphone",
        "homephone",
    ),
    "title": ("title", "jobtitle", "position", "role"),
    "company": (
        "company", "companyname", "accountname", "account", "organization", "organisation",
        "organizationname", "organisationname", "org", "employer", "businessname",
    ),
    "domain": (
        "website", "domain", "companywebsite", "companydomain", "websiteurl", "web", "url",
        "homepage",
    ),
    "address": (
        "address", "street", "streetaddress", "address1", "addressline1", "addressline",
        "mailingstreet", "billingstreet",
    ),
    "city": ("city", "town", "mailingcity", "billingcity", "addresscity", "locality"),
    "region": (
        "state", "region", "province", "county", "stateprovince", "mailingstate",
        "billingstate", "addressstate",
    ),
    "postal_code": (
        "postalcode", "postcode", "zip", "zipcode", "mailingpostalcode", "billingpostalcode",
        "addresspostalcode", "addresszip",
    ),
    "country": (
        "country", "countryregion", "countrycode", "mailingcountry", "billingcountry",
        "addresscountry", "nation",
    ),
    "handle": ("handle", "username", "twitter", "twitterhandle", "socialhandle"),
}  # fmt: skip

#: Fields a mapping may name.
FIELDS: tuple[str, ...] = tuple(FIELD_ALIASES)

#: Fields that identify a party of each kind; a file needs at least one of them.
_USABLE: dict[Entity, tuple[str, ...]] = {
    Entity.PERSON: ("name", "first_name", "last_name", "email", "phone", "handle"),
    Entity.ACCOUNT: ("name", "company", "domain", "email"),
}

_PLURAL = {Entity.PERSON: "people", Entity.ACCOUNT: "accounts"}

#: Column added to the file as read: its 1-based data row number (header excluded).
_ROW = "__cxlens_row"

_SQL_TYPES = {
    ColumnType.TEXT: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
    ColumnType.JSON: "VARCHAR",
}


def normalise_header(header: str) -> str:
    """ "E-mail Address" → "emailaddress": lower case, accents dropped, letters and digits."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def guess_mapping(columns: Sequence[str]) -> dict[str, str]:
    """{field: column} for the columns whose header names a field (each column used once)."""
    normalised = [normalise_header(c) for c in columns]
    mapping: dict[str, str] = {}
    for field_name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            hit = next(
                (
                    c
                    for c, n in zip(columns, normalised, strict=True)
                    if n == alias and c not in mapping.values()
                ),
                None,
            )
            if hit is not None:
                mapping[field_name] = hit
                break
    return mapping


def detect_entity(mapping: Mapping[str, str]) -> Entity | None:
    """Person if the file names people (first or last name, email, or a name beside a company);
    account if it names companies (company, domain) and no people; None if neither."""
    fields = set(mapping)
    if fields & {"first_name", "last_name", "email"} or {"name", "company"} <= fields:
        return Entity.PERSON
    if fields & {"company", "domain"}:
        return Entity.ACCOUNT
    if fields & {"name", "phone", "handle"}:
        return Entity.PERSON
    return None


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in sorted(_FORMATS, key=len, reverse=True) if name.endswith(s)), None)


def _stem(path: Path) -> str:
    suffix = _suffix(path)
    return path.name[: -len(suffix)] if suffix and len(path.name) > len(suffix) else path.stem


def _listed(columns: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in columns) if columns else "(none)"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _text(column: str) -> str:
    """SQL for a column's value as trimmed text, NULL when blank."""
    return f"nullif(trim(CAST({_quote(column)} AS VARCHAR)), '')"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---- reading ------------------------------------------------------------------------------


@dataclass
class InputFile:
    """A file read for matching: its rows, how its columns map onto fields, and its key."""

    path: Path
    #: Names the file's records: record_id = "<system>:<key>".
    system: str
    format: Format
    columns: list[str]
    #: The file as read, plus its row numbers (`__cxlens_row`).
    table: pa.Table
    #: {field: column}
    mapping: dict[str, str]
    entity: Entity
    #: The column holding each record's key, or None when row numbers are the keys.
    key_column: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def _read_table(path: Path, fmt: Format) -> pa.Table:
    if not path.exists():
        raise MissingFile(path.name, str(path), "no such file")
    if not path.is_file():
        raise MissingFile(path.name, str(path), "not a file")
    if path.stat().st_size == 0:
        raise SourceError(path.name, str(path), "the file is empty")
    if fmt == "csv":
        sql = "SELECT * FROM read_csv($p, all_varchar = true, header = true)"
    else:
        sql = "SELECT * FROM read_parquet($p)"
    con = duckdb.connect()
    try:
        table: pa.Table = con.sql(sql, params={"p": str(path)}).to_arrow_table()
    except duckdb.Error as exc:
        raise SourceError(
            path.name, str(path), f"not a readable {fmt} file: {_first_line(exc)}"
        ) from None
    finally:
        con.close()
    if table.num_rows == 0:
        raise SourceError(path.name, str(path), "no data rows")
    return table


def _check_fields(path: Path, mapping: Mapping[str, str | None] | None) -> None:
    unknown = [f for f in mapping or {} if f not in FIELD_ALIASES]
    if unknown:
        raise UnknownField(
            f"{path.name}: unknown field(s) {_listed(unknown)} in the column mapping; "
            f"valid fields: {', '.join(FIELDS)}"
        )


def _resolve_mapping(
    path: Path, columns: list[str], overrides: Mapping[str, str | None] | None
) -> dict[str, str]:
    """The guessed mapping with `overrides` applied; a field mapped to None or "" is dropped."""
    mapping = guess_mapping(columns)
    for field_name, column in (overrides or {}).items():
        if column is None or not column.strip():
            mapping.pop(field_name, None)
            continue
        if column in columns:
            found = column
        else:  # "email address" finds "Email Address", if only one column is written so
            same = [c for c in columns if normalise_header(c) == normalise_header(column)]
            if len(same) != 1:
                raise UnknownColumn(
                    f"{path.name}: no column '{column}' (mapped to field '{field_name}'); "
                    f"columns in the file: {_listed(columns)}"
                )
            found = same[0]
        mapping = {f: c for f, c in mapping.items() if c != found}
        mapping[field_name] = found
    return mapping


def _as_entity(path: Path, entity: Entity | str | None) -> Entity | None:
    if entity is None or isinstance(entity, Entity):
        return entity
    try:
        return Entity(entity)
    except ValueError:
        raise ConfigError(
            f"{path.name}: unknown entity '{entity}'; valid: {', '.join(e.value for e in Entity)}"
        ) from None


def _key_problems(table: pa.Table, column: str) -> tuple[int, int]:
    """(blank keys, repeated keys) in `column`."""
    con = duckdb.connect()
    try:
        con.register("_t", table.select([column]))
        k = _text(column)
        row = con.sql(f"SELECT count(*) - count({k}), count({k}) - count(DISTINCT {k}) FROM _t")
        blanks, repeats = row.fetchall()[0]
    finally:
        con.close()
    return int(blanks), int(repeats)


def read_input(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str | None] | None = None,
    entity: Entity | str | None = None,
    system: str | None = None,
) -> InputFile:
    """Read a CSV (every value as text) or Parquet file and map its columns onto fields.

    `mapping` ({field: column}) overrides the guess; a field mapped to None or "" is not used.
    The entity is detected from the mapped fields unless given. A key column with blank or
    repeated values is not used: row numbers are the keys then (and a note says so).
    Raises `UnsupportedFormat`, `UnknownField`, `MissingFile`, `SourceError` (unreadable),
    `UnknownColumn` or `NoUsableColumns`, each naming the file."""
    p = Path(path)
    suffix = _suffix(p)
    if suffix is None:
        raise UnsupportedFormat(
            p.name,
            str(p),
            f"unsupported file type '{p.suffix or p.name}'; use CSV (.csv or .tsv, optionally "
            ".gz) or Parquet (.parquet, .pq)",
        )
    fmt = _FORMATS[suffix]
    chosen = _as_entity(p, entity)
    _check_fields(p, mapping)  # mapping mistakes are reported before the file is read
    table = _read_table(p, fmt)
    columns = [str(c) for c in table.column_names]
    fields = _resolve_mapping(p, columns, mapping)
    resolved = chosen or detect_entity(fields)
    wanted = _USABLE[resolved or Entity.PERSON]
    if resolved is None or not set(wanted) & set(fields):
        kind = _PLURAL[resolved] if resolved else "people or accounts"
        raise NoUsableColumns(
            p.name,
            str(p),
            f"no column to match {kind} on (looked for {', '.join(wanted)}"
            f"{'' if resolved else ', company, domain'}); columns found: {_listed(columns)}. "
            "Name them with --column field=Header",
        )
    notes: list[str] = []
    key_column = fields.get("source_key")
    if key_column is not None:
        blanks, repeats = _key_problems(table, key_column)
        if blanks or repeats:
            notes.append(
                f"{p.name}: key column '{key_column}' has {blanks} blank and {repeats} repeated "
                "value(s), so row numbers are the keys instead"
            )
            key_column = None
            del fields["source_key"]
    rows = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return InputFile(
        path=p,
        system=system or _stem(p),
        format=fmt,
        columns=columns,
        table=table.append_column(_ROW, rows),
        mapping=fields,
        entity=resolved,
        key_column=key_column,
        notes=notes,
    )


def _records_sql(f: InputFile, view: str, file_index: int) -> tuple[str, str]:
    """SQL for the file's rows as canonical `records`, and for its rows in `_index`."""
    if f.key_column is not None:
        key = f"trim(CAST({_quote(f.key_column)} AS VARCHAR))"
        order_key = key
    else:
        key, order_key = f"CAST({_ROW} AS VARCHAR)", "NULL::VARCHAR"
    system = "'" + f.system.replace("'", "''") + "'"
    values: dict[str, str] = {
        "record_id": f"{system} || ':' || {key}",
        "system": system,
        "source_key": key,
        "source": system,
        "entity": f"'{f.entity.value}'",
        "content_hash": "''",
        "load_id": "'adhoc'",
    }
    for field_name, column in f.mapping.items():
        if field_name != "source_key":
            values[field_name] = _text(column)
    parts = [
        f"CAST({values.get(c.name, 'NULL')} AS {_SQL_TYPES[c.type]}) AS {c.name}"
        for c in SOURCE_RECORDS.columns
    ]
    records = f"SELECT {', '.join(parts)} FROM {view}"
    index = (
        f"SELECT {values['record_id']} AS unique_id, {file_index} AS file_index, "
        f"{_ROW} AS row_number, {key} AS key, {order_key} AS order_key FROM {view}"
    )
    return records, index


# ---- writing ------------------------------------------------------------------------------


def _output_format(out: Path) -> Format:
    suffix = _suffix(out)
    if suffix is None:
        raise UnsupportedOutput(
            f"cannot write {out}: unsupported file type '{out.suffix or out.name}'; "
            "use .csv, .tsv (optionally .gz) or .parquet"
        )
    return _FORMATS[suffix]


def write_table(table: pa.Table, out: str | os.PathLike[str]) -> Path:
    """Write `table` as CSV or Parquet by the extension of `out`, replacing it whole or not."""
    path = Path(out)
    fmt = _output_format(path)
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    name = path.name.lower()
    if name.endswith((".tsv", ".tsv.gz")):
        options += ", DELIMITER '\t'"
    if name.endswith(".gz"):
        options += ", COMPRESSION gzip"
    partial = path.with_name(f".{path.name}.partial")
    con = duckdb.connect()
    try:
        con.register("_out", table)
        con.execute(f"COPY _out TO '{str(partial).replace(chr(39), chr(39) * 2)}' ({options})")
        os.replace(partial, path)
    except (duckdb.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise SourceError(path.name, str(path), f"cannot write it: {_first_line(exc)}") from None
    finally:
        con.close()
    return path
