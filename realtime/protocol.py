"""Socket.IO commands: wire name → payload model → service call (docs/PROTOCOL.md, "Commands").

A table, not an if/elif: each `SocketCommand` names its payload model and its handler. Other
subsystems (polls, annotations) contribute their own tables; `realtime.asgi` joins them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import socketio
from pydantic import Field

from meetings.domain.events import iso
from meetings.domain.model import Role
from meetings.services import agenda, meetings, speakers, state
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.storage.tables import utcnow
from realtime import rooms


@dataclass
class Ctx:
    services: Services
    sio: socketio.AsyncServer
    sid: str


Run = Callable[[Ctx, Actor, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class SocketCommand:
    name: str
    model: type[c.Command]
    run: Run
    summary: str
    idempotent: bool = True  # honours `idempotency_key`


class Join(c.Command):
    meeting_id: c.Id
    since_seq: Annotated[int, Field(ge=0, le=2**62)] | None = None


class Empty(c.Command):
    pass


async def join(ctx: Ctx, actor: Actor, cmd: Join) -> dict[str, Any]:
    council_id = await state.visible_council(ctx.services, actor, cmd.meeting_id)
    # rooms first, state second: an event committed in between is in the state and is also
    # delivered; the client drops events whose seq is not above the state's seq
    await ctx.sio.enter_room(ctx.sid, rooms.meeting(cmd.meeting_id))
    if actor.is_staff(council_id):
        await ctx.sio.enter_room(ctx.sid, rooms.chair(cmd.meeting_id))
    if actor.role_in(council_id) == Role.display:
        await ctx.sio.enter_room(ctx.sid, rooms.display(cmd.meeting_id))
    if cmd.since_seq is None:
        snap = await state.snapshot(ctx.services, actor, cmd.meeting_id)
        return {"snapshot": snap, "seq": snap["seq"]}
    return await state.catch_up(ctx.services, actor, cmd.meeting_id, cmd.since_seq)


async def leave(ctx: Ctx, _actor: Actor, cmd: c.MeetingRef) -> dict[str, Any]:
    for room in (
        rooms.meeting(cmd.meeting_id),
        rooms.chair(cmd.meeting_id),
        rooms.display(cmd.meeting_id),
    ):
        await ctx.sio.leave_room(ctx.sid, room)
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


CORE_COMMANDS = [
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
