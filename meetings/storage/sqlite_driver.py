"""SQLite connections for SQLAlchemy's aiosqlite dialect that cost one thread trip per statement
(docs/ARCHITECTURE.md, "Storage").

aiosqlite runs each connection in a thread of its own and the event loop hands it work one call
at a time. SQLAlchemy's adapter makes four such calls for every statement: open a cursor,
execute, fetch the rows, close the cursor. Each trip wakes the connection's thread, then wakes
the event loop again with the answer; with a province voting at once (issue 16) those wake-ups,
not SQLite, were most of the database's cost. `OneTripConnection` is aiosqlite's connection
with a cursor that does all four in one trip: the statement runs, its rows are read and the
SQLite cursor is closed on the connection's thread, and the rows are handed back at once. A
transaction's `BEGIN` rides along with its first statement.

The one writer connection goes further: its transactions run on the event loop's own thread.
Every statement of a write transaction holds SQLite's only writer, and each trip to a thread
costs the transaction two turns of the event loop; with a province voting at once, a turn is
a few milliseconds, so a chair's command of five statements held the writer for 15 ms while
using 4 ms of CPU, and commands queued for half a second behind each other (issue 16). Run on
the loop's thread, a transaction holds the writer for the time it computes, and nothing else:

- `BEGIN IMMEDIATE` is tried without waiting (the connection's busy timeout is 0). If another
  process holds SQLite's write lock (the `quorum` command line, a backup, a checkpoint that
  truncates the WAL), the statement goes to the connection's thread instead, which waits for
  the lock for up to 10 s as before, and the transaction goes on there.
- A statement that carries a lot of data (`HEAVY_BYTES` of text, or `HEAVY_ROWS` rows, as a
  large PDF's page texts indexed for search) runs on the thread, so that the loop never waits
  for it; the rest of its transaction follows it there.
- The writer does not checkpoint the WAL at its commits (a checkpoint writes the WAL back into
  the database file and syncs it to disk); a thread does it, on a connection of its own, once
  the WAL has grown past `CHECKPOINT_BYTES`. Commits write to the WAL only, with no sync to the
  disk (`synchronous=NORMAL`): a commit survives a crash of the process, as before.

Readers stay on their threads: a long query, as a search, never blocks the event loop. Rows
are read in full, which is what SQLAlchemy's adapter did already (it fetched every row at
execute); server-side cursors are not offered (`stream()` is not used on SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from functools import partial
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_Answer = tuple[Any, int, int | None, list[Any]]

HEAVY_BYTES = 256 * 1024
"""A statement whose text parameters add up to more runs on the connection's thread."""
HEAVY_ROWS = 5000
"""So does an `executemany` of more rows, or a commit's steps of more rows in all."""
CHECKPOINT_BYTES = 4 * 1024 * 1024
"""The WAL's size past which a thread checkpoints it (SQLite's own default: 1,000 pages)."""
CHECK_EVERY = 64
"""The writer looks at the WAL's size every this many commits."""
WAIT_MS = 10_000
"""How long a statement sent to the thread waits for another process's write lock."""


def _run(
    conn: sqlite3.Connection, begin: str | None, many: bool, sql: str, parameters: Any
) -> _Answer:
    """On the connection's thread: the transaction's BEGIN if it is the first statement, the
    statement, its rows, and the cursor closed."""
    if begin is not None:
        conn.execute(begin).close()
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_steps(
    conn: sqlite3.Connection, begin: str | None, steps: list[tuple[str, bool, Any]], commit: bool
) -> None:
    """On the connection's thread: several statements (rows unread), then the commit. A failing
    statement's index is kept on the error; the transaction is left open to be rolled back."""
    if begin is not None:
        conn.execute(begin).close()
    for index, (sql, many, parameters) in enumerate(steps):
        try:
            (conn.executemany if many else conn.execute)(sql, parameters).close()
        except sqlite3.Error as exc:
            exc.quorum_step = index  # type: ignore[attr-defined]
            raise
    if commit:
        conn.commit()


def _patiently(fn: Callable[..., Any], conn: sqlite3.Connection, *args: Any) -> Any:
    """On the thread of a connection whose busy timeout is 0 (the writer): `fn`, allowed to
    wait for another process's lock."""
    conn.execute(f"PRAGMA busy_timeout={WAIT_MS}").close()
    try:
        return fn(conn, *args)
    finally:
        conn.execute("PRAGMA busy_timeout=0").close()


def _busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _heavy(statements: Iterable[tuple[bool, Any]]) -> bool:
    """Do these statements (`many`, parameters) carry more rows or text than the event loop
    should wait for (`HEAVY_ROWS`, `HEAVY_BYTES`)?"""
    count = size = 0
    for many, parameters in statements:
        rows = parameters if many else (parameters,)
        count += len(rows)
        for row in rows:
            for value in row.values() if isinstance(row, dict) else row:
                if isinstance(value, str | bytes):
                    size += len(value)
    return count > HEAVY_ROWS or size > HEAVY_BYTES


