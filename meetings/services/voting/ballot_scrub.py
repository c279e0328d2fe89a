"""Secret ballots when a poll ends (docs/features/voting.md, "Secrecy"): rewritten at the close,
deleted at a cancel, then the old images of the rows scrubbed from the storage.

Both ends run in the poll's own transaction (`rewrite`, `discard`); `scrub` runs after its
commit. Every way a secret poll ends goes through here, so none leaves a ballot linkable to the
transaction, the order or the page that stored it while the poll was open.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from contextlib import closing

from sqlalchemy import delete, select, text
from sqlmodel import col

from meetings.services.context import Services
from meetings.storage.tables_voting import PollBallot
from meetings.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

HORIZON_WAIT_S = 5.0
"""How long the scrub waits for older transactions to end before vacuuming anyway."""


async def rewrite(uow: UnitOfWork, poll_id: int) -> int | None:
    """Rewrite a secret poll's ballots under fresh random keys in one transaction, so neither
    keys, physical order nor (PostgreSQL) the writing transaction of a row follows the casts.
    Returns what `scrub` needs: the transaction's id on PostgreSQL."""
    rows = (
        await uow.session.execute(
            select(col(PollBallot.receipt), col(PollBallot.choice)).where(
                col(PollBallot.poll_id) == poll_id
            )
        )
    ).all()
    await uow.session.execute(delete(PollBallot).where(col(PollBallot.poll_id) == poll_id))
    fresh = sorted((secrets.token_hex(16), r, c) for r, c in rows)
    uow.session.add_all(PollBallot(id=k, poll_id=poll_id, receipt=r, choice=c) for k, r, c in fresh)
    await uow.session.flush()
    return await _xid(uow)


async def discard(uow: UnitOfWork, poll_id: int) -> int | None:
    """Delete a cancelled secret poll's ballots (never counted, so nothing is lost); who voted
    stays. Returns what `scrub` needs, as `rewrite` does."""
    await uow.session.execute(delete(PollBallot).where(col(PollBallot.poll_id) == poll_id))
    return await _xid(uow)


async def _xid(uow: UnitOfWork) -> int | None:
    if uow.session.get_bind().dialect.name != "postgresql":
        return None
    found = await uow.session.execute(text("SELECT pg_current_xact_id()::text"))
    return int(found.scalar_one())


async def scrub(services: Services, xid: int | None) -> None:
    """Drop the old images of the rows that `rewrite` or `discard` deleted (call it after the
    commit). Best effort: a failure is logged, the command stands.

    SQLite zeroes deleted cells as it writes (`secure_delete`, `storage.db`); what remains is
    the WAL, which holds every page image written since the last checkpoint: it is copied back
    and truncated to nothing. PostgreSQL keeps deleted tuples and their index entries in the
    pages, and a plain vacuum frees their space without overwriting it: `VACUUM FULL` copies
    the live rows into new files. It keeps the rows that an older transaction may still see,
    so it first waits (briefly) for those to end; it locks `poll_ballots` for the milliseconds
    the copy takes, and if it cannot have the lock within 2 s a plain vacuum at least takes
    the old rows out of every query."""
    try:
        if services.db.sqlite:
            await _truncate_wal(services.db.url.split("///", 1)[1])
        else:
            await _vacuum_full(services, xid)
    except Exception as exc:
        log.warning("could not scrub old ballot rows: %s", type(exc).__name__)


async def _truncate_wal(path: str) -> None:
    """`wal_checkpoint(TRUNCATE)`; it waits up to its busy timeout for readers of old
    snapshots, and is tried again a few times if they outlast it."""

    def checkpoint() -> bool:
        with closing(sqlite3.connect(path, timeout=2)) as conn:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return not busy

    for _attempt in range(5):
        if await asyncio.to_thread(checkpoint):
            return
        await asyncio.sleep(0.1)
    log.warning("the WAL is still in use: old ballot images stay until the next checkpoint")


# VACUUM keeps the rows `:x` deleted while either runs:
# - a transaction of ANY database of the server that began before `:x` (has an older
#   transaction id): the oldest transaction still running bounds what VACUUM may remove,
#   whatever database it writes to. A write in another database held a cancelled poll's
#   ballots in the pages through VACUUM FULL (seen with PostgreSQL 15 when test processes ran
#   side by side; `tests/integration/voting/test_secret.py`). The current snapshot's xmin is
#   the oldest transaction still running, whoever's it is, with no privilege needed to see it;
# - a session of THIS database holding a snapshot from before `:x` (a long report, say);
#   other databases' snapshots do not hold this database's rows.
_OLDER = text(
    "SELECT pg_snapshot_xmin(pg_current_snapshot()) <= CAST(CAST(:x AS text) AS xid8)"
    " OR EXISTS (SELECT 1 FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND age(backend_xmin) >= age(CAST(:x32 AS xid)))"
)


async def _vacuum_full(services: Services, xid: int | None) -> None:
    async with services.db.write_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if xid is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + HORIZON_WAIT_S
            while (await conn.execute(_OLDER, {"x": str(xid), "x32": xid % 2**32})).scalar_one():
                if loop.time() > deadline:
                    log.warning("older transactions still run: some old ballot rows may stay")
                    break
                await asyncio.sleep(0.05)
        await conn.execute(text("SET lock_timeout = '2s'"))
        try:
            await conn.execute(text("VACUUM FULL poll_ballots"))
        except Exception as exc:
            log.warning("VACUUM FULL poll_ballots failed (%s)", type(exc).__name__)
            await conn.execute(text("VACUUM poll_ballots"))
        finally:
            await conn.execute(text("RESET lock_timeout"))
