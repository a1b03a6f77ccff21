"""Ad-hoc matching of exported files, without a workspace: `cxlens dedupe` and `cxlens link`.

A CSV or Parquet export (a CRM's contacts, a list of accounts) is read as it is, its columns are
mapped onto record fields by their header names (or as the caller says), and its rows go through
the identity engine's normalisation, rules, scoring and clustering.

* `dedupe_file` returns the file with three more columns: `cluster_id` ("c_" + the key of the
  cluster's first member: the smallest key when the file has a key column, else the key of its
  first row), `cluster_size`, and `match_probability` (the strongest link joining the row to its
  cluster: 1.0 for a rule such as the same email; NULL for a row alone).
* `link_files` links two files together and returns one row per pair of records, one from
  each file, that ended in the same cluster (see there for what its probability means).

The model. Unsupervised training (`matching.train`) is no use on single exports: it fails
outright when a file has no pair for one of its training rules (a contact list without repeated
emails), and where it runs it does no better than the preset model below, then worse: linking
the demo company's Salesforce and HubSpot contacts, both were right on 99% of pairs at 11,000
records, but at 58,000 records 42% of the trained model's links were wrong, against 2%. So
matching uses a *preset* model: m and u probabilities set by hand in `PRESET_LEVELS` (the share
of true matches, and of random pairs, that compare each way) and a prior from the file sizes
(`PRESET_DUPLICATES_PER_RECORD`, `PRESET_LINKED_SHARE`). Three parts of it follow the data:
first names, last names and cities weigh by how common each value is in the files (Splink's
term-frequency adjustment), the u probability that two people share an organisation is the
files' own, and so is the prior. `model="train"` trains instead, filling in from the preset any
level that training left without m or u, and falls back to the preset when training fails;
`DedupeResult.model` and `LinkResult.model` say which model was used.

People carry no account records here, so a person's organisation (`org`, which the person model
compares and blocks on) is their work email's domain or website together with every company name
written beside it in the files.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa

from cxlens.errors import ConfigError, SourceError
from cxlens.identity.clusters import components
from cxlens.identity.linkage import RULES, Linkage, LinkageSettings, link_entity
from cxlens.identity.matching import train
from cxlens.identity.model import SPECS, ModelSpec
from cxlens.identity.normalize import prepare
from cxlens.schema.columns import ColumnType
from cxlens.schema.records import SOURCE_RECORDS, Entity

# ---- errors -------------------------------------------------------------------------------


class MissingFile(SourceError):
    """The file to match does not exist."""


class UnsupportedFormat(SourceError):
    """The file's extension is not one ad-hoc matching reads (CSV or Parquet)."""


class NoUsableColumns(SourceError):
    """No column of the file maps onto a field that matching compares."""


class MappingError(ConfigError):
    """A column mapping (`--column field=Header`) that cannot apply to the file."""


class UnknownField(MappingError):
    """The mapping names a field that records do not have."""


class UnknownColumn(MappingError):
    """The mapping names a column that the file does not have."""


class UnsupportedOutput(ConfigError):
    """The output path's extension is neither CSV nor Parquet."""


# ---- formats and columns ------------------------------------------------------------------

Format = Literal["csv", "parquet"]
ModelChoice = Literal["preset", "train"]

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

#: Columns dedupe adds to the file (columns of the same names in the file are replaced).
OUTPUT_COLUMNS = ("cluster_id", "cluster_size", "match_probability")

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
        k = f"nullif(trim(CAST({_quote(column)} AS VARCHAR)), '')"
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
            values[field_name] = f"nullif(trim(CAST({_quote(column)} AS VARCHAR)), '')"
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


# ---- the preset model ---------------------------------------------------------------------

#: Prior of the preset model: duplicate pairs expected per record within a file...
PRESET_DUPLICATES_PER_RECORD = 0.1
#: ...and, linking two files, the share of the smaller file's records expected in the other.
PRESET_LINKED_SHARE = 0.5

