"""Initial state and catch-up: register = snapshot + events since (docs/PROTOCOL.md, "Join").

`snapshot` reads everything a member sees in one repeatable-read transaction together with the
meeting's `seq`, so snapshot + every event after `seq` equals a fresh snapshot (a test checks).

Joining at scale (docs/PERFORMANCE.md, "Realtime"): the member-independent part of a snapshot
(meeting, quorum, agenda, participants, speakers, documents as staff see them) depends only on
the meeting's `seq`, because every change to it is a meeting event. `SnapshotCache` keeps it per
process, keyed by `(meeting_id, seq)`: a new event means a new key, so it never needs
invalidating. A join then costs one query for the meeting row plus the caller's own parts
(document visibility is filtered in memory; polls come from `polls_snapshot`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.events import MeetingEventOut, iso
from meetings.domain.model import Visibility
from meetings.services.agenda import agenda_of
from meetings.services.context import Actor, Services
from meetings.services.documents import documents_of
from meetings.services.loading import get_meeting
from meetings.services.meetings import meeting_public, participants_of, quorum_of
from meetings.services.polls import polls_snapshot
from meetings.services.speakers import speakers_of
from meetings.storage.tables import Meeting, MeetingEvent, utcnow

NAMED = (Visibility.restricted.value, Visibility.confidential.value)
# sees every document with its access list; only used to build the shared part
_STAFF_VIEW = Actor(user_id=0, username="", name="", is_admin=True)


class SnapshotCache:
    """Member-independent snapshot parts by (meeting_id, seq); concurrent misses build once."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._parts: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._building: dict[tuple[int, int], asyncio.Future[dict[str, Any]]] = {}
        self.councils: dict[int, int] = {}  # meeting id → council id (never changes)
        self.hits = 0
        self.misses = 0

    async def get(self, session: AsyncSession, meeting: Meeting) -> dict[str, Any]:
        key = (int(meeting.id or 0), meeting.last_seq)
        part = self._parts.get(key)
        if part is not None:
            self.hits += 1
            self._parts.move_to_end(key)
            return part
        waiting = self._building.get(key)
        if waiting is not None:  # built from another transaction at the same seq: identical
            self.hits += 1
            return await asyncio.shield(waiting)
        self.misses += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            part = await shared_part(session, meeting)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            self._building.pop(key, None)
        future.set_result(part)
        self._parts[key] = part
        while len(self._parts) > self.size:
            self._parts.popitem(last=False)
        return part


async def shared_part(session: AsyncSession, meeting: Meeting) -> dict[str, Any]:
    """What every member sees alike at the meeting's current seq."""
    mid: int = meeting.id  # type: ignore[assignment]
    return {
        "meeting": meeting_public(meeting),
        "quorum": await quorum_of(session, meeting),
        "agenda": await agenda_of(session, mid),
        "participants": await participants_of(session, mid),
        "speakers": await speakers_of(session, mid),
        "documents": await documents_of(session, _STAFF_VIEW, meeting),
        "seq": meeting.last_seq,
    }


def documents_for(actor: Actor, meeting: Meeting, staff_view: list[dict[str, Any]]) -> list[Any]:
    """The staff view of the documents filtered for one caller (as `documents.may_read`)."""
    if actor.is_staff(meeting.council_id):
        return staff_view
    out = []
    for doc in staff_view:
        if doc["visibility"] in NAMED and actor.user_id not in doc.get("allowed_user_ids", ()):
            continue
        out.append({k: v for k, v in doc.items() if k != "allowed_user_ids"})
    return out


async def _snapshot(
    session: AsyncSession, actor: Actor, meeting: Meeting, cache: SnapshotCache | None
) -> dict[str, Any]:
    shared = await (cache or SnapshotCache(1)).get(session, meeting)
    snap = dict(shared)
    snap["documents"] = documents_for(actor, meeting, shared["documents"])
    snap["server_time"] = iso(utcnow())
    snap.update(await polls_snapshot(session, actor, meeting))
    return snap


async def snapshot(
    services: Services, actor: Actor, meeting_id: int, cache: SnapshotCache | None = None
) -> dict[str, Any]:
    async with services.db.reading() as session:
        await _repeatable(session)
        meeting = await get_meeting(session, actor, meeting_id)
        return await _snapshot(session, actor, meeting, cache)


async def visible_council(services: Services, actor: Actor, meeting_id: int) -> int:
    """The meeting's council, or NotFound when the caller may not see the meeting."""
    async with services.db.reading() as session:
        return (await get_meeting(session, actor, meeting_id)).council_id


async def _repeatable(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def catch_up(
    services: Services,
    actor: Actor,
    meeting_id: int,
    since_seq: int | None,
    cache: SnapshotCache | None = None,
) -> dict[str, Any]:
    """Events after `since_seq`, or a snapshot: when `since_seq` is None, or the client is too
    far behind (more than `settings.resync_limit` events) or ahead of the server."""
    limit = services.settings.resync_limit
    async with services.db.reading() as session:
        await _repeatable(session)
        meeting = await get_meeting(session, actor, meeting_id)
        if since_seq is not None and 0 <= since_seq <= meeting.last_seq <= since_seq + limit:
            rows = (
                await session.execute(
                    select(MeetingEvent)
                    .where(
                        col(MeetingEvent.meeting_id) == meeting_id,
                        col(MeetingEvent.seq) > since_seq,
                    )
                    .order_by(col(MeetingEvent.seq))
                )
            ).scalars()
            events = [
                MeetingEventOut(r.meeting_id, r.seq, r.type, r.at, r.data).wire() for r in rows
            ]
            return {"events": events, "seq": meeting.last_seq, "server_time": iso(utcnow())}
        snap = await _snapshot(session, actor, meeting, cache)
        return {"snapshot": snap, "seq": snap["seq"]}
