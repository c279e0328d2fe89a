"""Who may read a document (docs/AUTHORIZATION.md, "Reading a cell").

The one home of the rule, used by the document library, page images, the sitting's snapshot,
annotations and their exports: staff read everything of their council; a restricted or
confidential document is read by the users it names; public and members documents by anyone
who may see the meeting. What the caller may not read does not exist: `not_found`, as for an
unknown id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import NotFound
from meetings.domain.model import Visibility
from meetings.services.context import Actor
from meetings.services.loading import get_meeting
from meetings.storage.tables import Document, DocumentAccess, DocumentVersion, Meeting, pk

NAMED = (Visibility.restricted, Visibility.confidential)


async def named_readers(session: AsyncSession, document_id: int) -> list[int]:
    """The users a restricted or confidential document names."""
    rows = await session.execute(
        select(col(DocumentAccess.user_id)).where(col(DocumentAccess.document_id) == document_id)
    )
    return sorted(rows.scalars())


def may_read(actor: Actor, meeting: Meeting, doc: Document, allowed: list[int]) -> bool:
    if actor.is_staff(meeting.council_id):
        return True
    if doc.visibility in NAMED:
        return actor.user_id in allowed
    return True  # public and members: any member who may see the meeting


def documents_for(actor: Actor, meeting: Meeting, staff_view: list[dict[str, Any]]) -> list[Any]:
    """The staff view of the documents (`document_public` with `allowed_user_ids`) filtered
    for one caller, by the rule of `may_read`."""
    if actor.is_staff(meeting.council_id):
        return staff_view
    out = []
    for doc in staff_view:
        if doc["visibility"] in NAMED and actor.user_id not in doc.get("allowed_user_ids", ()):
            continue
        out.append({k: v for k, v in doc.items() if k != "allowed_user_ids"})
    return out


async def _readable_document(
    session: AsyncSession, actor: Actor, doc: Document | None, missing: NotFound
) -> tuple[Meeting, Document]:
    """The document and its meeting, if the caller may read the document; else `missing`."""
    if doc is None or doc.deleted_at is not None:
        raise missing
    try:
        meeting = await get_meeting(session, actor, doc.meeting_id)
    except NotFound:
        raise missing from None
    allowed = await named_readers(session, pk(doc)) if doc.visibility in NAMED else []
    if not may_read(actor, meeting, doc, allowed):
        raise missing
    return meeting, doc


async def readable_version(
    session: AsyncSession,
    actor: Actor,
    *,
    version_id: int | None = None,
    document_id: int | None = None,
    number: int | None = None,
) -> tuple[Meeting, Document, DocumentVersion]:
    """A document version, its document and meeting, if the caller may read the document.

    Named by `version_id` (annotations: `unknown_document_version` when missing), or by
    `document_id` and `number`, the newest version when `number` is None (downloads, page
    images: `not_found`).
    """
    if version_id is not None:
        missing = NotFound(f"no document version {version_id}", code="unknown_document_version")
        version = await session.get(DocumentVersion, version_id)
        if version is None:
            raise missing
        found = await session.get(Document, version.document_id)
        meeting, doc = await _readable_document(session, actor, found, missing)
        return meeting, doc, version
    assert document_id is not None, "name the version by version_id or document_id"
    meeting, doc = await _readable_document(
        session,
        actor,
        await session.get(Document, document_id),
        NotFound(f"no document {document_id}"),
    )
    query = select(DocumentVersion).where(col(DocumentVersion.document_id) == document_id)
    if number is not None:
        query = query.where(col(DocumentVersion.number) == number)
    newest = (
        await session.execute(query.order_by(col(DocumentVersion.number).desc()).limit(1))
    ).scalar_one_or_none()
    if newest is None:
        raise NotFound(f"no version {number} of document {document_id}")
    return meeting, doc, newest
