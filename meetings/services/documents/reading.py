"""Reading progress (docs/API.md, "Reading progress"): that a user opened a document of a
meeting, first and last, and how many of the meeting's participants opened each document.

What is recorded is deliberately little: which document, by whom, when first and last — never
which pages, nor for how long. A delegate sees only their own list; the chair and the
secretariat see counts per document, never who. The reader records an opening each time it
opens a document (idempotent: the first time makes the row, later ones move `last_opened_at`);
the first opening by a participant tells the chair's room the document's new count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from meetings.domain.events import VolatileOut, iso
from meetings.services.context import Actor, Services
from meetings.services.documents.access import readable_version
from meetings.services.documents.library import documents_of
from meetings.services.loading import get_meeting
from meetings.storage.tables import DocumentRead, Participant, pk, utcnow

READING_OPENED = "reading_opened"
"""The update the chair's room gets when a participant first opens a document."""


def _public(row: DocumentRead) -> dict[str, Any]:
    return {
        "document_id": row.document_id,
        "first_opened_at": iso(row.first_opened_at),
        "last_opened_at": iso(row.last_opened_at),
    }


async def _opened_by(services: Services, meeting_id: int, document_id: int) -> int:
    """How many participants of the meeting opened the document."""
    async with services.db.reading() as session:
        count = await session.execute(
            select(func.count())
            .select_from(DocumentRead)
            .join(Participant, col(Participant.user_id) == col(DocumentRead.user_id))
            .where(
                col(DocumentRead.document_id) == document_id,
                col(Participant.meeting_id) == meeting_id,
            )
        )
        return int(count.scalar_one())


async def _record(services: Services, actor: Actor, document_id: int) -> tuple[DocumentRead, bool]:
    """The caller's row for the document, made or touched; True when it was made now."""
    async with services.uow() as uow:
        row = (
            await uow.session.execute(
                select(DocumentRead).where(
                    col(DocumentRead.document_id) == document_id,
                    col(DocumentRead.user_id) == actor.user_id,
                )
            )
        ).scalar_one_or_none()
        made = row is None
        if row is None:
            row = DocumentRead(document_id=document_id, user_id=actor.user_id)
            uow.session.add(row)
        else:
            row.last_opened_at = utcnow()
        await uow.commit()
        return row, made


async def record_opened(services: Services, actor: Actor, document_id: int) -> dict[str, Any]:
    """Record that the caller opened a document they may read (not found otherwise)."""
    async with services.db.reading() as session:
        meeting, _doc, _ = await readable_version(session, actor, document_id=document_id)
        participant = (
            await session.execute(
                select(col(Participant.id)).where(
                    col(Participant.meeting_id) == pk(meeting),
                    col(Participant.user_id) == actor.user_id,
                )
            )
        ).first()
    try:
        row, made = await _record(services, actor, document_id)
    except IntegrityError:  # the same user's other device made the row meanwhile
        row, made = await _record(services, actor, document_id)
    if made and participant is not None:
        opened_by = await _opened_by(services, pk(meeting), document_id)
        await services.publisher.volatile(
            VolatileOut(
                pk(meeting),
                READING_OPENED,
                {"document_id": document_id, "opened_by": opened_by},
                room="chair",
            )
        )
    return _public(row)


async def my_reading(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """The caller's checklist: the meeting's documents they may read and have opened."""
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        readable = [d["id"] for d in await documents_of(session, actor, meeting)]
        rows = (
            (
                await session.execute(
                    select(DocumentRead)
                    .where(
                        col(DocumentRead.user_id) == actor.user_id,
                        col(DocumentRead.document_id).in_(readable),
                    )
                    .order_by(col(DocumentRead.document_id))
                )
            )
            .scalars()
            .all()
        )
    return {"meeting_id": meeting_id, "documents": [_public(r) for r in rows]}


async def reading_totals(services: Services, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """Per document of the meeting, how many of its participants opened it (staff only)."""
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        actor.require_staff(meeting.council_id)
        docs = await documents_of(session, actor, meeting)
        participants = (
            await session.execute(
                select(func.count())
                .select_from(Participant)
                .where(col(Participant.meeting_id) == meeting_id)
            )
        ).scalar_one()
        counts: dict[int, int] = dict(
            (
                await session.execute(
                    select(col(DocumentRead.document_id), func.count())
                    .join(Participant, col(Participant.user_id) == col(DocumentRead.user_id))
                    .where(
                        col(Participant.meeting_id) == meeting_id,
                        col(DocumentRead.document_id).in_([d["id"] for d in docs]),
                    )
                    .group_by(col(DocumentRead.document_id))
                )
            ).all()
        )
    return {
        "meeting_id": meeting_id,
        "participants": int(participants),
        "documents": [
            {"document_id": d["id"], "title": d["title"], "opened_by": int(counts.get(d["id"], 0))}
            for d in docs
        ],
    }
