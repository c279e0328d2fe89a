"""SQLite's writer (docs/ARCHITECTURE.md, "Storage"): its transactions run on the event loop's
thread, a transaction's BEGIN goes with its first statement, and the rows a unit of work writes
at its end go with the COMMIT. When another process holds the write lock, the transaction waits
on the connection's thread and the loop goes on; so does a statement carrying a lot of data;
the WAL is checkpointed by a thread. A failure at the commit (a duplicate idempotency key)
keeps nothing of the transaction. Observed on a real database file: SQLite's own trace of the
statements it ran, the thread each ran on, and a count of the trips to the connection's
thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError

from meetings.config import Settings
from meetings.services.assembly import create_services
from meetings.services.context import Services
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage import sqlite_driver
from meetings.storage.sqlite_driver import OneTripConnection
from meetings.storage.tables import AuditHead, CommandResult, Meeting, MeetingEvent
from meetings.storage.uow import PendingKey, pending_key
from tests.bench.province_seed import migrate, seed_province


class Watch:
    """What the writer connection sends to SQLite, and how many trips it takes."""

    def __init__(self, driver: OneTripConnection) -> None:
        self.driver = driver
        self.sql: list[str] = []
        self.threads: list[int] = []
        self.trips = 0

        def traced(sql: str) -> None:
            self.sql.append(sql)
            self.threads.append(threading.get_ident())

        driver._conn.set_trace_callback(traced)
        execute = driver._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.trips += 1
            return await execute(fn, *args, **kwargs)

        driver._execute = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.sql.clear()
        self.threads.clear()
        self.trips = 0

    def on_the_loop(self) -> list[bool]:
        """For each statement traced: did it run on this (the event loop's) thread?"""
        return [t == threading.get_ident() for t in self.threads]

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
    # all on the event loop's thread, no trip to the connection's: the emit, the audit head's
    # read, then everything else and the COMMIT together
    assert watch.trips == 0 and all(watch.on_the_loop())
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


async def test_a_write_lock_held_elsewhere_is_waited_for_on_the_thread_not_on_the_loop(
    province: tuple[Services, int, Watch], tmp_path: Path
) -> None:
    """Another process's write lock (here a plain connection of this test's, as the command
    line would hold it): the command waits for it on the connection's thread while the event
    loop goes on, then commits; the next transaction runs on the loop's thread again."""
    services, meeting_id, watch = province
    seq = await _last_seq(services, meeting_id)
    other = sqlite3.connect(services.db.url.split("///", 1)[1], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    watch.reset()

    async def command(status: str) -> None:
        async with services.uow() as uow:
            event = MeetingStatusChanged(status=status, opened_at=None, closed_at=None)
            await uow.emit(meeting_id, event)
            await uow.commit()

    waiting = asyncio.create_task(command("after the lock"))
    ticks = 0
    for _ in range(20):  # the loop is free while the command waits: 20 turns of 10 ms
        await asyncio.sleep(0.01)
        ticks += 1
    assert not waiting.done() and ticks == 20
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(waiting, 15)
    # one try of BEGIN on the loop's thread, which found the lock taken; then all on the thread
    assert watch.on_the_loop()[0] and not any(watch.on_the_loop()[1:]), watch.sql
    assert watch.trips >= 1 and watch.sql.count("BEGIN IMMEDIATE") == 2
    assert watch.sql[-1] == "COMMIT"
    assert await _last_seq(services, meeting_id) == seq + 1
    watch.reset()
    await command("on the loop again")
    assert watch.trips == 0 and all(watch.on_the_loop())
    assert await _last_seq(services, meeting_id) == seq + 2


async def test_a_statement_carrying_much_data_runs_on_the_thread(
    province: tuple[Services, int, Watch],
) -> None:
    services, _meeting_id, watch = province
    big = "đ" * (sqlite_driver.HEAVY_BYTES + 1)
    watch.reset()
    async with services.uow() as uow:
        small = (await uow.session.execute(select(literal("nhỏ")))).scalar_one()
        large = (await uow.session.execute(select(literal(big)))).scalar_one()
        await uow.commit()
    assert (small, large) == ("nhỏ", big)
    assert watch.trips == 2
    # BEGIN and the small one on the loop's thread, the large one on the connection's, and the
    # rest of the transaction after it
    assert watch.on_the_loop() == [True, True, False, False], watch.sql


async def test_the_writer_leaves_checkpoints_to_a_thread(
    province: tuple[Services, int, Watch], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's commits do not checkpoint the WAL (`wal_autocheckpoint=0`); once the WAL has
    grown, a thread copies it into the database file."""
    services, meeting_id, watch = province
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_BYTES", 64 * 1024)
    monkeypatch.setattr(sqlite_driver, "CHECK_EVERY", 4)
    path = Path(services.db.url.split("///", 1)[1])
    (autocheckpoint,) = watch.driver._conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    assert autocheckpoint == 0

    async def size() -> int:
        return (await asyncio.to_thread(path.stat)).st_size

    before = await size()
    for n in range(40):
        async with services.uow() as uow:
            data = MeetingStatusChanged(status="x" * 4000 + str(n), opened_at=None, closed_at=None)
            await uow.emit(meeting_id, data)
            await uow.commit()
    assert watch.trips == 0 and all(watch.on_the_loop())
    for _ in range(200):  # the checkpoint runs on a thread of its own
        if await size() > before and watch.driver._checkpointing is None:
            break
        await asyncio.sleep(0.025)
    assert await size() > before + 100_000  # the events are in the database file now


async def test_a_checkpoint_put_off_by_a_lock_elsewhere_is_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While another connection holds the database exclusively (as the seeding of the province
    benchmark did), the thread's checkpoint gets SQLITE_BUSY: that is noted at debug level and
    tried again later, not reported as a failure. Any other failure is still a warning."""
    path = tmp_path / "quorum.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("INSERT INTO t VALUES (1)")
    holder.commit()  # the exclusive lock stays until the connection closes
    driver = await sqlite_driver.one_trip_creator(str(tmp_path / "writer.db"), inline=True)()
    loop = asyncio.get_running_loop()
    try:
        with caplog.at_level("DEBUG", logger=sqlite_driver.__name__):
            busy = asyncio.ensure_future(asyncio.to_thread(sqlite_driver._checkpoint, str(path)))
            await asyncio.wait([busy])
            exc = busy.exception()
            assert isinstance(exc, sqlite3.OperationalError) and sqlite_driver._busy(exc)
            driver._checkpointed(busy)
            broken: asyncio.Future[None] = loop.create_future()
            broken.set_exception(sqlite3.OperationalError("disk I/O error"))
            driver._checkpointed(broken)
    finally:
        holder.close()
        await driver.close()
    put_off = [r for r in caplog.records if "put off" in r.getMessage()]
    failed = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert [r.levelname for r in put_off] == ["DEBUG"]
    assert [r.levelname for r in failed] == ["WARNING"] and "disk I/O" in failed[0].getMessage()
