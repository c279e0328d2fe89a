"""Temporary PostgreSQL and Redis servers for a test session (docs/TESTING.md).

When nothing answers on the configured address (QUORUM_TEST_PG, QUORUM_TEST_REDIS), the tests
start their own server from Debian's packages (`postgresql`: /usr/lib/postgresql/*/bin;
`redis-server`) in a temporary folder on a free loopback port, and stop it when the session
ends. Run as root, PostgreSQL refuses to start, so the server then runs as the `postgres`
account (or `nobody`). If the binaries are missing, `start_*` raise `Missing` saying what to
install: the caller fails the test with it, never skips.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class Missing(RuntimeError):
    """A service cannot be started here; the message says what is missing."""


_started: list[tuple[subprocess.Popen[bytes], Path]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_all() -> None:
    for proc, folder in reversed(_started):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # postgres: fast shutdown; redis: exits
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    _started.clear()


atexit.register(_stop_all)


def _as_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix (and uid, gid) to run a server as an unprivileged account."""
    if os.geteuid() != 0:
        return [], None, None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Missing("running as root needs setpriv (util-linux) to start PostgreSQL unprivileged")
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        prefix = [setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
        return prefix, entry.pw_uid, entry.pw_gid
    raise Missing("running as root, and no 'postgres' or 'nobody' account to run PostgreSQL as")


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Missing(f"the temporary {what} exited with {proc.returncode}: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise Missing(f"the temporary {what} did not listen on 127.0.0.1:{port} within 60 s")


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def start_postgres() -> str:
    """Start a throwaway PostgreSQL; return its admin URL (trust auth, user postgres)."""
    bindir = postgres_bin()
    if bindir is None:
        raise Missing(
            "no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    prefix, uid, gid = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="quorum-test-pg-"))
    data = folder / "data"
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    log = folder / "postgres.log"
    init = subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        capture_output=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise Missing(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *prefix,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(folder),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _started.append((proc, folder))
    _wait_port(port, proc, "PostgreSQL", log)
    ready = bindir / "pg_isready"
    for _ in range(100):  # listening is not yet accepting connections
        check = subprocess.run(
            [str(ready), "-h", "127.0.0.1", "-p", str(port)], capture_output=True, check=False
        )
        if check.returncode == 0:
            break
        time.sleep(0.1)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def start_redis() -> str:
    """Start a throwaway Redis without persistence; return its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Missing("no redis-server on PATH (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="quorum-test-redis-"))
    port = free_port()
    log = folder / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _started.append((proc, folder))
    _wait_port(port, proc, "Redis", log)
    return f"redis://127.0.0.1:{port}/0"
