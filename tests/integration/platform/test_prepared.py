"""`prepared.rows` (meetings/storage/prepared.py): a hot statement run on SQLite's driver answers
as `session.execute` does, inside the session's transaction, after its pending changes, with
SQLAlchemy's errors; on PostgreSQL it is `session.execute`. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from meetings.services.quorum import _attendance
from meetings.services.voting.ballot_box import _load_statements
from meetings.storage import prepared
from meetings.storage.tables import AuditHead, Meeting, Participant, User
from meetings.storage.uow import _next_seq
from meetings.storage.writes import core_table
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


async def test_the_rows_of_session_execute_without_its_layer_on_sqlite(server: Running) -> None:
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
                # SQLite: the driver's cursor, not SQLAlchemy's execution (which traces it)
                assert executed == ([] if server.backend == "sqlite" else [executed[0]])
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
            await session.execute(
                select(Participant).where(
                    col(Participant.meeting_id) == meeting_id,
                    col(Participant.voting),
                    col(Participant.attendance) != "present",
                )
            )
        ).scalars().first()
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
        with pytest.raises(IntegrityError):
            await prepared.rows(session, HEAD_INSERT, head)
        await session.rollback()
        expanding = select(col(User.id)).where(col(User.id).in_([1, 2]))
        with pytest.raises(ValueError, match="in_list"):
            await prepared.rows(session, expanding)
