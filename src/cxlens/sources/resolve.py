"""A source's mappings with its preset applied and its `rename:` resolved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxlens.errors import ConfigError
from cxlens.sources.mapping import EventMapping, RecordMapping, SourceConfig
from cxlens.sources.presets import load_preset


@dataclass(frozen=True)
class ResolvedSource:
    """What to read from a source and how it maps to the canonical model."""

    name: str
    system: str
    timezone: str
    records: list[RecordMapping]
    events: list[EventMapping]

    def required_columns(self) -> set[str]:
        cols: set[str] = set()
        for m in self.records:
            cols |= m.columns()
        for e in self.events:
            cols |= e.columns()
        return cols

    def check_columns(self, available: list[str], location: str) -> None:
        missing = sorted(self.required_columns() - set(available))
        if missing:
            raise ConfigError(
                f"source '{self.name}': {location} lacks column(s) the mapping reads: "
                f"{', '.join(repr(m) for m in missing)}. Columns in the file: "
                f"{', '.join(repr(a) for a in available)}. Fix the mapping or add `rename:`."
            )


_COLUMN_KEYS = ("column", "when", "add_minutes")
_FIELD_KEYS = ("key", "time", "record", "account", "id", "action")


def _renamed(data: Any, rename: dict[str, str]) -> Any:
    """Point a preset's mappings at the user's column names."""
    if isinstance(data, list):
        return [_renamed(v, rename) for v in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in (*_COLUMN_KEYS, *_FIELD_KEYS) and isinstance(value, str):
            out[key] = rename.get(value, value)
        elif key == "template" and isinstance(value, str):
            for old, new in rename.items():
                value = value.replace("{" + old + "}", "{" + new + "}")
            out[key] = value
        elif key in ("attributes", "columns") and isinstance(value, list):
            out[key] = [rename.get(v, v) for v in value]
        elif key in ("fields", "properties", "external_ids") and isinstance(value, dict):
            out[key] = {
                k: rename.get(v, v) if isinstance(v, str) else _renamed(v, rename)
                for k, v in value.items()
            }
        else:
            out[key] = _renamed(value, rename)
    return out


def resolve_source(name: str, cfg: SourceConfig) -> ResolvedSource:
    records = list(cfg.records or [])
    events = list(cfg.events or [])
    system = cfg.system or name
    if cfg.preset is not None:
        preset = load_preset(cfg.preset)
        records = records if cfg.records is not None else list(preset.records)
        events = events if cfg.events is not None else list(preset.events)
        system = cfg.system or preset.system
    if cfg.rename:
        records = [
            RecordMapping.model_validate(_renamed(r.model_dump(exclude_none=True), cfg.rename))
            for r in records
        ]
        events = [
            EventMapping.model_validate(_renamed(e.model_dump(exclude_none=True), cfg.rename))
            for e in events
        ]
    return ResolvedSource(name, system, cfg.timezone, records, events)
