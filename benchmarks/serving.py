"""`cxlens serve` as its own process on a free loopback port, for the benchmarks."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(root: Path, *, timeout: float = 300) -> Iterator[str]:
    """Serve the workspace at `root` until the block ends; yields the base URL."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
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
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("cxlens serve did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
