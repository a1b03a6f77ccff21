"""Ad-hoc matching of export files: `dedupe_file` and `link_files` on small generated files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cxlens.errors import ConfigError, SourceError
from cxlens.identity.adhoc import (
    FIELDS,
    PRESET_LEVELS,
    DedupeResult,
    LinkResult,
    MissingFile,
    NoUsableColumns,
    UnknownColumn,
    UnknownField,
    UnsupportedFormat,
    UnsupportedOutput,
    dedupe_file,
    detect_entity,
    guess_mapping,
    link_files,
    preset_model,
    read_input,
)
from cxlens.identity.adhoc.link import _strongest_chains
from cxlens.identity.model import SPECS
from cxlens.schema.records import Entity

# ---- generated data -----------------------------------------------------------------------

FIRST = [
    "Amelia", "Oliver", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Ella", "Leo",
    "Grace", "Oscar", "Freya", "Arthur", "Ivy", "Henry", "Lily", "Theo", "Ruby", "Finley",
    "Zara", "Felix", "Nora", "Hugo", "Alice", "Milo", "Clara", "Rory", "Hazel", "Jude",
]  # fmt: skip
LAST = [
    "Ashworth", "Bramley", "Carver", "Dunmore", "Ellery", "Fairbanks", "Gresham", "Holloway",
    "Ingram", "Jessop", "Kershaw", "Lockwood", "Marchetti", "Northcott", "Oakley",
    "Pemberton", "Quayle", "Rutherford", "Sandoval", "Thackeray", "Underwood", "Vickers",
    "Whitlock", "Yardley", "Zellweger", "Abernathy", "Blackwood", "Castellano", "Dempsey",
    "Everhart",
]  # fmt: skip
WORDS = [
    "Alder", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris",
    "Juniper", "Kestrel", "Lumen", "Maple", "Nimbus", "Onyx", "Pioneer", "Quartz", "Raven",
    "Summit", "Tidal", "Umber", "Vertex", "Willow", "Xenon", "Yew", "Zephyr", "Aurora",
    "Beacon", "Cobalt", "Drift", "Echo", "Fjord", "Glacier", "Horizon", "Ivory", "Jasper",
    "Krypton", "Lagoon", "Meadow", "Nova",
]  # fmt: skip
CITIES = ["London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff", "York", "Bath"]
COMPANIES = [(f"{w} Systems Ltd", f"{w.lower()}systems.com") for w in WORDS]

CRM_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone", "Company", "City"]


def base_people() -> list[dict[str, str]]:
    """120 distinct people: unique names, emails and phones, three or so per company."""
    people = []
    for i in range(120):
        first, last = FIRST[i % 30], LAST[(i * 7 + i // 30) % 30]
        company, domain = COMPANIES[i % 40]
        people.append(
            {
                "Record ID": f"{i + 1:06d}",
                "First Name": first,
                "Last Name": last,
                "Email": f"{first}.{last}@{domain}".lower(),
                "Phone": "" if i % 9 == 4 else f"+44 20 7{i:03d} {1000 + 7 * i:04d}",
                "Company": company,
                "City": CITIES[i % 40 % len(CITIES)],
            }
        )
    return people


def row(
    key: str, first: str, last: str, email: str, phone: str, company: str, city: str
) -> dict[str, str]:
    return dict(zip(CRM_HEADER, [key, first, last, email, phone, company, city], strict=True))


#: Planted duplicates, each a pair of keys that must end in one cluster.
PLANTED = {
    # the same email written with capitals and a plus tag; the second has no phone
    "email case and plus tag": (
        row("000901", "Jane", "Doe", "jane.doe@aldersystems.com", "+44 20 7946 0001", "Alder Systems Ltd", "London"),
        row("000902", "Jane", "Doe", "Jane.Doe+crm@ALDERSYSTEMS.com", "", "ALDER SYSTEMS LIMITED", "London"),
    ),
    # Bill for William, a personal mailbox, the same phone written another way
    "nickname": (
        row("000903", "William", "Turner", "william.turner@birchsystems.com", "+1 617 555 0101", "Birch Systems Ltd", "Boston"),
        row("000904", "Bill", "Turner", "billturner77@gmail.com", "(617) 555-0101", "Birch Systems", "Boston"),
    ),
    # a typo in the last name, another mailbox, the same phone
    "typo": (
        row("000905", "Katherine", "Johnson", "k.johnson@cedarsystems.com", "+44 161 496 0188", "Cedar Systems Ltd", "Manchester"),
        row("000906", "Katherine", "Jonhson", "katherine.johnson@cedarsystems.com", "0161 496 0188", "Cedar Systems Ltd", "Manchester"),
    ),
    # the same person at the same company, another mailbox, no phone on either
    "missing phone": (
        row("000907", "Robert", "Chen", "robert.chen@deltasystems.com", "", "Delta Systems Ltd", "Leeds"),
        row("000908", "Robert", "Chen", "rchen@deltasystems.com", "", "Delta Systems Ltd", "Leeds"),
    ),
}  # fmt: skip

#: People who share a common name but nothing else: each must stay alone.
NAMESAKES = [
    row("000911", "John", "Smith", "john.smith@embersystems.com", "+44 20 7946 0111", "Ember Systems Ltd", "London"),
    row("000912", "John", "Smith", "jsmith@falconsystems.com", "+44 161 496 0222", "Falcon Systems Ltd", "Manchester"),
    row("000913", "John", "Smith", "johnsmith1984@gmail.com", "+44 117 496 0333", "", "Bristol"),
]  # fmt: skip


def crm_rows() -> list[dict[str, str]]:
    rows = base_people() + [r for pair in PLANTED.values() for r in pair] + NAMESAKES
    # A fixed shuffle: planted pairs are not next to each other.
    return [rows[(i * 37) % len(rows)] for i in range(len(rows))]


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[dict[str, str]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def clusters_by_key(result: DedupeResult, key: str = "Record ID") -> dict[str, str]:
    return dict(
        zip(result.table[key].to_pylist(), result.table["cluster_id"].to_pylist(), strict=True)
    )


@pytest.fixture(scope="module")
def crm_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("crm") / "crm.csv", crm_rows())


@pytest.fixture(scope="module")
def deduped(crm_csv: Path) -> DedupeResult:
    return dedupe_file(crm_csv)


# ---- column guessing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Email", "email"),
        ("E-mail Address", "email"),
        ("email_address", "email"),
        ("First Name", "first_name"),
        ("firstname", "first_name"),
        ("given_name", "first_name"),
        ("Last Name", "last_name"),
        ("surname", "last_name"),
        ("Name", "name"),
        ("Full Name", "name"),
        ("Phone", "phone"),
        ("Mobile", "phone"),
        ("Telephone", "phone"),
        ("Company", "company"),
        ("Account Name", "company"),
        ("Organization", "company"),
        ("Website", "domain"),
        ("Domain", "domain"),
        ("City", "city"),
        ("Country", "country"),
        ("Postal Code", "postal_code"),
        ("Zip", "postal_code"),
        ("Address", "address"),
        ("Street", "address"),
        ("Id", "source_key"),
        ("Record ID", "source_key"),
    ],
)
def test_headers_are_mapped_by_their_normalised_name(header: str, field: str) -> None:
    assert guess_mapping(["Notes", header]) == {field: header}


def test_the_better_alias_wins_and_each_column_is_used_once() -> None:
    mapping = guess_mapping(["Mobile", "Phone", "AccountId", "Id", "Name", "Website"])
    assert mapping == {"source_key": "Id", "name": "Name", "phone": "Phone", "domain": "Website"}


def test_entity_is_detected_from_the_mapped_fields() -> None:
    assert detect_entity({"email": "Email"}) is Entity.PERSON
    assert detect_entity({"first_name": "F", "company": "C"}) is Entity.PERSON
    assert detect_entity({"name": "Name", "company": "Company"}) is Entity.PERSON
    assert detect_entity({"name": "Name", "domain": "Website"}) is Entity.ACCOUNT
    assert detect_entity({"company": "Company", "city": "City"}) is Entity.ACCOUNT
    assert detect_entity({"city": "City"}) is None


def test_the_preset_model_covers_every_level_of_both_models() -> None:
    for entity, spec in SPECS.items():
        model = preset_model(spec, [200, 300])
        assert 0 < model["probability_two_random_records_match"] < 1
        for comparison in model["comparisons"]:
            levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
            assert len(levels) == len(PRESET_LEVELS[entity][comparison["output_column_name"]])
            for prob in ("m_probability", "u_probability"):
                assert sum(lv[prob] for lv in levels) == pytest.approx(1.0, abs=1e-3)


# ---- dedupe -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_duplicates_are_clustered_together(deduped: DedupeResult, case: str) -> None:
    first, second = PLANTED[case]
    clusters = clusters_by_key(deduped)
    assert clusters[first["Record ID"]] == clusters[second["Record ID"]]
    assert clusters[first["Record ID"]] == f"c_{first['Record ID']}"


def test_distinct_people_stay_apart(deduped: DedupeResult) -> None:
    clusters = clusters_by_key(deduped)
    namesakes = {clusters[r["Record ID"]] for r in NAMESAKES}
    assert len(namesakes) == len(NAMESAKES)
    planted = {r["Record ID"] for pair in PLANTED.values() for r in pair}
    in_pairs = [
        k for k, c in clusters.items() if k not in planted and list(clusters.values()).count(c) > 1
    ]
    assert in_pairs == []
    assert deduped.counts["duplicate_clusters"] == len(PLANTED)
    assert deduped.counts["redundant_records"] == len(PLANTED)
    assert deduped.entity is Entity.PERSON
    assert deduped.model == "preset"


def test_rows_carry_size_and_probability(deduped: DedupeResult) -> None:
    by_key = {r["Record ID"]: r for r in deduped.table.to_pylist()}
    jane = by_key["000902"]
    assert (jane["cluster_size"], jane["match_probability"]) == (2, 1.0)  # same email: a rule
    bill = by_key["000904"]
    assert bill["cluster_size"] == 2
    assert 0.95 <= bill["match_probability"] < 1.0
    alone = by_key["000001"]
    assert (alone["cluster_id"], alone["cluster_size"], alone["match_probability"]) == (
        "c_000001",
        1,
        None,
    )


def test_the_table_keeps_the_file_its_order_and_its_values(
    deduped: DedupeResult, crm_csv: Path
) -> None:
    rows = crm_rows()
    assert deduped.table.column_names == [
        *CRM_HEADER,
        "cluster_id",
        "cluster_size",
        "match_probability",
    ]
    assert deduped.table.num_rows == len(rows)
    assert deduped.table["Record ID"].to_pylist() == [r["Record ID"] for r in rows]
    assert deduped.table["Phone"].to_pylist() == [r["Phone"] or None for r in rows]


def test_cluster_ids_are_stable_across_runs_and_row_order(
    deduped: DedupeResult, crm_csv: Path, tmp_path: Path
) -> None:
    again = dedupe_file(crm_csv)
    assert again.table["cluster_id"].to_pylist() == deduped.table["cluster_id"].to_pylist()
    reversed_file = write_csv(tmp_path / "reversed.csv", crm_rows()[::-1])
    assert clusters_by_key(dedupe_file(reversed_file)) == clusters_by_key(deduped)


@pytest.mark.parametrize(("fmt", "out_ext"), [("csv", "parquet"), ("parquet", "csv")])
def test_output_is_written_and_readable(tmp_path: Path, fmt: str, out_ext: str) -> None:
    rows = crm_rows()
    path = tmp_path / f"contacts.{fmt}"
    (write_csv if fmt == "csv" else write_parquet)(path, rows)
    out = tmp_path / f"deduped.{out_ext}"
    result = dedupe_file(path, out=out)
    assert result.out == out
    if out_ext == "csv":
        read = pacsv.read_csv(
            out, convert_options=pacsv.ConvertOptions(column_types={"Record ID": pa.string()})
        )
    else:
        read = pq.read_table(out)
    assert read.column_names == [*CRM_HEADER, "cluster_id", "cluster_size", "match_probability"]
    assert read.num_rows == len(rows)
    assert read["Record ID"].to_pylist() == [r["Record ID"] for r in rows]  # "000001" kept
    assert read["cluster_id"].to_pylist() == result.table["cluster_id"].to_pylist()
    assert result.counts["duplicate_clusters"] == len(PLANTED)
    assert not list(tmp_path.glob(".*partial"))


def test_without_a_key_column_row_numbers_are_the_keys(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "Record ID"} for r in crm_rows()]
    result = dedupe_file(write_csv(tmp_path / "nokey.csv", rows))
    emails = result.table["Email"].to_pylist()
    jane = [i for i, e in enumerate(emails) if e.lower().startswith("jane.doe")]
    ids = result.table["cluster_id"].to_pylist()
    assert ids[jane[0]] == ids[jane[1]] == f"c_{jane[0] + 1}"
    assert ids[0] == "c_1"


def test_a_key_column_with_repeats_or_blanks_is_not_used(tmp_path: Path) -> None:
    rows = crm_rows()
    rows[5] = {**rows[5], "Record ID": rows[4]["Record ID"]}
    rows[6] = {**rows[6], "Record ID": " "}
    read = read_input(write_csv(tmp_path / "repeats.csv", rows))
    assert read.key_column is None
    assert "source_key" not in read.mapping
    assert read.notes == [
        "repeats.csv: key column 'Record ID' has 1 blank and 1 repeated value(s), so row "
        "numbers are the keys instead"
    ]


def test_an_explicit_mapping_overrides_the_guess(tmp_path: Path) -> None:
    header = ["Ref", "Given", "Family", "Contact", "Tel", "Employer", "Town"]
    rows = [dict(zip(header, r.values(), strict=True)) for r in crm_rows()]
    path = write_csv(tmp_path / "odd.csv", rows)
    result = dedupe_file(
        path,
        mapping={"source_key": "Ref", "first_name": "Given", "last_name": "family", "email": "Contact", "phone": "Tel", "company": "Employer", "city": "Town"},
    )  # fmt: skip
    assert result.mapping["last_name"] == "Family"  # found whatever its case
    clusters = clusters_by_key(result, "Ref")
    for first, second in PLANTED.values():
        assert clusters[first["Record ID"]] == clusters[second["Record ID"]]
    read = read_input(path, mapping={"name": "Given", "phone": None, "email": "Contact"})
    # guessed: Contact as name, Tel, Employer, Town; "Ref", "Given" and "Family" mean nothing
    assert read.mapping == {
        "name": "Given",
        "email": "Contact",
        "company": "Employer",
        "city": "Town",
    }


def test_accounts_are_detected_and_deduplicated(tmp_path: Path) -> None:
    rows = [
        {"Account Name": name, "Website": f"https://www.{domain}/", "City": CITIES[i % 8]}
        for i, (name, domain) in enumerate(COMPANIES)
    ]
    rows.append(
        {"Account Name": "ALDER SYSTEMS LIMITED", "Website": "aldersystems.com", "City": "London"}
    )
    rows.append({"Account Name": "Birch Systems", "Website": "", "City": "Manchester"})
    result = dedupe_file(write_csv(tmp_path / "accounts.csv", rows))
    assert result.entity is Entity.ACCOUNT
    ids = result.table["cluster_id"].to_pylist()
    assert ids[0] == ids[-2] == "c_1"  # same domain
    assert ids[1] == ids[-1] == "c_2"  # same company name and city
    assert result.counts["duplicate_clusters"] == 2


def test_training_on_a_tiny_file_falls_back_to_the_preset(tmp_path: Path) -> None:
    result = dedupe_file(
        write_csv(tmp_path / "tiny.csv", NAMESAKES + list(PLANTED["typo"])), model="train"
    )
    assert result.model == "preset"
    assert any(n.startswith("training failed") for n in result.notes)
    assert result.counts["duplicate_clusters"] == 1


# ---- link ---------------------------------------------------------------------------------

OTHER_HEADER = ["Contact ID", "Given Name", "Surname", "E-mail Address", "Mobile", "Organization", "Town"]  # fmt: skip


def other_system(rows: list[dict[str, str]], prefix: str) -> list[dict[str, str]]:
    return [
        dict(zip(OTHER_HEADER, [prefix + r["Record ID"][-4:], *list(r.values())[1:]], strict=True))
        for r in rows
    ]


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> LinkResult:
    """A: people 0-79 and the first of each planted pair; B (other headers, Parquet): people
    40-119, the second of each pair and a namesake of A's John Smith."""
    base = base_people()
    a = base[:80] + [p[0] for p in PLANTED.values()] + [NAMESAKES[0]]
    b = other_system(base[40:] + [p[1] for p in PLANTED.values()] + [NAMESAKES[1]], "H")
    folder = tmp_path_factory.mktemp("link")
    return link_files(
        write_csv(folder / "crm.csv", a),
        write_parquet(folder / "helpdesk.parquet", b),
        out=folder / "links.csv",
    )


