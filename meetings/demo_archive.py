"""Demo: a past sitting whose resolution is signed and archived (docs/features/archive.md, "Demo").

`seed_archive` runs from `meetings.demo.seed_demo`, so the public archive is not empty: it
writes a demo PKI into the data folder (made with `cryptography`, nothing downloaded), adds a
closed sitting of last month with an adopted motion (tallied by the domain's own rules), and
takes its resolution through the real services: draft → generate → sign (chair + seal) →
archive → published. The server then signs and verifies with the same demo keys.

The steps are also used on their own (`create_demo_keys`, `create_past_sitting`,
`create_generated_resolution`): tests/bench/bench_signing_load.py prepares resolutions ready to
be signed with them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio
from sqlalchemy import select
from sqlmodel import col

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from meetings.domain.model import Role
from meetings.domain.voting import PollStatus, create_motion_spec, tally, validate_choice
from meetings.services import commands as c
from meetings.services.archive import records as archive
from meetings.services.archive import resolutions, signing_sessions
from meetings.services.archive.signing_keys import create_demo_pki
from meetings.services.context import Services
from meetings.services.sitting import agenda, meetings
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage.tables import Council, Meeting, Membership, Participant, User, utcnow
from meetings.storage.tables_voting import Poll, PollVote

TITLE = "Nghị quyết về dự toán ngân sách địa phương năm 2026"
ITEM = "Dự toán ngân sách địa phương năm 2026"

Member = tuple[int, str, str]  # user id, name, role


async def council_members(services: Services, council_id: int) -> list[Member]:
    async with services.db.reading() as session:
        rows = await session.execute(
            select(col(User.id), col(User.name), col(Membership.role))
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(col(Membership.council_id) == council_id)
            .order_by(col(User.id))
        )
        return [(int(i or 0), str(n), str(r)) for i, n, r in rows]


async def create_demo_keys(services: Services, council_id: int) -> str:
    """The demo PKI in the data folder, its chair certificate in the council chair's name
    (the server loads it at start); returns that name."""
    members = await council_members(services, council_id)
    chair = next(name for _i, name, role in members if role == Role.chair)
    async with services.db.reading() as session:
        council = await session.get(Council, council_id)
    assert council is not None
    await anyio.to_thread.run_sync(create_demo_pki, services.settings.data_dir, chair, council.name)
    services.subsystems.pop("signing", None)  # reload the keys: the demo PKI is now there
    return chair


async def create_past_sitting(services: Services, council_id: int, when: datetime) -> int:
    """A sitting of the council at `when` (status draft); returns its id."""
    m = await meetings.create_meeting(
        services,
        None,
        c.CreateMeeting(
            council_id=council_id,
            title="Kỳ họp thứ 11 – Phiên thảo luận ngân sách",
            session_name="Kỳ họp thứ 11, Hội đồng nhân dân tỉnh khóa X",
            location="Hội trường Hội đồng nhân dân tỉnh",
            starts_at=when,
        ),
    )
    return int(m["id"])


async def _adopted_poll(
    services: Services, meeting_id: int, item_id: int, members: list[Member], when: datetime
) -> int:
    """An open-ballot motion on `item_id`, voted and published at `when`: adopted."""
    voters = [(i, n) for i, n, role in members if role in (Role.chair, Role.delegate)]
    present = voters[: len(voters) - 3]
    spec = create_motion_spec()
    choices = ["yes"] * (len(present) - 4) + ["no", "no", "abstain", "abstain"]
    result = tally(spec, [validate_choice(spec, ch) for ch in choices], len(present), len(voters))
    async with services.uow() as uow:
        for user_id, _name in present:
            participant = (
                await uow.session.scalars(
                    select(Participant).where(
                        col(Participant.meeting_id) == meeting_id,
                        col(Participant.user_id) == user_id,
                    )
                )
            ).first()
            if participant is not None:
                participant.attendance, participant.checked_in_at = "present", when
        poll = Poll(
            meeting_id=meeting_id, agenda_item_id=item_id, title=TITLE, kind="motion",
            secret=False, spec=spec.to_dict(), status=PollStatus.PUBLISHED.value,
            opened_at=when, closed_at=when, published_at=when, result=result.to_dict(),
        )  # fmt: skip
        uow.session.add(poll)
        await uow.session.flush()
        for (user_id, _name), choice in zip(present, choices, strict=True):
            uow.session.add(PollVote(poll_id=poll.id, user_id=user_id, choice=choice, cast_at=when))  # type: ignore[arg-type]
        await uow.audit(None, "demo.seed_past_sitting", f"meeting:{meeting_id}")
        await uow.commit()
        return int(poll.id)  # type: ignore[arg-type]


async def create_generated_resolution(
    services: Services, meeting_id: int, members: list[Member], when: datetime, *, seed: int = 99
) -> int:
    """An agenda item, its adopted motion and its resolution, generated (ready to be signed)
    through the real services; returns the resolution id."""
    item = await agenda.create_item(
        services, None, meeting_id,
        c.CreateItem(title=ITEM, presenter="Giám đốc Sở Tài chính", duration_minutes=60),
    )  # fmt: skip
    poll_id = await _adopted_poll(services, meeting_id, int(item["id"]), members, when)
    draft = await anyio.to_thread.run_sync(
        partial(generate_agenda_document, TITLE, vietnamese_paragraphs(6, seed=seed), pages=2)
    )
    res = await resolutions.create_draft(
        services, None, meeting_id, draft, title=TITLE, filename="du-thao.pdf",
        agenda_item_id=int(item["id"]), poll_id=poll_id,
    )  # fmt: skip
    await resolutions.generate(services, None, int(res["id"]))
    return int(res["id"])


async def seed_archive(
    services: Services, council_id: int, progress: Callable[[str], None] = print
) -> int:
    """Seed the signed, archived and published resolution; returns its archive record id."""
    progress("Creating the demo signing keys and a past sitting with a signed resolution …")
    chair = await create_demo_keys(services, council_id)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    meeting_id = await create_past_sitting(services, council_id, when)
    members = await council_members(services, council_id)
    res_id = await create_generated_resolution(services, meeting_id, members, when)
    await signing_sessions.sign_with_server_key(services, None, "resolution", res_id, name=chair)
    record = await archive.archive(services, None, "resolution", res_id)
    async with services.uow() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.status, meeting.opened_at, meeting.closed_at = "archived", when, when
        await uow.emit(
            meeting_id, MeetingStatusChanged(status="archived", opened_at=None, closed_at=None)
        )
        await uow.commit()
    progress(f"  {TITLE}: signed, archived and published ({utcnow():%Y-%m-%d})")
    return int(record["id"])
