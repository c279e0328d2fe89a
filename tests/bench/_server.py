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


CGROUP_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")


@contextmanager
def cpu_capped(pids: list[int], cores: float | None) -> Iterator[None]:
    """Each process in `pids` limited to `cores` of CPU time (a Linux cgroup of its own with a
    CFS quota, v1 `cpu` or v2), for as long as the block runs; nothing when `cores` is None.

    On a machine whose cores the load generator and the database share with the servers, "one
    worker" and "two workers" differ in how much of the machine the servers can take, not only
    in how the server scales. Capping every worker at the same share gives each worker a fixed
    budget, as a core of its own would, and leaves the rest of the machine to the clients, so
    two workers against one measures the server's scaling. Raises RuntimeError when no cgroup
    can be made here (no root, no cpu controller)."""
    if cores is None:
        yield
        return
    period = 100_000
    quota = max(1000, int(cores * period))
    made: list[Path] = []
    v2 = (CGROUP_V2 / "cgroup.controllers").exists()
    try:
        for pid in pids:
            group = (CGROUP_V2 if v2 else CGROUP_V1) / f"quorum-bench-{pid}"
            group.mkdir(exist_ok=True)
            made.append(group)
            if v2:
                (group / "cpu.max").write_text(f"{quota} {period}")
            else:
                (group / "cpu.cfs_period_us").write_text(str(period))
                (group / "cpu.cfs_quota_us").write_text(str(quota))
            # cgroup.procs moves the whole process, every thread of it
            (group / "cgroup.procs").write_text(str(pid))
    except OSError as exc:
        _release(made, v2)
        raise RuntimeError(
            f"cannot cap the workers' CPU with a cgroup here ({exc}); run as root on Linux with"
            " the cpu controller, or without --worker-cpu"
        ) from exc
    try:
        yield
    finally:
        _release(made, v2)


def throttled_s(pid: int) -> float | None:
    """Seconds the cgroup `cpu_capped` made for `pid` held it back (its CFS throttling), or
    None when it has none."""
    for stat in (
        CGROUP_V2 / f"quorum-bench-{pid}" / "cpu.stat",
        CGROUP_V1 / f"quorum-bench-{pid}" / "cpu.stat",
    ):
        try:
            fields = dict(line.split() for line in stat.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if "throttled_usec" in fields:
            return int(fields["throttled_usec"]) / 1e6
        return int(fields.get("throttled_time", 0)) / 1e9
    return None


def _release(groups: list[Path], v2: bool) -> None:
    """Moves what is left in `groups` back to the root group and removes them."""
    root = CGROUP_V2 if v2 else CGROUP_V1
    for group in groups:
        try:
            for pid in (group / "cgroup.procs").read_text().split():
                (root / "cgroup.procs").write_text(pid)
        except OSError:
            pass
        try:
            group.rmdir()
        except OSError:
            pass