def pairs(result: LinkResult) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["key_a"], r["key_b"]): r for r in result.links.to_pylist()}


def test_link_finds_the_pairs_across_the_files(linked: LinkResult) -> None:
    found = pairs(linked)
    shared = {(f"{i + 1:06d}", f"H{i + 1:04d}") for i in range(40, 80)}
    planted = {(p[0]["Record ID"], "H" + p[1]["Record ID"][-4:]) for p in PLANTED.values()}
    assert set(found) == shared | planted  # the John Smiths are not linked
    assert {found[p]["method"] for p in shared} == {"rule"}
    assert {found[p]["probability"] for p in shared} == {1.0}
    nickname = found[("000903", "H0904")]
    assert nickname["method"] == "probabilistic"
    assert nickname["probability"] >= 0.95
    assert nickname["a.First Name"] == "William"
    assert nickname["b.Given Name"] == "Bill"
    assert linked.counts["matched_a"] == linked.counts["matched_b"] == len(found)
    assert linked.counts["duplicates_within_a"] == linked.counts["duplicates_within_b"] == 0


def test_link_writes_the_links_and_annotates_both_files(linked: LinkResult) -> None:
    assert linked.out is not None
    read = pacsv.read_csv(
        linked.out,
        convert_options=pacsv.ConvertOptions(
            column_types={"key_a": pa.string(), "a.Record ID": pa.string()}
        ),
    )
    assert read.num_rows == linked.links.num_rows
    assert read.column_names[:7] == ["cluster_id", "probability", "method", "row_a", "key_a", "row_b", "key_b"]  # fmt: skip
    assert "b.E-mail Address" in read.column_names
    assert linked.table_a.column_names[-3:] == ["cluster_id", "cluster_size", "match_probability"]
    by_key_a = dict(zip(linked.table_a["Record ID"].to_pylist(), linked.table_a["cluster_id"].to_pylist(), strict=True))  # fmt: skip
    by_key_b = dict(zip(linked.table_b["Contact ID"].to_pylist(), linked.table_b["cluster_id"].to_pylist(), strict=True))  # fmt: skip
    assert by_key_a["000905"] == by_key_b["H0906"] == "c_crm:000905"


