"""A `quorum serve` subprocess on a loopback port, and many delegates (docs/features/voting.md,
"Tests and
benchmark").

Used by the crash test and by `tests.bench.bench_vote_storm`: seed with `quorum demo
--delegates N --no-serve`, run `quorum serve`, kill it with SIGKILL, start it again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from realtime.client import QuorumClient, login


def quorum_cmd() -> list[str]:
    found = shutil.which("quorum") or str(Path(sys.executable).with_name("quorum"))
    return [found] if Path(found).exists() else [sys.executable, "-m", "meetings.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QuorumProcess:
    def __init__(self, data_dir: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "QUORUM_DATA_DIR": str(data_dir),
            "QUORUM_LOG_LEVEL": "info",
            "QUORUM_COMMAND_RATE": "100",
            "QUORUM_COMMAND_BURST": "200",
            **env,
        }
        self.log_path = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seed(self, delegates: int, password: str) -> None:
        subprocess.run(
            [
                *quorum_cmd(),
                "demo",
                "--delegates",
                str(delegates),
                "--password",
                password,
                "--no-serve",
            ],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    async def start(self, limit_s: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - spawning does not block
            [*quorum_cmd(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        async with aiohttp.ClientSession() as http, asyncio.timeout(limit_s):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"quorum serve exited: see {self.log_path}")
                try:
                    async with http.get(self.base_url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what was committed must survive."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def mint_tokens(
    data_dir: Path, usernames: list[str], database_url: str = ""
) -> dict[str, str]:
    """Session tokens written straight into the seeded database (before the server starts):
    hundreds of argon2 logins would take minutes on a busy 2-core machine, and logging in is
    not what these runs measure. The chair still logs in for real."""
    from datetime import timedelta

    from sqlalchemy import select
    from sqlmodel import col

    from meetings.config import Settings
    from meetings.services.accounts.auth import new_token, token_digest
    from meetings.services.assembly import create_services
    from meetings.storage.tables import AuthToken, User, utcnow

    services = create_services(Settings(data_dir=data_dir, database_url=database_url).prepare())
    tokens: dict[str, str] = {}
    try:
        async with services.uow() as uow:
            users = (
                await uow.session.execute(select(User).where(col(User.username).in_(usernames)))
            ).scalars()
            for user in users:
                tokens[user.username] = token = new_token()
                uow.session.add(
                    AuthToken(
                        token_hash=token_digest(token),
                        user_id=user.id,
                        label="rig",
                        expires_at=utcnow() + timedelta(days=1),
                    )
                )
            await uow.commit()
    finally:
        await services.db.dispose()
    return tokens


async def log_in(
    base_url: str, usernames: list[str], password: str, concurrency: int = 8
) -> dict[str, str]:
    tokens: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def one(name: str) -> None:
            async with gate:
                tokens[name] = await login(http, base_url, name, password)

        await asyncio.gather(*(one(n) for n in usernames))
    return tokens


async def connect_all(
    base_url: str, tokens: dict[str, str], concurrency: int = 50
) -> dict[str, QuorumClient]:
    clients = {name: QuorumClient(base_url, token) for name, token in tokens.items()}
    gate = asyncio.Semaphore(concurrency)

    async def one(client: QuorumClient) -> None:
        async with gate:
            await client.connect()

    await asyncio.gather(*(one(c) for c in clients.values()))
    return clients


async def each(
    clients: list[QuorumClient], command: str, payload: dict[str, Any], concurrency: int = 50
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(client: QuorumClient) -> None:
        async with gate:
            await client.command(command, payload)

    await asyncio.gather(*(one(c) for c in clients))


async def first_meeting(base_url: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            base_url + "/api/meetings", headers={"authorization": f"Bearer {token}"}
        ) as response,
    ):
        meetings = await response.json()
    return int(meetings[0]["id"])
