"""Socket.IO commands of the sitting: join and leave, open and close, attendance, the agenda,
the speakers list, the clock (docs/PROTOCOL.md, "Commands")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlmodel import col

from meetings.domain.errors import DomainError
from meetings.domain.events import iso
from meetings.domain.voting import PollStatus
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.sitting import agenda, meetings, speakers
from meetings.services.voting import polls
from meetings.storage.tables import utcnow
from meetings.storage.tables_voting import Poll
from realtime import rooms
from realtime.protocol import Ctx, SocketCommand
from realtime.rooms import meeting_rooms


class Join(c.Command):
    meeting_id: c.Id
    since_seq: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class Empty(c.Command):
    pass


async def join(ctx: Ctx, actor: Actor, cmd: Join) -> dict[str, Any]:
    """Rooms first, state second: an event committed in between is both in the state and
    delivered; the client drops events whose seq is not above the state's seq."""
    joiner = ctx.joining()
    council_id = joiner.cache.councils.get(cmd.meeting_id)  # a meeting never changes council
    if council_id is None or not (actor.is_admin or actor.is_staff(council_id)):
        # authorise before entering any room: a member may not see a draft, and a meeting
        # can go back to draft, so its status is read now (concurrent joins share one read)
        council_id = await joiner.visible_council(actor, cmd.meeting_id)
    joined = meeting_rooms(actor, council_id, cmd.meeting_id)
    for room in joined:
        await ctx.sio.enter_room(ctx.sid, room)
    try:
        # also checks visibility (a draft meeting is not_found for delegates)
        ack = await joiner.join(actor, cmd.meeting_id, cmd.since_seq)
    except DomainError:
        for room in joined:
            await ctx.sio.leave_room(ctx.sid, room)
        raise
    if ctx.presence is not None:
        ctx.presence.joined(ctx.sid, actor.user_id, cmd.meeting_id)
        if len(joined) > 1:  # staff and displays see presence
            current = await ctx.presence.read(cmd.meeting_id)
            if "snapshot" in ack:
                ack["snapshot"] = ack["snapshot"] | {"presence": current}
            ack["presence"] = current
    if len(joined) > 1:
        ack |= await _open_progress(ctx.services, cmd.meeting_id, actor.is_staff(council_id))
    return ack


async def _open_progress(services: Services, meeting_id: int, staff: bool) -> dict[str, Any]:
    """Staff and displays: each open poll's progress as of now (docs/PROTOCOL.md,
    "`meeting.join` in detail").
    Progress updates are volatile, so a screen that resyncs during a vote would otherwise
    show the count from before its drop until the next ballot; the chair also gets who voted."""
    async with services.db.reading() as session:
        rows = await session.execute(
            select(col(Poll.id)).where(
                col(Poll.meeting_id) == meeting_id, col(Poll.status) == PollStatus.OPEN
            )
        )
        open_ids = [int(pid) for pid in rows.scalars() if pid is not None]
    progress: list[dict[str, Any]] = []
    voters: dict[str, list[int]] = {}
    found = await polls.progress_of(services, open_ids)
    for poll_id in open_ids:
        if poll_id in found:  # closed meanwhile: its event follows
            progress.append(found[poll_id]["data"])
            voters[str(poll_id)] = found[poll_id]["voters"]
    return {"progress": progress, "voters": voters} if staff else {"progress": progress}


async def leave(ctx: Ctx, _actor: Actor, cmd: c.MeetingRef) -> dict[str, Any]:
    for room in (
        rooms.meeting(cmd.meeting_id),
        rooms.chair(cmd.meeting_id),
        rooms.display(cmd.meeting_id),
    ):
        await ctx.sio.leave_room(ctx.sid, room)
    if ctx.presence is not None:
        ctx.presence.left(ctx.sid, cmd.meeting_id)
    return {}


async def open_meeting(ctx: Ctx, actor: Actor, cmd: c.MeetingRef) -> dict[str, Any]:
    return {"meeting": await meetings.transition(ctx.services, actor, cmd.meeting_id, "open")}


