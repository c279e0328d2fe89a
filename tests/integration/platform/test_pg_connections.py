"""The PostgreSQL pool hands out no dead connection, and pays no round trip for checking a
connection it handed out moments ago (meetings/storage/db.py, `_check_on_checkout`;
docs/ARCHITECTURE.md, "Storage"). PostgreSQL only: SQLite's connections are files."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from meetings.config import Settings
from meetings.services.assembly import create_services
from meetings.storage import db as db_module
from meetings.storage.db import Database
from tests.conftest import PG_ADMIN, need, pg_admin, pg_available, pg_url


@pytest.fixture
async def database() -> AsyncIterator[tuple[Database, str]]:
    ok, why = await pg_available()
    need("PostgreSQL", ok, why)
    name = f"quorum_conn_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    db = Database(pg_url(name), pool_size=2, pool_overflow=0)
    try:
        yield db, name
    finally:
        await db.dispose()
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pings sent (the asyncpg adapter's own, which the checkout check calls)."""
    sent: list[int] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self: Any) -> None:
        sent.append(1)
        ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return sent


async def _backend_pid(db: Database) -> int:
    async with db.writer() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(name: str) -> int:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        )
    finally:
        await conn.close()


async def test_a_connection_used_moments_ago_is_handed_out_without_a_ping(
    database: tuple[Database, str], pings: list[int]
) -> None:
    db, _name = database
    first = await _backend_pid(db)
    for _ in range(5):
        assert await _backend_pid(db) == first  # the same pooled connection
    assert pings == []


async def test_a_burst_wider_than_the_pool_waits_for_its_connections(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    """With the default settings, thrice as many transactions at once as the pool holds run
    on the pool's own connections, twice over: none is opened for a burst and closed after it.
    Ten connections past a pool of ten did just that under a province's vote: 107 to 126
    PostgreSQL backends started and ended in one benchmark run of two workers against 22,
    each a process for PostgreSQL and every hot statement prepared again on it
    (docs/performance-journal.md, "A province on one server")."""
    _db, name = database
    settings = Settings(data_dir=tmp_path, database_url=pg_url(name)).prepare()
    services = create_services(settings)
    db = services.db

    async def slow() -> int:
        async with db.writer() as session:
            found = await session.execute(text("SELECT pg_backend_pid(), pg_sleep(0.02)"))
            return int(found.one()[0])

    try:
        width = 3 * settings.db_pool_size
        first = set(await asyncio.gather(*(slow() for _ in range(width))))
        second = set(await asyncio.gather(*(slow() for _ in range(width))))
        assert len(first) == settings.db_pool_size
        assert second == first
    finally:
        await db.dispose()


async def test_a_connection_idle_for_long_is_pinged_first(
    database: tuple[Database, str], pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _name = database
    first = await _backend_pid(db)
    monkeypatch.setattr(db_module, "IDLE_PING_S", 0.05)
    await asyncio.sleep(0.1)
    assert await _backend_pid(db) == first  # alive: pinged, then used
    assert pings == [1]


@pytest.mark.parametrize("idle", [False, True], ids=["used-moments-ago", "idle"])
async def test_a_connection_the_server_closed_is_replaced_unseen(
    database: tuple[Database, str],
    pings: list[int],
    monkeypatch: pytest.MonkeyPatch,
    idle: bool,
) -> None:
    """A restart or a terminated backend: the next session gets a new connection and its
    statement succeeds; the caller sees no error."""
    db, name = database
    first = await _backend_pid(db)
    assert await _terminate(name) == 1
    await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled socket
    if idle:
        monkeypatch.setattr(db_module, "IDLE_PING_S", 0.05)
    second = await _backend_pid(db)
    assert second != first
    assert pings == []  # known closed without asking


async def test_a_connection_that_does_not_answer_its_ping_is_replaced(
    database: tuple[Database, str], pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network that dropped an idle connection without a word: the socket looks open, the
    ping fails, and the pool hands out a new connection instead."""
    db, _name = database
    first = await _backend_pid(db)
    ping = AsyncAdapt_asyncpg_connection.ping

    def silent(self: Any) -> None:
        pings.append(1)
        raise OSError("no answer")

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", silent)
    monkeypatch.setattr(db_module, "IDLE_PING_S", 0.05)
    await asyncio.sleep(0.1)
    second = await _backend_pid(db)
    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", ping)
    assert second != first
    assert pings == [1]
