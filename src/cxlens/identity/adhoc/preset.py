"""The preset model of ad-hoc matching: m and u probabilities set by hand, a prior from the
file sizes, the organisation u taken from the files, and filling in what training leaves out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from cxlens.identity.model import ModelSpec
from cxlens.schema.records import Entity

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
            f"'{comparison}': add them to PRESET_LEVELS in cxlens.identity.adhoc.preset"
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


def _organisation_u(engine: duckdb.DuckDBPyConnection) -> float | None:
    """The chance that two random people of the files share an organisation (None: no org)."""
    shared, total = engine.sql(
        "SELECT sum(n * (n - 1))::DOUBLE, sum(n)::DOUBLE FROM "
        "(SELECT count(*) AS n FROM people WHERE org IS NOT NULL GROUP BY org)"
    ).fetchall()[0]
    if total is None or total < 2:
        return None
    return float(min(0.5, max(shared / (total * (total - 1)), 1e-4)))
