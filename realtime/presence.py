"""Presence: which members have a device joined to a meeting (docs/PROTOCOL.md,
"`update` (volatile, not stored)").

Presence (devices connected) is not attendance (checked in). Each worker counts its own joined
connections in memory and, at most every `interval` seconds, flushes what changed to the
`presence` table together with a heartbeat. The flush bumps the meeting's row in
`presence_versions` (locking it, so flushes of one meeting are serialised across workers), reads
the total over all workers in the same transaction and, after commit, pushes one coalesced
volatile `presence` update to the meeting's chair and display rooms. Clients keep the update with
the highest `version`. Rows of a worker whose heartbeat is older than `stale_after` seconds (a
crashed process) are dropped by whichever worker notices first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.events import VolatileOut
from meetings.services.context import Services
from meetings.storage.tables import PresenceRow, PresenceVersion, PresenceWorker, utcnow

log = logging.getLogger("quorum.presence")


@dataclass
class Connection:
    user_id: int
    meetings: set[int] = field(default_factory=set)


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


class Presence:
    def __init__(
        self,
        services: Services,
        *,
        interval: float = 0.5,
        heartbeat: float = 5.0,
        stale_after: float = 30.0,
    ) -> None:
        self.services = services
        self.interval = interval
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._connections: dict[str, Connection] = {}
        self._counts: dict[tuple[int, int], int] = {}
        self._dirty: set[tuple[int, int]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_beat = 0.0

    # -- in memory, called by the namespace ------------------------------------------------
    def joined(self, sid: str, user_id: int, meeting_id: int) -> None:
        conn = self._connections.setdefault(sid, Connection(user_id))
        if meeting_id in conn.meetings:
            return
        conn.meetings.add(meeting_id)
        self._change((meeting_id, user_id), +1)

    def left(self, sid: str, meeting_id: int) -> None:
        conn = self._connections.get(sid)
        if conn is None or meeting_id not in conn.meetings:
            return
        conn.meetings.discard(meeting_id)
        self._change((meeting_id, conn.user_id), -1)

    def disconnected(self, sid: str) -> None:
        conn = self._connections.pop(sid, None)
        if conn is not None:
            for meeting_id in conn.meetings:
                self._change((meeting_id, conn.user_id), -1)

    def _change(self, key: tuple[int, int], delta: int) -> None:
        count = self._counts.get(key, 0) + delta
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)
        self._dirty.add(key)
        self._wake.set()

    # -- lifespan hooks ---------------------------------------------------------------------
    async def start(self, _services: Services | None = None) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="presence")

    async def stop(self, _services: Services | None = None) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await self._retire()
        except Exception:  # shutting down: the heartbeat timeout cleans up for us
            log.warning("could not remove this worker's presence rows", exc_info=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with asyncio.timeout(self.heartbeat):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush(beat=loop.time() - self._last_beat >= self.heartbeat)
            except Exception:
                log.exception("presence flush failed; retrying")
            await asyncio.sleep(self.interval)  # coalesce: at most one flush per interval

    # -- database ---------------------------------------------------------------------------
    async def flush(self, *, beat: bool = True) -> set[int]:
        """Write this worker's changes (and heartbeat); push totals of changed meetings."""
        dirty, self._dirty = self._dirty, set()
        if not dirty and not beat:
            return set()
        try:
            return await self._flush(dirty)
        except BaseException:
            self._dirty |= dirty  # try again next time
            raise

    async def _flush(self, dirty: set[tuple[int, int]]) -> set[int]:
        now = utcnow()
        self._last_beat = asyncio.get_running_loop().time()
        changed: set[int] = set()
        async with self.services.uow() as uow:
            session = uow.session
            await self._upsert(
                session,
                PresenceWorker,
                {"worker_id": self.worker_id, "started_at": now},
                ["worker_id"],
                {"heartbeat_at": now},
            )
            users: dict[int, list[int]] = {}
            for meeting_id, user_id in sorted(dirty):
                users.setdefault(meeting_id, []).append(user_id)
            for meeting_id, ids in users.items():
                changed.add(meeting_id)
                await self._rewrite(session, meeting_id, ids)
            changed |= await self._drop_stale(session, now)
            for meeting_id in sorted(changed):
                await self._push(uow.volatile, session, meeting_id)
            await uow.commit()
        return changed

    async def _rewrite(self, session: AsyncSession, meeting_id: int, user_ids: list[int]) -> None:
        """Replace this worker's rows of these members: one DELETE per 500 members and one
        multi-row INSERT, not two statements per member (2,000 tablets join within seconds)."""
        for start in range(0, len(user_ids), 500):
            await session.execute(
                delete(PresenceRow).where(
                    col(PresenceRow.worker_id) == self.worker_id,
                    col(PresenceRow.meeting_id) == meeting_id,
                    col(PresenceRow.user_id).in_(user_ids[start : start + 500]),
                )
            )
        rows = [
            {
                "worker_id": self.worker_id,
                "meeting_id": meeting_id,
                "user_id": user_id,
                "devices": devices,
            }
            for user_id in user_ids
            if (devices := self._counts.get((meeting_id, user_id), 0))
        ]
        if rows:
            await session.execute(insert(PresenceRow), rows)

    async def _drop_stale(self, session: AsyncSession, now: Any) -> set[int]:
        cutoff = now - timedelta(seconds=self.stale_after)
        stale = list(
            (
                await session.execute(
                    select(col(PresenceWorker.worker_id)).where(
                        col(PresenceWorker.heartbeat_at) < cutoff
                    )
                )
            ).scalars()
        )
        return await self._drop_workers(session, stale) if stale else set()

    async def _drop_workers(self, session: AsyncSession, workers: list[str]) -> set[int]:
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
        await session.execute(
            delete(PresenceWorker).where(col(PresenceWorker.worker_id).in_(workers))
        )
        return meetings

    async def _push(self, out: list[VolatileOut], session: AsyncSession, meeting_id: int) -> None:
        await self._upsert(
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
        self,
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

    async def _retire(self) -> None:
        async with self.services.uow() as uow:
            changed = await self._drop_workers(uow.session, [self.worker_id])
            for meeting_id in sorted(changed):
                await self._push(uow.volatile, uow.session, meeting_id)
            await uow.commit()
        self._connections.clear()
        self._counts.clear()
        self._dirty.clear()

    async def read(self, meeting_id: int) -> dict[str, Any]:
        async with self.services.db.reading() as session:
            return await read_presence(session, meeting_id)