async def close_meeting(ctx: Ctx, actor: Actor, cmd: c.MeetingRef) -> dict[str, Any]:
    return {"meeting": await meetings.transition(ctx.services, actor, cmd.meeting_id, "close")}


async def check_in(ctx: Ctx, actor: Actor, cmd: c.MeetingRef) -> dict[str, Any]:
    return {"attendance": await meetings.check_in(ctx.services, actor, cmd.meeting_id)}


class RecordAttendanceCmd(c.RecordAttendance):
    meeting_id: c.Id
    idempotency_key: c.IdempotencyKey | None = None


async def record_attendance(ctx: Ctx, actor: Actor, cmd: RecordAttendanceCmd) -> dict[str, Any]:
    body = c.RecordAttendance(user_id=cmd.user_id, attendance=cmd.attendance)
    return {
        "attendance": await meetings.record_attendance(ctx.services, actor, cmd.meeting_id, body)
    }


async def set_current(ctx: Ctx, actor: Actor, cmd: c.SetCurrentItem) -> dict[str, Any]:
    return await agenda.set_current(ctx.services, actor, cmd)


async def speakers_request(ctx: Ctx, actor: Actor, cmd: c.SpeakerRequest) -> dict[str, Any]:
    return await speakers.request(ctx.services, actor, cmd)


async def speakers_add(ctx: Ctx, actor: Actor, cmd: c.SpeakerAdd) -> dict[str, Any]:
    return await speakers.add(ctx.services, actor, cmd)


async def speakers_withdraw(ctx: Ctx, actor: Actor, cmd: c.SpeakerRef) -> dict[str, Any]:
    return await speakers.withdraw(ctx.services, actor, cmd)


async def speakers_start(ctx: Ctx, actor: Actor, cmd: c.SpeakerStart) -> dict[str, Any]:
    return await speakers.start(ctx.services, actor, cmd)


async def speakers_stop(ctx: Ctx, actor: Actor, cmd: c.SpeakerRef) -> dict[str, Any]:
    return await speakers.stop(ctx.services, actor, cmd)


async def speakers_reorder(ctx: Ctx, actor: Actor, cmd: c.SpeakerReorder) -> dict[str, Any]:
    return await speakers.reorder(ctx.services, actor, cmd)


async def time_sync(_ctx: Ctx, _actor: Actor, _cmd: Empty) -> dict[str, Any]:
    return {"server_time": iso(utcnow())}


COMMANDS = [
    SocketCommand(
        "meeting.join",
        Join,
        join,
        "Join a meeting: snapshot or missed events, and seq",
        idempotent=False,
    ),
    SocketCommand(
        "meeting.leave", c.MeetingRef, leave, "Stop receiving a meeting's events", idempotent=False
    ),
    SocketCommand("meeting.open", c.MeetingRef, open_meeting, "Open the sitting (chair)"),
    SocketCommand("meeting.close", c.MeetingRef, close_meeting, "Close the sitting (chair)"),
    SocketCommand("attendance.check_in", c.MeetingRef, check_in, "Check in (the caller)"),
    SocketCommand(
        "attendance.record",
        RecordAttendanceCmd,
        record_attendance,
        "Record a member's attendance (secretariat, chair)",
    ),
    SocketCommand(
        "agenda.set_current", c.SetCurrentItem, set_current, "Move to an agenda item (chair)"
    ),
    SocketCommand(
        "speakers.request", c.SpeakerRequest, speakers_request, "Ask to speak on an item"
    ),
    SocketCommand("speakers.add", c.SpeakerAdd, speakers_add, "Put a member on the list (chair)"),
    SocketCommand(
        "speakers.withdraw",
        c.SpeakerRef,
        speakers_withdraw,
        "Withdraw a request (the speaker or the chair)",
    ),
    SocketCommand("speakers.start", c.SpeakerStart, speakers_start, "Give the floor (chair)"),
    SocketCommand("speakers.stop", c.SpeakerRef, speakers_stop, "End a speech (chair)"),
    SocketCommand(
        "speakers.reorder", c.SpeakerReorder, speakers_reorder, "Reorder the waiting list (chair)"
    ),
    SocketCommand("time.sync", Empty, time_sync, "The server's clock", idempotent=False),
]
