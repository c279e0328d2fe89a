"""Meetings, participants, attendance, agenda, event log (docs/API.md, "Resources")."""

from __future__ import annotations

from typing import Any

from meetings.http.api import Api, Call
from meetings.services import commands as c
from meetings.services.sitting import agenda, meetings, state


async def list_meetings(call: Call) -> list[dict[str, Any]]:
    return await meetings.list_meetings(call.services, call.me)


async def create_meeting(call: Call) -> dict[str, Any]:
    return await meetings.create_meeting(call.services, call.me, call.body)


async def get_meeting(call: Call) -> dict[str, Any]:
    return await meetings.get_meeting_public(call.services, call.me, call.int_param("meeting_id"))


async def update_meeting(call: Call) -> dict[str, Any]:
    return await meetings.update_meeting(
        call.services, call.me, call.int_param("meeting_id"), call.body
    )


async def transition(call: Call) -> dict[str, Any]:
    body: c.MeetingAction = call.body
    return await meetings.transition(
        call.services, call.me, call.int_param("meeting_id"), body.action
    )


async def snapshot(call: Call) -> dict[str, Any]:
    return await state.snapshot(call.services, call.me, call.int_param("meeting_id"))


async def events(call: Call) -> dict[str, Any]:
    since = call.query_int("since_seq") or 0
    return await state.catch_up(call.services, call.me, call.int_param("meeting_id"), since)


async def list_participants(call: Call) -> list[dict[str, Any]]:
    return await meetings.list_participants(call.services, call.me, call.int_param("meeting_id"))


async def add_participant(call: Call) -> dict[str, Any]:
    return await meetings.add_participant(
        call.services, call.me, call.int_param("meeting_id"), call.body
    )


async def remove_participant(call: Call) -> None:
    await meetings.remove_participant(
        call.services, call.me, call.int_param("meeting_id"), call.int_param("user_id")
    )


async def invite(call: Call) -> dict[str, Any]:
    return await meetings.invite(call.services, call.me, call.int_param("meeting_id"))


async def check_in(call: Call) -> dict[str, Any]:
    return await meetings.check_in(call.services, call.me, call.int_param("meeting_id"))


async def record_attendance(call: Call) -> dict[str, Any]:
    return await meetings.record_attendance(
        call.services, call.me, call.int_param("meeting_id"), call.body
    )


async def list_agenda(call: Call) -> list[dict[str, Any]]:
    return await agenda.list_agenda(call.services, call.me, call.int_param("meeting_id"))


async def create_item(call: Call) -> dict[str, Any]:
    return await agenda.create_item(call.services, call.me, call.int_param("meeting_id"), call.body)


async def update_item(call: Call) -> dict[str, Any]:
    return await agenda.update_item(
        call.services, call.me, call.int_param("meeting_id"), call.int_param("item_id"), call.body
    )


async def move_item(call: Call) -> list[dict[str, Any]]:
    return await agenda.move_item(
        call.services, call.me, call.int_param("meeting_id"), call.int_param("item_id"), call.body
    )


async def delete_item(call: Call) -> None:
    await agenda.delete_item(
        call.services, call.me, call.int_param("meeting_id"), call.int_param("item_id")
    )


M = "/api/meetings/{meeting_id:int}"
ROUTES = [
    Api("GET", "/api/meetings", list_meetings, "Meetings the caller may see", tag="meetings"),
    Api(
        "POST",
        "/api/meetings",
        create_meeting,
        "Create a meeting (secretariat)",
        body=c.CreateMeeting,
        status=201,
        tag="meetings",
    ),
    Api("GET", M, get_meeting, "One meeting with its live quorum", tag="meetings"),
    Api(
        "PATCH",
        M,
        update_meeting,
        "Change title, place, time or quorum rule (secretariat)",
        body=c.UpdateMeeting,
        tag="meetings",
    ),
    Api(
        "POST",
        M + "/transition",
        transition,
        "publish, unpublish, archive (secretariat); open, close, reopen (chair)",
        body=c.MeetingAction,
        tag="meetings",
    ),
    Api(
        "GET",
        M + "/snapshot",
        snapshot,
        "Everything a member sees, with the current seq",
        tag="meetings",
    ),
    Api(
        "GET",
        M + "/events",
        events,
        "Events after ?since_seq, or a snapshot if too far behind",
        tag="meetings",
        query=("since_seq",),
    ),
    Api(
        "GET",
        M + "/participants",
        list_participants,
        "Invited members and their attendance",
        tag="attendance",
    ),
    Api(
        "POST",
        M + "/participants",
        add_participant,
        "Invite a member (secretariat)",
        body=c.AddParticipant,
        status=201,
        tag="attendance",
    ),
    Api(
        "DELETE",
        M + "/participants/{user_id:int}",
        remove_participant,
        "Withdraw an invitation before the sitting (secretariat)",
        tag="attendance",
    ),
    Api(
        "POST",
        M + "/invitations",
        invite,
        "Send invitations to every participant (secretariat)",
        tag="attendance",
    ),
    Api(
        "POST",
        M + "/check-in",
        check_in,
        "Check in (the caller, from their tablet)",
        tag="attendance",
    ),
    Api(
        "POST",
        M + "/attendance",
        record_attendance,
        "Record a member's attendance (secretariat, chair)",
        body=c.RecordAttendance,
        tag="attendance",
    ),
    Api("GET", M + "/agenda", list_agenda, "The agenda, numbered", tag="agenda"),
    Api(
        "POST",
        M + "/agenda",
        create_item,
        "Add an agenda item (secretariat, chair)",
        body=c.CreateItem,
        status=201,
        tag="agenda",
    ),
    Api(
        "PATCH",
        M + "/agenda/{item_id:int}",
        update_item,
        "Edit an agenda item",
        body=c.UpdateItem,
        tag="agenda",
    ),
    Api(
        "POST",
        M + "/agenda/{item_id:int}/move",
        move_item,
        "Move or reorder an agenda item",
        body=c.MoveItem,
        tag="agenda",
    ),
    Api("DELETE", M + "/agenda/{item_id:int}", delete_item, "Delete an agenda item", tag="agenda"),
]
