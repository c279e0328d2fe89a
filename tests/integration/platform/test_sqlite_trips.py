"""SQLite's trips to the connection's thread (docs/ARCHITECTURE.md, "Storage"): a transaction's
BEGIN goes with its first statement, the rows a unit of work writes at its end go with the
COMMIT in one trip, and a failure there (a duplicate idempotency key) keeps nothing of the
transaction. Observed on a real database file: SQLite's own trace of the statements it ran,
and a count of the trips to the thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from meetings.config import Settings
from meetings.services.assembly import create_services
from meetings.services.context import Services
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage.sqlite_driver import OneTripConnection
from meetings.storage.tables import AuditHead, CommandResult, Meeting, MeetingEvent
from meetings.storage.uow import PendingKey, pending_key
from tests.bench.province_seed import migrate, seed_province


class Watch:
    """What the writer connection sends to SQLite, and how many trips it takes."""

    def __init__(self, driver: OneTripConnection) -> None:
        self.sql: list[str] = []
        self.trips = 0
        driver._conn.set_trace_callback(self.sql.append)
        execute = driver._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.trips += 1
            return await execute(fn, *args, **kwargs)

        driver._execute = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.sql.clear()
        self.trips = 0

    def verbs(self) -> list[str]:
        return [" ".join(s.split()[:3]) for s in self.sql]


@pytest.fixture
async def province(tmp_path: Path) -> AsyncIterator[tuple[Services, int, Watch]]:
    await asyncio.to_thread(migrate, tmp_path)
    seeded = await seed_province(tmp_path, 1, 2, "trips-password-1")
    services = create_services(Settings(data_dir=tmp_path).prepare())
    async with services.uow() as uow:  # the one writer connection, watched from here on
        connection = await uow.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        watch = Watch(driver)
    try:
        yield services, seeded[0].meeting_id, watch
    finally:
        await services.db.dispose()


async def _last_seq(services: Services, meeting_id: int) -> int:
    async with services.db.reading() as session:
        return int(
            (
                await session.execute(select(Meeting.last_seq).where(Meeting.id == meeting_id))
            ).scalar_one()
        )


async def test_a_command_commits_its_rows_in_the_commits_own_trip(
    province: tuple[Services, int, Watch],
) -> None:
    services, meeting_id, watch = province
    seq = await _last_seq(services, meeting_id)
    watch.reset()
    token = pending_key.set(PendingKey(1, "trips-key", "meeting.update"))
    try:
        async with services.uow() as uow:
            event = MeetingStatusChanged(status="published", opened_at=None, closed_at=None)
            await uow.emit(meeting_id, event)
            await uow.audit(None, "trips.test", f"meeting:{meeting_id}")
            await uow.commit(answer={"done": True})
    finally:
        pending_key.reset(token)
    assert watch.verbs() == [
        "BEGIN IMMEDIATE",
        "UPDATE meetings SET",
        "SELECT audit_head.hash, audit_head.count",
        "INSERT INTO meeting_events",
        "INSERT INTO audit_log",
        "UPDATE audit_head SET",
        "INSERT INTO command_results",
        "COMMIT",
    ]
    # the emit, the audit head's read, then everything else and the COMMIT together
    assert watch.trips == 3
    async with services.db.reading() as session:
        stored = (
            await session.execute(
                select(CommandResult.result).where(CommandResult.key == "trips-key")
            )
        ).scalar_one()
        head = (await session.execute(select(AuditHead))).scalar_one()
        event_row = (
            await session.execute(
                select(MeetingEvent).where(
                    MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq == seq + 1
                )
            )
        ).scalar_one()
    assert stored == {"done": True}
    assert event_row.type == "meeting_status_changed" and event_row.data["status"] == "published"
    assert head.count >= 1


async def test_a_duplicate_key_at_the_commit_keeps_nothing_of_the_transaction(
    province: tuple[Services, int, Watch],
) -> None:
    services, meeting_id, watch = province
    for attempt in ("first", "second"):
        token = pending_key.set(PendingKey(1, "same-key", "meeting.update"))
        try:
            async with services.uow() as uow:
                event = MeetingStatusChanged(status=attempt, opened_at=None, closed_at=None)
                await uow.emit(meeting_id, event)
                if attempt == "first":
                    await uow.commit(answer={"attempt": attempt})
                    seq = await _last_seq(services, meeting_id)
                else:
                    with pytest.raises(IntegrityError):
                        await uow.commit(answer={"attempt": attempt})
        finally:
            pending_key.reset(token)
    assert watch.sql[-1] == "ROLLBACK"
    assert await _last_seq(services, meeting_id) == seq  # the second emit's seq rolled back
    async with services.db.reading() as session:
        kinds = (
            await session.execute(
                select(MeetingEvent.data).where(MeetingEvent.meeting_id == meeting_id)
            )
        ).scalars()
        statuses = [d.get("status") for d in kinds]
    assert "first" in statuses and "second" not in statuses
    async with services.uow() as uow:  # the connection goes on working
        await uow.emit(
            meeting_id, MeetingStatusChanged(status="third", opened_at=None, closed_at=None)
        )
        await uow.commit()
    assert await _last_seq(services, meeting_id) == seq + 1


async def test_a_transaction_that_runs_nothing_costs_no_trip(
    province: tuple[Services, int, Watch],
) -> None:
    services, _meeting_id, watch = province
    watch.reset()
    async with services.uow() as uow:
        await uow.session.connection()  # begun on SQLAlchemy's side only
        await uow.commit()
    async with services.uow():
        pass
    assert watch.sql == [] and watch.trips == 0
