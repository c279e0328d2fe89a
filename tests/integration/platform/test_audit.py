"""The audit chain: every command's entry links to the previous one; tampering is found."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete, event, func, insert, select, update
from sqlmodel import col

from meetings.services.assembly import create_services
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage import prepared
from meetings.storage.audit import verify_audit_chain
from meetings.storage.tables import AuditEntry
from tests.support.world import World, quorum


async def _verify(world: World) -> Any:
    async with world.services.db.reading() as session:
        return await verify_audit_chain(session)


async def _write(world: World, statement: Any) -> None:
    async with world.services.uow() as uow:
        await uow.session.execute(statement)
        await uow.commit()


async def _row(world: World, entry_id: int) -> dict[str, Any]:
    async with world.services.db.reading() as session:
        entry = await session.get(AuditEntry, entry_id)
        assert entry is not None
        return entry.model_dump()


async def test_commands_extend_the_chain(world: World) -> None:
    before = await _verify(world)
    assert before.ok, before.summary()
    path = f"/api/meetings/{world.meeting_id}/attendance"
    status, _, _ = await world.http(
        "secretary",
        "POST",
        path,
        json={"user_id": world.user_ids["delegate"], "attendance": "absent"},
    )
    assert status == 200
    after = await _verify(world)
    assert after.ok and after.checked == before.checked + 1, after.summary()
    async with world.services.db.reading() as session:
        last = (
            await session.execute(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1))
        ).scalar_one()
    assert last.action == "attendance.record" and last.actor_id == world.user_ids["secretary"]


async def test_tampering_with_one_row_is_detected(world: World) -> None:
    assert (await _verify(world)).ok
    code, out, _ = await quorum(world, "db", "verify-audit")
    assert code == 0 and "intact" in out
    async with world.services.db.reading() as session:
        ids = list(
            (await session.execute(select(AuditEntry.id).order_by(col(AuditEntry.id)))).scalars()
        )
    assert len(ids) >= 3
    middle, last = ids[len(ids) // 2], ids[-1]

    original = await _row(world, middle)
    await _write(
        world, update(AuditEntry).where(col(AuditEntry.id) == middle).values(data={"forged": True})
    )
    report = await _verify(world)
    assert not report.ok and report.bad_entry_id == middle, report.summary()
    assert "content" in report.reason
    code, _, err = await quorum(world, "db", "verify-audit")
    assert code == 1 and f"entry {middle}" in err
    await _write(
        world, update(AuditEntry).where(col(AuditEntry.id) == middle).values(data=original["data"])
    )
    assert (await _verify(world)).ok

    # changing a row and re-hashing it (without the key to the rest) breaks the next link
    from meetings.storage.uow import audit_hash, audit_payload

    async with world.services.db.reading() as session:
        entry = await session.get(AuditEntry, middle)
        assert entry is not None
        entry.actor_id = 999
        forged = audit_hash(entry.prev_hash, audit_payload(entry))
    await _write(
        world,
        update(AuditEntry).where(col(AuditEntry.id) == middle).values(actor_id=999, hash=forged),
    )
    report = await _verify(world)
    assert not report.ok and report.bad_entry_id == ids[ids.index(middle) + 1], report.summary()
    await _write(
        world,
        update(AuditEntry)
        .where(col(AuditEntry.id) == middle)
        .values(actor_id=original["actor_id"], hash=original["hash"]),
    )
    assert (await _verify(world)).ok

    # removing the newest entry: the head no longer matches
    newest = await _row(world, last)
    await _write(world, delete(AuditEntry).where(col(AuditEntry.id) == last))
    report = await _verify(world)
    assert not report.ok and "head" in report.reason, report.summary()
    await _write(world, insert(AuditEntry).values(**newest))
    assert (await _verify(world)).ok
    async with world.services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == len(ids)


VIETNAMESE = {"ghi_chú": "Nghị quyết số 12/NQ-HĐND về phân bổ ngân sách", "số": [1, 2.5, None]}


async def test_units_of_two_workers_link_one_chain_at_their_commits(world: World) -> None:
    """Audited units of two workers' services at once, one to three entries each: the chain
    stays one line with every entry, each hashed as `audit_hash` hashes it in Python (on
    PostgreSQL the database links them, `quorum_audit_append`), Vietnamese text included."""
    other = create_services(world.services.settings)
    before = await _verify(world)
    sizes = [n % 3 + 1 for n in range(40)]

    async def unit(services: Any, n: int) -> None:
        async with services.uow() as uow:
            for k in range(sizes[n]):
                await uow.audit(None, "test.concurrent", f"unit:{n}", VIETNAMESE | {"k": k})
            await uow.commit()

    try:
        await asyncio.gather(*(unit(other if n % 2 else world.services, n) for n in range(40)))
    finally:
        await other.db.dispose()
    after = await _verify(world)
    assert after.ok and after.checked == before.checked + sum(sizes), after.summary()
    async with world.services.db.reading() as session:
        rows = (
            await session.execute(
                select(AuditEntry)
                .where(col(AuditEntry.action) == "test.concurrent")
                .order_by(col(AuditEntry.id))
            )
        ).scalars()
        stored = [(r.target, r.data) for r in rows]
    for n in range(40):  # each unit's entries in its order, next to each other
        mine = [data for target, data in stored if target == f"unit:{n}"]
        assert mine == [VIETNAMESE | {"k": k} for k in range(sizes[n])]


async def test_the_head_is_taken_by_the_commits_last_statement(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit's audit head is locked at its commit, after its other rows, not where it called
    `audit`: on PostgreSQL the last statement before the COMMIT links the entries; an entry
    linked on the spot (`audit_linked`, for a caller that stores its hash) and those around it
    keep their order."""
    engine = world.services.db.write_engine.sync_engine
    seen: list[str] = []

    def traced(statement: str) -> None:
        seen.append(" ".join(statement.split())[:60])

    def trace(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        traced(statement)

    if world.services.db.sqlite:
        # SQLite's own trace of the writer's one connection: hot statements and the commit's
        # rows go to the driver without SQLAlchemy's execution (meetings/storage/prepared.py)
        async with world.services.db.writer() as session:
            raw = await (await session.connection()).get_raw_connection()
            sqlite_conn = raw.driver_connection._conn
            await session.rollback()
        sqlite_conn.set_trace_callback(traced)
    else:
        # SQLAlchemy's statements, and those sent to asyncpg without it (prepared.pg_run,
        # called through, recorded in the same order)
        event.listen(engine, "before_cursor_execute", trace)
        pg_run = prepared.pg_run

        async def recorded(adapter: Any, dialect: Any, sql: str, *rest: Any, **kw: Any) -> Any:
            traced(sql)
            return await pg_run(adapter, dialect, sql, *rest, **kw)

        monkeypatch.setattr(prepared, "pg_run", recorded)
    try:
        async with world.services.uow() as uow:
            await uow.audit(None, "test.head", "first")
            changed = MeetingStatusChanged(status="open", opened_at=None, closed_at=None)
            await uow.emit(world.meeting_id, changed)
            await uow.commit()
        heads = [s for s in seen if "audit_head" in s or "audit_append" in s]
        if world.services.db.sqlite:
            assert heads[0].startswith("SELECT audit_head.hash")
            assert seen.index(heads[0]) > min(
                i for i, s in enumerate(seen) if s.startswith("UPDATE meetings")
            )
        else:
            assert heads == [seen[-1]] and seen[-1].startswith("SELECT quorum_audit_append")
        seen.clear()
        async with world.services.uow() as uow:
            await uow.audit(None, "test.head", "before")
            linked = await uow.audit_linked(None, "test.head", "linked")
            await uow.audit(None, "test.head", "after")
            await uow.commit()
        assert any(s.startswith("SELECT audit_head.hash") for s in seen)
    finally:
        if world.services.db.sqlite:
            sqlite_conn.set_trace_callback(None)
        else:
            event.remove(engine, "before_cursor_execute", trace)
    report = await _verify(world)
    assert report.ok, report.summary()
    async with world.services.db.reading() as session:
        last = list(
            (
                await session.execute(
                    select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(3)
                )
            ).scalars()
        )[::-1]
    assert [e.target for e in last] == ["before", "linked", "after"]
    assert last[1].hash == linked.hash and last[1].prev_hash == last[0].hash