#: m and u probabilities of the preset model, per comparison and level (by the level's label).
#: m: the share of true matches that compare this way; u: the share of random pairs that do.
PRESET_LEVELS: dict[Entity, dict[str, dict[str, tuple[float, float]]]] = {
    Entity.PERSON: {
        "first_name": {
            "Exact match on first_name": (0.85, 0.01),
            "nickname of the same name": (0.06, 0.002),
            "Jaro-Winkler distance of first_name >= 0.9": (0.04, 0.003),
            "initial matches": (0.02, 0.03),
            "All other comparisons": (0.03, 0.955),
        },
        "last_name": {
            "Exact match on last_name": (0.88, 0.002),
            "Jaro-Winkler distance of last_name >= 0.9": (0.06, 0.001),
            "one is the start of the other": (0.02, 0.0005),
            "initial matches": (0.01, 0.03),
            "All other comparisons": (0.03, 0.9665),
        },
        "email": {
            "Exact match on email": (0.6, 0.00001),
            "Jaro-Winkler distance of email_local >= 0.95": (0.05, 0.001),
            "one is a personal address": (0.2, 0.3),
            "All other comparisons": (0.15, 0.69899),
        },
        "phone_tail": {
            "Exact match on phone_tail": (0.7, 0.0001),
            "All other comparisons": (0.3, 0.9999),
        },
        "organisation": {
            # u is replaced by the file's own (`_organisation_u`).
            "same account": (0.8, 0.02),
            "similar company name": (0.1, 0.005),
            "All other comparisons": (0.1, 0.975),
        },
        "city": {
            "Exact match on city": (0.8, 0.05),
            "All other comparisons": (0.2, 0.95),
        },
        "handle": {
            "Exact match on handle": (0.8, 0.0001),
            "All other comparisons": (0.2, 0.9999),
        },
    },
    Entity.ACCOUNT: {
        "company": {
            "Exact match on company": (0.75, 0.0005),
            "Jaro-Winkler distance of company >= 0.92": (0.15, 0.002),
            "All other comparisons": (0.1, 0.9975),
        },
        "domain": {
            "Exact match on domain": (0.7, 0.0002),
            "All other comparisons": (0.3, 0.9998),
        },
        "phone_tail": {
            "Exact match on phone_tail": (0.5, 0.0002),
            "All other comparisons": (0.5, 0.9998),
        },
        "city": {
            "Exact match on city": (0.8, 0.05),
            "All other comparisons": (0.2, 0.95),
        },
        "postal_code": {
            "Exact match on postal_code": (0.6, 0.002),
            "All other comparisons": (0.4, 0.998),
        },
        "country": {
            "Exact match on country": (0.95, 0.2),
            "All other comparisons": (0.05, 0.8),
        },
    },
}


#: Levels of the preset model that do not weigh a value by how common it is in the file. An exact
#: company name (legal forms dropped) is strong evidence however the file is: in a short list
#: each name occurs once or twice, which term frequencies would read as a common name.
PRESET_WITHOUT_TERM_FREQUENCIES = {(Entity.ACCOUNT, "company", "Exact match on company")}


