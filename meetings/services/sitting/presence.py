"""Presence in the database: every worker's joined devices, summed per meeting (docs/PROTOCOL.md,
"`update` (volatile, not stored)").

`realtime.presence` counts its own connections in memory and calls `flush` with what changed:
this worker's rows of those members are rewritten with its heartbeat, rows of workers whose
heartbeat is older than `stale_after` seconds (a crashed process) are dropped, and each changed
meeting's `presence_versions` row is bumped (locking it, so flushes of one meeting are serialised
across workers) and its total over all workers read in the same transaction; after commit one
coalesced volatile `presence` update goes to the meeting's chair and display rooms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.events import VolatileOut
from meetings.services.context import Services
from meetings.storage.tables import PresenceRow, PresenceVersion, PresenceWorker, utcnow

Counts = Mapping[tuple[int, int], int]
"""Devices joined on this worker, per (meeting, user)."""


async def read_presence(session: AsyncSession, meeting_id: int) -> dict[str, Any]:
    """The meeting's presence over all workers: `{version, users: {user_id: devices}, ...}`."""
    version = await session.scalar(
        select(col(PresenceVersion.version)).where(col(PresenceVersion.meeting_id) == meeting_id)
    )
    rows = await session.execute(
        select(col(PresenceRow.user_id), func.sum(col(PresenceRow.devices)))
        .where(col(PresenceRow.meeting_id) == meeting_id)
        .group_by(col(PresenceRow.user_id))
    )
    users = {str(user_id): int(devices) for user_id, devices in rows.all() if devices}
    return {
        "version": int(version or 0),
        "users": users,
        "online": len(users),
        "devices": sum(users.values()),
    }


async def read(services: Services, meeting_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        return await read_presence(session, meeting_id)


async def flush(
    services: Services,
    worker_id: str,
    counts: Counts,
    dirty: set[tuple[int, int]],
    stale_after: float,
) -> set[int]:
    """Store this worker's changed counts and heartbeat; the meetings whose totals changed."""
    now = utcnow()
    changed: set[int] = set()
    async with services.uow() as uow:
        session = uow.session
        await _upsert(
            session,
            PresenceWorker,
            {"worker_id": worker_id, "started_at": now},
            ["worker_id"],
            {"heartbeat_at": now},
        )
        users: dict[int, list[int]] = {}
        for meeting_id, user_id in sorted(dirty):
            users.setdefault(meeting_id, []).append(user_id)
        for meeting_id, ids in users.items():
            changed.add(meeting_id)
            await _rewrite(session, worker_id, counts, meeting_id, ids)
        changed |= await _drop_stale(session, now - timedelta(seconds=stale_after))
        for meeting_id in sorted(changed):
            await _push(uow.volatile, session, meeting_id)
        await uow.commit()
    return changed


async def retire(services: Services, worker_id: str) -> None:
    """Remove a stopping worker's rows, and tell the meetings it was in."""
    async with services.uow() as uow:
        changed = await _drop_workers(uow.session, [worker_id])
        for meeting_id in sorted(changed):
            await _push(uow.volatile, uow.session, meeting_id)
        await uow.commit()


async def _rewrite(
    session: AsyncSession, worker_id: str, counts: Counts, meeting_id: int, user_ids: list[int]
) -> None:
    """Replace this worker's rows of these members: one DELETE per 500 members and one
    multi-row INSERT, not two statements per member (2,000 tablets join within seconds)."""
    for start in range(0, len(user_ids), 500):
        await session.execute(
            delete(PresenceRow).where(
                col(PresenceRow.worker_id) == worker_id,
                col(PresenceRow.meeting_id) == meeting_id,
                col(PresenceRow.user_id).in_(user_ids[start : start + 500]),
            )
        )
    rows = [
        {
            "worker_id": worker_id,
            "meeting_id": meeting_id,
            "user_id": user_id,
            "devices": devices,
        }
        for user_id in user_ids
        if (devices := counts.get((meeting_id, user_id), 0))
    ]
    if rows:
        await session.execute(insert(PresenceRow), rows)


async def _drop_stale(session: AsyncSession, cutoff: Any) -> set[int]:
    stale = list(
        (
            await session.execute(
                select(col(PresenceWorker.worker_id)).where(
                    col(PresenceWorker.heartbeat_at) < cutoff
                )
            )
        ).scalars()
    )
    return await _drop_workers(session, stale) if stale else set()


async def _drop_workers(session: AsyncSession, workers: list[str]) -> set[int]:
    meetings = set(
        (
            await session.execute(
                select(col(PresenceRow.meeting_id))
                .where(col(PresenceRow.worker_id).in_(workers))
                .distinct()
            )
        ).scalars()
    )
    await session.execute(delete(PresenceRow).where(col(PresenceRow.worker_id).in_(workers)))
    await session.execute(delete(PresenceWorker).where(col(PresenceWorker.worker_id).in_(workers)))
    return meetings


async def _push(out: list[VolatileOut], session: AsyncSession, meeting_id: int) -> None:
    await _upsert(
        session, PresenceVersion, {"meeting_id": meeting_id, "version": 0}, ["meeting_id"], None
    )
    await session.execute(
        update(PresenceVersion)
        .where(col(PresenceVersion.meeting_id) == meeting_id)
        .values(version=PresenceVersion.version + 1)
    )
    data = await read_presence(session, meeting_id)
    for room in ("chair", "display"):
        out.append(VolatileOut(meeting_id, "presence", data, room=room))


async def _upsert(
    session: AsyncSession,
    table: Any,
    values: dict[str, Any],
    keys: list[str],
    on_conflict: dict[str, Any] | None,
) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values, **(on_conflict or {}))
    if on_conflict:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=on_conflict)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    await session.execute(stmt)
