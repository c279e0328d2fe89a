"""Agenda documents: upload, versions, visibility, downloads (docs/features/documents.md).

An upload is authorised (`check_upload`, `check_new_version`) before the HTTP layer reads its
body; the PDF is then read in a separate, bounded process (`pdf_checks`) and the database
transaction only records what that found. Blobs are stored before the rows that name them, so a
crash leaves at worst an unreferenced blob, never a row without its file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.documents.ingest import PdfInfo, safe_filename
from meetings.documents.watermark import watermark_pdf
from meetings.domain.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from meetings.domain.events import iso
from meetings.domain.model import EDITABLE_MEETING, Visibility
from meetings.domain.signals import VersionStored
from meetings.domain.text import fold
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.documents.access import NAMED, may_read, named_readers, readable_version
from meetings.services.documents.events import (
    DocumentAdded,
    DocumentEvent,
    DocumentRemoved,
    DocumentUpdated,
    DocumentVersionAdded,
)
from meetings.services.documents.pdf_checks import inspect_upload
from meetings.services.loading import get_item, get_meeting
from meetings.storage.tables import (
    Document,
    DocumentAccess,
    DocumentPage,
    DocumentVersion,
    Meeting,
    Membership,
    pk,
    utcnow,
)
from meetings.storage.uow import UnitOfWork


def version_public(v: DocumentVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "number": v.number,
        "sha256": v.sha256,
        "size": v.size,
        "page_count": v.page_count,
        "page_sizes": v.page_sizes,
        "filename": v.filename,
        "uploaded_at": iso(v.uploaded_at),
        "note": v.note,
    }


def document_public(
    d: Document, versions: list[DocumentVersion], allowed: list[int] | None
) -> dict[str, Any]:
    current = max(versions, key=lambda v: v.number) if versions else None
    out: dict[str, Any] = {
        "id": d.id,
        "meeting_id": d.meeting_id,
        "agenda_item_id": d.agenda_item_id,
        "title": d.title,
        "visibility": d.visibility,
        "created_at": iso(d.created_at),
        "current_version": version_public(current) if current else None,
        "versions": [version_public(v) for v in sorted(versions, key=lambda v: v.number)],
    }
    if allowed is not None:
        out["allowed_user_ids"] = allowed
    return out


def event_body(kind: type[DocumentEvent], doc: Document, public: dict[str, Any]) -> DocumentEvent:
    """Meeting events reach every member: a restricted document is only named, and the
    clients that may read it refetch their document list (docs/PROTOCOL.md, "Events")."""
    if doc.visibility in NAMED:
        return kind(document_id=pk(doc), restricted=True)
    return kind(
        document_id=pk(doc),
        document={k: v for k, v in public.items() if k != "allowed_user_ids"},
    )


async def documents_of(
    session: AsyncSession, actor: Actor, meeting: Meeting
) -> list[dict[str, Any]]:
    docs = (
        (
            await session.execute(
                select(Document)
                .where(col(Document.meeting_id) == meeting.id, col(Document.deleted_at).is_(None))
                .order_by(col(Document.id))
            )
        )
        .scalars()
        .all()
    )
    if not docs:
        return []
    versions = (
        (
            await session.execute(
                select(DocumentVersion).where(
                    col(DocumentVersion.document_id).in_([d.id for d in docs])
                )
            )
        )
        .scalars()
        .all()
    )
    out = []
    staff = actor.is_staff(meeting.council_id)
    for d in docs:
        allowed = await named_readers(session, pk(d)) if d.visibility in NAMED else []
        if may_read(actor, meeting, d, allowed):
            out.append(
                document_public(
                    d,
                    [v for v in versions if v.document_id == d.id],
                    allowed if staff and d.visibility in NAMED else None,
                )
            )
    return out


async def list_documents(services: Services, actor: Actor, meeting_id: int) -> list[dict[str, Any]]:
    """The meeting's documents the caller may read, each confidential one with the time until
    which a tablet may keep it offline (docs/SECURITY.md, "The offline briefcase")."""
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        docs = await documents_of(session, actor, meeting)
    return with_offline_expiry(docs, services.settings.offline_hours, utcnow())


def with_offline_expiry(
    docs: list[dict[str, Any]], hours: float, now: datetime
) -> list[dict[str, Any]]:
    """`offline_expires_at` is `now` + QUORUM_OFFLINE_HOURS for confidential documents and null
    for the others: each contact with the server renews the delay, since it has just confirmed
    that the caller may still read them."""
    until = iso(now + timedelta(hours=hours))
    return [
        {**d, "offline_expires_at": until if d["visibility"] == Visibility.confidential else None}
        for d in docs
    ]


@dataclass(frozen=True)
class Upload:
    """An uploaded PDF: its bytes (CLI, demo), or the temporary file an HTTP body went to."""

    source: bytes | Path
    filename: str

    @property
    def size(self) -> int:
        if isinstance(self.source, bytes):
            return len(self.source)
        return self.source.stat().st_size


async def _inspect(services: Services, upload: Upload) -> PdfInfo:
    """Read and check the PDF in a bounded process; nothing is written yet."""
    if upload.size > services.settings.upload_limit:
        raise PayloadTooLarge(
            f"the file is larger than {services.settings.max_upload_mb} MiB", code="too_large"
        )
    return await inspect_upload(services, upload.source)


def require_editable(meeting: Meeting) -> None:
    if meeting.status not in EDITABLE_MEETING:
        raise Conflict(
            f"documents of a {meeting.status} meeting cannot change", code="meeting_locked"
        )


async def check_upload(services: Services, actor: Actor, meeting_id: int) -> None:
    """May `actor` add a document to this meeting? Asked before the upload's body is read."""
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        actor.require_staff(meeting.council_id)
        require_editable(meeting)


