"""Initial state and catch-up: register = snapshot + events since (docs/PROTOCOL.md, "Join").

`snapshot` reads everything a member sees in one repeatable-read transaction together with the
meeting's `seq`, so snapshot + every event after `seq` equals a fresh snapshot (a test checks).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.domain.events import MeetingEventOut, iso
from meetings.services.agenda import agenda_of
from meetings.services.context import Actor, Services
from meetings.services.documents import documents_of
from meetings.services.loading import get_meeting
from meetings.services.meetings import meeting_public, participants_of, quorum_of
from meetings.services.polls import polls_snapshot
from meetings.services.speakers import speakers_of
from meetings.storage.tables import Meeting, MeetingEvent, utcnow

async def _snapshot(session: AsyncSession, actor: Actor, meeting: Meeting) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "meeting": meeting_public(meeting),
        "quorum": await quorum_of(session, meeting),
        "agenda": await agenda_of(session, meeting.id),  # type: ignore[arg-type]
        "participants": await participants_of(session, meeting.id),  # type: ignore[arg-type]
        "speakers": await speakers_of(session, meeting.id),  # type: ignore[arg-type]
        "documents": await documents_of(session, actor, meeting),
        "server_time": iso(utcnow()),
        "seq": meeting.last_seq,
    }
    snap.update(await polls_snapshot(session, actor, meeting))
    return snap


async def snapshot(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        await _repeatable(session)
        meeting = await get_meeting(session, actor, meeting_id)
        return await _snapshot(session, actor, meeting)


async def visible_council(services: Services, actor: Actor, meeting_id: int) -> int:
    """The meeting's council, or NotFound when the caller may not see the meeting."""
    async with services.db.reading() as session:
        return (await get_meeting(session, actor, meeting_id)).council_id


async def _repeatable(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def catch_up(
    services: Services, actor: Actor, meeting_id: int, since_seq: int
) -> dict[str, Any]:
    """Events after `since_seq`, or a new snapshot when the client is too far behind or ahead."""
    limit = services.settings.resync_limit
    async with services.db.reading() as session:
        await _repeatable(session)
        meeting = await get_meeting(session, actor, meeting_id)
        if 0 <= since_seq <= meeting.last_seq and meeting.last_seq - since_seq <= limit:
            rows = (
                (
                    await session.execute(
                        select(MeetingEvent)
                        .where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq > since_seq)
                        .order_by(MeetingEvent.seq)  # type: ignore[arg-type]
                    )
                )
                .scalars()
                .all()
            )
            events = [
                MeetingEventOut(r.meeting_id, r.seq, r.type, r.at, r.data).wire() for r in rows
            ]
            return {"events": events, "seq": meeting.last_seq, "server_time": iso(utcnow())}
        snap = await _snapshot(session, actor, meeting)
        return {"snapshot": snap, "seq": snap["seq"]}
