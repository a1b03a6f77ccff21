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

The modules: `files` reads and writes the exports and maps their columns onto fields, `preset`
holds the preset model, `engine` runs the identity engine over the files' records, `dedupe` and
`link` build the two results, and `errors` holds the exceptions.
"""

from cxlens.identity.adhoc.dedupe import DedupeResult, dedupe_file
from cxlens.identity.adhoc.errors import (
    MissingFile,
    NoUsableColumns,
    UnknownColumn,
    UnknownField,
    UnsupportedFormat,
    UnsupportedOutput,
)
from cxlens.identity.adhoc.files import FIELDS, detect_entity, guess_mapping, read_input
from cxlens.identity.adhoc.link import LinkResult, link_files
from cxlens.identity.adhoc.preset import PRESET_LEVELS, preset_model

__all__ = [
    "FIELDS",
    "PRESET_LEVELS",
    "DedupeResult",
    "LinkResult",
    "MissingFile",
    "NoUsableColumns",
    "UnknownColumn",
    "UnknownField",
    "UnsupportedFormat",
    "UnsupportedOutput",
    "dedupe_file",
    "detect_entity",
    "guess_mapping",
    "link_files",
    "preset_model",
    "read_input",
]
