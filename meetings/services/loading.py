"""Loading rows for a caller: what they may not see does not exist (docs/SECURITY.md).

A meeting the caller may not see answers `not_found`, not `forbidden`, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.domain.errors import NotFound
from meetings.domain.model import MeetingStatus
from meetings.services.context import Actor
from meetings.storage.tables import AgendaItem, Council, Meeting


class InMeeting(Protocol):
    meeting_id: int


class MeetingLike(Protocol):
    """What deciding who may see a meeting reads of it (a `Meeting`, or a row of its columns)."""

    @property
    def council_id(self) -> int: ...

    @property
    def status(self) -> str: ...


Row = TypeVar("Row", bound=InMeeting)


async def get_in_meeting(
    session: AsyncSession,
    actor: Actor,
    table: type[Row],
    row_id: int,
    what: str,
    *,
    lock: bool = False,
) -> tuple[Row, Meeting]:
    """A row that belongs to a meeting, and its meeting; `not_found` for both an unknown id and
    a row in a meeting the caller may not see (the two are indistinguishable)."""
    row = await session.get(table, row_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    try:
        meeting = await get_meeting(session, actor, row.meeting_id)
    except NotFound:
        raise NotFound(f"no {what} {row_id}") from None
    return row, meeting


def may_see_meeting(actor: Actor, meeting: MeetingLike) -> bool:
    if actor.is_admin:
        return True
    role = actor.role_in(meeting.council_id)
    if role is None:
        return False
    return meeting.status != MeetingStatus.draft or actor.is_staff(meeting.council_id)


async def get_council(session: AsyncSession, actor: Actor, council_id: int) -> Council:
    council = await session.get(Council, council_id)
    if council is None or not (actor.is_admin or actor.role_in(council_id) is not None):
        raise NotFound(f"no council {council_id}")
    return council


async def get_meeting(
    session: AsyncSession, actor: Actor, meeting_id: int, *, lock: bool = False
) -> Meeting:
    meeting = await session.get(Meeting, meeting_id, with_for_update=lock)
    if meeting is None or not may_see_meeting(actor, meeting):
        raise NotFound(f"no meeting {meeting_id}")
    return meeting


async def get_item(session: AsyncSession, meeting: Meeting, item_id: int) -> AgendaItem:
    item = await session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound(f"no agenda item {item_id} in meeting {meeting.id}")
    return item