def _levels(model: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(comparison, its levels other than the null level) of a Splink settings document."""
    return [
        (
            c["output_column_name"],
            [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")],
        )
        for c in model["comparisons"]
    ]


def _preset_value(entity: Entity, comparison: str, label: str) -> tuple[float, float]:
    try:
        return PRESET_LEVELS[entity][comparison][label]
    except KeyError:
        raise RuntimeError(
            f"the preset {entity.value} model has no m and u for level '{label}' of comparison "
            f"'{comparison}': add them to PRESET_LEVELS in cxlens.identity.adhoc"
        ) from None


def preset_model(
    spec: ModelSpec, sizes: Sequence[int], *, organisation_u: float | None = None
) -> dict[str, Any]:
    """The spec's Splink settings with the preset m and u, and the prior for files of `sizes`
    records (one file deduplicated, or two linked)."""
    model: dict[str, Any] = spec.settings().create_settings_dict(sql_dialect_str="duckdb")
    for comparison, levels in _levels(model):
        for level in levels:
            label = level["label_for_charts"]
            m, u = _preset_value(spec.entity, comparison, label)
            if (comparison, label) == ("organisation", "same account") and organisation_u:
                u = organisation_u
            level["m_probability"], level["u_probability"] = m, u
            if (spec.entity, comparison, label) in PRESET_WITHOUT_TERM_FREQUENCIES:
                level.pop("tf_adjustment_column", None)
                level.pop("tf_adjustment_weight", None)
    n = sum(sizes)
    expected = PRESET_DUPLICATES_PER_RECORD * n
    if len(sizes) > 1:
        expected += PRESET_LINKED_SHARE * min(sizes)
    model["probability_two_random_records_match"] = min(0.5, expected / max(n * (n - 1) / 2, 1))
    return model


def _is_probability(value: object) -> bool:
    return isinstance(value, int | float) and 0 < value <= 1


def _complete(
    model: dict[str, Any], entity: Entity, preset: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A trained model whose untrained levels take the preset's m (or u), the comparison's
    values then scaled to sum to one again; also returns which levels were filled in."""
    filled: list[str] = []
    for comparison, levels in _levels(model):
        for index, prob in enumerate(("m_probability", "u_probability")):
            missing = [lv for lv in levels if not _is_probability(lv.get(prob))]
            for level in missing:
                level[prob] = _preset_value(entity, comparison, level["label_for_charts"])[index]
                filled.append(f"{comparison} '{level['label_for_charts']}' ({prob[0]})")
            if missing:
                total = sum(float(lv[prob]) for lv in levels)
                for level in levels:
                    level[prob] = float(level[prob]) / total
    prior = "probability_two_random_records_match"
    if not _is_probability(model.get(prior)):
        model[prior] = preset[prior]
        filled.append("prior")
    return model, filled


def _attach_organisations(engine: duckdb.DuckDBPyConnection) -> None:
    """Give each person an `org`: a work email domain (or website) together with every company
    name written beside it, and every other domain written beside those names."""
    pairs = engine.sql(
        "SELECT DISTINCT 'd:' || domain, 'c:' || company FROM people "
        "WHERE domain IS NOT NULL OR company IS NOT NULL"
    ).fetchall()
    names = sorted({v for pair in pairs for v in pair if v is not None})
    index = {v: i for i, v in enumerate(names)}
    both = [(index[d], index[c]) for d, c in pairs if d is not None and c is not None]
    labels = components(
        len(names),
        np.array([b[0] for b in both], dtype=np.int64),
        np.array([b[1] for b in both], dtype=np.int64),
    )
    orgs = pa.table({"value": names, "org": [names[i] for i in labels.tolist()]})
    engine.register("_orgs", orgs)
    engine.execute(
        "CREATE OR REPLACE TABLE people AS SELECT p.*, coalesce(d.org, c.org) AS org "
        "FROM people AS p LEFT JOIN _orgs AS d ON d.value = 'd:' || p.domain "
        "LEFT JOIN _orgs AS c ON c.value = 'c:' || p.company"
    )
    engine.unregister("_orgs")


def _organisation_u(engine: duckdb.DuckDBPyConnection) -> float | None:
    """The chance that two random people of the files share an organisation (None: no org)."""
    shared, total = engine.sql(
        "SELECT sum(n * (n - 1))::DOUBLE, sum(n)::DOUBLE FROM "
        "(SELECT count(*) AS n FROM people WHERE org IS NOT NULL GROUP BY org)"
    ).fetchall()[0]
    if total is None or total < 2:
        return None
    return float(min(0.5, max(shared / (total * (total - 1)), 1e-4)))


# ---- linking ------------------------------------------------------------------------------


@dataclass
class _Run:
    engine: duckdb.DuckDBPyConnection
    linkage: Linkage
    model: str
    notes: list[str]


def _settings(threshold: float) -> LinkageSettings:
    if not isinstance(threshold, int | float) or math.isnan(threshold) or not 0 < threshold <= 1:
        raise ConfigError(f"the threshold must be a probability in (0, 1], not {threshold!r}")
    return LinkageSettings(
        match_threshold=float(threshold),
        review_threshold=min(0.5, float(threshold)),
        # The organisations here are read from text (`_attach_organisations`), not linked
        # accounts: they weigh as evidence but do not forbid a merge.
        one_account_per_person=False,
    )


def _run(files: list[InputFile], entity: Entity, settings: LinkageSettings, model: str) -> _Run:
    """Link the files' records together in a new in-memory engine (left open for the caller)."""
    engine = duckdb.connect()
    try:
        return _link(engine, files, entity, settings, model)
    except BaseException:
        engine.close()
        raise


def _link(
    engine: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    entity: Entity,
    settings: LinkageSettings,
    model: str,
) -> _Run:
    records, index = [], []
    for i, f in enumerate(files):
        engine.register(f"_file{i}", f.table)
        r, x = _records_sql(f, f"_file{i}", i)
        records.append(r)
        index.append(x)
    engine.execute(f"CREATE TABLE records AS {' UNION ALL '.join(records)}")
    engine.execute(f"CREATE TABLE _index AS {' UNION ALL '.join(index)}")
    prepare(engine, "records")
    spec = SPECS[entity]
    table = "people" if entity is Entity.PERSON else "companies"
    org_u = None
    if entity is Entity.PERSON:
        _attach_organisations(engine)
        org_u = _organisation_u(engine)
    preset = preset_model(spec, [f.rows for f in files], organisation_u=org_u)
    chosen, used, notes = preset, "preset", []
    if model == "train":
        try:
            trained = train(
                engine,
                table,
                spec,
                seed=settings.seed,
                u_pairs=settings.u_pairs,
                em_pairs=settings.em_pairs,
            )
        except Exception as exc:  # whatever stops training, the preset stands in
            notes.append(f"training failed, so the preset model was used: {_first_line(exc)}")
        else:
            chosen, filled = _complete(trained, entity, preset)
            used = "trained"
            if filled:
                notes.append(
                    "levels training left untrained take preset values: " + ", ".join(filled)
                )
    linkage = link_entity(engine, table, spec, settings, model=chosen)
    return _Run(engine, linkage, used, notes)


def _check_model(model: str) -> None:
    if model not in ("preset", "train"):
        raise ConfigError(f"unknown model '{model}'; valid: preset, train")


def _register_members(run: _Run) -> None:
    """`_members`: each record's file, row, key, cluster (id and size) and best link."""
    e = run.engine
    e.register(
        "_labels", pa.table({"unique_id": run.linkage.ids, "label": pa.array(run.linkage.labels)})
    )
    e.register("_links", run.linkage.links)
    e.execute(
        """
        CREATE OR REPLACE TABLE _members AS
        WITH best AS (
            SELECT uid, max(probability) AS probability FROM (
                SELECT unique_id_l AS uid, probability FROM _links
                UNION ALL SELECT unique_id_r, probability FROM _links)
            GROUP BY uid
        ),
        members AS (
            SELECT x.*, l.label FROM _index AS x JOIN _labels AS l USING (unique_id)
        ),
        clusters AS (
            SELECT label, count(*) AS cluster_size,
                first(CASE WHEN files > 1 THEN unique_id ELSE key END
                      ORDER BY file_index, order_key NULLS LAST, row_number) AS first_key
            FROM members, (SELECT count(DISTINCT file_index) AS files FROM _index)
            GROUP BY label
        )
        SELECT m.unique_id, m.file_index, m.row_number, m.key, m.label,
            'c_' || c.first_key AS cluster_id, c.cluster_size,
            CASE WHEN c.cluster_size > 1 THEN b.probability END AS match_probability
        FROM members AS m JOIN clusters AS c USING (label)
        LEFT JOIN best AS b ON b.uid = m.unique_id
        """
    )
    e.unregister("_labels")
    e.unregister("_links")


def _annotated(run: _Run, f: InputFile, file_index: int) -> pa.Table:
    """The file as read (in its order) with cluster_id, cluster_size and match_probability."""
    keep = [_quote(c) for c in f.columns if c.lower() not in OUTPUT_COLUMNS]
    table: pa.Table = run.engine.sql(
        f"SELECT {''.join(k + ', ' for k in keep)}"
        "m.cluster_id, m.cluster_size, m.match_probability "
        f"FROM _file{file_index} AS f JOIN _members AS m "
        f"ON m.file_index = {file_index} AND m.row_number = f.{_ROW} ORDER BY f.{_ROW}"
    ).to_arrow_table()
    return table


def _review(run: _Run, *, linking: bool) -> pa.Table:
    """Pairs left apart whose probability reached the review threshold: for dedupe row_l,
    key_l, row_r, key_r; for link (pairs across the files only) row_a, key_a, row_b, key_b."""
    run.engine.register("_review", run.linkage.review)
    if linking:
        a = "CASE WHEN l.file_index = 0 THEN l.{0} ELSE r.{0} END"
        b = "CASE WHEN l.file_index = 0 THEN r.{0} ELSE l.{0} END"
        select = (
            f"{a.format('row_number')} AS row_a, {a.format('key')} AS key_a, "
            f"{b.format('row_number')} AS row_b, {b.format('key')} AS key_b"
        )
        where, order = "WHERE l.file_index <> r.file_index", "row_a, row_b"
    else:
        select = "l.row_number AS row_l, l.key AS key_l, r.row_number AS row_r, r.key AS key_r"
        where, order = "", "row_l, row_r"
    table: pa.Table = run.engine.sql(
        f"SELECT {select}, v.probability FROM _review AS v "
        "JOIN _index AS l ON l.unique_id = v.unique_id_l "
        f"JOIN _index AS r ON r.unique_id = v.unique_id_r {where} "
        f"ORDER BY v.probability DESC, {order}"
    ).to_arrow_table()
    run.engine.unregister("_review")
    return table


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


# ---- dedupe -------------------------------------------------------------------------------


@dataclass
class DedupeResult:
    """A deduplicated file: its rows with their clusters, and what was done."""

    path: Path
    entity: Entity
    #: {field: column} used.
    mapping: dict[str, str]
    #: The file's columns, then cluster_id, cluster_size and match_probability, in file order.
    table: pa.Table
    #: Pairs left apart whose probability reached the review threshold (min(0.5, threshold)):
    #: row_l, key_l, row_r, key_r, probability; most likely first.
    review: pa.Table
    #: "preset" or "trained".
    model: str
    threshold: float
    counts: dict[str, int]
    out: Path | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A summary for `--json` (the tables are not included)."""
        return {
            "file": str(self.path),
            "entity": self.entity.value,
            "mapping": self.mapping,
            "model": self.model,
            "threshold": self.threshold,
            "counts": self.counts,
            "out": str(self.out) if self.out else None,
            "notes": self.notes,
        }

    def duplicates(self, clusters: int | None = None) -> pa.Table:
        """The rows of clusters with more than one row, cluster after cluster in the order the
        clusters first appear in the file (only the first `clusters` clusters, if given)."""
        sizes = np.asarray(self.table["cluster_size"].to_numpy(zero_copy_only=False))
        rows = np.flatnonzero(sizes > 1)
        ids = self.table["cluster_id"].take(pa.array(rows)).to_pylist()
        rank: dict[str, int] = {}
        for cluster_id in ids:
            rank.setdefault(cluster_id, len(rank))
        order = sorted(
            (rank[c], i) for i, c in enumerate(ids) if clusters is None or rank[c] < clusters
        )
        table: pa.Table = self.table.take(pa.array([rows[i] for _, i in order], pa.int64()))
        return table


def dedupe_file(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str | None] | None = None,
    entity: Entity | str | None = None,
    threshold: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    model: ModelChoice = "preset",
) -> DedupeResult:
    """Find the duplicates in one CSV or Parquet file.

    Columns map onto fields by their headers (`guess_mapping`), `mapping` ({field: column})
    overriding; the entity (person or account) is detected unless given. Records sharing a rule
    key (the same email; for accounts the same domain) or scored at or above `threshold` by the
    model join a cluster. `model`: "preset" or "train" (see the module docstring). With `out`,
    the annotated table is written as CSV or Parquet by its extension."""
    settings = _settings(threshold)
    _check_model(model)
    if out is not None:
        _output_format(Path(out))
    f = read_input(path, mapping=mapping, entity=entity)
    run = _run([f], f.entity, settings, model)
    try:
        _register_members(run)
        table = _annotated(run, f, 0)
        review = _review(run, linking=False)
    finally:
        run.engine.close()
    sizes = np.asarray(table["cluster_size"].to_numpy(zero_copy_only=False))
    clusters = len(set(table["cluster_id"].to_pylist()))
    counts = {
        "records": f.rows,
        "clusters": clusters,
        "duplicate_clusters": clusters - int((sizes == 1).sum()),
        "records_in_duplicate_clusters": int((sizes > 1).sum()),
        "redundant_records": f.rows - clusters,
        "rule_links": run.linkage.counts["rule_links"],
        "candidate_pairs": run.linkage.counts["candidates"],
        "model_matches": run.linkage.counts["matches"],
        "review_pairs": int(review.num_rows),
    }
    written = write_table(table, out) if out is not None else None
    return DedupeResult(
        path=f.path,
        entity=f.entity,
        mapping=f.mapping,
        table=table,
        review=review,
        model=run.model,
        threshold=settings.match_threshold,
        counts=counts,
        out=written,
        notes=f.notes + run.notes,
        timings=run.linkage.timings,
    )


# ---- link ---------------------------------------------------------------------------------


@dataclass
class LinkResult:
    """Two files linked: the pairs across them, and each file with its clusters."""

    path_a: Path
    path_b: Path
    entity: Entity
    mapping_a: dict[str, str]
    mapping_b: dict[str, str]
    #: One row per pair (record of A, record of B) in the same cluster: cluster_id,
    #: probability, method, row_a, key_a, row_b, key_b, then the mapped columns of A prefixed
    #: "a." and of B prefixed "b.". See `link_files` for what probability means.
    links: pa.Table
    #: Each file with cluster_id, cluster_size and match_probability (clusters span both).
    table_a: pa.Table
    table_b: pa.Table
    #: Pairs across the files left apart whose probability reached the review threshold:
    #: row_a, key_a, row_b, key_b, probability.
    review: pa.Table
    model: str
    threshold: float
    counts: dict[str, int]
    out: Path | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A summary for `--json` (the tables are not included)."""
        return {
            "file_a": str(self.path_a),
            "file_b": str(self.path_b),
            "entity": self.entity.value,
            "mapping_a": self.mapping_a,
            "mapping_b": self.mapping_b,
            "model": self.model,
            "threshold": self.threshold,
            "counts": self.counts,
            "out": str(self.out) if self.out else None,
            "notes": self.notes,
        }


def _strongest_chains(
    members: dict[str, int], edges: list[tuple[float, str, str]]
) -> dict[tuple[str, str], float]:
    """For each (A record, B record) pair that `edges` join, the weakest link of the strongest
    chain between them: links are added from the most to the least certain, and the link that
    first joins the two is that weakest link. `members` gives each record's file (0 or 1)."""
    parent = {m: m for m in members}
    sides = {m: ([m], []) if f == 0 else ([], [m]) for m, f in members.items()}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    out: dict[tuple[str, str], float] = {}
    for prob, left, right in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        ra, rb = find(left), find(right)
        if ra == rb:
            continue
        (a1, b1), (a2, b2) = sides[ra], sides.pop(rb)
        out.update({(x, y): prob for x in a1 for y in b2})
        out.update({(x, y): prob for x in a2 for y in b1})
        a1.extend(a2)
        b1.extend(b2)
        parent[rb] = ra
    return out


def _cross_pairs(run: _Run, entity: Entity) -> pa.Table:
    """The (A, B) pairs in each cluster with the probability and method that joined them."""
    rows = run.engine.sql(
        "SELECT unique_id, file_index, label FROM _members WHERE label IN ("
        "SELECT label FROM _members GROUP BY label HAVING count(DISTINCT file_index) = 2)"
    ).fetchall()
    clusters: dict[int, dict[str, int]] = {}
    for uid, file_index, label in rows:
        clusters.setdefault(label, {})[uid] = file_index
    cluster_of = {uid: label for uid, _, label in rows}
    edges: dict[int, list[tuple[float, str, str]]] = {}
    direct: dict[tuple[str, str], tuple[float, str]] = {}
    links = run.linkage.links
    for left, right, method, prob in zip(
        links["unique_id_l"].to_pylist(),
        links["unique_id_r"].to_pylist(),
        links["method"].to_pylist(),
        links["probability"].to_pylist(),
        strict=True,
    ):
        label = cluster_of.get(left)
        if label is None:
            continue
        edges.setdefault(label, []).append((float(prob), left, right))
        side = clusters[label]
        if side[left] != side[right]:
            pair = (left, right) if side[left] == 0 else (right, left)
            direct[pair] = (float(prob), method)
    # Records sharing a rule key are joined by the rule even where its links (a star from the
    # group's first record) do not join them directly.
    table = "people" if entity is Entity.PERSON else "companies"
    same = " OR ".join(f"a.{k} = b.{k}" for k in RULES[entity].values())
    by_rule = set(
        run.engine.sql(
            f"SELECT a.unique_id, b.unique_id FROM {table} AS a JOIN {table} AS b ON ({same}) "
            "JOIN _members AS ma ON ma.unique_id = a.unique_id AND ma.file_index = 0 "
            "JOIN _members AS mb ON mb.unique_id = b.unique_id AND mb.file_index = 1"
        ).fetchall()
    )
    ids_a: list[str] = []
    ids_b: list[str] = []
    probs: list[float] = []
    methods: list[str] = []
    for label, members in clusters.items():
        for pair, chain in _strongest_chains(members, edges.get(label, [])).items():
            if pair in direct:
                prob, method = direct[pair]
            elif pair in by_rule:
                prob, method = 1.0, "rule"
            else:
                prob, method = chain, "chain"
            ids_a.append(pair[0])
            ids_b.append(pair[1])
            probs.append(prob)
            methods.append(method)
    return pa.table(
        {
            "uid_a": pa.array(ids_a, pa.string()),
            "uid_b": pa.array(ids_b, pa.string()),
            "probability": pa.array(probs, pa.float64()),
            "method": pa.array(methods, pa.string()),
        }
    )


def link_files(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    *,
    mapping_a: Mapping[str, str | None] | None = None,
    mapping_b: Mapping[str, str | None] | None = None,
    entity: Entity | str | None = None,
    threshold: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    model: ModelChoice = "preset",
) -> LinkResult:
    """Find the records of file A and file B that are the same person (or account).

    The records of both files are linked together, so duplicates within either file join
    clusters too (see `table_a`, `table_b`), and a pair can be joined through a third record.
    `links` has one row per pair across the files in the same cluster. Its probability is the
    pair's own when the pair is one of the links that formed the cluster (method "rule", 1.0, or
    "probabilistic"); 1.0 when the pair shares a rule key such as the email (method "rule");
    otherwise (method "chain") the weakest link of the strongest chain of links joining the two.
    Pairs are not scored again, so for a chained pair whose own score fell below the threshold,
    that score is not reported. With `out`, `links` is written as CSV or Parquet by its
    extension. Mappings, entity, threshold and model are as for `dedupe_file`."""
    settings = _settings(threshold)
    _check_model(model)
    if out is not None:
        _output_format(Path(out))
    p_a, p_b = Path(path_a), Path(path_b)
    sys_a, sys_b = _stem(p_a), _stem(p_b)
    if sys_a == sys_b:
        sys_a, sys_b = f"{sys_a}_a", f"{sys_b}_b"
    fa = read_input(p_a, mapping=mapping_a, entity=entity, system=sys_a)
    fb = read_input(p_b, mapping=mapping_b, entity=entity, system=sys_b)
    if fa.entity is not fb.entity:
        raise ConfigError(
            f"{fa.path.name} holds {_PLURAL[fa.entity]} and {fb.path.name} "
            f"{_PLURAL[fb.entity]} (judged by their columns); say which to match with "
            "--entity person|account"
        )
    run = _run([fa, fb], fa.entity, settings, model)
    try:
        _register_members(run)
        table_a = _annotated(run, fa, 0)
        table_b = _annotated(run, fb, 1)
        run.engine.register("_pairs", _cross_pairs(run, fa.entity))
        shown = [
            f"{side}.{_quote(c)} AS {_quote(side[1] + '.' + c)}"
            for side, f in (("fa", fa), ("fb", fb))
            for c in f.columns
            if c in f.mapping.values()
        ]
        links: pa.Table = run.engine.sql(
            f"""
            SELECT ma.cluster_id, p.probability, p.method,
                ma.row_number AS row_a, ma.key AS key_a,
                mb.row_number AS row_b, mb.key AS key_b{"".join(", " + s for s in shown)}
            FROM _pairs AS p
            JOIN _members AS ma ON ma.unique_id = p.uid_a
            JOIN _members AS mb ON mb.unique_id = p.uid_b
            JOIN _file0 AS fa ON fa.{_ROW} = ma.row_number
            JOIN _file1 AS fb ON fb.{_ROW} = mb.row_number
            ORDER BY row_a, row_b
            """
        ).to_arrow_table()
        within = dict(
            run.engine.sql(
                "SELECT file_index, count(*) FROM (SELECT file_index, label, count(*) AS n "
                "FROM _members GROUP BY ALL) AS g JOIN _members USING (file_index, label) "
                "WHERE n > 1 GROUP BY file_index"
            ).fetchall()
        )
        review = _review(run, linking=True)
    finally:
        run.engine.close()
    counts = {
        "records_a": fa.rows,
        "records_b": fb.rows,
        "pairs": int(links.num_rows),
        "matched_a": len(set(links["row_a"].to_pylist())),
        "matched_b": len(set(links["row_b"].to_pylist())),
        "duplicates_within_a": int(within.get(0, 0)),
        "duplicates_within_b": int(within.get(1, 0)),
        "rule_links": run.linkage.counts["rule_links"],
        "candidate_pairs": run.linkage.counts["candidates"],
        "model_matches": run.linkage.counts["matches"],
        "review_pairs": int(review.num_rows),
    }
    written = write_table(links, out) if out is not None else None
    return LinkResult(
        path_a=fa.path,
        path_b=fb.path,
        entity=fa.entity,
        mapping_a=fa.mapping,
        mapping_b=fb.mapping,
        links=links,
        table_a=table_a,
        table_b=table_b,
        review=review,
        model=run.model,
        threshold=settings.match_threshold,
        counts=counts,
        out=written,
        notes=fa.notes + fb.notes + run.notes,
        timings=run.linkage.timings,
    )
