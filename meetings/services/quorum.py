"""A sitting's quorum: how many voting members are present, and whether that is enough
(docs/DOMAIN.md, "Majorities").

Shared by the sitting (attendance changes, the join snapshot) and voting (a poll opens only
with a quorum, and its result states it), so neither feature package imports the other for it.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.events import Payload
from meetings.domain.majority import QuorumRule, quorum_status
from meetings.domain.model import Attendance
from meetings.storage.prepared import rows
from meetings.storage.tables import Meeting, Participant


class QuorumData(Payload):
    """A sitting's quorum as events and acks carry it."""

    present: int
    total: int
    needed: int
    met: bool


def meeting_rule(m: Meeting) -> QuorumRule:
    return QuorumRule.of(m.quorum_num, m.quorum_den, strict=m.quorum_strict)


@functools.cache
def _attendance() -> Any:
    """Built once (a chair's command reads it on the event loop of a busy sitting)."""
    return select(col(Participant.attendance)).where(
        col(Participant.meeting_id) == bindparam("meeting_id"), col(Participant.voting)
    )


async def quorum_of(session: AsyncSession, meeting: Meeting) -> dict[str, Any]:
    found = await rows(session, _attendance(), {"meeting_id": meeting.id})
    present = sum(1 for (a,) in found if a == Attendance.present)
    status = quorum_status(present, len(found), meeting_rule(meeting))
    return {"present": present, "total": len(found), "needed": status.needed, "met": status.met}