async def check_new_version(services: Services, actor: Actor, document_id: int) -> None:
    """May `actor` add a version of this document? Asked before the upload's body is read."""
    async with services.db.reading() as session:
        await _staff_document(session, actor, document_id)


@asynccontextmanager
async def _stored(services: Services, uow: UnitOfWork, upload: Upload) -> AsyncIterator[str]:
    """Write the blob (after every check passed, before the rows naming it are committed);
    if the transaction then fails, a blob this upload created is removed again (once `uow`
    has committed, a failure after it leaves the blob its rows name)."""
    sha256, created = await anyio.to_thread.run_sync(services.blobs.put_new, upload.source)
    try:
        yield sha256
    except BaseException:
        if created and not uow.committed:
            await anyio.to_thread.run_sync(services.blobs.discard, sha256)
        raise


async def _add_version(
    uow: UnitOfWork,
    actor: Actor | None,
    doc: Document,
    info: PdfInfo,
    sha256: str,
    upload: Upload,
    note: str,
) -> DocumentVersion:
    last = await uow.session.scalar(
        select(col(DocumentVersion.number))
        .where(col(DocumentVersion.document_id) == doc.id)
        .order_by(col(DocumentVersion.number).desc())
        .limit(1)
    )
    version = DocumentVersion(
        document_id=pk(doc),
        number=(last or 0) + 1,
        sha256=sha256,
        size=upload.size,
        page_count=info.page_count,
        page_sizes=[list(size) for size in info.page_sizes],
        filename=safe_filename(upload.filename),
        uploaded_by=actor.user_id if actor else None,
        note=note[:1000],
    )
    uow.session.add(version)
    await uow.session.flush()
    for page_no, text in enumerate(info.page_texts):
        uow.session.add(
            DocumentPage(version_id=pk(version), page_no=page_no, text=text, folded=fold(text))
        )
    # once committed: page 1 rendered, annotations carried (handlers: services.assembly)
    uow.signal(VersionStored(pk(doc), pk(version), version.number, sha256))
    return version


async def upload_document(
    services: Services,
    actor: Actor | None,
    meeting_id: int,
    upload: Upload,
    *,
    title: str,
    visibility: Visibility = Visibility.members,
    agenda_item_id: int | None = None,
    allowed_user_ids: list[int] | None = None,
) -> dict[str, Any]:
    """A new document with its first version. `actor` None is the local CLI (demo seeding)."""
    title = title.strip()[:500] or safe_filename(upload.filename)
    info = await _inspect(services, upload)
    async with services.uow() as uow:
        if actor is None:
            meeting = await uow.session.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFound(f"no meeting {meeting_id}")
        else:
            meeting = await get_meeting(uow.session, actor, meeting_id)
            actor.require_staff(meeting.council_id)
        require_editable(meeting)
        if agenda_item_id is not None:
            await get_item(uow.session, meeting, agenda_item_id)
        doc = Document(
            meeting_id=meeting_id,
            agenda_item_id=agenda_item_id,
            title=title,
            visibility=visibility.value,
            created_by=actor.user_id if actor else None,
        )
        uow.session.add(doc)
        await uow.session.flush()
        allowed = await _set_access(uow, meeting, doc, allowed_user_ids or [])
        async with _stored(services, uow, upload) as sha256:
            version = await _add_version(uow, actor, doc, info, sha256, upload, "")
            out = document_public(doc, [version], allowed if doc.visibility in NAMED else None)
            await uow.emit(meeting_id, event_body(DocumentAdded, doc, out))
            await uow.audit(
                actor.user_id if actor else None,
                "document.upload",
                f"document:{doc.id}",
                {"sha256": sha256, "title": title},
            )
            await uow.commit()
        return out


