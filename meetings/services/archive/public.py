"""The public archive: search, a published document's record, its verification
(docs/features/archive.md, "Public (no login)").

Anyone may list published resolutions (filters: words, number, council, date range; the page
and its count read the index `ix_archive_records_public_list` only, migration 0009) and read
one published resolution or minutes by the id the QR code on the signed PDF names
(`{QUORUM_PUBLIC_URL}/public/resolutions/{resolution_id}`): the archive record, the vote
record (names for open polls only) and the verification of its signatures. Verifying costs a
pool worker about a second, so each file's result is kept by its sha256 (`VerificationCache`)
and one check serves every visitor who asks at the same time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import date
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.documents.signing.validate import SignatureReport, VerificationReport
from meetings.domain.errors import InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.domain.text import fold
from meetings.services.archive.records import public_entry
from meetings.services.archive.signing_keys import runtime
from meetings.services.archive.targets import Kind
from meetings.services.context import Services
from meetings.services.voting.polls import export_vote_event
from meetings.storage.tables import utcnow
from meetings.storage.tables_archive import ArchiveRecord, MinutesDoc, Resolution
from meetings.storage.tables_voting import Poll

MAX_PAGE = 200
MAX_OFFSET = 10_000
"""Deepest page reachable by offset: past it, narrow the search (a date range, a council).
Skipping 10,000 index entries stays in the milliseconds; an unbounded offset would not."""
COUNTED = ("closed", "published")
"""Poll statuses whose result is fixed (what resolutions and minutes print)."""
PATHS: dict[str, str] = {"resolution": "resolutions", "minutes": "minutes"}


class PublicSearch(BaseModel):
    """GET /api/public/resolutions: every filter optional, all of them must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    q: str = Field(default="", max_length=200)
    """Words in the number, title or council, with or without diacritics; each must occur."""
    number: str = Field(default="", max_length=100)
    """The number's beginning: `12` finds `12/NQ-HĐND` (not 112 nor 120)."""
    council_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(default=50, ge=1)
    offset: int = Field(default=0, ge=0)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_where(kind: str = "resolution") -> list[ColumnElement[bool]]:
    """The index's leading columns, as equalities the planners match."""
    return [col(ArchiveRecord.kind) == kind, col(ArchiveRecord.public) == true()]


def search_where(search: PublicSearch) -> list[ColumnElement[bool]]:
    where = published_where()
    for word in fold(search.q).split():
        where.append(col(ArchiveRecord.folded).like(f"%{_like(word)}%", escape="\\"))
    number = fold(search.number).strip()
    if number:
        # `folded` begins with the number; digits alone mean the whole sequence number
        prefix = f"{number}/" if number.isdigit() else number
        where.append(col(ArchiveRecord.folded).like(f"{_like(prefix)}%", escape="\\"))
    if search.council_id is not None:
        where.append(col(ArchiveRecord.council_id) == search.council_id)
    if search.date_from is not None:
        where.append(col(ArchiveRecord.doc_date) >= search.date_from)
    if search.date_to is not None:
        where.append(col(ArchiveRecord.doc_date) <= search.date_to)
    return where


def newest_first(query: Any) -> Any:
    return query.order_by(col(ArchiveRecord.doc_date).desc(), col(ArchiveRecord.id).desc())


def listed(r: ArchiveRecord) -> dict[str, Any]:
    """A listed resolution: the public entry, plus the resolution's own id and public page."""
    return {
        **public_entry(r),
        "resolution_id": r.source_id,
        "page": f"/public/{PATHS[r.kind]}/{r.source_id}",
    }


async def search_resolutions(services: Services, search: PublicSearch) -> dict[str, Any]:
    """Published resolutions, newest first, with download URLs, and how many match."""
    if search.offset > MAX_OFFSET:
        raise InvalidInput(
            f"offset goes up to {MAX_OFFSET}; narrow the search (dates, council) instead",
            code="bad_query",
        )
    if search.date_from and search.date_to and search.date_from > search.date_to:
        raise InvalidInput("date_from is after date_to", code="bad_query")
    limit = min(search.limit, MAX_PAGE)
    where = search_where(search)
    async with services.db.reading() as session:
        total = await session.scalar(select(func.count(col(ArchiveRecord.id))).where(*where))
        rows = await session.scalars(
            newest_first(select(ArchiveRecord).where(*where)).limit(limit).offset(search.offset)
        )
        items = [listed(r) for r in rows]
    return {
        "resolutions": items,
        "total": int(total or 0),
        "limit": limit,
        "offset": search.offset,
    }


async def public_councils(services: Services) -> dict[str, Any]:
    """The councils that have published resolutions (for the search's council filter)."""
    async with services.db.reading() as session:
        rows = await session.execute(
            select(
                col(ArchiveRecord.council_id),
                func.max(col(ArchiveRecord.council_name)),
                func.count(col(ArchiveRecord.id)),
            )
            .where(*published_where())
            .group_by(col(ArchiveRecord.council_id))
            .order_by(col(ArchiveRecord.council_id))
        )
        councils = [{"id": int(i), "name": str(n), "resolutions": int(c)} for i, n, c in rows]
    return {"councils": councils}


# -- one published document ---------------------------------------------------------------------


async def published_record(session: AsyncSession, kind: Kind, source_id: int) -> ArchiveRecord:
    """The published archive record of resolution / minutes `source_id` (else `not_found`)."""
    record = (
        await session.scalars(
            select(ArchiveRecord).where(
                col(ArchiveRecord.kind) == kind, col(ArchiveRecord.source_id) == source_id
            )
        )
    ).first()
    if record is None or not record.public:
        raise NotFound(f"no published {kind} {source_id}")
    return record