def test_a_chained_pair_gets_the_weakest_link_of_its_strongest_chain() -> None:
    members = {"a1": 0, "a2": 0, "b1": 1, "b2": 1}
    edges = [(0.99, "a1", "b1"), (0.96, "a1", "a2"), (0.97, "a2", "b1"), (1.0, "b1", "b2")]
    assert _strongest_chains(members, edges) == {
        ("a1", "b1"): 0.99,
        ("a1", "b2"): 0.99,
        ("a2", "b1"): 0.97,
        ("a2", "b2"): 0.97,
    }


def test_link_reports_pairs_joined_through_a_duplicate(tmp_path: Path) -> None:
    jane_a, jane_b = PLANTED["email case and plus tag"]
    other_jane = row(
        "000950", "Jane", "Doe", "jane.doe@aldersystems.com", "", "Alder Systems", "London"
    )
    a = write_csv(tmp_path / "a.csv", base_people()[:60] + [jane_a, other_jane])
    b = write_csv(tmp_path / "b.csv", base_people()[60:] + [jane_b])
    found = pairs(link_files(a, b))
    assert {k for k in found if k[1] == jane_b["Record ID"]} == {("000901", "000902"), ("000950", "000902")}  # fmt: skip
    assert {found[k]["method"] for k in found} == {"rule"}


