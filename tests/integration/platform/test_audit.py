"""The audit chain: every command's entry links to the previous one; tampering is found."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import col

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
