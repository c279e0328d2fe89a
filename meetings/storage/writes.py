"""Rows written at the commit, with the commit (docs/ARCHITECTURE.md, "Storage").

A unit of work knows some of its rows in full only at its end: the meeting events it emitted,
its audit entries and the new audit head, the idempotency key with the command's answer, a
ballot batch's votes. On SQLite each statement is a trip to the connection's thread and back
through the event loop, and under a province's load every trip waits for a busy loop: these
writes and the `COMMIT` go in ONE trip (`OneTripConnection.run_steps`), compiled once per
statement shape. On PostgreSQL they are executed one by one, compiled the same way, on asyncpg
in the session's transaction (`prepared.pg_run`: a third of the CPU of `session.execute` per
statement), then committed.

Only Core INSERT and UPDATE statements built once (with bind parameters) are written this way;
their rows are complete dicts. A failure raises the error SQLAlchemy would have raised (an
`IntegrityError` for a duplicate key), and the transaction is left for the caller to roll back.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.storage import prepared


@dataclass(frozen=True)
class Rows:
    """Rows for one statement (built once: its compiled form is kept by its identity)."""

    statement: Any
    rows: list[dict[str, Any]]


def core_table(model: Any) -> Table:
    """A model's Core table, for statements without the ORM's unit of work or bulk layers."""
    table: Table = model.__table__
    return table


@functools.cache
def insert_into(table: Table) -> Insert:
    """The INSERT of a table, built once."""
    return insert(table)


@dataclass(frozen=True)
class _Compiled:
    statement: Any  # held, so the id in the cache key is never reused
    sql: str
    names: tuple[str, ...]
    processors: tuple[Any, ...]


_compiled: dict[tuple[int, str, tuple[str, ...]], _Compiled] = {}


def _compile(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Compiled:
    cache_key = (id(statement), dialect.name, keys)
    found = _compiled.get(cache_key)
    if found is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = tuple(compiled.positiontup or ())
        processors = tuple(compiled.binds[n].type._cached_bind_processor(dialect) for n in names)
        found = _compiled[cache_key] = _Compiled(statement, str(compiled), names, processors)
    return found


def _step(dialect: Dialect, write: Rows) -> tuple[str, bool, Any]:
    compiled = _compile(dialect, write.statement, tuple(write.rows[0]))
    pairs = tuple(zip(compiled.names, compiled.processors, strict=True))
    params = [
        tuple(row[name] if p is None else p(row[name]) for name, p in pairs) for row in write.rows
    ]
    if len(params) == 1:
        return compiled.sql, False, params[0]
    return compiled.sql, True, params


async def write_and_commit(session: AsyncSession, writes: list[Rows]) -> None:
    """The session's pending ORM changes, then `writes` in order, then the commit."""
    writes = [w for w in writes if w.rows]
    await session.flush()
    sqlite, postgres = await prepared.drivers(session) if writes else (None, None)
    dialect = session.get_bind().dialect
    if sqlite is None:
        for write in writes:
            if postgres is not None:
                sql, many, params = _step(dialect, write)
                await prepared.pg_run(postgres, dialect, sql, params, many=many)
            else:
                await session.execute(
                    write.statement, write.rows[0] if len(write.rows) == 1 else write.rows
                )
        await session.commit()
        return
    steps = [_step(dialect, w) for w in writes]
    try:
        await sqlite.run_steps(steps, commit=True)
    except sqlite3.Error as exc:
        failed = getattr(exc, "quorum_step", None)
        sql, _many, params = steps[failed] if failed is not None else ("COMMIT", False, ())
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
    await session.commit()  # ends SQLAlchemy's side: the database's transaction has ended
