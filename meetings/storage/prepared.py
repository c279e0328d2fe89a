"""Hot statements run on SQLite's driver without SQLAlchemy's execution layer
(docs/ARCHITECTURE.md, "Storage").

`session.execute` of a Core statement built once still costs the event loop 0.15–0.2 ms around
SQLite's own 15 µs: the cache key, the compiled form looked up, the execution context, the
result object and its rows (measured on the meeting's `UPDATE … RETURNING` of its next event
seq, 2,000 times in one transaction; the same statement here: 15–30 µs). A province voting at
once runs thousands of such statements a minute: each ballot batch's two reads, each command's
event seq and audit head, each open poll's quorum and progress. `rows(session, statement,
params)` compiles the statement once per dialect, binds the parameters in order with their
types' processors, runs it in one trip on the session's connection, inside its transaction
(`OneTripConnection`), and applies the result columns' processors: the same rows, as plain
tuples. The session's pending changes are flushed first, as `session.execute` does, so the
statement sees them.

Only statements built once (module-level or `functools.cache`) belong here: the compiled form is
kept by the statement's identity, with the values of its literal parameters. `IN` lists go as
one parameter (`meetings.storage.lists.in_list`); an expanding `in_()` is refused
(`ValueError`), on every backend. On PostgreSQL, or on a connection that is not a
`OneTripConnection`, the statement goes through `session.execute` as any other. A database error
is raised as SQLAlchemy would raise it (`OperationalError`, `IntegrityError`, …).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.storage.sqlite_driver import OneTripConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Prepared:
    statement: Any  # held, so the id in the cache key is never reused
    compiled: Any
    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...] | None  # None when no column needs one
    returns_rows: bool


_prepared: dict[tuple[int, str], _Prepared] = {}


def _prepare(dialect: Dialect, statement: Any) -> _Prepared:
    key = (id(statement), dialect.name)
    found = _prepared.get(key)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params:
        raise ValueError("an expanding IN list: pass the list as one parameter (in_list)")
    names = tuple(compiled.positiontup or ())
    binds = tuple(compiled.binds[n].type._cached_bind_processor(dialect) for n in names)
    results = tuple(
        column.type._cached_result_processor(dialect, None)
        for column in compiled._result_columns
    )
    found = _prepared[key] = _Prepared(
        statement,
        compiled,
        str(compiled),
        names,
        binds,
        results if any(p is not None for p in results) else None,
        bool(results),
    )
    return found


_DRIVER = "quorum.prepared.driver"


async def one_trip_driver(session: AsyncSession) -> OneTripConnection | None:
    """The session's SQLite connection (None on PostgreSQL), kept in `session.info` for the rest
    of its transaction: asking the session for it again costs two greenlet switches, half of
    what a statement here costs. Also the commit's one trip (`meetings/storage/writes.py`)."""
    kept = session.info.get(_DRIVER)
    if kept is not None and kept[0] is session.sync_session.get_transaction():
        driver: OneTripConnection | None = kept[1]
        return driver
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found = raw.driver_connection
    driver = found if isinstance(found, OneTripConnection) else None
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


async def rows(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Sequence[Sequence[Any]]:
    """The rows `statement` returns with `params`, in the session's transaction (module
    docstring); [] for a statement that returns none."""
    driver = await one_trip_driver(session)
    prepared = _prepare(session.get_bind().dialect, statement)
    if driver is None:
        result = await session.execute(statement, params or {})
        return result.all() if prepared.returns_rows else []
    sync = session.sync_session
    if sync.autoflush and (sync.new or sync.dirty or sync.deleted):
        await session.flush()  # as `session.execute` would: the statement sees the changes
    values = prepared.compiled.construct_params(params or {})
    args = tuple(
        values[name] if p is None else p(values[name])
        for name, p in zip(prepared.names, prepared.binds, strict=True)
    )
    cursor = driver.cursor()
    try:
        await cursor.execute(prepared.sql, args)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(prepared.sql, args, exc, sqlite3.Error) from exc
    found = await cursor.fetchall()
    processors = prepared.results
    if processors is None:
        return found
    return [
        tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))
        for row in found
    ]
