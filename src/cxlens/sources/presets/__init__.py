"""Mappings for the usual exports (Salesforce, HubSpot, Zendesk, Stripe, Shopify, surveys...).

Each preset is a YAML file beside this module with `description`, `system`, `format`, and
`records` / `events` mappings in the same shape a workspace file uses.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxlens.errors import ConfigError
from cxlens.sources.mapping import EventMapping, Format, RecordMapping


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    system: str
    format: Format
    records: list[RecordMapping] = Field(default_factory=list)
    events: list[EventMapping] = Field(default_factory=list)


def preset_names() -> list[str]:
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_preset(name: str) -> Preset:
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown preset '{name}'; available: {', '.join(names)}")
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    try:
        return Preset.model_validate({"name": name, **data})
    except ValidationError as exc:  # a broken preset is a bug in cxlens, reported plainly
        raise ConfigError(f"preset '{name}' is not valid: {exc}") from None
