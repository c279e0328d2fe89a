"""Speakers list per agenda item, timed on the server clock (docs/features/sitting.md, "Speakers").

Statuses: waiting → speaking → done, or withdrawn. Every change emits `speakers_changed` with
the item's whole list and the server's time, so tablets show a countdown without trusting their
own clocks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.domain.model import MeetingStatus
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.loading import get_item, get_meeting
from meetings.services.sitting.events import SpeakersChanged
from meetings.storage.tables import Meeting, Participant, Speaker, User, utcnow
from meetings.storage.uow import UnitOfWork

ACTIVE = ("waiting", "speaking")


async def speakers_of(
    session: AsyncSession, meeting_id: int, item_id: int | None = None
) -> list[dict[str, Any]]:
    query = (
        select(Speaker, User)
        .join(User, User.id == Speaker.user_id)  # type: ignore[arg-type]
        .where(col(Speaker.meeting_id) == meeting_id)
    )
    if item_id is not None:
        query = query.where(col(Speaker.item_id) == item_id)
    rows = await session.execute(
        query.order_by(col(Speaker.item_id), col(Speaker.position), col(Speaker.id))
    )
    return [
        {
            "id": s.id,
            "item_id": s.item_id,
            "user_id": s.user_id,
            "name": u.name,
            "status": s.status,
            "position": s.position,
            "requested_at": iso(s.requested_at),
            "started_at": iso(s.started_at),
            "stopped_at": iso(s.stopped_at),
            "time_limit_s": s.time_limit_s,
        }
        for s, u in rows.all()
    ]


async def _changed(uow: UnitOfWork, meeting_id: int, item_id: int) -> dict[str, Any]:
    await uow.session.flush()
    data = {
        "item_id": item_id,
        "speakers": await speakers_of(uow.session, meeting_id, item_id),
        "server_time": iso(utcnow()),
    }
    await uow.emit(meeting_id, SpeakersChanged.model_validate(data))
    return data


async def _open_meeting(uow: UnitOfWork, actor: Actor, meeting_id: int) -> Meeting:
    meeting = await get_meeting(uow.session, actor, meeting_id, lock=True)
    if meeting.status != MeetingStatus.open:
        raise Conflict("the sitting is not open", code="meeting_not_open")
    return meeting


async def _enqueue(uow: UnitOfWork, meeting: Meeting, item_id: int, user_id: int) -> Speaker:
    await get_item(uow.session, meeting, item_id)
    is_participant = await uow.session.scalar(
        select(col(Participant.id)).where(
            col(Participant.meeting_id) == meeting.id, col(Participant.user_id) == user_id
        )
    )
    if is_participant is None:
        raise InvalidInput(
            "only participants of the sitting can be on the speakers list", code="not_participant"
        )
    existing = await uow.session.scalar(
        select(col(Speaker.id)).where(
            col(Speaker.meeting_id) == meeting.id,
            col(Speaker.item_id) == item_id,
            col(Speaker.user_id) == user_id,
            col(Speaker.status).in_(ACTIVE),
        )
    )
    if existing is not None:
        raise Conflict("already on the speakers list for this item", code="already_requested")
    last = (
        await uow.session.execute(
            select(col(Speaker.position))
            .where(col(Speaker.meeting_id) == meeting.id, col(Speaker.item_id) == item_id)
            .order_by(col(Speaker.position).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    speaker = Speaker(
        meeting_id=int(meeting.id or 0),
        item_id=item_id,
        user_id=user_id,
        position=(last or 0) + 1,
    )
    uow.session.add(speaker)
    return speaker


async def request(services: Services, actor: Actor, cmd: c.SpeakerRequest) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await _open_meeting(uow, actor, cmd.meeting_id)
        speaker = await _enqueue(uow, meeting, cmd.item_id, actor.user_id)
        data = await _changed(uow, cmd.meeting_id, cmd.item_id)
        await uow.commit()
        return {"speaker_id": speaker.id, "speakers": data["speakers"]}


async def add(services: Services, actor: Actor, cmd: c.SpeakerAdd) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await _open_meeting(uow, actor, cmd.meeting_id)
        actor.require_chair(meeting.council_id)
        speaker = await _enqueue(uow, meeting, cmd.item_id, cmd.user_id)
        data = await _changed(uow, cmd.meeting_id, cmd.item_id)
        await uow.commit()
        return {"speaker_id": speaker.id, "speakers": data["speakers"]}


async def _load(uow: UnitOfWork, actor: Actor, speaker_id: int) -> tuple[Meeting, Speaker]:
    speaker = await uow.session.get(Speaker, speaker_id)
    if speaker is None:
        raise NotFound(f"no speaker request {speaker_id}")
    meeting = await _open_meeting(uow, actor, speaker.meeting_id)
    return meeting, speaker


async def withdraw(services: Services, actor: Actor, cmd: c.SpeakerRef) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting, speaker = await _load(uow, actor, cmd.speaker_id)
        if (
            speaker.user_id != actor.user_id
            and not actor.is_chair(meeting.council_id)
            and not actor.is_admin
        ):
            raise Forbidden("only the speaker or the chair may withdraw a request")
        if speaker.status != "waiting":
            raise Conflict(f"a {speaker.status} request cannot be withdrawn", code="not_waiting")
        speaker.status = "withdrawn"
        data = await _changed(uow, meeting.id, speaker.item_id)  # type: ignore[arg-type]
        await uow.commit()
        return data


async def start(services: Services, actor: Actor, cmd: c.SpeakerStart) -> dict[str, Any]:
    """Give the floor: whoever is speaking in the sitting stops, this speaker starts now.

    A speech on another item that ends here gets that item's own `speakers_changed`, so that the
    events alone bring a client to the state a fresh snapshot shows."""
    async with services.uow() as uow:
        meeting, speaker = await _load(uow, actor, cmd.speaker_id)
        actor.require_chair(meeting.council_id)
        if speaker.status != "waiting":
            raise Conflict(f"a {speaker.status} speaker cannot be started", code="not_waiting")
        now = utcnow()
        ended_elsewhere: set[int] = set()
        for other in (
            await uow.session.execute(
                select(Speaker).where(
                    col(Speaker.meeting_id) == meeting.id, col(Speaker.status) == "speaking"
                )
            )
        ).scalars():
            other.status, other.stopped_at = "done", now
            if other.item_id != speaker.item_id:
                ended_elsewhere.add(other.item_id)
        speaker.status, speaker.started_at, speaker.time_limit_s = "speaking", now, cmd.time_limit_s
        for item_id in sorted(ended_elsewhere):
            await _changed(uow, meeting.id, item_id)  # type: ignore[arg-type]
        data = await _changed(uow, meeting.id, speaker.item_id)  # type: ignore[arg-type]
        await uow.commit()
        return data


async def stop(services: Services, actor: Actor, cmd: c.SpeakerRef) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting, speaker = await _load(uow, actor, cmd.speaker_id)
        actor.require_chair(meeting.council_id)
        if speaker.status != "speaking":
            raise Conflict("this speaker is not speaking", code="not_speaking")
        speaker.status, speaker.stopped_at = "done", utcnow()
        data = await _changed(uow, meeting.id, speaker.item_id)  # type: ignore[arg-type]
        await uow.commit()
        return data


async def reorder(services: Services, actor: Actor, cmd: c.SpeakerReorder) -> dict[str, Any]:
    """The chair reorders the waiting list; `speaker_ids` names each waiting request once."""
    async with services.uow() as uow:
        meeting = await _open_meeting(uow, actor, cmd.meeting_id)
        actor.require_chair(meeting.council_id)
        await get_item(uow.session, meeting, cmd.item_id)
        waiting = {
            s.id: s
            for s in (
                await uow.session.execute(
                    select(Speaker).where(
                        col(Speaker.meeting_id) == meeting.id,
                        col(Speaker.item_id) == cmd.item_id,
                        col(Speaker.status) == "waiting",
                    )
                )
            ).scalars()
        }
        if sorted(cmd.speaker_ids) != sorted(k for k in waiting if k is not None) or len(
            set(cmd.speaker_ids)
        ) != len(cmd.speaker_ids):
            raise InvalidInput(
                "speaker_ids must list every waiting request exactly once",
                code="bad_order",
                details={"waiting": sorted(k for k in waiting if k is not None)},
            )
        base = min((s.position for s in waiting.values()), default=0)
        for offset, sid in enumerate(cmd.speaker_ids):
            waiting[sid].position = base + offset
        data = await _changed(uow, meeting.id, cmd.item_id)  # type: ignore[arg-type]
        await uow.commit()
        return data
