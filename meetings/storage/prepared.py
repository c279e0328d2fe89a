"""Hot statements run on the driver (SQLite's, asyncpg) without SQLAlchemy's execution layer
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
(`ValueError`), on every backend.

On PostgreSQL the same holds, on asyncpg: the statement is prepared once per connection in
the prepared-statement cache SQLAlchemy's asyncpg adapter keeps, and run in the transaction
the adapter begins, under its lock, as its own cursor does (`pg_run`): 55 µs
of the worker's CPU a statement against 155 µs through `session.execute`; each ballot batch's
transaction is a handful of statements, and a capped worker carried a third more ballots a
second (docs/performance-journal.md, "A province on one server"). The adapter's lock, transaction,
statement cache and error translation are not public API: `tests/integration/platform/
test_prepared.py` runs on both backends and fails if a new SQLAlchemy changes them. A
database error is raised as SQLAlchemy would raise it (`OperationalError`, `IntegrityError`,
…), with the driver's `sqlstate` on its `orig`.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
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
        column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
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


async def drivers(
    session: AsyncSession,
) -> tuple[OneTripConnection | None, AsyncAdapt_asyncpg_connection | None]:
    """The session's SQLite connection or its asyncpg adapter (the other one None), kept in
    `session.info` for the rest of its transaction: asking the session for it again costs two
    greenlet switches, half of what a statement here costs. Also the commit's writes
    (`meetings/storage/writes.py`)."""
    kept = session.info.get(_DRIVER)
    transaction = session.sync_session.get_transaction()
    if kept is not None and transaction is not None and kept[0]() is transaction:
        return kept[1], kept[2]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found, adapter = raw.driver_connection, raw.dbapi_connection
    sqlite = found if isinstance(found, OneTripConnection) else None
    postgres = adapter if isinstance(adapter, AsyncAdapt_asyncpg_connection) else None
    # the transaction by a weak reference: it refers to the session, and a strong one here
    # made every session that ran a statement this way a reference cycle of about 40 objects
    # (the session, its transaction, its connection and their event dispatchers), freed only
    # by the garbage collector (docs/performance-journal.md, "A province on one server")
    transaction = session.sync_session.get_transaction()
    if transaction is not None:
        session.info[_DRIVER] = (weakref.ref(transaction), sqlite, postgres)
    return sqlite, postgres


async def pg_run(
    adapter: AsyncAdapt_asyncpg_connection, dialect: Dialect, sql: str, args: Any, many: bool
) -> Any:
    """`sql` on the adapter's connection with positional `args` (`many`: a list of them, run by
    asyncpg's executemany; no rows), in the transaction the adapter begins (as its cursor
    does), under its lock; asyncpg's errors translated as SQLAlchemy translates them."""
    adapter_: Any = adapter  # its lock, transaction and cache are not typed API
    error_class = adapter_.dbapi.Error
    try:
        async with adapter_._execute_mutex:
            try:
                if many:
                    await adapter_._check_type_cache_invalidation(
                        dialect._invalidate_schema_cache_asof  # type: ignore[attr-defined]
                    )
                if adapter_._transaction is None:
                    await adapter_._start_transaction()
                if many:
                    await adapter_._connection.executemany(sql, args)
                    return []
                statement, _attributes = await adapter_._prepare(
                    sql,
                    dialect._invalidate_schema_cache_asof,  # type: ignore[attr-defined]
                )
                return await statement.fetch(*args)
            except error_class:
                raise
            except Exception as error:  # asyncpg's own: raised again as the adapter's
                adapter_._handle_exception(error)
    except error_class as exc:
        raise DBAPIError.instance(sql, args, exc, error_class) from exc


async def rows(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Sequence[Sequence[Any]]:
    """The rows `statement` returns with `params`, in the session's transaction (module
    docstring); [] for a statement that returns none."""
    sqlite, postgres = await drivers(session)
    dialect = session.get_bind().dialect
    prepared = _prepare(dialect, statement)
    if sqlite is None and postgres is None:
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
    found: Sequence[Sequence[Any]]
    if postgres is not None:
        found = await pg_run(postgres, dialect, prepared.sql, args, many=False)
    else:
        assert sqlite is not None
        cursor = sqlite.cursor()
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
