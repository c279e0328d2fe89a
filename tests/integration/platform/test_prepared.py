"""`prepared.rows` (meetings/storage/prepared.py): a hot statement run on the driver (SQLite's,
asyncpg) answers as `session.execute` does, inside the session's transaction, after its pending
changes, with SQLAlchemy's errors; the commit's rows (meetings/storage/writes.py) likewise.
Both backends."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from meetings.services.quorum import _attendance
from meetings.services.voting.ballot_box import _load_statements
from meetings.storage import prepared
from meetings.storage.tables import AuditHead, Meeting, Participant, User
from meetings.storage.tables_voting import Poll
from meetings.storage.uow import _next_seq
from meetings.storage.writes import Rows, core_table, insert_into, write_and_commit
from tests.conftest import Running

MEETING = select(
    col(Meeting.id), col(Meeting.title), col(Meeting.starts_at), col(Meeting.quorum_strict)
).where(col(Meeting.id) == bindparam("meeting_id"))
SEQ = select(col(Meeting.last_seq)).where(col(Meeting.id) == bindparam("meeting_id"))
HEAD_INSERT = insert(core_table(AuditHead)).values(
    id=bindparam("b_id"), hash=bindparam("b_hash"), count=0
)


def _trace(server: Running) -> tuple[list[str], Any]:
    executed: list[str] = []

    def trace(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        executed.append(statement)

    engine = server.services.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", trace)
    return executed, lambda: event.remove(engine, "before_cursor_execute", trace)


async def test_the_rows_of_session_execute_without_its_layer(server: Running) -> None:
    db, meeting_id = server.services.db, server.meeting_id
    executed, untrace = _trace(server)
    try:
        async with db.writer() as session:
            dialect = session.get_bind().dialect.name
            user_ids = (await session.execute(select(col(User.id)))).scalars().all()
            polls_read, without_keys, with_keys = _load_statements(dialect)
            params: dict[str, Any] = {
                "meeting_ids": [meeting_id], "user_ids": sorted(user_ids), "poll_ids": [],
                "keys": ["a-key", "Nguyễn"],
            }  # fmt: skip
            cases: list[tuple[Any, dict[str, Any]]] = [
                (MEETING, {"meeting_id": meeting_id}),  # a datetime, a boolean, Vietnamese text
                (_attendance(), {"meeting_id": meeting_id}),
                (polls_read, {"poll_ids": [1, 2, 3]}),  # a list as one parameter
                (without_keys, params),  # a UNION ALL with literal values
                (with_keys, params),
            ]
            for statement, values in cases:
                expected = [tuple(r) for r in (await session.execute(statement, values)).all()]
                executed.clear()
                got = [tuple(r) for r in await prepared.rows(session, statement, values)]
                assert got == expected
                # the driver, not SQLAlchemy's execution (which traces it)
                assert executed == []
            assert any(len(r) for r in expected)  # the last case found the participants
    finally:
        untrace()


async def test_an_update_runs_in_the_sessions_transaction(server: Running) -> None:
    db, meeting_id = server.services.db, server.meeting_id
    key = {"meeting_id": meeting_id}
    async with db.writer() as session:
        (before,) = (await prepared.rows(session, SEQ, key))[0]
        (seq,) = (await prepared.rows(session, _next_seq(), {"b_meeting": meeting_id}))[0]
        assert seq == before + 1
        await session.commit()
        # a new transaction on the same session: the connection is asked for again
        (again,) = (await prepared.rows(session, _next_seq(), {"b_meeting": meeting_id}))[0]
        assert again == before + 2
        await session.rollback()
        assert (await prepared.rows(session, SEQ, key))[0][0] == before + 1
        await session.rollback()
    async with db.reading() as session:  # another connection sees the commit only
        assert (await session.execute(SEQ, key)).scalar_one() == before + 1


async def test_the_sessions_pending_changes_are_seen(server: Running) -> None:
    db, meeting_id = server.services.db, server.meeting_id
    async with db.writer() as session:
        present = sum(
            1
            for (a,) in await prepared.rows(session, _attendance(), {"meeting_id": meeting_id})
            if a == "present"
        )
        participant = (
            (
                await session.execute(
                    select(Participant).where(
                        col(Participant.meeting_id) == meeting_id,
                        col(Participant.voting),
                        col(Participant.attendance) != "present",
                    )
                )
            )
            .scalars()
            .first()
        )
        assert participant is not None
        participant.attendance = "present"  # not flushed yet
        found = await prepared.rows(session, _attendance(), {"meeting_id": meeting_id})
        assert sum(1 for (a,) in found if a == "present") == present + 1
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.title = "Kỳ họp thứ mười — đã sửa"
        got = await prepared.rows(session, MEETING, {"meeting_id": meeting_id})
        assert got[0][1] == "Kỳ họp thứ mười — đã sửa"
        await session.rollback()


async def test_errors_are_sqlalchemys_and_an_expanding_list_is_refused(server: Running) -> None:
    db = server.services.db
    async with db.writer() as session:
        head = {"b_id": 999, "b_hash": "x"}
        assert await prepared.rows(session, HEAD_INSERT, head) == []  # no rows returned
        with pytest.raises(IntegrityError) as info:
            await prepared.rows(session, HEAD_INSERT, head)
        if server.backend == "postgres":  # what the ballot box reads to retry a deadlock
            assert getattr(info.value.orig, "sqlstate", None) == "23505"
        await session.rollback()
        expanding = select(col(User.id)).where(col(User.id).in_([1, 2]))
        with pytest.raises(ValueError, match="in_list"):
            await prepared.rows(session, expanding)


HEADS = insert_into(core_table(AuditHead))
POLL = select(col(Poll.id), col(Poll.spec), col(Poll.opened_at), col(Poll.secret)).where(
    col(Poll.meeting_id) == bindparam("meeting_id")
)


async def test_json_and_the_commits_rows(server: Running) -> None:
    """A JSON column read back as `session.execute` reads it; the commit's rows, one and many
    (an executemany on asyncpg), stored in the session's transaction with its ORM changes."""
    db, meeting_id = server.services.db, server.meeting_id
    spec = {"options": ["Đồng ý", "Không đồng ý"], "rule": {"fraction": "1/2"}}
    async with db.writer() as session:
        opened = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
        poll = Poll(meeting_id=meeting_id, title="Nghị quyết", kind="motion", spec=spec,
                    opened_at=opened, created_by=None)  # fmt: skip
        session.add(poll)  # flushed by the read
        key = {"meeting_id": meeting_id}
        got = [tuple(r) for r in await prepared.rows(session, POLL, key)]
        assert got == [tuple(r) for r in (await session.execute(POLL, key)).all()]
        assert got[-1][1] == spec and got[-1][2] == opened
        heads = [{"id": 900 + n, "hash": f"h{n}", "count": n} for n in range(3)]
        await write_and_commit(session, [Rows(HEADS, heads[:1]), Rows(HEADS, heads[1:])])
    async with db.reading() as session:
        stored = (await session.execute(select(col(AuditHead.id), col(AuditHead.hash)))).all()
        assert {(900, "h0"), (901, "h1"), (902, "h2")} <= {tuple(r) for r in stored}
        titles = (await session.execute(select(col(Poll.title)))).scalars().all()
        assert "Nghị quyết" in titles
    async with db.writer() as session:  # a duplicate among many: the whole commit fails
        with pytest.raises(IntegrityError):
            await write_and_commit(
                session, [Rows(HEADS, [heads[2], {"id": 903, "hash": "x", "count": 0}])]
            )
        await session.rollback()
    async with db.reading() as session:
        ids = (await session.execute(select(col(AuditHead.id)))).scalars().all()
        assert 903 not in ids


async def test_a_session_that_ran_statements_here_is_freed_without_the_collector(
    server: Running,
) -> None:
    """The driver kept in `session.info` must not make the session a reference cycle: a strong
    reference to the session's transaction there did, and every unit of work (a ballot batch, a
    chair's command) then waited for the garbage collector, 40 objects each
    (docs/performance-journal.md, "A province on one server")."""
    db, meeting_id = server.services.db, server.meeting_id
    gc.collect()
    gc.disable()  # only reference counting frees what follows
    try:
        async with server.services.uow() as uow:
            await prepared.rows(uow.session, _next_seq(), {"b_meeting": meeting_id})
            await prepared.rows(uow.session, SEQ, {"meeting_id": meeting_id})  # kept driver
            await uow.commit()
            written = weakref.ref(uow.session.sync_session)
        async with db.reading() as session:
            await prepared.rows(session, SEQ, {"meeting_id": meeting_id})
            read = weakref.ref(session.sync_session)
        del uow, session
        assert written() is None, "the unit of work's session is in a reference cycle"
        assert read() is None, "the reading session is in a reference cycle"
    finally:
        gc.enable()
