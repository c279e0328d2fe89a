"""A stopping worker removes its presence rows, but does not wait on a busy database for the
pool's timeout (realtime/presence.py). Both backends."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.services.sitting import presence as presence_rows
from realtime.presence import Presence
from tests.conftest import Running


async def test_a_stopping_worker_removes_its_rows(server: Running) -> None:
    presence = Presence(server.services)
    presence.joined("sid-1", 7, server.meeting_id)
    await presence.flush()
    assert (await presence_rows.read(server.services, server.meeting_id))["users"].get("7") == 1
    await presence.stop()
    assert "7" not in (await presence_rows.read(server.services, server.meeting_id))["users"]


async def test_a_stopping_worker_gives_up_on_a_busy_database_within_its_bound(
    server: Running,
) -> None:
    """Every connection the writer's pool may hand out is held: the removal waits for one, and
    gives up after `retire_within` instead of the pool's timeout (60 s on SQLite, 30 s on
    PostgreSQL). The rows stay for the heartbeat timeout to clear."""
    presence = Presence(server.services)
    presence.retire_within = 0.5
    presence.joined("sid-1", 7, server.meeting_id)
    await presence.flush()
    db, settings = server.services.db, server.settings
    width = 1 if db.sqlite else settings.db_pool_size + settings.db_pool_overflow
    held: list[AsyncSession] = []
    try:
        for _ in range(width):
            session = db.writer()
            held.append(session)
            await session.connection()
        started = time.monotonic()
        await presence.stop()
        took = time.monotonic() - started
    finally:
        for session in held:
            await session.close()
    assert 0.4 < took < 3, f"stopping took {took:.1f} s"
    assert (await presence_rows.read(server.services, server.meeting_id))["users"].get("7") == 1
