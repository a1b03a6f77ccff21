"""The event API under faults: `cxlens serve` killed with SIGKILL in the middle of a load and
restarted loses no acknowledged event, stores none twice and raises no alert twice; and a
rule's notification reaches a real webhook receiver, signed."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cxlens.api.keys import create_key
from cxlens.signals.channels import verify_signature
from cxlens.workspace import Workspace
from workspaces import demo_workspace

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(root: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`cxlens serve` as its own process, as in production."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-c",
            "from cxlens.cli import main; main()",
            "serve",
            "-w",
            str(root),
            "--port",
            str(port),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            raise RuntimeError(f"cxlens serve did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _detractor(n: int) -> dict[str, Any]:
    """A detractor answer from a customer never seen before: exactly one alert each."""
    return {
        "event_id": f"load-{n}",
        "occurred_at": (
            dt.datetime(2026, 7, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        ).isoformat(),
        "kind": "survey",
        "action": "nps",
        "score": n % 7,
        "customer": {"email": f"p{n}@c{n}.example", "account": {"domain": f"c{n}.example"}},
    }


def test_kill_9_during_a_load_loses_and_repeats_nothing(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path, customers=40, seed=3)
    key = create_key(ws.store, "loader", "ingest")
    ws.close()
    auth = {"Authorization": f"Bearer {key}"}
    acknowledged: set[str] = set()
    sent: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop = threading.Event()

    def load(url: str) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            while not stop.is_set():
                with lock:
                    batch = [_detractor(next(counter)) for _ in range(10)]
                    sent.update(e["event_id"] for e in batch)
                try:
                    answer = http.post("/v1/events", json={"events": batch}, headers=auth)
                except httpx.TransportError:
                    return  # the server is gone: these were never acknowledged
                if answer.status_code == 200:
                    with lock:
                        acknowledged.update(e["event_id"] for e in batch)

    with serving(tmp_path) as (url, process):
        clients = [threading.Thread(target=load, args=(url,)) for _ in range(4)]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stop.set()
        for c in clients:
            c.join()
    assert len(acknowledged) >= 300 and len(sent) > len(acknowledged) - 1

    with Workspace(tmp_path) as after_crash:
        stored = {
            str(r["event_id"])
            for r in after_crash.store.rows("SELECT event_id FROM events WHERE source = 'api'")
        }
    assert acknowledged <= stored  # every acknowledged event survived the kill

    # Restart, and send everything again, as a client that never got its answers would.
    everything = sorted(sent, key=lambda e: int(e.split("-")[1]))
    with serving(tmp_path) as (url, _), httpx.Client(base_url=url, timeout=30) as http:
        for start in range(0, len(everything), 200):
            batch = [_detractor(int(e.split("-")[1])) for e in everything[start : start + 200]]
            http.post("/v1/events", json={"events": batch}, headers=auth).raise_for_status()

    with Workspace(tmp_path) as ws:
        rows = ws.store.rows(
            "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events WHERE source = 'api'"
        )[0]
        assert rows["n"] == rows["ids"] == len(sent)
        alerts = ws.store.rows(
            "SELECT event_id, count(*) AS n FROM alerts GROUP BY event_id HAVING count(*) > 1"
        )
        assert alerts == []  # no alert fired twice
        assert ws.store.scalar("SELECT count(*) FROM alerts") == len(sent)


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_rule_notifies_a_signed_webhook(tmp_path: Path) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        ws = demo_workspace(tmp_path, customers=40, seed=3)
        key = create_key(ws.store, "loader", "ingest")
        (tmp_path / "rules.yaml").write_text(
            "rules:\n"
            "  - id: detractor\n    name: Detractor\n"
            "    when: ['event.kind = survey', 'event.score <= 6']\n"
            "    severity: P2\n    notify: [cs-hook]\n"
            "channels:\n"
            f"  cs-hook: {{type: webhook, url: 'http://127.0.0.1:{receiver.server_port}/hook', "
            "secret: s3cret}\n",
            encoding="utf-8",
        )
        ws.configure("signals", {"rules": "rules.yaml"})
        ws.close()
        with serving(tmp_path) as (url, _):
            answer = httpx.post(
                f"{url}/v1/events",
                json=_detractor(1),
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            ).json()
            deadline = time.monotonic() + 15
            while not _Receiver.got and time.monotonic() < deadline:
                time.sleep(0.05)
        assert _Receiver.got, "the webhook was not called"
        headers, body = _Receiver.got[0]
        assert verify_signature(
            "s3cret", headers["X-Cxlens-Timestamp"], body, headers["X-Cxlens-Signature"]
        )
        assert json.loads(body)["alert_id"] == answer["alerts"][0]
        with Workspace(tmp_path) as ws:
            log = ws.store.rows("SELECT status, attempts FROM deliveries")
            assert log == [{"status": "delivered", "attempts": 1}]
    finally:
        receiver.shutdown()
        receiver.server_close()
