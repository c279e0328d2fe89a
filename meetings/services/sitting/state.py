"""Initial state and catch-up: register = snapshot + events since (docs/PROTOCOL.md,
"`meeting.join` in detail").

`snapshot` reads everything a member sees in one repeatable-read transaction together with the
meeting's `seq`, so snapshot + every event after `seq` equals a fresh snapshot (a test checks).

Joining at scale (docs/performance-journal.md, "Realtime: connections and broadcast"): the
member-independent part of a snapshot (meeting, quorum, agenda, participants, speakers,
documents as staff see them) depends only on the meeting's `seq`, because every change to it is
a meeting event. `SnapshotCache` keeps it per process, keyed by `(meeting_id, seq)`: a new event
means a new key, so it never needs invalidating. A join then costs one query for the meeting row
plus the caller's own parts (document visibility is filtered in memory; polls come from
`polls.read_polls`, once per batch).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import DomainError, NotFound
from meetings.domain.events import MeetingEventOut, iso
from meetings.domain.model import MeetingStatus, Role
from meetings.services.context import Actor, Services
from meetings.services.documents.access import documents_for
from meetings.services.documents.library import documents_of
from meetings.services.loading import get_meeting, may_see_meeting
from meetings.services.quorum import quorum_of
from meetings.services.sitting.agenda import agenda_of
from meetings.services.sitting.meetings import meeting_public, participants_of
from meetings.services.sitting.speakers import speakers_of
from meetings.services.voting.polls import MeetingPolls, read_polls
from meetings.storage.tables import Meeting, MeetingEvent, utcnow

DOCUMENT_EVENTS = frozenset({"document_added", "document_version_added", "document_updated"})
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
    participants = await participants_of(session, mid)
    return {
        "meeting": meeting_public(meeting),
        "quorum": await quorum_of(session, meeting),
        "agenda": await agenda_of(session, mid),
        "participants": participants,
        "by_user": {p["user_id"]: p for p in participants},
        "speakers": await speakers_of(session, mid),
        "documents": await documents_of(session, _STAFF_VIEW, meeting),
        "seq": meeting.last_seq,
    }


def roster_for(actor: Actor, meeting: Meeting, shared: dict[str, Any]) -> dict[str, Any]:
    """Staff and displays get every participant; a member gets their own row as `me` (a
    2,000-member roster in every tablet's snapshot would be 300 kB per join)."""
    if actor.is_staff(meeting.council_id) or actor.role_in(meeting.council_id) == Role.display:
        return {"participants": shared["participants"]}
    return {"me": shared["by_user"].get(actor.user_id)}


async def _snapshot(
    session: AsyncSession,
    actor: Actor,
    meeting: Meeting,
    cache: SnapshotCache | None,
    polls: MeetingPolls | None = None,
) -> dict[str, Any]:
    shared = await (cache or SnapshotCache(1)).get(session, meeting)
    snap = {k: v for k, v in shared.items() if k not in ("participants", "by_user")}
    snap.update(roster_for(actor, meeting, shared))
    snap["documents"] = documents_for(actor, meeting, shared["documents"])
    snap["server_time"] = iso(utcnow())
    if polls is None:
        polls = await read_polls(session, meeting, [actor.user_id])
    snap.update(polls.view_for(actor, meeting))
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
    async with services.db.reading() as session:
        await _repeatable(session)
        meeting = await get_meeting(session, actor, meeting_id)
        events = await _events_since(session, meeting, since_seq, services.settings.resync_limit)
        limit = services.settings.resync_limit
        return await _answer(session, actor, meeting, since_seq, events, cache, limit)


def _replayable(meeting: Meeting, since_seq: int | None, limit: int) -> bool:
    return since_seq is not None and 0 <= since_seq <= meeting.last_seq <= since_seq + limit


async def _events_since(
    session: AsyncSession, meeting: Meeting, since_seq: int | None, limit: int
) -> list[dict[str, Any]]:
    if not _replayable(meeting, since_seq, limit) or since_seq == meeting.last_seq:
        return []
    rows = (
        await session.execute(
            select(MeetingEvent)
            .where(
                col(MeetingEvent.meeting_id) == meeting.id,
                col(MeetingEvent.seq) > since_seq,
                col(MeetingEvent.seq) <= meeting.last_seq,
            )
            .order_by(col(MeetingEvent.seq))
        )
    ).scalars()
    return [MeetingEventOut(r.meeting_id, r.seq, r.type, r.at, r.data).wire() for r in rows]


async def _answer(
    session: AsyncSession,
    actor: Actor,
    meeting: Meeting,
    since_seq: int | None,
    events: list[dict[str, Any]],
    cache: SnapshotCache | None,
    limit: int,
    polls: MeetingPolls | None = None,
) -> dict[str, Any]:
    """Replay or snapshot; `events` holds at least every event after a replayable `since_seq`.
    A replay gives what the caller may see now (docs/PROTOCOL.md, "`meeting.join` in detail")."""
    if since_seq is not None and _replayable(meeting, since_seq, limit):
        mine = [e for e in events if e["seq"] > since_seq]
        if actor.is_staff(meeting.council_id):
            return {"events": mine, "seq": meeting.last_seq, "server_time": iso(utcnow())}
        if not any(_published(e) for e in mine):
            mine = await _redacted(session, actor, meeting, mine, cache)
            return {"events": mine, "seq": meeting.last_seq, "server_time": iso(utcnow())}
        polls = None  # a member's history starts at publication: a snapshot, with their ballots
    snap = await _snapshot(session, actor, meeting, cache, polls)
    return {"snapshot": snap, "seq": snap["seq"]}


def _published(event: dict[str, Any]) -> bool:
    return bool(
        event["type"] == "meeting_status_changed"
        and event["data"].get("status") == MeetingStatus.published.value
    )


async def _redacted(
    session: AsyncSession,
    actor: Actor,
    meeting: Meeting,
    events: list[dict[str, Any]],
    cache: SnapshotCache | None,
) -> list[dict[str, Any]]:
    """Document events of a document the caller cannot read now only name it, as live events
    of a restricted document do: what it was called and held before is not replayed."""
    if not any(e["type"] in DOCUMENT_EVENTS for e in events):
        return events
    shared = await (cache or SnapshotCache(1)).get(session, meeting)
    readable = {d["id"] for d in documents_for(actor, meeting, shared["documents"])}
    out = []
    for event in events:
        document_id = event["data"].get("document_id")
        if event["type"] in DOCUMENT_EVENTS and document_id not in readable:
            event = event | {"data": {"document_id": document_id, "restricted": True}}
        out.append(event)
    return out


@dataclass
class _Request:
    actor: Actor
    since_seq: int | None
    future: asyncio.Future[dict[str, Any]]


class Joiner:
    """Joins (and resyncs) of one meeting that arrive together share one read transaction.

    A batch's read starts only after every request in it was queued, and the caller queues
    after entering the meeting's rooms: so the batch's `seq` covers every event the caller
    will not receive live. While a batch is being read, new requests wait for the next one.
    2,000 tablets joining at once cost a handful of transactions instead of 2,000.
    """

    def __init__(self, services: Services, cache: SnapshotCache | None = None) -> None:
        self.services = services
        self.cache = cache or SnapshotCache()
        self.max_batch = 1000
        self._pending: dict[int, list[_Request]] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._looking: dict[int, asyncio.Task[Meeting | None]] = {}
        self.batches = 0

    async def visible_council(self, actor: Actor, meeting_id: int) -> int:
        """The meeting's council, or NotFound when `actor` may not see the meeting now.
        Callers arriving while the meeting row is being read share that read."""
        task = self._looking.get(meeting_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._read_meeting(meeting_id))
            self._looking[meeting_id] = task
            task.add_done_callback(lambda _t: self._looking.pop(meeting_id, None))
        meeting = await asyncio.shield(task)
        if meeting is None or not may_see_meeting(actor, meeting):
            raise NotFound(f"no meeting {meeting_id}")
        self.cache.councils[meeting_id] = meeting.council_id
        return meeting.council_id

    async def _read_meeting(self, meeting_id: int) -> Meeting | None:
        async with self.services.db.reading() as session:
            return await session.get(Meeting, meeting_id)  # read only: stays loaded after

    async def join(self, actor: Actor, meeting_id: int, since_seq: int | None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        request = _Request(actor, since_seq, loop.create_future())
        self._pending.setdefault(meeting_id, []).append(request)
        if meeting_id not in self._running:
            self._running[meeting_id] = loop.create_task(self._drain(meeting_id))
        return await request.future

    async def _drain(self, meeting_id: int) -> None:
        try:
            while self._pending.get(meeting_id):
                waiting = self._pending.pop(meeting_id)
                batch, rest = waiting[: self.max_batch], waiting[self.max_batch :]
                if rest:
                    self._pending[meeting_id] = rest + self._pending.get(meeting_id, [])
                try:
                    await self._serve(meeting_id, batch)
                except Exception as exc:  # the database failed: every caller gets it
                    for request in batch:
                        if not request.future.done():
                            request.future.set_exception(exc)
        finally:
            self._running.pop(meeting_id, None)

    async def _serve(self, meeting_id: int, batch: list[_Request]) -> None:
        self.batches += 1
        limit = self.services.settings.resync_limit
        async with self.services.db.reading() as session:
            await _repeatable(session)
            meeting = await session.get(Meeting, meeting_id)
            replay = [
                r.since_seq
                for r in batch
                if meeting is not None
                and r.since_seq is not None
                and _replayable(meeting, r.since_seq, limit)
            ]
            events = (
                await _events_since(session, meeting, min(replay), limit)
                if meeting is not None and replay
                else []
            )
            # the polls and the callers' own ballots: read once for every snapshot of the batch
            polls = None
            if meeting is not None:
                wanting = {
                    r.actor.user_id for r in batch if not _replayable(meeting, r.since_seq, limit)
                }
                polls = await read_polls(session, meeting, wanting) if wanting else None
            for request in batch:
                if request.future.done():  # the caller went away
                    continue
                try:
                    if meeting is None or not may_see_meeting(request.actor, meeting):
                        raise NotFound(f"no meeting {meeting_id}")
                    answer = await _answer(
                        session,
                        request.actor,
                        meeting,
                        request.since_seq,
                        events,
                        self.cache,
                        limit,
                        polls,
                    )
                except DomainError as exc:
                    request.future.set_exception(exc)
                else:
                    request.future.set_result(answer)
