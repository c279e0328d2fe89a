"""Minutes (biên bản) of a sitting, generated from what it recorded (docs/features/archive.md,
"Minutes").

Every change of a sitting was committed together with its event in the meeting's event log, so
the rows read here (attendance, agenda, speakers, polls with their stored results and, for open
polls, each delegate's ballot) are exactly what the log says happened. The minutes also state the
audit log's head hash and the meeting's last event `seq` when they were made. They are signed
like a resolution (`signing_sessions.py`) and archived (`archive.py`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.documents.certification import (
    AgendaEntry,
    AttendanceEntry,
    MinutesData,
    OptionCount,
    PollResult,
    render_minutes_pdf,
)
from meetings.domain.errors import NotFound
from meetings.services.archive.events import MinutesGenerated
from meetings.services.archive.resolutions import OPTION_LABELS, VN, local_date
from meetings.services.archive.targets import load_target, minutes_public, public_page_url
from meetings.services.context import Actor, Services
from meetings.services.loading import get_meeting
from meetings.storage.tables import (
    AgendaItem,
    AuditHead,
    Council,
    Meeting,
    Membership,
    Participant,
    Speaker,
    User,
)
from meetings.storage.tables_archive import MinutesDoc
from meetings.storage.tables_voting import Poll, PollVote
from meetings.storage.uow import GENESIS_HASH


def _choice_label(choice: Any) -> str:
    if isinstance(choice, dict):
        choice = choice.get("choice", choice)
    if isinstance(choice, str):
        return OPTION_LABELS.get(choice, choice)
    if isinstance(choice, list):
        return ", ".join(str(c) for c in choice) or OPTION_LABELS["abstain"]
    return str(choice)


async def _names_by_role(session: AsyncSession, council_id: int, role: str) -> str:
    rows = await session.scalars(
        select(col(User.name))
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(col(Membership.council_id) == council_id, col(Membership.role) == role)
        .order_by(col(User.id))
    )
    return ", ".join(rows) or "—"


async def _attendance(session: AsyncSession, meeting_id: int) -> tuple[AttendanceEntry, ...]:
    rows = await session.execute(
        select(Participant, User)
        .join(User, col(User.id) == col(Participant.user_id))
        .where(col(Participant.meeting_id) == meeting_id, col(Participant.voting))
        .order_by(col(User.name), col(User.id))
    )
    out = []
    for p, user in rows:
        status = p.attendance if p.attendance in ("present", "excused") else "absent"
        at = p.checked_in_at
        when = (
            at.astimezone(VN).strftime("%H:%M") if at is not None and status == "present" else None
        )
        out.append(AttendanceEntry(user.name, status, when))
    return tuple(out)


async def _agenda(session: AsyncSession, meeting_id: int) -> tuple[AgendaEntry, ...]:
    items = list(
        await session.scalars(
            select(AgendaItem)
            .where(col(AgendaItem.meeting_id) == meeting_id)
            .order_by(col(AgendaItem.position), col(AgendaItem.id))
        )
    )
    spoke = await session.execute(
        select(col(Speaker.item_id), col(User.name))
        .join(User, col(User.id) == col(Speaker.user_id))
        .where(col(Speaker.meeting_id) == meeting_id, col(Speaker.started_at).is_not(None))
        .order_by(col(Speaker.started_at))
    )
    speakers: dict[int, list[str]] = {}
    for item_id, name in spoke:
        speakers.setdefault(item_id, []).append(name)
    out: list[AgendaEntry] = []

    def walk(parent: int | None, prefix: str) -> None:
        children = [i for i in items if i.parent_id == parent]
        for n, item in enumerate(children, 1):
            number = f"{prefix}{n}"
            assert item.id is not None
            out.append(
                AgendaEntry(number, item.title, item.presenter or None,
                            tuple(speakers.get(item.id, [])))
            )  # fmt: skip
            walk(item.id, number + ".")

    walk(None, "")
    return tuple(out)


async def _polls(session: AsyncSession, meeting_id: int) -> tuple[PollResult, ...]:
    polls = await session.scalars(
        select(Poll)
        .where(
            col(Poll.meeting_id) == meeting_id,
            col(Poll.status).in_(("closed", "published")),
            col(Poll.result).is_not(None),
        )
        .order_by(col(Poll.closed_at), col(Poll.id))
    )
    out = []
    for poll in polls:
        result = poll.result or {}
        counts = tuple(
            OptionCount(OPTION_LABELS.get(str(c["option"]), str(c["option"])), int(c["value"]))
            for c in result.get("counts", [])
        )
        outcome = result.get("outcome")
        adopted = {"adopted": True, "rejected": False}.get(str(outcome))
        ballots: tuple[tuple[str, str], ...] = ()
        if not poll.secret:
            rows = await session.execute(
                select(col(User.name), col(PollVote.choice))
                .join(User, col(User.id) == col(PollVote.user_id))
                .where(col(PollVote.poll_id) == poll.id)
                .order_by(col(User.name), col(User.id))
            )
            ballots = tuple((name, _choice_label(choice)) for name, choice in rows)
        out.append(PollResult(poll.title, counts, adopted, poll.secret, ballots))
    return tuple(out)


async def minutes_data(session: AsyncSession, meeting: Meeting) -> MinutesData:
    council = await session.get(Council, meeting.council_id)
    assert council is not None and meeting.id is not None
    head = await session.get(AuditHead, 1)
    return MinutesData(
        council_name=council.name,
        meeting_title=meeting.title,
        meeting_date=local_date(meeting.starts_at or meeting.opened_at),
        location=meeting.location or "—",
        chair=await _names_by_role(session, meeting.council_id, "chair"),
        secretary=await _names_by_role(session, meeting.council_id, "secretary"),
        attendance=await _attendance(session, meeting.id),
        agenda=await _agenda(session, meeting.id),
        polls=await _polls(session, meeting.id),
        audit_head_hash=head.hash if head is not None else GENESIS_HASH,
    )


async def generate_minutes(
    services: Services, actor: Actor | None, meeting_id: int
) -> dict[str, Any]:
    """Render the minutes of a sitting as it stands; `actor` None is the local CLI."""
    async with services.uow() as uow:
        session = uow.session
        if actor is None:
            found = await session.get(Meeting, meeting_id)
            if found is None:
                raise NotFound(f"no meeting {meeting_id}")
            meeting = found
        else:
            meeting = await get_meeting(session, actor, meeting_id)
            actor.require_secretary(meeting.council_id)
        data = await minutes_data(session, meeting)
        row = MinutesDoc(
            meeting_id=meeting_id,
            council_id=meeting.council_id,
            generated_sha256="",  # set below: the QR code needs the row's id first
            audit_head_hash=data.audit_head_hash,
            created_by=actor.user_id if actor else None,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        data = replace(
            data, public_url=public_page_url(services.settings.public_url, "minutes", row.id)
        )
        sha = await anyio.to_thread.run_sync(lambda: services.blobs.put(render_minutes_pdf(data)))
        row.generated_sha256 = sha
        out = minutes_public(row)
        out["last_seq"] = meeting.last_seq
        await uow.emit(meeting_id, MinutesGenerated.model_validate(out))
        await uow.audit(
            actor.user_id if actor else None,
            "minutes.generate",
            f"minutes:{row.id}",
            {"sha256": sha, "audit_head_hash": data.audit_head_hash, "seq": meeting.last_seq},
        )
        await uow.commit()
        return out


async def show_minutes(services: Services, actor: Actor, minutes_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        target, _meeting = await load_target(session, actor, "minutes", minutes_id)
        assert isinstance(target, MinutesDoc)
        return minutes_public(target)
