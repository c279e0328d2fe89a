"""Engines and sessions for SQLite (embedded) and PostgreSQL (docs/ARCHITECTURE.md, "Storage").

SQLite runs in WAL mode with one writer connection: every write transaction starts with
`BEGIN IMMEDIATE` on that connection, so writers queue in the process instead of failing
with "database is locked", while readers use their own pool and never wait for writers.
PostgreSQL uses one pool for both; a pooled connection is checked before use without a round
trip when it was in use moments ago, with one when it sat idle (`_check_on_checkout`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from meetings.storage.sqlite_driver import WAIT_MS, OneTripConnection, one_trip_creator


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(*, inline: bool) -> Callable[[Any, Any], None]:
    """The pragmas of every connection. The writer (`inline`) runs its transactions on the
    event loop's thread (sqlite_driver.py): it never waits there for a lock (busy timeout 0: a
    busy `BEGIN` goes to its thread, which waits `WAIT_MS`), and its commits leave the WAL's
    checkpoints to a thread. The others wait for a lock on their own threads."""

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={0 if inline else WAIT_MS}")
        if inline:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        # deleted content is overwritten with zeros, not left in free space (a rewritten or
        # cancelled secret poll's ballots must not survive in the pages: docs/features/voting.md)
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return pragmas


def _create_sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    path = make_url(url).database
    # a database file: connections that make one trip to their thread per statement
    # (meetings/storage/sqlite_driver.py); an in-memory database keeps aiosqlite's own
    extra: dict[str, Any] = (
        {"async_creator": one_trip_creator(path, inline=writer)}
        if path and path != ":memory:"
        else {}
    )
    engine = create_async_engine(
        url,
        **extra,
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 4,
        pool_timeout=60,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(inline=bool(extra) and writer))
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        driver = conn.connection.driver_connection
        if isinstance(driver, OneTripConnection):
            driver.begin(begin)  # sent with the first statement, no SQLAlchemy cursor
        else:
            conn.exec_driver_sql(begin)

    return engine


# a PostgreSQL connection back in the pool for longer than this is pinged before its next use
IDLE_PING_S = 5.0


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Hand out no dead PostgreSQL connection, without a round trip on every checkout.

    SQLAlchemy's `pool_pre_ping` costs three round trips on asyncpg at each checkout (BEGIN,
    an empty query, ROLLBACK): in a vote storm, more than the batch of ballots it precedes.
    Instead: a connection whose socket the server closed (a restart, a terminated backend) is
    known to asyncpg without asking, and is replaced at once; one idle for `IDLE_PING_S` is
    pinged first, for a network that dropped it silently. `DisconnectionError` makes the pool
    discard the connection and hand out a new one."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the database closed this connection")
        since = record.info.pop("idle_since", None)
        if since is not None and time.monotonic() - since > IDLE_PING_S:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("the database did not answer a ping") from exc


class Database:
    """The application's engines. Built by the app factory, disposed at shutdown."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, pool_overflow: int = 10
    ) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.write_engine = _create_sqlite_engine(url, writer=True)
            self.read_engine = _create_sqlite_engine(url, writer=False)
        else:
            self.write_engine = create_async_engine(
                url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=pool_overflow,
            )
            _check_on_checkout(self.write_engine)
            self.read_engine = self.write_engine
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    def writer(self) -> AsyncSession:
        return self._write()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
