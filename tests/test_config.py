"""Settings: precedence, validation messages a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.config import load_config, parse_config
from cxlens.errors import ConfigError, WorkspaceNotFound

SOURCE = {"path": "t.csv", "preset": "zendesk_tickets"}


def test_defaults_give_an_embedded_store() -> None:
    cfg = parse_config({}, "test", environ={})
    assert cfg.store.backend == "duckdb" and str(cfg.store.path) == "cxlens.duckdb"
    assert cfg.ingest.max_reject_share == 0.05


def test_environment_wins_over_the_file() -> None:
    cfg = parse_config(
        {"store": {"backend": "duckdb"}, "ingest": {"max_reject_share": 0.2}},
        "test",
        environ={
            "CXLENS__STORE__BACKEND": "postgres",
            "CXLENS__STORE__URL": "postgresql://u:secret@db:5432/cx",
            "CXLENS__INGEST__MAX_REJECT_SHARE": "0.5",
            "OTHER": "x",
        },
    )
    assert cfg.store.backend == "postgres"
    assert cfg.store.url is not None and "secret" in cfg.store.url.get_secret_value()
    assert "secret" not in repr(cfg.store)
    assert cfg.ingest.max_reject_share == 0.5


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"store": {"backend": "postgres"}}, "store.url is not set"),
        (
            {"store": {"backend": "postgres", "url": "postgresql://u:CHANGEME@h/db"}},
            "placeholder password",
        ),
        ({"store": {"backend": "oracle"}}, "store.backend"),
        ({"ingest": {"max_reject_share": 2}}, "ingest.max_reject_share"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"sources": {"s": {"preset": "zendesk_tickets"}}}, "give either path"),
        ({"sources": {"s": {"path": "x.csv"}}}, "give a preset, or records"),
        (
            {
                "sources": {
                    "s": {
                        "path": "x.csv",
                        "events": [
                            {
                                "kind": "ticket",
                                "time": "t",
                                "record": "r",
                                "fields": {"colour": "c"},
                            }
                        ],
                    }
                }
            },
            "unknown event field(s) colour; valid: amount, channel",
        ),
        (
            {
                "sources": {
                    "s": {
                        "path": "x.csv",
                        "events": [
                            {
                                "kind": "ticket",
                                "time": "t",
                                "record": "r",
                                "properties": {"plan": "p"},
                            }
                        ],
                    }
                }
            },
            "unknown ticket property field(s) plan; valid: assignee, category",
        ),
        (
            {
                "sources": {
                    "s": {
                        "path": "x.csv",
                        "events": [{"kind": "teleport", "time": "t", "record": "r"}],
                    }
                }
            },
            "sources.s.events.0.kind",
        ),
    ],
)
def test_invalid_settings_say_where_and_what(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "cxlens.yaml", environ={})
    assert fragment in str(info.value)
    assert str(info.value).startswith("cxlens.yaml is not valid:")


def test_missing_and_broken_workspace_files(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="cxlens init"):
        load_config(tmp_path, environ={})
    (tmp_path / "cxlens.yaml").write_text("store: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path, environ={})
    (tmp_path / "cxlens.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path, environ={})


def test_format_is_inferred_from_the_extension_or_asked_for() -> None:
    cfg = parse_config(
        {
            "sources": {
                "a": {"path": "x.CSV", **{k: v for k, v in SOURCE.items() if k != "path"}},
                "b": {"path": "y.parquet", "preset": "product_usage"},
                "c": {"url": "sqlite:///x.db", "table": "t", "preset": "hubspot_contacts"},
            }
        },
        "t",
        environ={},
    )
    assert [s.resolved_format() for s in cfg.sources.values()] == ["csv", "parquet", "sql"]
    odd = parse_config(
        {"sources": {"d": {"path": "z.dat", "preset": "zendesk_tickets"}}}, "t", environ={}
    )
    with pytest.raises(ValueError, match="set format to one of"):
        odd.sources["d"].resolved_format()
