"""The archive: write-once records of signed documents, published and verifiable
(docs/features/archive.md).

`archive` takes a signed resolution or minutes, adds the B-LTA document time-stamp (when a TSA is
configured), stores the file content-addressed and writes one `ArchiveRecord` (kind, number,
date, council, sha256, signatures) whose creation is an audit-log entry. Published resolutions
are listed publicly (`public.py`, searchable with or without Vietnamese diacritics) and
anyone may check a file against its signatures and the archive (`verify_upload`).
"""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.domain.text import fold
from meetings.services.archive.events import ARCHIVED, ArchivePublished
from meetings.services.archive.resolutions import local_date
from meetings.services.archive.signing_keys import runtime
from meetings.services.archive.signing_sessions import signatures_summary
from meetings.services.archive.targets import Kind, load_target, target_public
from meetings.services.context import Actor, Services
from meetings.storage.tables import Council, Meeting, utcnow
from meetings.storage.tables_archive import ArchiveRecord, MinutesDoc, Resolution


class ArchiveOptions(BaseModel):
    """POST …/archive: publish at once (default: resolutions marked public are published)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    publish: bool | None = None


def record_public(r: ArchiveRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "source_id": r.source_id,
        "council_id": r.council_id,
        "council": r.council_name,
        "meeting_id": r.meeting_id,
        "number": r.number,
        "label": f"Nghị quyết số {r.number}" if r.kind == "resolution" and r.number else r.title,
        "title": r.title,
        "date": r.doc_date.isoformat(),
        "sha256": r.sha256,
        "size": r.size,
        "signatures": r.signatures,
        "archived_at": iso(r.archived_at),
        "audit_hash": r.audit_hash,
        "public": r.public,
        "published_at": iso(r.published_at),
    }


def public_entry(r: ArchiveRecord) -> dict[str, Any]:
    """What the public listing shows of a published resolution."""
    out = record_public(r)
    for private in ("source_id", "meeting_id", "audit_hash", "public"):
        out.pop(private)
    out["download_url"] = f"/api/public/resolutions/{r.id}/file"
    return out


async def archive(
    services: Services,
    actor: Actor | None,
    kind: Kind,
    target_id: int,
    options: ArchiveOptions | None = None,
) -> dict[str, Any]:
    """Archive a signed document (write-once); `actor` None is the local CLI."""
    rt = runtime(services)
    async with services.db.reading() as session:
        target, meeting = await load_target(session, actor, kind, target_id)
        if actor is not None:
            actor.require_staff(meeting.council_id)
        if target.status != "signed" or not target.signed_sha256:
            raise Conflict(f"only a signed {kind} can be archived", code="not_signed")
        signed_sha = target.signed_sha256
    signed = await anyio.to_thread.run_sync(services.blobs.read, signed_sha)
    final = await rt.archive_timestamp(signed)
    sha = await anyio.to_thread.run_sync(services.blobs.put, final)
    summary = await signatures_summary(rt, final)
    async with services.uow() as uow:
        target, meeting = await load_target(uow.session, actor, kind, target_id, lock=True)
        if target.status != "signed" or target.signed_sha256 != signed_sha:
            raise Conflict(f"the {kind} changed while it was being archived", code="changed")
        council = await uow.session.get(Council, meeting.council_id)
        assert council is not None
        if isinstance(target, Resolution):
            number, title = target.number, target.title
            publish = (
                target.public if options is None or options.publish is None else options.publish
            )
            when = local_date(target.signed_at)
        else:
            number, title = "", f"Biên bản: {meeting.title}"
            publish = bool(options and options.publish)
            when = local_date(meeting.starts_at or meeting.opened_at)
        now = utcnow()
        record = ArchiveRecord(
            kind=kind,
            source_id=target_id,
            council_id=council.id,  # type: ignore[arg-type]
            council_name=council.name,
            meeting_id=meeting.id,  # type: ignore[arg-type]
            number=number,
            title=title,
            folded=fold(f"{number} {title} {council.name}")[:2000],
            doc_date=when,
            sha256=sha,
            size=len(final),
            signatures=summary,
            archived_at=now,
            archived_by=actor.user_id if actor else None,
            public=publish,
            published_at=now if publish else None,
        )
        uow.session.add(record)
        await uow.session.flush()
        # the meeting's row (its `seq`, taken by `emit` below) before the audit head, which
        # every other unit takes last, at its commit: never the two in opposite orders
        lock = select(col(Meeting.id)).where(col(Meeting.id) == meeting.id).with_for_update()
        await uow.session.execute(lock)
        entry = await uow.audit_linked(
            actor.user_id if actor else None,
            f"{kind}.archive",
            f"archive:{record.id}",
            {"sha256": sha, "number": number, "published": publish},
        )
        record.audit_hash = entry.hash
        target.status = "archived"
        out = record_public(record)
        body = {**target_public(kind, target), "archive": out}
        await uow.emit(target.meeting_id, ARCHIVED[kind].model_validate(body))
        await uow.commit()
        return out


async def publish(services: Services, actor: Actor, record_id: int) -> dict[str, Any]:
    """Publish an archived record (the file and the record stay as they are)."""
    async with services.uow() as uow:
        record = await uow.session.get(ArchiveRecord, record_id, with_for_update=True)
        if record is None or not actor.is_staff(record.council_id):
            raise NotFound(f"no archive record {record_id}")
        actor.require_secretary(record.council_id)
        if not record.public:
            record.public, record.published_at = True, utcnow()
            await uow.audit(actor.user_id, "archive.publish", f"archive:{record_id}")
            await uow.emit(
                record.meeting_id, ArchivePublished.model_validate(record_public(record))
            )
        out = record_public(record)
        await uow.commit()
        return out


def archive_scope(actor: Actor, council_id: int | None) -> set[int] | None:
    """The councils whose archive the caller may list and export (None: all, administrators).

    The archive is the staff's: a caller who staffs no council is refused (`forbidden`), a
    council the caller does not belong to is hidden (`not_found`)."""
    if council_id is not None:
        if not actor.is_admin and actor.role_in(council_id) is None:
            raise NotFound(f"no council {council_id}")
        actor.require_staff(council_id)
        return {council_id}
    if actor.is_admin:
        return None
    councils = {c for c in actor.roles if actor.is_staff(c)}
    if not councils:
        raise Forbidden("only a council's secretariat or chair may see its archive")
    return councils


async def list_records(
    services: Services, actor: Actor, council_id: int | None
) -> list[dict[str, Any]]:
    """The archive of the councils the caller staffs (administrators: all)."""
    councils = archive_scope(actor, council_id)
    async with services.db.reading() as session:
        query = select(ArchiveRecord).order_by(col(ArchiveRecord.id))
        if councils is not None:
            query = query.where(col(ArchiveRecord.council_id).in_(councils))
        rows = await session.scalars(query)
        return [record_public(r) for r in rows]


async def staff_record(services: Services, actor: Actor, record_id: int) -> ArchiveRecord:
    async with services.db.reading() as session:
        record = await session.get(ArchiveRecord, record_id)
    if record is None or not actor.is_staff(record.council_id):
        raise NotFound(f"no archive record {record_id}")
    return record


async def public_record(services: Services, record_id: int) -> ArchiveRecord:
    async with services.db.reading() as session:
        record = await session.get(ArchiveRecord, record_id)
    if record is None or not record.public or record.kind != "resolution":
        raise NotFound(f"no published resolution {record_id}")
    return record


async def _by_hash(session: AsyncSession, sha256: str) -> ArchiveRecord | None:
    return (
        await session.scalars(
            select(ArchiveRecord).where(col(ArchiveRecord.sha256) == sha256).limit(1)
        )
    ).first()


async def verify_upload(services: Services, pdf: bytes, *, fetch: bool = False) -> dict[str, Any]:
    """Check a PDF's signatures and whether it is, byte for byte, an archived record.

    The public page does not fetch revocation data by default (`fetch`): URLs in uploaded
    certificates are not followed from the server; files signed B-LT carry their own.
    """
    report = await runtime(services).verify(pdf, allow_fetching=fetch)
    async with services.db.reading() as session:
        record = await _by_hash(session, report.archive_hash)
    archived: dict[str, Any] | None = None
    if record is not None:
        if record.public:  # with the page the QR code names
            kind = "resolutions" if record.kind == "resolution" else "minutes"
            archived = {**public_entry(record), "page": f"/public/{kind}/{record.source_id}"}
        else:
            archived = {"id": record.id, "public": False}
    return {
        "ok": report.ok,
        "reason": report.reason,
        "reason_vi": report.reason_vi,
        "summary": report.summary(),
        "summary_vi": report.summary_vi(),
        "sha256": report.archive_hash,
        "archived": archived,
        "report": report.to_dict(),
    }


async def source_of(
    services: Services, actor: Actor, kind: Kind, target_id: int
) -> Resolution | MinutesDoc:
    async with services.db.reading() as session:
        target, _meeting = await load_target(session, actor, kind, target_id)
    return target


def file_sha(target: Resolution | MinutesDoc, which: str) -> str:
    """The blob of a resolution's `draft`, `generated` or `signed` PDF (minutes: no draft)."""
    sha = {
        "draft": target.draft_sha256 if isinstance(target, Resolution) else None,
        "generated": target.generated_sha256,
        "signed": target.signed_sha256,
    }.get(which)
    if which not in ("draft", "generated", "signed"):
        raise InvalidInput("which is draft, generated or signed", code="bad_query")
    if not sha:
        raise NotFound(f"there is no {which} file yet")
    return sha
