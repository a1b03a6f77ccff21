"""The probabilistic models: which fields are compared, how, and how the model is trained.

One Splink model per entity. Training is unsupervised: u probabilities by random sampling,
m probabilities by expectation maximisation over a few blocking rules, and the prior from
deterministic rules. The trained model is a JSON document stored with each run, so explain and
incremental matching score pairs exactly as the run that linked them did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from cxlens.schema.records import Entity

# Splink logs every training step at INFO; cxlens reports progress itself.
logging.getLogger("splink").setLevel(logging.ERROR)


def _null(column: str) -> ComparisonLevelCreator:
    return cll.CustomLevel(f'"{column}_l" IS NULL OR "{column}_r" IS NULL').configure(
        is_null_level=True
    )


def _first_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            _null("first_name"),
            cll.ExactMatchLevel("first_name").configure(tf_adjustment_column="first_name"),
            cll.CustomLevel(
                "list_has_any(first_forms_l, first_forms_r)", "nickname of the same name"
            ),
            cll.JaroWinklerLevel("first_name", 0.9),
            cll.CustomLevel(
                "(length(first_name_l) = 1 OR length(first_name_r) = 1) "
                "AND first_initial_l = first_initial_r",
                "initial matches",
            ),
            cll.ElseLevel(),
        ],
    )


def _last_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="last_name",
        comparison_levels=[
            _null("last_name"),
            cll.ExactMatchLevel("last_name").configure(tf_adjustment_column="last_name"),
            cll.JaroWinklerLevel("last_name", 0.9),
            cll.CustomLevel(
                "length(last_name_l) >= 3 AND length(last_name_r) >= 3 AND "
                "(starts_with(last_name_l, last_name_r) OR starts_with(last_name_r, last_name_l))",
                "one is the start of the other",
            ),
            cll.CustomLevel(
                "(length(last_name_l) = 1 OR length(last_name_r) = 1) "
                "AND left(last_name_l, 1) = left(last_name_r, 1)",
                "initial matches",
            ),
            cll.ElseLevel(),
        ],
    )


def _email() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            _null("email"),
            cll.ExactMatchLevel("email"),
            cll.JaroWinklerLevel("email_local", 0.95),
            # A work and a personal address differ for the same person all the time; two work
            # addresses at different domains much less often.
            cll.CustomLevel("email_is_free_l OR email_is_free_r", "one is a personal address"),
            cll.ElseLevel(),
        ],
    )


def _exact(column: str, tf: bool = False) -> cl.CustomComparison:
    exact: ComparisonLevelCreator = cll.ExactMatchLevel(column)
    if tf:
        exact = exact.configure(tf_adjustment_column=column)
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[_null(column), exact, cll.ElseLevel()],
    )


def _organisation() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="organisation",
        comparison_levels=[
            cll.CustomLevel(
                "(org_l IS NULL OR org_r IS NULL) AND (company_l IS NULL OR company_r IS NULL)"
            ).configure(is_null_level=True),
            cll.CustomLevel("org_l = org_r", "same account"),
            cll.CustomLevel(
                "jaro_winkler_similarity(company_l, company_r) >= 0.92", "similar company name"
            ),
            cll.ElseLevel(),
        ],
    )


def _city_beyond_organisation() -> cl.CustomComparison:
    # Colleagues share their office's city: once the account matches, the city adds nothing.
    return cl.CustomComparison(
        output_column_name="city",
        comparison_levels=[
            cll.CustomLevel("city_l IS NULL OR city_r IS NULL OR org_l = org_r").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("city").configure(tf_adjustment_column="city"),
            cll.ElseLevel(),
        ],
    )


def _company_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="company",
        comparison_levels=[
            _null("company"),
            cll.ExactMatchLevel("company").configure(tf_adjustment_column="company"),
            cll.JaroWinklerLevel("company", 0.92),
            cll.ElseLevel(),
        ],
    )


@dataclass(frozen=True)
class BlockKey:
    """Columns whose equality proposes a candidate pair (list columns are exploded); keys
    shared by more than `max_block` records (or the workspace's limit) are skipped."""

    columns: tuple[str, ...]
    max_block: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    """What a model compares and how it is trained."""

    entity: Entity
    comparisons: tuple[Any, ...]
    training_rules: tuple[Any, ...]
    prior_rules: tuple[str, ...]
    #: Keys whose equality proposes a candidate pair.
    block_keys: tuple[BlockKey, ...]

    def settings(self) -> SettingsCreator:
        return SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=list(self.comparisons),
            blocking_rules_to_generate_predictions=[],
            retain_intermediate_calculation_columns=True,
            retain_matching_columns=False,
        )


PEOPLE = ModelSpec(
    entity=Entity.PERSON,
    comparisons=(
        _first_name(),
        _last_name(),
        _email(),
        _exact("phone_tail"),
        _organisation(),
        _city_beyond_organisation(),
        _exact("handle"),
    ),
    training_rules=(
        block_on("email"),
        block_on("phone_tail"),
        block_on("last_name", "first_name"),
    ),
    prior_rules=("l.email = r.email", "l.phone_tail = r.phone_tail AND l.last_name = r.last_name"),
    block_keys=(
        BlockKey(("email",)),
        BlockKey(("phone_tail",)),
        # A name alone is a weak key: common names ("john|smith") are skipped early.
        BlockKey(("last_name", "first_forms"), max_block=20),
        BlockKey(("last_name", "company")),
        BlockKey(("first_forms", "company")),
        BlockKey(("first_name", "org")),
        BlockKey(("last_name", "org")),
    ),
)

COMPANIES = ModelSpec(
    entity=Entity.ACCOUNT,
    comparisons=(
        _company_name(),
        _exact("domain"),
        _exact("phone_tail"),
        _exact("city", tf=True),
        _exact("postal_code"),
        _exact("country"),
    ),
    training_rules=(block_on("domain"), block_on("company"), block_on("phone_tail")),
    prior_rules=("l.domain = r.domain", "l.company = r.company AND l.city = r.city"),
    block_keys=(
        BlockKey(("domain",)),
        BlockKey(("company",)),
        BlockKey(("phone_tail",)),
        BlockKey(("city", "postal_code")),
    ),
)

SPECS = {Entity.PERSON: PEOPLE, Entity.ACCOUNT: COMPANIES}