# ---- errors -------------------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFile, match="nowhere.csv") as caught:
        dedupe_file(tmp_path / "nowhere.csv")
    assert caught.value.exit_code == SourceError.exit_code


def test_an_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(UnsupportedFormat, match=r"contacts\.xlsx.*'\.xlsx'"):
        dedupe_file(path)


def test_no_usable_columns_lists_the_columns_found(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "notes.csv", [{"Note": "called", "When": "2024-01-02"}])
    with pytest.raises(NoUsableColumns, match=r"notes\.csv.*'Note', 'When'"):
        dedupe_file(path)


def test_forcing_an_entity_the_columns_cannot_match(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "places.csv", [{"City": "York", "Phone": "01904 000000"}])
    with pytest.raises(NoUsableColumns, match=r"places\.csv.*no column to match accounts"):
        dedupe_file(path, entity="account")


def test_an_unknown_field_lists_the_valid_ones(crm_csv: Path) -> None:
    with pytest.raises(UnknownField, match=r"crm\.csv.*'mail'.*valid fields: .*email") as caught:
        dedupe_file(crm_csv, mapping={"mail": "Email"})
    assert caught.value.exit_code == ConfigError.exit_code
    assert all(f in str(caught.value) for f in FIELDS)


def test_an_unknown_column_lists_the_columns_found(crm_csv: Path) -> None:
    with pytest.raises(
        UnknownColumn, match=r"crm\.csv: no column 'Mail'.*'Record ID', 'First Name'"
    ):
        dedupe_file(crm_csv, mapping={"email": "Mail"})


@pytest.mark.parametrize(
    ("content", "reason"), [(b"", "the file is empty"), (b"Email,Name\n", "no data rows")]
)
def test_files_without_rows(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=rf"empty\.csv.*{reason}"):
        dedupe_file(path)


def test_a_damaged_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match=r"broken\.parquet.*not a readable parquet file"):
        dedupe_file(path)


def test_bad_settings_are_refused_before_any_work(crm_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedOutput, match=r"out\.xlsx"):
        dedupe_file(crm_csv, out=tmp_path / "out.xlsx")
    with pytest.raises(ConfigError, match="threshold"):
        dedupe_file(crm_csv, threshold=1.5)
    with pytest.raises(ConfigError, match="valid: person, account"):
        dedupe_file(crm_csv, entity="company")
    with pytest.raises(ConfigError, match="valid: preset, train"):
        dedupe_file(crm_csv, model="auto")  # type: ignore[arg-type]


def test_linking_people_with_accounts_asks_for_the_entity(crm_csv: Path, tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", [{"Account Name": n, "Website": d} for n, d in COMPANIES])  # fmt: skip
    with pytest.raises(ConfigError, match=r"crm\.csv holds people and accounts\.csv accounts"):
        link_files(crm_csv, accounts)