async def is_published(services: Services, kind: Kind, source_id: int) -> bool:
    """Whether resolution / minutes `source_id` has a public page (its archive record is public)."""
    try:
        await record_file(services, kind, source_id)
    except NotFound:
        return False
    return True


async def record_file(services: Services, kind: Kind, source_id: int) -> ArchiveRecord:
    async with services.db.reading() as session:
        return await published_record(session, kind, source_id)


def page_url(services: Services, kind: str, source_id: int) -> str:
    """The public page of a document: the URL the signed PDF's QR code holds."""
    return f"{services.settings.public_url.rstrip('/')}/public/{PATHS[kind]}/{source_id}"


def file_url(record: ArchiveRecord) -> str:
    if record.kind == "resolution":
        return str(public_entry(record)["download_url"])
    return f"/api/public/minutes/{record.source_id}/file"


async def counted_polls(session: AsyncSession, record: ArchiveRecord) -> list[Poll]:
    """The polls a document reports: a resolution's deciding poll; the minutes' every counted
    poll of the sitting (the minutes print each, with names for open ones)."""
    query = select(Poll).where(col(Poll.status).in_(COUNTED), col(Poll.result).is_not(None))
    if record.kind == "resolution":
        resolution = await session.get(Resolution, record.source_id)
        if resolution is None or resolution.poll_id is None:
            return []
        query = query.where(col(Poll.id) == resolution.poll_id)
    else:
        minutes = await session.get(MinutesDoc, record.source_id)
        if minutes is None:
            return []
        query = query.where(col(Poll.meeting_id) == minutes.meeting_id)
    return list(await session.scalars(query.order_by(col(Poll.id))))


async def vote_record(session: AsyncSession, poll: Poll, council_id: int) -> dict[str, Any]:
    """A poll as the public sees it: the Popolo vote event (voters named for open polls only)
    and, for the page's words, the majority rule applied (`extras.majority`)."""
    event = await export_vote_event(session, poll, council_id)
    assert poll.result is not None
    event["extras"]["majority"] = poll.result.get("rule")
    return event


async def public_document(services: Services, kind: Kind, source_id: int) -> dict[str, Any]:
    """GET /api/public/{resolutions|minutes}/{id}/record: all the public page shows."""
    async with services.db.reading() as session:
        record = await published_record(session, kind, source_id)
        votes = [
            await vote_record(session, poll, record.council_id)
            for poll in await counted_polls(session, record)
        ]
    entry = public_entry(record)
    entry.update(
        id=source_id,
        kind=kind,
        record_id=record.id,
        council_id=record.council_id,
        download_url=file_url(record),
        page_url=page_url(services, kind, source_id),
        votes=votes,
        verification=await verification(services, record.sha256),
    )
    if kind == "minutes":
        entry["label"] = record.title
    return entry


# -- verification, once per file ------------------------------------------------------------------


def signature_level(sig: SignatureReport, report: VerificationReport) -> str:
    """The PAdES level the file shows for a signature: B-LTA when a document time-stamp
    follows it, B-LT when revocation data was added after it (or it is time-stamped and
    its revocation status is known from the file), B-T when time-stamped, else B-B."""
    if sig.kind == "document_timestamp":
        return "document-timestamp"
    if any(s.kind == "document_timestamp" for s in report.signatures):
        return "B-LTA"
    if sig.modification == "lta_updates" or (sig.timestamp_time and sig.revocation == "good"):
        return "B-LT"
    return "B-T" if sig.timestamp_time else "B-B"


def verification_public(report: VerificationReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "reason": report.reason,
        "reason_vi": report.reason_vi,
        "summary": report.summary(),
        "summary_vi": report.summary_vi(),
        "sha256": report.archive_hash,
        "checked_at": iso(utcnow()),
        "signatures": [
            {
                "field": s.field_name,
                "kind": s.kind,
                "signer": s.signer_name,
                "signing_time": iso(s.signing_time),
                "timestamp_time": iso(s.timestamp_time),
                "intact": s.intact,
                "valid": s.valid,
                "trusted": s.trusted,
                "revocation": s.revocation,
                "modified_after": s.modified_after,
                "level": signature_level(s, report),
                "ok": s.ok,
                "problems": list(s.problems),
                "problems_vi": list(s.problems_vi),
            }
            for s in report.signatures
        ],
    }


class VerificationCache:
    """Verification results by file sha256, kept `TTL_S`; concurrent askers share one check.

    An archived file never changes, but what its check says may (a certificate expires, a
    trust root is added), so a result is redone after an hour. At most `SIZE` are kept."""

    TTL_S = 3600.0
    SIZE = 512

    def __init__(self) -> None:
        self.done: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self.running: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def get(self, services: Services, sha256: str) -> dict[str, Any]:
        found = self.done.get(sha256)
        if found is not None and time.monotonic() - found[0] < self.TTL_S:
            self.done.move_to_end(sha256)
            return found[1]
        running = self.running.get(sha256)
        if running is None:
            running = asyncio.ensure_future(self._check(services, sha256))
            self.running[sha256] = running
            running.add_done_callback(lambda _f: self.running.pop(sha256, None))
        return await asyncio.shield(running)

    async def _check(self, services: Services, sha256: str) -> dict[str, Any]:
        pdf = await anyio.to_thread.run_sync(services.blobs.read, sha256)
        # archived files carry their revocation data: no URL of a certificate is followed
        report = await runtime(services).verify(pdf, allow_fetching=False)
        result = verification_public(report)
        self.done[sha256] = (time.monotonic(), result)
        while len(self.done) > self.SIZE:
            self.done.popitem(last=False)
        return result


async def verification(services: Services, sha256: str) -> dict[str, Any]:
    cache = services.shared("public_verifications", VerificationCache, VerificationCache)
    return await cache.get(services, sha256)
