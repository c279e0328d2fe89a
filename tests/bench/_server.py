"""A `quorum serve` subprocess over a fresh data folder, for the annotation benchmarks
(docs/PERFORMANCE.md, "Annotations and documents")."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp

QUORUM = str(Path(sys.executable).parent / "quorum")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def bare_server(argv: list[str]) -> AsyncIterator[tuple[str, int]]:
    """A bare python-socketio server (`argv` plus a free port) until it answers Engine.IO's
    polling handshake; yields its URL and pid, and stops it after."""
    port = free_port()
    proc = subprocess.Popen([*argv, str(port)])  # noqa: ASYNC220 - spawning does not block
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(url + "/socket.io/?EIO=4&transport=polling"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def quorum_server(delegates: int, password: str) -> Iterator[tuple[str, int]]:
    """Seed a rehearsal council with `quorum demo --no-serve`, then run `quorum serve`;
    yields (base URL, server pid)."""
    with tempfile.TemporaryDirectory(prefix="quorum-bench-") as folder:
        env = dict(os.environ, QUORUM_DATA_DIR=folder)
        env.pop("QUORUM_DATABASE_URL", None)
        subprocess.run(
            [QUORUM, "demo", "--delegates", str(delegates), "--password", password, "--no-serve"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        proc = subprocess.Popen([QUORUM, "serve", "--port", str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("quorum serve did not start") from None
                    time.sleep(0.2)
            yield base, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)
