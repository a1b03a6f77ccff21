"""The CLI: commands work end to end, errors become one message and a documented exit code."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.workspace import Workspace

runner = CliRunner()

EVENTS = {
    "path": "events.csv",
    "events": [
        {
            "kind": "order",
            "action": {"const": "placed"},
            "id": "id",
            "time": "at",
            "record": "customer",
            "fields": {"amount": "amount", "currency": "currency"},
        }
    ],
}


def make_workspace(root: Path, rows: int = 3, bad: int = 0) -> Workspace:
    ws = Workspace.init(root)
    lines = ["id,at,customer,amount,currency"]
    lines += [f"o{i},2024-01-{1 + i % 28:02d},c{i % 7},{i}.5,EUR" for i in range(rows)]
    lines += [f"b{i},someday,c1,1,EUR" for i in range(bad)]
    (root / "events.csv").write_text("\n".join(lines) + "\n")
    ws.add_source("shop", EVENTS)
    return ws


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_ingest_status_loads_rejects(tmp_path: Path) -> None:
    code, out = run("init", "--workspace", str(tmp_path / "acme"))
    assert code == 0 and "created" in out
    code, _ = run("init", "--workspace", str(tmp_path / "acme"))
    assert code == 2
    make_workspace(tmp_path / "ws", rows=40, bad=1).close()
    code, out = run("ingest", "-w", str(tmp_path / "ws"), "--json")
    assert code == 0
    [report] = json.loads(out)
    assert report["events_loaded"] == 40 and report["rows_rejected"] == 1
    code, out = run("status", "-w", str(tmp_path / "ws"), "--json")
    status = json.loads(out)
    assert status["tables"]["events"] == 40 and status["events_by_kind"] == [
        {"kind": "order", "events": 40}
    ]
    code, out = run("rejects", "-w", str(tmp_path / "ws"), "--json")
    [reject] = json.loads(out)
    assert reject["row_number"] == 41 and reject["value"] == "someday"
    code, out = run("loads", "-w", str(tmp_path / "ws"))
    assert code == 0 and "committed" in out
    code, out = run("status", "-w", str(tmp_path / "ws"))
    assert code == 0 and "events by kind" in out


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        ("none", ["status"], 2, "no cxlens.yaml"),
        ("ws", ["ingest", "nope"], 2, "unknown source(s) nope; defined: shop"),
        ("ragged", ["ingest"], 4, "ragged CSV"),
        ("rejects", ["ingest"], 5, "rows rejected"),
    ],
)
def test_errors_are_one_message_and_an_exit_code(
    tmp_path: Path, setup: str, args: list[str], code: int, message: str
) -> None:
    if setup == "ws":
        make_workspace(tmp_path).close()
    elif setup == "ragged":
        make_workspace(tmp_path).close()
        (tmp_path / "events.csv").write_text("id,at,customer,amount,currency\n1,2,3\n")
    elif setup == "rejects":
        make_workspace(tmp_path, rows=2, bad=2).close()
    result = runner.invoke(app, [*args, "-w", str(tmp_path)])
    assert result.exit_code == code
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_presets_lists_every_preset() -> None:
    from cxlens.sources.presets import preset_names

    code, out = run("presets", "--json")
    assert code == 0
    assert [p["name"] for p in json.loads(out)] == preset_names()


@pytest.mark.slow
def test_killing_a_load_midway_leaves_the_store_as_before(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, rows=5)
    ws.ingest()
    ws.close()
    rows = ["id,at,customer,amount,currency"] + [
        f"k{i},2024-02-01 10:00:00,c{i % 1000},{i},USD" for i in range(400_000)
    ]
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    raw = (
        (tmp_path / "cxlens.yaml")
        .read_text()
        .replace("max_reject_share: 0.05", "max_reject_share: 0.05\n  batch_rows: 20000")
    )
    (tmp_path / "cxlens.yaml").write_text(raw)
    pristine = tmp_path.parent / "pristine"
    shutil.copytree(tmp_path, pristine)
    command = [sys.executable, "-m", "cxlens.cli", "ingest", "-w", str(tmp_path)]
    # A full run first, to learn how long the load takes on this machine...
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    full = time.monotonic() - started
    with Workspace(tmp_path) as done:
        assert done.store.count("events") == 400_005
    shutil.rmtree(tmp_path)
    shutil.copytree(pristine, tmp_path)
    # ...then the same load, killed halfway through.
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(full / 2)
    assert proc.poll() is None, "the load finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Workspace(tmp_path) as after:
        assert after.store.count("events") == 5
        assert [load["status"] for load in after.loads()] == ["committed"]


def test_demo_generates_loads_and_summarises(tmp_path: Path) -> None:
    from cxlens.demo import demo_sources

    code, out = run("demo", "-w", str(tmp_path), "--customers", "60", "--no-serve", "--json")
    assert code == 0, out
    result = json.loads(out)
    loads = {r["source"]: r for r in result["loads"]}
    assert set(loads) == set(demo_sources())
    for name, load in loads.items():
        assert load["status"] == "committed" and load["rows_rejected"] == 0, name
        assert load["records_loaded"] + load["events_loaded"] > 0, name
    tables = result["status"]["tables"]
    assert tables["rejects"] == 0 and tables["events"] > 1_000
    assert (tmp_path / "truth").is_dir()
    # Running it again regenerates the same company: nothing new is loaded.
    code, out = run("demo", "-w", str(tmp_path), "--customers", "60", "--no-serve", "--json")
    again = json.loads(out)
    assert code == 0
    assert all(r["events_loaded"] == 0 and r["records_loaded"] == 0 for r in again["loads"])
    assert again["status"]["tables"]["events"] == tables["events"]
