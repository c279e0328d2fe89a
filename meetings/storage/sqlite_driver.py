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

Everything else stays aiosqlite's: the thread per connection (SQLite's waits for a lock, its
checkpoints and long queries never block the event loop), commit, rollback, close. Rows are
read in full, which is what SQLAlchemy's adapter did already (it fetched every row at
execute); server-side cursors are not offered (`stream()` is not used on SQLite).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_Answer = tuple[Any, int, int | None, list[Any]]


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
        conn = connection._conn  # the sqlite3 connection, used on its thread only
        begin, connection.pending_begin = connection.pending_begin, None
        answer: _Answer = await connection._execute(  # type: ignore[no-untyped-call]
            _run, conn, begin, many, sql, parameters
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
    """aiosqlite's connection whose cursors make one trip to its thread per statement."""

    pending_begin: str | None = None
    """The transaction's `BEGIN` or `BEGIN IMMEDIATE`, sent with its first statement."""

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
        begin, self.pending_begin = self.pending_begin, None
        await self._execute(_run_steps, self._conn, begin, steps, commit)  # type: ignore[no-untyped-call]

    async def commit(self) -> None:
        self.pending_begin = None
        # no trip when there is nothing to end: the pool ends every checkout with a rollback,
        # most often after the session's own
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().commit()

    async def rollback(self) -> None:
        self.pending_begin = None
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


def one_trip_creator(path: str) -> Callable[[], Any]:
    """`async_creator` for `create_async_engine`: a connection to the database file `path`,
    opened as SQLAlchemy's aiosqlite dialect would open it."""
    connector = partial(sqlite3.connect, path, check_same_thread=False)

    async def create() -> OneTripConnection:
        connection = OneTripConnection(connector, iter_chunk_size=64)
        await connection  # starts its thread and opens the file there
        return connection

    return create
