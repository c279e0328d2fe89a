"""Draft resolutions → generated resolution PDFs with numbers (docs/features/archive.md,
"Resolutions").

The secretariat uploads a draft (a PDF) linked to an agenda item and the poll that decides it.
Once that poll is closed and adopted the motion, `generate` numbers the resolution per council
and year ("Nghị quyết số 12/NQ-HĐND") and appends the certification page with the vote result.
Signing is in `signing_sessions.py`, archiving in `archive.py`.
"""

from __future__ import annotations

import datetime as dt
from os.path import getsize
from pathlib import Path
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.documents.certification import (
    CertificationData,
    OptionCount,
    build_resolution_pdf,
)
from meetings.documents.ingest import safe_filename
from meetings.domain.errors import Conflict, InvalidInput, NotFound
from meetings.services import commands as c
from meetings.services.archive.events import (
    ResolutionChanged,
    ResolutionDrafted,
    ResolutionGenerated,
)
from meetings.services.archive.targets import public_page_url, resolution_public
from meetings.services.context import Actor, Services
from meetings.services.documents.pdf_checks import inspect_upload
from meetings.services.loading import get_in_meeting, get_item, get_meeting
from meetings.storage.tables import Council, Meeting, utcnow
from meetings.storage.tables_archive import Resolution
from meetings.storage.tables_voting import Poll

VN = dt.timezone(dt.timedelta(hours=7))
NUMBER_SUFFIX = "NQ-HĐND"
OPTION_LABELS = {"yes": "Tán thành", "no": "Không tán thành", "abstain": "Không biểu quyết"}
BASE_LABELS = {
    "votes_cast": "số phiếu biểu quyết",
    "valid_votes": "số phiếu tán thành và không tán thành",
    "present": "số đại biểu có mặt",
    "members": "tổng số đại biểu Hội đồng nhân dân",
}


