"""Typed workspace settings, validated at load with messages a user can act on.

Precedence: environment (`CXLENS__SECTION__KEY`) > workspace file (`cxlens.yaml`) > defaults.
Settings are built by `load_config`, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from cxlens.errors import ConfigError, WorkspaceNotFound
from cxlens.sources.mapping import SourceConfig

WORKSPACE_FILE = "cxlens.yaml"
ENV_PREFIX = "CXLENS__"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Strict):
    backend: Literal["duckdb", "postgres"] = "duckdb"
    path: Path = Field(Path("cxlens.duckdb"), description="DuckDB file, relative to the workspace.")
    url: SecretStr | None = Field(None, description="postgresql://user:password@host:port/db")

    @model_validator(mode="after")
    def _url_for_postgres(self) -> StoreSettings:
        if self.backend == "postgres":
            if self.url is None:
                raise ValueError("store.backend is postgres but store.url is not set")
            url = self.url.get_secret_value()
            if not url.startswith(("postgresql://", "postgres://")):
                raise ValueError("store.url must start with postgresql://")
            if "CHANGEME" in url or "changethis" in url:
                raise ValueError("store.url still holds a placeholder password")
        return self


class IngestSettings(_Strict):
    max_reject_share: float = Field(
        0.05, ge=0.0, le=1.0, description="A load whose rejected share exceeds this fails whole."
    )
    batch_rows: int = Field(
        1_000_000, ge=1_000, description="Rows read and validated at a time (bounds memory)."
    )


SurvivorshipRule = Literal["most_trusted", "most_recent", "most_complete", "most_common"]

#: Golden attributes survivorship can be configured for, per entity.
PERSON_ATTRIBUTES = ("name", "email", "phone", "title", "country")
ACCOUNT_ATTRIBUTES = (
    "name", "domain", "segment", "industry", "employees", "owner", "region", "country",
)  # fmt: skip


class IdentitySettings(_Strict):
    match_threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="Pairs at or above this probability are merged."
    )
    review_threshold: float = Field(
        0.3, gt=0.0, le=1.0, description="Pairs from here up to match_threshold go to review."
    )
    max_block: int = Field(
        200, ge=2, description="Blocking keys shared by more records than this are skipped."
    )
    seed: int = Field(7, description="Seed of the random sampling that estimates u.")
    one_account_per_person: bool = Field(
        True,
        description="Never merge people whose records belong to two different accounts (B2B).",
    )
    trust: list[str] = Field(
        default_factory=list,
        description="Source systems, most trusted first (e.g. [salesforce, stripe, hubspot]).",
    )
    survivorship: dict[str, SurvivorshipRule] = Field(
        default_factory=dict,
        description="Rule per golden attribute; unlisted ones use `default_rule`.",
    )
    default_rule: SurvivorshipRule = "most_trusted"

    @model_validator(mode="after")
    def _consistent(self) -> IdentitySettings:
        if self.review_threshold > self.match_threshold:
            raise ValueError(
                f"identity.review_threshold ({self.review_threshold}) must not exceed "
                f"identity.match_threshold ({self.match_threshold})"
            )
        known = sorted(set(PERSON_ATTRIBUTES) | set(ACCOUNT_ATTRIBUTES))
        unknown = sorted(set(self.survivorship) - set(known))
        if unknown:
            raise ValueError(
                f"identity.survivorship names unknown attributes {unknown}; known: {known}"
            )
        return self

    def rule_for(self, attribute: str) -> SurvivorshipRule:
        return self.survivorship.get(attribute, self.default_rule)


class ValueSettings(_Strict):
    currency: str = Field("USD", description="Reporting currency of revenue and value figures.")
    rates: dict[str, float] = Field(
        default_factory=dict,
        description="Constant rates: one unit of each currency in the reporting currency.",
    )
    rates_file: Path | None = Field(
        None, description="CSV of monthly rates (month, currency, rate); wins over `rates`."
    )

    @model_validator(mode="after")
    def _positive(self) -> ValueSettings:
        bad = sorted(c for c, r in self.rates.items() if r <= 0)
        if bad:
            raise ValueError(f"value.rates must be positive; check {bad}")
        return self


TEXT_KINDS = ("survey", "ticket", "social", "community", "note")


class VocSettings(_Strict):
    kinds: list[str] = Field(
        default_factory=lambda: list(TEXT_KINDS),
        description="Event kinds whose text is the customer's voice (deal names are not).",
    )
    domain_kinds: list[str] = Field(
        default_factory=lambda: ["survey", "social", "community"],
        description="Kinds the domain sentiment model scores: the customers' own prose, like "
        "the survey comments it learns from; terse ticket subjects and staff notes keep the "
        "lexicon.",
    )
    adapt: bool = Field(
        True,
        description="Self-train the domain model on the texts it scores, seeded by its own "
        "confident labels.",
    )
    min_sample: int = Field(30, ge=1, description="Answers below which a figure is flagged.")
    domain_min_labels: int = Field(
        200,
        ge=20,
        description="Scored survey comments needed before the domain sentiment model is trained.",
    )
    themes: int | None = Field(
        None,
        ge=2,
        le=80,
        description="Number of themes to discover; chosen from the data if unset.",
    )
    emerging_period: Literal["D", "W", "M"] = Field("W", description="Day, week or month.")
    emerging_baseline: int = Field(8, ge=2, description="Periods each one is compared with.")
    emerging_alpha: float = Field(0.01, gt=0, lt=1, description="False-discovery rate.")
    emerging_min_ratio: float = Field(1.5, ge=1, description="Rise over the baseline to act on.")
    emerging_min_count: int = Field(5, ge=1, description="Texts a theme needs in the period.")
    churn_horizon_days: int = Field(
        180, ge=7, description="Churn within this many days after the texts counts for drivers."
    )
    seed: int = 0


class RiskSettings(_Strict):
    horizon_days: int = Field(
        60, ge=7, le=365, description="Predict churn within this many days of the score date."
    )
    backtest_folds: int = Field(4, ge=1, le=24, description="Rolling back-test windows.")
    fold_months: int = Field(3, ge=1, le=12, description="Months of cutoffs per window.")
    high_risk: float = Field(0.25, gt=0, lt=1, description="Probability from which risk is high.")
    medium_risk: float = Field(0.08, gt=0, lt=1, description="Probability from which it is medium.")
    scorecard: Path | None = Field(
        None,
        description="Health scorecard YAML (relative to the workspace); the packaged "
        "SaaS scorecard when unset.",
    )
    seed: int = 0

    @model_validator(mode="after")
    def _bands_in_order(self) -> RiskSettings:
        if self.medium_risk >= self.high_risk:
            raise ValueError(
                f"risk.medium_risk ({self.medium_risk}) must be below risk.high_risk "
                f"({self.high_risk})"
            )
        return self


class SignalsSettings(_Strict):
    rules: Path | None = Field(
        None,
        description="Rules, playbooks and channels (YAML), relative to the workspace; the "
        "packaged rules when unset.",
    )
    max_request_bytes: int = Field(
        1_000_000, ge=1_000, description="Largest event API request body accepted."
    )
    profile_refresh_seconds: float = Field(
        300, ge=1, description="How often the server re-reads customer value, health and risk."
    )


class StorySettings(_Strict):
    """How stories are told. The language model is off unless a base URL and model are set."""

    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint (…/v1) that rephrases stories."
    )
    llm_model: str | None = Field(None, description="Model name to ask for.")
    llm_api_key: SecretStr | None = Field(
        None, description="Bearer key, when the endpoint needs one."
    )
    timeout_seconds: float = Field(20, gt=0, description="Give up on the model after this long.")


class WorkspaceConfig(_Strict):
    name: str = "cxlens workspace"
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    value: ValueSettings = Field(default_factory=ValueSettings)
    voc: VocSettings = Field(default_factory=VocSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    signals: SignalsSettings = Field(default_factory=SignalsSettings)
    story: StorySettings = Field(default_factory=StorySettings)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`CXLENS__STORE__URL=...` becomes {"store": {"url": ...}}."""
    tree: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        out.append(f"{where}: {err['msg']}")
    return out


def parse_config(
    data: Mapping[str, Any], origin: str, environ: Mapping[str, str] | None = None
) -> WorkspaceConfig:
    merged = _deep_merge(dict(data), _env_overrides(os.environ if environ is None else environ))
    try:
        return WorkspaceConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"{origin} is not valid:", _problems(exc)) from None


def load_config(root: Path, environ: Mapping[str, str] | None = None) -> WorkspaceConfig:
    path = root / WORKSPACE_FILE
    if not path.exists():
        raise WorkspaceNotFound(
            f"no {WORKSPACE_FILE} in {root}; run `cxlens init` there or pass --workspace"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    return parse_config(data, str(path), environ)