def _checkpoint(path: str) -> None:
    """On a thread: write the WAL back into the database file, without waiting for anyone."""
    with closing(sqlite3.connect(path, timeout=0)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _answer(self, many: bool, sql: str, parameters: Any) -> OneTripCursor:
        connection = self._connection
        answer: _Answer = await connection.call(
            _run, many, sql, parameters, heavy=connection.inline and _heavy([(many, parameters)])
        )
        self.description, self.rowcount, self.lastrowid, self._rows = answer
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        return await self._answer(False, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        return await self._answer(True, sql, list(parameters))

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        rows, self._rows = self._rows[:n], self._rows[n:]
        return rows

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors make one trip to its thread per statement; the
    writer's (`inline`) run on the caller's thread (module docstring)."""

    pending_begin: str | None = None
    """The transaction's `BEGIN` or `BEGIN IMMEDIATE`, sent with its first statement."""
    inline = False
    path = ""
    _on_thread = False
    """The open transaction has been to the connection's thread (it waited for the write lock,
    or ran a heavy statement there) and goes on there."""
    _commits = 0
    _checkpointing: asyncio.Future[None] | None = None

    async def call(
        self, fn: Callable[..., Any], *args: Any, heavy: bool = False
    ) -> Any:
        """`fn(conn, begin, *args)`, with the transaction's pending `BEGIN`: on this thread
        for the writer when it can (module docstring), else on the connection's thread."""
        begin, self.pending_begin = self.pending_begin, None
        conn = self._conn
        if not self.inline:
            return await self._execute(fn, conn, begin, *args)  # type: ignore[no-untyped-call]
        if begin is not None:
            self._on_thread = False
            try:
                conn.execute(begin).close()
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                log.info("another process holds the SQLite write lock: waiting on a thread")
                self._on_thread = True
                return await self._execute(_patiently, fn, conn, begin, *args)  # type: ignore[no-untyped-call]
        if not conn.in_transaction:  # outside a transaction: may wait for a lock
            return await self._execute(_patiently, fn, conn, None, *args)  # type: ignore[no-untyped-call]
        if self._on_thread or heavy:
            # the rest of the transaction follows it there: were the caller cancelled while
            # the thread runs it, the rollback must queue behind it, not run beside it
            self._on_thread = True
            return await self._execute(fn, conn, None, *args)  # type: ignore[no-untyped-call]
        return fn(conn, None, *args)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    def begin(self, sql: str) -> None:
        """Start a transaction (`meetings/storage/db.py` calls this at the start of every one):
        the `BEGIN` goes to the thread with the first statement, in the same trip, so a
        transaction costs no trip of its own. A transaction that runs no statement never
        begins, and its commit or rollback makes no trip either."""
        self.pending_begin = sql

    async def run_steps(self, steps: list[tuple[str, bool, Any]], commit: bool) -> None:
        """Statements whose rows are not read, and the commit if `commit`, in one trip
        (`meetings/storage/writes.py`)."""
        heavy = self.inline and _heavy((many, parameters) for _sql, many, parameters in steps)
        await self.call(_run_steps, steps, commit, heavy=heavy)
        if commit:
            self._committed()

    async def commit(self) -> None:
        self.pending_begin = None
        # no trip when there is nothing to end: the pool ends every checkout with a rollback,
        # most often after the session's own
        if self._connection is not None and not self._connection.in_transaction:
            return
        if self.inline and not self._on_thread:
            self._conn.commit()
            self._committed()
            return
        await super().commit()
        self._committed()

    async def rollback(self) -> None:
        self.pending_begin = None
        if self._connection is not None and not self._connection.in_transaction:
            return
        if self.inline and not self._on_thread:
            self._conn.rollback()
            return
        await super().rollback()

    def _committed(self) -> None:
        """The writer checkpoints the WAL on a thread once it has grown (module docstring)."""
        if not self.inline:
            return
        self._commits += 1
        if self._commits % CHECK_EVERY or self._checkpointing is not None:
            return
        try:
            size = os.stat(self.path + "-wal").st_size
        except OSError:
            return
        if size > CHECKPOINT_BYTES:
            self._checkpointing = asyncio.ensure_future(asyncio.to_thread(_checkpoint, self.path))
            self._checkpointing.add_done_callback(self._checkpointed)

    def _checkpointed(self, job: asyncio.Future[None]) -> None:
        self._checkpointing = None
        exc = None if job.cancelled() else job.exception()
        if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
            # another connection was checkpointing or held a lock it needs: nothing is lost,
            # the WAL is looked at again CHECK_EVERY commits later
            log.debug("the WAL checkpoint was put off: %s", exc)
        elif exc is not None:
            log.warning("the WAL checkpoint failed: %s", exc)


def one_trip_creator(path: str, *, inline: bool = False) -> Callable[[], Any]:
    """`async_creator` for `create_async_engine`: a connection to the database file `path`,
    opened as SQLAlchemy's aiosqlite dialect would open it; `inline` for the writer."""
    connector = partial(sqlite3.connect, path, check_same_thread=False)

    async def create() -> OneTripConnection:
        connection = OneTripConnection(connector, iter_chunk_size=64)
        await connection  # starts its thread and opens the file there
        connection.inline, connection.path = inline, path
        return connection

    return create