async def _set_access(
    uow: UnitOfWork, meeting: Meeting, doc: Document, user_ids: list[int]
) -> list[int]:
    """Name a document's readers: members of the meeting's council only."""
    await uow.session.execute(
        delete(DocumentAccess).where(col(DocumentAccess.document_id) == doc.id)
    )
    unique = sorted(set(user_ids))
    if unique:
        found = set(
            (
                await uow.session.execute(
                    select(col(Membership.user_id)).where(
                        col(Membership.council_id) == meeting.council_id,
                        col(Membership.user_id).in_(unique),
                    )
                )
            ).scalars()
        )
        missing = [u for u in unique if u not in found]
        if missing:
            raise InvalidInput(
                f"users {missing} are not members of this council", code="unknown_users"
            )
    for user_id in unique:
        uow.session.add(DocumentAccess(document_id=pk(doc), user_id=user_id))
    return unique


async def _staff_document(
    session: AsyncSession, actor: Actor, document_id: int
) -> tuple[Meeting, Document]:
    doc = await session.get(Document, document_id)
    if doc is None or doc.deleted_at is not None:
        raise NotFound(f"no document {document_id}")
    meeting = await get_meeting(session, actor, doc.meeting_id)
    actor.require_staff(meeting.council_id)
    require_editable(meeting)
    return meeting, doc


async def upload_version(
    services: Services, actor: Actor, document_id: int, upload: Upload, note: str = ""
) -> dict[str, Any]:
    info = await _inspect(services, upload)
    async with services.uow() as uow:
        meeting, doc = await _staff_document(uow.session, actor, document_id)
        async with _stored(services, uow, upload) as sha256:
            version = await _add_version(uow, actor, doc, info, sha256, upload, note)
            allowed = await named_readers(uow.session, document_id)
            versions = list(
                (
                    await uow.session.execute(
                        select(DocumentVersion).where(
                            col(DocumentVersion.document_id) == document_id
                        )
                    )
                ).scalars()
            )
            out = document_public(doc, versions, allowed if doc.visibility in NAMED else None)
            await uow.emit(pk(meeting), event_body(DocumentVersionAdded, doc, out))
            await uow.audit(
                actor.user_id,
                "document.version",
                f"document:{document_id}",
                {"sha256": sha256, "number": version.number},
            )
            out |= await uow.commit()  # `annotations`: carried from the previous version
    return out


async def update_document(
    services: Services, actor: Actor, document_id: int, cmd: c.UpdateDocument
) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting, doc = await _staff_document(uow.session, actor, document_id)
        changes = cmd.model_dump(exclude_unset=True)
        if "agenda_item_id" in changes and changes["agenda_item_id"] is not None:
            await get_item(uow.session, meeting, changes["agenda_item_id"])
        for key in ("title", "visibility", "agenda_item_id"):
            if key in changes:
                setattr(doc, key, changes[key].value if key == "visibility" else changes[key])
        if "allowed_user_ids" in changes:
            allowed = await _set_access(uow, meeting, doc, changes["allowed_user_ids"])
        else:
            allowed = await named_readers(uow.session, document_id)
        versions = list(
            (
                await uow.session.execute(
                    select(DocumentVersion).where(col(DocumentVersion.document_id) == document_id)
                )
            ).scalars()
        )
        out = document_public(doc, versions, allowed if doc.visibility in NAMED else None)
        await uow.emit(pk(meeting), event_body(DocumentUpdated, doc, out))
        await uow.audit(
            actor.user_id,
            "document.update",
            f"document:{document_id}",
            {k: str(v) for k, v in changes.items()},
        )
        await uow.commit()
        return out


async def delete_document(services: Services, actor: Actor, document_id: int) -> None:
    async with services.uow() as uow:
        meeting, doc = await _staff_document(uow.session, actor, document_id)
        doc.deleted_at = utcnow()
        await uow.emit(pk(meeting), DocumentRemoved(document_id=document_id))
        await uow.audit(actor.user_id, "document.delete", f"document:{document_id}")
        await uow.commit()


@dataclass(frozen=True)
class Download:
    data: bytes | None  # watermarked copies are made per request
    sha256: str
    filename: str
    size: int
    personal: bool  # confidential: watermarked for this user, never cached by proxies


async def open_version(
    services: Services, actor: Actor, document_id: int, version_number: int | None = None
) -> Download:
    async with services.db.reading() as session:
        _meeting, doc, version = await readable_version(
            session, actor, document_id=document_id, number=version_number
        )
    if doc.visibility != Visibility.confidential:
        return Download(None, version.sha256, version.filename, version.size, False)
    stamp = [actor.name, f"MẬT / CONFIDENTIAL · {actor.username}", iso(utcnow()) or ""]
    data = await anyio.to_thread.run_sync(
        lambda: watermark_pdf(services.blobs.read(version.sha256), stamp)
    )
    return Download(data, version.sha256, version.filename, len(data), True)
