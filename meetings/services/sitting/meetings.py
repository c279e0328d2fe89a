"""Meetings: preparation, status, participants and attendance (docs/features/sitting.md,
"Meetings").

Each function follows the command path: authorise, load, ask the domain, change, emit, commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.domain.majority import QuorumRule
from meetings.domain.model import (
    EDITABLE_MEETING,
    VOTING_ROLES,
    Attendance,
    MeetingStatus,
    meeting_transition,
)
from meetings.domain.voting import PollStatus
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.loading import get_council, get_meeting, may_see_meeting
from meetings.services.quorum import quorum_of
from meetings.services.sitting.events import (
    AttendanceChanged,
    Invitation,
    MeetingCreated,
    MeetingStatusChanged,
    MeetingUpdated,
    ParticipantAdded,
    ParticipantRemoved,
)
from meetings.storage.tables import (
    Council,
    Meeting,
    Membership,
    Participant,
    User,
    as_utc,
    pk,
    utcnow,
)
from meetings.storage.tables_voting import Poll
from meetings.storage.uow import UnitOfWork


def meeting_public(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "council_id": m.council_id,
        "title": m.title,
        "session_name": m.session_name,
        "location": m.location,
        "starts_at": iso(m.starts_at),
        "status": m.status,
        "current_item_id": m.current_item_id,
        "seq": m.last_seq,
        "quorum_rule": {"num": m.quorum_num, "den": m.quorum_den, "strict": m.quorum_strict},
        "opened_at": iso(m.opened_at),
        "closed_at": iso(m.closed_at),
    }


def participant_public(p: Participant, user: User) -> dict[str, Any]:
    return {
        "user_id": p.user_id,
        "name": user.name,
        "username": user.username,
        "voting": p.voting,
        "attendance": p.attendance,
        "checked_in_at": iso(p.checked_in_at),
        "recorded_how": p.recorded_how,
    }


async def list_meetings(services: Services, actor: Actor) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        query = select(Meeting).order_by(col(Meeting.starts_at).desc(), col(Meeting.id).desc())
        if not actor.is_admin:
            query = query.where(col(Meeting.council_id).in_(list(actor.roles)))
        meetings = (await session.execute(query)).scalars()
        return [meeting_public(m) for m in meetings if may_see_meeting(actor, m)]


async def get_meeting_public(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        return meeting_public(meeting) | {"quorum": await quorum_of(session, meeting)}


async def _invite_members(session: AsyncSession, meeting: Meeting) -> None:
    """Invite the council's voting members whose term covers the meeting's day."""
    day = (meeting.starts_at or utcnow()).date()
    members = (
        await session.execute(
            select(Membership).where(
                col(Membership.council_id) == meeting.council_id,
                col(Membership.role).in_([r.value for r in VOTING_ROLES]),
                or_(col(Membership.term_start).is_(None), col(Membership.term_start) <= day),
                or_(col(Membership.term_end).is_(None), col(Membership.term_end) >= day),
            )
        )
    ).scalars()
    for m in members:
        session.add(Participant(meeting_id=pk(meeting), user_id=m.user_id, voting=True))


async def create_meeting(
    services: Services, actor: Actor | None, cmd: c.CreateMeeting
) -> dict[str, Any]:
    async with services.uow() as uow:
        if actor is not None:
            council = await get_council(uow.session, actor, cmd.council_id)
            actor.require_secretary(cmd.council_id)
        else:
            found = await uow.session.get(Council, cmd.council_id)
            if found is None:
                raise NotFound(f"no council {cmd.council_id}")
            council = found
        meeting = Meeting(
            council_id=cmd.council_id,
            title=cmd.title,
            session_name=cmd.session_name,
            location=cmd.location,
            starts_at=as_utc(cmd.starts_at),
            quorum_num=council.quorum_num,
            quorum_den=council.quorum_den,
            quorum_strict=council.quorum_strict,
        )
        uow.session.add(meeting)
        await uow.session.flush()
        await _invite_members(uow.session, meeting)
        await uow.emit(pk(meeting), MeetingCreated.model_validate(meeting_public(meeting)))
        await uow.audit(
            actor.user_id if actor else None,
            "meeting.create",
            f"meeting:{meeting.id}",
            {"title": meeting.title},
        )
        await uow.commit()
        return meeting_public(meeting)


async def update_meeting(
    services: Services, actor: Actor, meeting_id: int, cmd: c.UpdateMeeting
) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id)
        actor.require_secretary(meeting.council_id)
        if meeting.status not in EDITABLE_MEETING:
            raise Conflict(f"a {meeting.status} meeting cannot be edited", code="meeting_locked")
        changes = cmd.model_dump(exclude_unset=True)
        num = changes.get("quorum_num", meeting.quorum_num)
        den = changes.get("quorum_den", meeting.quorum_den)
        strict = changes.get("quorum_strict", meeting.quorum_strict)
        try:  # the rule every quorum read applies: refused here, not at each read
            QuorumRule.of(num, den, strict=strict)
        except InvalidInput as exc:
            raise InvalidInput(
                f"a quorum rule that cannot be used: {exc}", code="bad_quorum"
            ) from None
        if "starts_at" in changes and changes["starts_at"] is not None:
            changes["starts_at"] = as_utc(changes["starts_at"])
        for key, value in changes.items():
            setattr(meeting, key, value)
        await uow.emit(meeting_id, MeetingUpdated.model_validate(meeting_public(meeting)))
        await uow.commit()
        return meeting_public(meeting)


async def transition(
    services: Services, actor: Actor, meeting_id: int, action: str
) -> dict[str, Any]:
    """publish / unpublish / archive: the secretariat; open / close / reopen: the chair."""
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id, lock=True)
        if action in ("open", "close", "reopen"):
            actor.require_chair(meeting.council_id)
        else:
            actor.require_secretary(meeting.council_id)
        target = meeting_transition(meeting.status, action)
        if action in ("close", "archive"):
            await _refuse_open_polls(uow.session, meeting_id)
        meeting.status = target.value
        if action in ("open", "reopen"):
            meeting.opened_at = meeting.opened_at or utcnow()
        elif action == "close":
            meeting.closed_at = utcnow()
        out = meeting_public(meeting)
        await uow.emit(
            meeting_id,
            MeetingStatusChanged(
                status=meeting.status, opened_at=out["opened_at"], closed_at=out["closed_at"]
            ),
        )
        await uow.audit(actor.user_id, f"meeting.{action}", f"meeting:{meeting_id}")
        await uow.commit()
        return out


async def _refuse_open_polls(session: AsyncSession, meeting_id: int) -> None:
    """A sitting closes (and is archived) only when no poll is open: the chair closes or cancels
    it first, so closing the sitting never loses a vote or leaves one half cast, and no secret
    poll is left open for good with its ballots unscrubbed (docs/features/voting.md)."""
    open_polls = (
        await session.execute(
            select(col(Poll.id)).where(
                col(Poll.meeting_id) == meeting_id, col(Poll.status) == PollStatus.OPEN
            )
        )
    ).scalars()
    ids = sorted(int(p) for p in open_polls if p is not None)
    if ids:
        raise Conflict(
            "a poll is still open: close or cancel it first",
            code="poll_open",
            details={"poll_ids": ids},
        )


async def list_participants(
    services: Services, actor: Actor, meeting_id: int
) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        await get_meeting(session, actor, meeting_id)
        return await participants_of(session, meeting_id, invited=True)


async def participants_of(
    session: AsyncSession, meeting_id: int, *, invited: bool = False
) -> list[dict[str, Any]]:
    """The participants; with `invited`, also when their invitation was sent (the REST list:
    the snapshot leaves it out, no event changes it)."""
    rows = await session.execute(
        select(Participant, User)
        .join(User, col(User.id) == col(Participant.user_id))
        .where(col(Participant.meeting_id) == meeting_id)
        .order_by(col(User.name))
    )
    return [
        participant_public(p, u) | ({"invited_at": iso(p.invited_at)} if invited else {})
        for p, u in rows.all()
    ]


async def add_participant(
    services: Services, actor: Actor, meeting_id: int, cmd: c.AddParticipant
) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id)
        actor.require_secretary(meeting.council_id)
        user = await uow.session.get(User, cmd.user_id)
        if user is None:
            raise NotFound(f"no user {cmd.user_id}")
        role = await uow.session.scalar(
            select(col(Membership.role)).where(
                col(Membership.council_id) == meeting.council_id,
                col(Membership.user_id) == cmd.user_id,
            )
        )
        if cmd.voting and role not in [r.value for r in VOTING_ROLES]:
            raise InvalidInput(
                f"{user.name} is not a voting member of this council", code="not_voting_member"
            )
        exists = await uow.session.scalar(
            select(col(Participant.id)).where(
                col(Participant.meeting_id) == meeting_id, col(Participant.user_id) == cmd.user_id
            )
        )
        if exists is not None:
            raise Conflict(f"{user.name} is already invited", code="already_invited")
        p = Participant(meeting_id=meeting_id, user_id=cmd.user_id, voting=cmd.voting)
        uow.session.add(p)
        await uow.session.flush()
        out = participant_public(p, user)
        quorum = await quorum_of(uow.session, meeting)
        await uow.emit(meeting_id, ParticipantAdded.model_validate(out | {"quorum": quorum}))
        await uow.commit()
        return out


async def remove_participant(
    services: Services, actor: Actor, meeting_id: int, user_id: int
) -> None:
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id)
        actor.require_secretary(meeting.council_id)
        if meeting.status not in (MeetingStatus.draft, MeetingStatus.published):
            raise Conflict(
                "participants are fixed once the sitting has opened", code="meeting_locked"
            )
        p = (
            await uow.session.execute(
                select(Participant).where(
                    col(Participant.meeting_id) == meeting_id, col(Participant.user_id) == user_id
                )
            )
        ).scalar_one_or_none()
        if p is None:
            raise NotFound(f"user {user_id} is not invited to meeting {meeting_id}")
        await uow.session.delete(p)
        await uow.session.flush()
        quorum = await quorum_of(uow.session, meeting)
        await uow.emit(
            meeting_id, ParticipantRemoved.model_validate({"user_id": user_id, "quorum": quorum})
        )
        await uow.commit()


async def invite(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """Send the invitations: records the time on every participant not yet invited."""
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id)
        actor.require_secretary(meeting.council_id)
        if meeting.status != MeetingStatus.published:
            raise Conflict("publish the meeting before sending invitations", code="not_published")
        now = utcnow()
        rows = (
            (
                await uow.session.execute(
                    select(Participant).where(
                        col(Participant.meeting_id) == meeting_id,
                        col(Participant.invited_at).is_(None),
                    )
                )
            )
            .scalars()
            .all()
        )
        for p in rows:
            p.invited_at = now
            uow.notify_user(
                p.user_id, Invitation.model_validate({"meeting": meeting_public(meeting)})
            )
        await uow.audit(
            actor.user_id, "meeting.invite", f"meeting:{meeting_id}", {"count": len(rows)}
        )
        await uow.commit()
        return {"invited": len(rows)}


async def _set_attendance(
    uow: UnitOfWork, meeting: Meeting, user_id: int, attendance: Attendance, how: str, by: int
) -> dict[str, Any]:
    p = (
        await uow.session.execute(
            select(Participant).where(
                col(Participant.meeting_id) == meeting.id, col(Participant.user_id) == user_id
            )
        )
    ).scalar_one_or_none()
    if p is None:
        raise NotFound(
            f"user {user_id} is not a participant of this meeting", code="not_participant"
        )
    if p.attendance == attendance:
        return {"user_id": user_id, "attendance": p.attendance, "unchanged": True}
    p.attendance = attendance.value
    p.checked_in_at = utcnow() if attendance == Attendance.present else p.checked_in_at
    p.recorded_by = by
    p.recorded_how = how
    await uow.session.flush()
    data = {
        "user_id": user_id,
        "attendance": p.attendance,
        "checked_in_at": iso(p.checked_in_at),
        "recorded_how": how,
        "quorum": await quorum_of(uow.session, meeting),
    }
    await uow.emit(pk(meeting), AttendanceChanged.model_validate(data))
    return data


async def check_in(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """A delegate checks in from their tablet, once the meeting is published and not closed."""
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id, lock=True)
        if meeting.status not in (MeetingStatus.published, MeetingStatus.open):
            raise Conflict(
                f"check-in is not possible while the meeting is {meeting.status}",
                code="meeting_not_open",
            )
        invited = await uow.session.scalar(
            select(col(Participant.id)).where(
                col(Participant.meeting_id) == meeting_id,
                col(Participant.user_id) == actor.user_id,
            )
        )
        if invited is None:
            raise Forbidden("only the meeting's participants check in", code="not_participant")
        data = await _set_attendance(
            uow, meeting, actor.user_id, Attendance.present, "self", actor.user_id
        )
        await uow.commit()
        return data


async def record_attendance(
    services: Services, actor: Actor, meeting_id: int, cmd: c.RecordAttendance
) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, meeting_id, lock=True)
        actor.require_staff(meeting.council_id)
        if meeting.status in (MeetingStatus.archived,):
            raise Conflict("the meeting is archived", code="meeting_locked")
        data = await _set_attendance(
            uow, meeting, cmd.user_id, cmd.attendance, "secretariat", actor.user_id
        )
        if not data.get("unchanged"):
            await uow.audit(
                actor.user_id,
                "attendance.record",
                f"meeting:{meeting_id}",
                {"user_id": cmd.user_id, "attendance": cmd.attendance.value},
            )
        await uow.commit()
        return data
