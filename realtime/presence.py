"""Presence: which members have a device joined to a meeting (docs/PROTOCOL.md,
"`update` (volatile, not stored)").

Presence (devices connected) is not attendance (checked in). Each worker counts its own joined
connections in memory and, at most every `interval` seconds, flushes what changed to the
`presence` table together with a heartbeat (`services.sitting.presence`, which also sums the
meeting over all workers and, after commit, pushes one coalesced volatile `presence` update to
the meeting's chair and display rooms). Clients keep the update with the highest `version`. Rows
of a worker whose heartbeat is older than `stale_after` seconds (a crashed process) are dropped
by whichever worker notices first; a stopping worker removes its own, but waits at most
`retire_within` seconds for the database to do so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from meetings.services.context import Services
from meetings.services.sitting import presence as presence_rows

log = logging.getLogger("quorum.presence")


@dataclass
class Connection:
    user_id: int
    meetings: set[int] = field(default_factory=set)


class Presence:
    def __init__(
        self,
        services: Services,
        *,
        interval: float = 0.5,
        heartbeat: float = 5.0,
        stale_after: float = 30.0,
        retire_within: float = 5.0,
    ) -> None:
        self.services = services
        self.interval = interval
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.retire_within = retire_within
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
            # bounded: a worker asked to stop must not wait on a busy or unreachable database
            # for the pool's timeout (30 s and more) before it exits
            async with asyncio.timeout(self.retire_within):
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
        self._last_beat = asyncio.get_running_loop().time()
        return await presence_rows.flush(
            self.services, self.worker_id, self._counts, dirty, self.stale_after
        )

    async def _retire(self) -> None:
        await presence_rows.retire(self.services, self.worker_id)
        self._connections.clear()
        self._counts.clear()
        self._dirty.clear()

    async def read(self, meeting_id: int) -> dict[str, Any]:
        return await presence_rows.read(self.services, meeting_id)
