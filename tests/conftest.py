"""Shared fixtures: real servers on loopback over SQLite and PostgreSQL (docs/TESTING.md).

`server` starts a real uvicorn server in this process, on an ephemeral loopback port, over a
fresh database: SQLite (a copy of a migrated template file) and PostgreSQL (a database made
from a migrated template). Tests that use it run once per backend.

PostgreSQL and Redis are never skipped: when nothing answers on QUORUM_TEST_PG or
QUORUM_TEST_REDIS, the session starts temporary servers of its own (tests/support/services.py);
if that is impossible the test fails saying what is missing. With QUORUM_REQUIRE_SERVICES=1
(CI) the configured servers must answer: no temporary ones are started, and a missing
PostgreSQL, Redis or Chromium fails the test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import asyncpg
import pytest
import uvicorn

from meetings.config import Settings
from meetings.demo import seed_rehearsal
from meetings.services.assembly import create_services
from meetings.services.context import Services
from meetings.storage.migrate import upgrade
from realtime.asgi import create_asgi_app
from realtime.client import QuorumClient, login
from tests.support import services as temporary

REQUIRE_SERVICES = os.environ.get("QUORUM_REQUIRE_SERVICES") == "1"
PG_ADMIN = os.environ.get("QUORUM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("QUORUM_TEST_REDIS", "redis://127.0.0.1:6379/0")
# each test process on a Redis channel of its own (its servers and those it starts inherit it):
# test processes run side by side (`pytest -n`) must not hear each other's sittings
os.environ["QUORUM_REDIS_CHANNEL"] = f"quorum-test-{uuid.uuid4().hex[:12]}"
PASSWORD = "rehearsal-pass"
DELEGATES = 6


SERVICES = ("PostgreSQL", "Redis")  # started by the tests themselves when missing: never skipped


def need(what: str, available: bool, why: str = "") -> None:
    if available:
        return
    message = f"{what} is not available{': ' + why if why else ''}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (QUORUM_REQUIRE_SERVICES=1)")
    if what in SERVICES:
        pytest.fail(message)
    pytest.skip(message)


def pg_url(database: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{database}"


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_temporary: dict[str, str] = {}  # what this session started: service → URL, or "!why"


async def _or_temporary(what: str, url: str, reachable: str | None) -> tuple[bool, str]:
    """(True, "") if `url` answers; else start a temporary server (once per session) unless
    CI requires the configured one; (False, why) when neither works."""
    if reachable is None:
        return True, ""
    why = f"nothing answers at {url} ({reachable})"
    if REQUIRE_SERVICES:
        return False, why
    if what not in _temporary:
        start = temporary.start_postgres if what == "PostgreSQL" else temporary.start_redis
        try:
            _temporary[what] = await anyio.to_thread.run_sync(start)
        except temporary.Missing as exc:
            _temporary[what] = f"!{exc}"
    started = _temporary[what]
    if started.startswith("!"):
        return False, f"{why}; no temporary server either: {started[1:]}"
    return True, ""


async def pg_available() -> tuple[bool, str]:
    """Is PostgreSQL there (the configured one, else a temporary one, which PG_ADMIN then
    names)?"""
    global PG_ADMIN
    if "PostgreSQL" in _temporary and not _temporary["PostgreSQL"].startswith("!"):
        return True, ""
    try:
        conn = await asyncpg.connect(PG_ADMIN, timeout=3)
        await conn.close()
        problem = None
    except Exception as exc:  # any failure means "not reachable"
        problem = str(exc) or type(exc).__name__
    ok, why = await _or_temporary("PostgreSQL", PG_ADMIN, problem)
    if ok and "PostgreSQL" in _temporary:
        PG_ADMIN = _temporary["PostgreSQL"]
    return ok, why


async def redis_available() -> tuple[bool, str]:
    """As `pg_available`, for Redis: `redis_url()` then names the one to use."""
    global REDIS_URL
    if "Redis" in _temporary and not _temporary["Redis"].startswith("!"):
        return True, ""
    from redis import asyncio as aioredis

    try:
        client = aioredis.from_url(REDIS_URL, socket_connect_timeout=3)
        await client.ping()
        await client.aclose()
        problem = None
    except Exception as exc:  # any failure means "not reachable"
        problem = str(exc) or type(exc).__name__
    ok, why = await _or_temporary("Redis", REDIS_URL, problem)
    if ok and "Redis" in _temporary:
        REDIS_URL = _temporary["Redis"]
    return ok, why


def redis_url() -> str:
    return REDIS_URL


@dataclass
class Template:
    backend: str
    url: str  # sqlite: a file path; postgres: template database name
    seeded: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _seed(url: str, data_dir: Path) -> dict[str, Any]:
    await anyio.to_thread.run_sync(upgrade, url)
    settings = Settings(database_url=url, data_dir=data_dir, secret_key="test-secret").prepare()
    services = create_services(settings)
    try:
        report = await seed_rehearsal(services, DELEGATES, PASSWORD, progress=lambda _m: None)
    finally:
        await services.db.dispose()
    return {"council_id": report.council_id, "meeting_id": report.meeting_id}


@pytest.fixture(scope="session")
async def template(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Template]:
    folder = tmp_path_factory.mktemp(f"template-{backend}")
    if backend == "sqlite":
        path = folder / "quorum.sqlite3"
        seeded = await _seed(f"sqlite+aiosqlite:///{path}", folder)
        yield Template(backend, str(path), seeded)
        return
    ok, why = await pg_available()
    need("PostgreSQL", ok, why)
    name = f"quorum_tpl_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    seeded = await _seed(pg_url(name), folder)
    try:
        yield Template(backend, name, seeded)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def fresh_database(template: Template, folder: Path) -> tuple[str, str | None]:
    """A database URL holding a copy of the template; and the PG database to drop after."""
    if template.backend == "sqlite":
        target = folder / "quorum.sqlite3"
        shutil.copyfile(template.url, target)
        return f"sqlite+aiosqlite:///{target}", None
    name = f"quorum_t_{uuid.uuid4().hex[:12]}"
    await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template.url}"')
    return pg_url(name), name


@dataclass
class Running:
    base_url: str
    settings: Settings
    services: Services
    council_id: int
    meeting_id: int
    backend: str
    _session: aiohttp.ClientSession
    _clients: list[QuorumClient] = field(default_factory=list)
    app: Any = None  # the ASGI app, when it runs in this process

    async def token(self, username: str, password: str = PASSWORD) -> str:
        return await login(self._session, self.base_url, username, password)

    async def http(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        async with self._session.request(
            method, self.base_url + path, headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            if response.content_type == "application/json" and raw:
                import json

                return response.status, json.loads(raw), response.headers
            return response.status, raw, response.headers

    async def client(self, username: str, password: str = PASSWORD) -> QuorumClient:
        client = QuorumClient(self.base_url, await self.token(username, password))
        await client.connect()
        self._clients.append(client)
        return client

    async def close(self) -> None:
        """Disconnect the protocol clients made here and close the HTTP session."""
        for client in self._clients:
            await client.disconnect()
        await self._session.close()


def server_settings(url: str, data_dir: Path) -> Settings:
    """The settings of every test server: small limits so tests can reach them."""
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="test-secret",
        max_upload_mb=5,
        login_attempts=5,
        command_rate=50,
        command_burst=100,
    ).prepare()


async def start_uvicorn(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Start `app` under uvicorn on an ephemeral loopback port in the running loop."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        # as `quorum serve`: a connection a test left open (a page of a context still closing)
        # held the session's web app server 30 s at the end of a full run
        timeout_graceful_shutdown=5,
    )
    uv = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return uv, task, uv.servers[0].sockets[0].getsockname()[1]


# uvicorn closes a keep-alive connection idle for 5 s. A client keeping it longer (aiohttp: 15 s)
# can send a request on it just as the server closes it, and get "Server disconnected" (seen
# once in CI, in an e2e test that uploaded after 5 s of screenshots). The tests' HTTP sessions
# let an idle connection go well before the server does.
CLIENT_KEEPALIVE_S = 2.0


def http_session() -> aiohttp.ClientSession:
    """The tests' HTTP session to a test server (`CLIENT_KEEPALIVE_S`)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEPALIVE_S)
    )


@pytest.fixture
async def server(template: Template, tmp_path: Path) -> AsyncIterator[Running]:
    url, pg_name = await fresh_database(template, tmp_path)
    settings = server_settings(url, tmp_path)
    app = create_asgi_app(settings)
    uv, task, port = await start_uvicorn(app)
    session = http_session()
    running = Running(
        f"http://127.0.0.1:{port}",
        settings,
        _services_of(app),
        template.seeded["council_id"],
        template.seeded["meeting_id"],
        template.backend,
        session,
        app=app,
    )
    try:
        yield running
    finally:
        await running.close()
        uv.should_exit = True
        await task
        if pg_name:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _services_of(app: Any) -> Services:
    services: Services = app.quorum_services
    return services