class DraftUpdate(BaseModel):
    """PATCH /api/resolutions/{id}: what may change before the resolution is generated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    poll_id: c.Id | None = None
    agenda_item_id: c.Id | None = None
    public: bool | None = None


def local_date(at: dt.datetime | None) -> dt.date:
    return (at or utcnow()).astimezone(VN).date()


async def get_resolution(
    session: AsyncSession, actor: Actor, resolution_id: int, *, lock: bool = False
) -> tuple[Resolution, Meeting]:
    return await get_in_meeting(session, actor, Resolution, resolution_id, "resolution", lock=lock)


async def _check_poll(session: AsyncSession, meeting: Meeting, poll_id: int) -> Poll:
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.meeting_id != meeting.id:
        raise NotFound(f"no poll {poll_id} in meeting {meeting.id}")
    if poll.kind != "motion":
        raise InvalidInput("a resolution is decided by a motion poll", code="not_a_motion")
    return poll


async def check_draft(services: Services, actor: Actor, meeting_id: int) -> None:
    """May `actor` upload a draft resolution to this meeting? Asked before the body is read."""
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        actor.require_secretary(meeting.council_id)


async def create_draft(
    services: Services,
    actor: Actor | None,
    meeting_id: int,
    data: bytes | Path,
    *,
    title: str,
    filename: str = "draft.pdf",
    agenda_item_id: int | None = None,
    poll_id: int | None = None,
    public: bool = True,
) -> dict[str, Any]:
    """A draft resolution (PDF upload: its bytes, or the file the body was spooled to).
    `actor` None is the local CLI (demo seeding)."""
    title = title.strip()[:500]
    if not title:
        raise InvalidInput("give the resolution a title", code="validation")
    size = len(data) if isinstance(data, bytes) else await anyio.to_thread.run_sync(getsize, data)
    if size > services.settings.upload_limit:
        raise InvalidInput("the file is larger than the upload limit", code="too_large")
    if actor is not None:
        await check_draft(services, actor, meeting_id)  # before any byte of it is read
    await inspect_upload(services, data)
    sha256 = await anyio.to_thread.run_sync(services.blobs.put, data)
    async with services.uow() as uow:
        session = uow.session
        if actor is None:
            meeting = await session.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFound(f"no meeting {meeting_id}")
        else:
            meeting = await get_meeting(session, actor, meeting_id)
            actor.require_secretary(meeting.council_id)
        if agenda_item_id is not None:
            await get_item(session, meeting, agenda_item_id)
        if poll_id is not None:
            await _check_poll(session, meeting, poll_id)
        res = Resolution(
            council_id=meeting.council_id,
            meeting_id=meeting_id,
            agenda_item_id=agenda_item_id,
            poll_id=poll_id,
            title=title,
            draft_sha256=sha256,
            draft_filename=safe_filename(filename),
            public=public,
            created_by=actor.user_id if actor else None,
        )
        session.add(res)
        await session.flush()
        out = resolution_public(res)
        await uow.emit(meeting_id, ResolutionDrafted.model_validate(out))
        await uow.audit(
            actor.user_id if actor else None,
            "resolution.draft",
            f"resolution:{res.id}",
            {"sha256": sha256, "title": title},
        )
        await uow.commit()
        return out


async def update_draft(
    services: Services, actor: Actor, resolution_id: int, cmd: DraftUpdate
) -> dict[str, Any]:
    async with services.uow() as uow:
        res, meeting = await get_resolution(uow.session, actor, resolution_id, lock=True)
        actor.require_secretary(meeting.council_id)
        if res.status not in ("draft", "generated"):
            raise Conflict("a signed resolution cannot change", code="resolution_locked")
        if cmd.title is not None and cmd.title.strip():
            res.title = cmd.title.strip()[:500]
        if cmd.poll_id is not None:
            await _check_poll(uow.session, meeting, cmd.poll_id)
            res.poll_id = cmd.poll_id
        if cmd.agenda_item_id is not None:
            await get_item(uow.session, meeting, cmd.agenda_item_id)
            res.agenda_item_id = cmd.agenda_item_id
        if cmd.public is not None:
            res.public = cmd.public
        res.status = "draft"  # a changed draft must be generated again
        res.generated_sha256 = None
        out = resolution_public(res)
        await uow.emit(res.meeting_id, ResolutionChanged.model_validate(out))
        await uow.audit(actor.user_id, "resolution.update", f"resolution:{res.id}")
        await uow.commit()
        return out


async def list_resolutions(
    services: Services, actor: Actor, meeting_id: int
) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        await get_meeting(session, actor, meeting_id)
        rows = await session.scalars(
            select(Resolution)
            .where(Resolution.meeting_id == meeting_id)  # type: ignore[arg-type]
            .order_by(col(Resolution.id))
        )
        return [resolution_public(r) for r in rows]


async def show_resolution(services: Services, actor: Actor, resolution_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        res, _meeting = await get_resolution(session, actor, resolution_id)
        return resolution_public(res)


def _threshold_label(rule: dict[str, Any]) -> str:
    word = "quá" if rule.get("comparison") == "gt" else "ít nhất"
    return f"{word} {rule.get('fraction', '1/2')}"


def certification_for(
    council: Council,
    meeting: Meeting,
    res: Resolution,
    poll: Poll,
    number: str,
    public_url: str = "",
) -> CertificationData:
    """The certification page's facts, from the poll's stored result."""
    result = poll.result or {}
    if poll.status not in ("closed", "published") or not result:
        raise Conflict("the poll deciding this resolution is not closed", code="poll_not_closed")
    if result.get("outcome") != "adopted":
        raise Conflict("the poll did not adopt this resolution", code="not_adopted")
    counts = tuple(
        OptionCount(OPTION_LABELS.get(str(c["option"]), str(c["option"])), int(c["value"]))
        for c in result.get("counts", [])
    )
    rule = dict(result.get("rule") or {})
    return CertificationData(
        council_name=council.name,
        meeting_title=meeting.title,
        meeting_date=local_date(meeting.starts_at or meeting.opened_at),
        resolution_number=f"Nghị quyết số {number}",
        resolution_title=res.title,
        present=int(result.get("present", 0)),
        total_members=int(result.get("members", 0)),
        counts=counts,
        base_label=BASE_LABELS.get(str(rule.get("base")), str(rule.get("base", ""))),
        base_count=int(result.get("base_size", 0)),
        threshold_label=_threshold_label(rule),
        adopted=True,
        secret=poll.secret,
        place=meeting.location,
        public_url=public_url,
    )


async def generate(services: Services, actor: Actor | None, resolution_id: int) -> dict[str, Any]:
    """Number the resolution and build its PDF: the draft's pages + the certification page."""
    async with services.uow() as uow:
        session = uow.session
        if actor is None:
            found = await session.get(Resolution, resolution_id, with_for_update=True)
            if found is None:
                raise NotFound(f"no resolution {resolution_id}")
            res = found
            meeting = await session.get(Meeting, res.meeting_id)
            assert meeting is not None
        else:
            res, meeting = await get_resolution(session, actor, resolution_id, lock=True)
            actor.require_secretary(meeting.council_id)
        if res.status not in ("draft", "generated"):
            raise Conflict("this resolution is already signed", code="resolution_locked")
        if res.poll_id is None:
            raise Conflict("link the poll that decides this resolution first", code="no_poll")
        poll = await session.get(Poll, res.poll_id)
        council = await session.get(Council, res.council_id, with_for_update=True)
        assert poll is not None and council is not None
        if res.seq is None:
            year = local_date(meeting.starts_at or meeting.opened_at).year
            last = await session.scalar(
                select(func.max(Resolution.seq)).where(
                    Resolution.council_id == res.council_id,  # type: ignore[arg-type]
                    Resolution.year == year,  # type: ignore[arg-type]
                )
            )
            res.year, res.seq = year, int(last or 0) + 1
            res.number = f"{res.seq}/{NUMBER_SUFFIX}"
        assert res.id is not None
        page = public_page_url(services.settings.public_url, "resolution", res.id)
        cert = certification_for(council, meeting, res, poll, res.number, page)
        draft = await anyio.to_thread.run_sync(services.blobs.read, res.draft_sha256)

        def build() -> str:
            return services.blobs.put(build_resolution_pdf(draft, cert))

        res.generated_sha256 = await anyio.to_thread.run_sync(build)
        res.status = "generated"
        res.generated_at = utcnow()
        out = resolution_public(res)
        await uow.emit(res.meeting_id, ResolutionGenerated.model_validate(out))
        await uow.audit(
            actor.user_id if actor else None,
            "resolution.generate",
            f"resolution:{res.id}",
            {"number": res.number, "sha256": res.generated_sha256, "poll_id": res.poll_id},
        )
        await uow.commit()
        return out
