"""Collects the planted ground truth while the generators write the sources."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo.arrays import constant
from cxlens.demo.texts import IDEAS, THEMES
from cxlens.demo.types import I64


@dataclass
class _Part:
    system: str
    file: str
    column: str
    keys: pa.Array
    index: I64
    extra: dict[str, pa.Array]


@dataclass
class Truth:
    people: list[_Part] = field(default_factory=list)
    accounts: list[_Part] = field(default_factory=list)
    texts: list[_Part] = field(default_factory=list)

    def person_keys(
        self,
        system: str,
        file: str,
        column: str,
        keys: pa.Array,
        person: I64,
        email: pa.Array,
        name: pa.Array,
    ) -> None:
        """Records (system, key) of a person as that source holds them."""
        self.people.append(
            _Part(system, file, column, keys, person, {"email": email, "name": name})
        )

    def account_keys(
        self, system: str, file: str, column: str, keys: pa.Array, account: I64
    ) -> None:
        self.accounts.append(_Part(system, file, column, keys, account, {}))

    def text_labels(
        self,
        system: str,
        file: str,
        column: str,
        keys: pa.Array,
        text_field: str,
        theme: I64,
        polarity: I64,
        idea: I64,
    ) -> None:
        self.texts.append(
            _Part(
                system,
                file,
                column,
                keys,
                theme,
                {
                    "field": constant(text_field, len(theme)),
                    "polarity": pa.array(polarity.astype(np.int8)),
                    "idea": pa.array(idea, type=pa.int64()),
                },
            )
        )


def _frame(parts: list[_Part]) -> tuple[pa.Table, I64]:
    cols = {
        "system": pa.concat_arrays([constant(p.system, len(p.index)) for p in parts]),
        "file": pa.concat_arrays([constant(p.file, len(p.index)) for p in parts]),
        "key_column": pa.concat_arrays([constant(p.column, len(p.index)) for p in parts]),
        "source_key": pa.concat_arrays([p.keys.cast(pa.string()) for p in parts]),
    }
    index = np.concatenate([p.index for p in parts]).astype(np.int64)
    return pa.table(cols), index


def people_table(
    truth: Truth, person_ids: list[str], account_of_person: I64, account_ids: list[str]
) -> pa.Table:
    """One row per (system, key column, key): the true person and account behind it."""
    table, person = _frame(truth.people)
    acc = account_of_person[person]
    ids = pa.array(account_ids + [None])
    table = table.append_column("person_id", pa.array(person_ids).take(pa.array(person)))
    table = table.append_column(
        "account_id", ids.take(pa.array(np.where(acc >= 0, acc, len(account_ids))))
    )
    for name in ("email", "name"):
        table = table.append_column(
            name, pa.concat_arrays([p.extra[name].cast(pa.string()) for p in truth.people])
        )
    return _unique_keys(table, "person_id")


def accounts_table(truth: Truth, account_ids: list[str], sf_ids: pa.Array) -> pa.Table:
    table, account = _frame(truth.accounts)
    table = table.append_column("account_id", pa.array(account_ids).take(pa.array(account)))
    table = table.append_column("salesforce_id", sf_ids.take(pa.array(account)))
    return _unique_keys(table, "account_id", ambiguous="drop")


def texts_table(truth: Truth) -> pa.Table:
    table, theme = _frame(truth.texts)
    idea = np.concatenate([np.asarray(p.extra["idea"]) for p in truth.texts])
    phrases = pa.array([phrase for phrase, _, _ in IDEAS] + [None])
    table = table.append_column("field", pa.concat_arrays([p.extra["field"] for p in truth.texts]))
    table = table.append_column("theme", pa.array(THEMES).take(pa.array(theme)))
    table = table.append_column(
        "polarity", pa.concat_arrays([p.extra["polarity"] for p in truth.texts])
    )
    table = table.append_column(
        "feature", phrases.take(pa.array(np.where(idea >= 0, idea, len(IDEAS))))
    )
    return table


def _unique_keys(table: pa.Table, owner: str, ambiguous: str = "raise") -> pa.Table:
    """Drop repeated (system, column, key) rows.

    A key owned by two parties is a bug for real keys (`ambiguous="raise"`); for names typed by
    hand (two companies spelled the same way) such keys are dropped (`"drop"`).
    """
    table = table.filter(pc.is_valid(table["source_key"]))
    keys = ["system", "key_column", "source_key"]
    grouped = table.group_by(keys, use_threads=False).aggregate([(owner, "count_distinct")])
    clash = grouped.filter(pc.greater(grouped[f"{owner}_count_distinct"], 1))
    if clash.num_rows and ambiguous == "raise":
        raise AssertionError(f"keys owned by two parties: {clash.slice(0, 5).to_pylist()}")
    if clash.num_rows:
        bad = clash.select(keys).append_column("_bad", pa.array(np.ones(clash.num_rows, bool)))
        table = table.join(bad, keys, join_type="left outer", use_threads=False)
        table = table.filter(pc.is_null(table["_bad"])).drop_columns(["_bad"])
        grouped = table.group_by(keys, use_threads=False).aggregate([(owner, "count")])
    if grouped.num_rows == table.num_rows:
        return table
    seen: set[tuple[str, str, str]] = set()
    keep = np.zeros(table.num_rows, dtype=bool)
    cols = [table[c].to_pylist() for c in ("system", "key_column", "source_key")]
    for i, k in enumerate(zip(*cols, strict=True)):
        if k not in seen:
            seen.add(k)
            keep[i] = True
    return table.filter(pa.array(keep))
