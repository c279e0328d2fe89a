"""Open data of the public archive: a council's resolutions and vote events as Popolo / Open
Civic Data JSON, and the sitemap (docs/features/archive.md, "Open data").

Only what is published already is exported: resolutions whose archive record is public, and
the counted polls those resolutions or published minutes report (the PDFs print the same
results; voters are named for open polls only, `meetings.domain.voting.to_vote_event`).
Absolute URLs start with `QUORUM_PUBLIC_URL`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import func, or_, select
from sqlmodel import col

from meetings.domain.errors import NotFound
from meetings.services.archive.public import COUNTED, PATHS, file_url, page_url, vote_record
from meetings.services.context import Services
from meetings.storage.tables import Council
from meetings.storage.tables_archive import ArchiveRecord, MinutesDoc, Resolution
from meetings.storage.tables_voting import Poll

MAX_RESOLUTIONS = 1000
MAX_VOTE_EVENTS = 200
SITEMAP_URLS = 50_000
"""URLs per sitemap file (the sitemaps.org limit); past it /sitemap.xml becomes an index."""
STATIC_PAGES = ("/public", "/verify")


def _base(services: Services) -> str:
    return services.settings.public_url.rstrip("/")


def _page(limit: int | None, offset: int | None, most: int) -> tuple[int, int]:
    return max(1, min(limit or most, most)), offset or 0


async def _council(services: Services, council_id: int) -> Council:
    async with services.db.reading() as session:
        council = await session.get(Council, council_id)
    if council is None:
        raise NotFound(f"no council {council_id}")
    return council


def _organization(council: Council) -> dict[str, Any]:
    return {
        "id": f"quorum:council:{council.id}",
        "name": council.name,
        "classification": "legislature",
    }


def _next(path: str, limit: int, offset: int, total: int) -> str | None:
    return f"{path}?limit={limit}&offset={offset + limit}" if offset + limit < total else None


async def council_resolutions(
    services: Services, council_id: int, limit: int | None, offset: int | None
) -> dict[str, Any]:
    """GET /api/public/councils/{id}/resolutions.json: OCD "bill"-like resolutions."""
    council = await _council(services, council_id)
    limit, offset = _page(limit, offset, MAX_RESOLUTIONS)
    base = _base(services)
    where = [
        col(ArchiveRecord.kind) == "resolution",
        col(ArchiveRecord.public),
        col(ArchiveRecord.council_id) == council_id,
    ]
    async with services.db.reading() as session:
        total = await session.scalar(select(func.count(col(ArchiveRecord.id))).where(*where))
        rows = (
            await session.execute(
                select(ArchiveRecord, col(Resolution.poll_id))
                .join(Resolution, col(Resolution.id) == col(ArchiveRecord.source_id))
                .where(*where)
                .order_by(col(ArchiveRecord.doc_date).desc(), col(ArchiveRecord.id).desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
    items = [
        {
            "id": f"quorum:resolution:{r.source_id}",
            "identifier": r.number,
            "title": r.title,
            "classification": ["resolution"],
            "from_organization_id": f"quorum:council:{council_id}",
            "legislative_session_id": f"quorum:meeting:{r.meeting_id}",
            "date": r.doc_date.isoformat(),
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "documents": [
                {
                    "note": "signed PDF",
                    "date": r.doc_date.isoformat(),
                    "sha256": r.sha256,
                    "links": [{"url": base + file_url(r), "media_type": "application/pdf"}],
                }
            ],
            "sources": [{"url": page_url(services, "resolution", r.source_id)}],
            "vote_event_ids": [f"quorum:poll:{poll_id}"] if poll_id else [],
        }
        for r, poll_id in rows
    ]
    path = f"/api/public/councils/{council_id}/resolutions.json"
    return {
        "organization": _organization(council),
        "resolutions": items,
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
        "next": _next(path, limit, offset, int(total or 0)),
    }


async def council_vote_events(
    services: Services, council_id: int, limit: int | None, offset: int | None
) -> dict[str, Any]:
    """GET /api/public/councils/{id}/vote-events.json: the counted polls that published
    resolutions or published minutes report, as Popolo / OCD vote events."""
    council = await _council(services, council_id)
    limit, offset = _page(limit, offset, MAX_VOTE_EVENTS)
    published = [col(ArchiveRecord.public), col(ArchiveRecord.council_id) == council_id]
    deciding = (
        select(col(Resolution.poll_id), col(Resolution.id))
        .join(ArchiveRecord, col(ArchiveRecord.source_id) == col(Resolution.id))
        .where(col(ArchiveRecord.kind) == "resolution", *published)
    )
    minuted = (
        select(col(MinutesDoc.meeting_id))
        .join(ArchiveRecord, col(ArchiveRecord.source_id) == col(MinutesDoc.id))
        .where(col(ArchiveRecord.kind) == "minutes", *published)
    )
    where = [
        col(Poll.status).in_(COUNTED),
        col(Poll.result).is_not(None),
        or_(
            col(Poll.id).in_(deciding.with_only_columns(col(Resolution.poll_id))),
            col(Poll.meeting_id).in_(minuted),
        ),
    ]
    async with services.db.reading() as session:
        total = await session.scalar(select(func.count(col(Poll.id))).where(*where))
        polls = list(
            await session.scalars(
                select(Poll).where(*where).order_by(col(Poll.id)).limit(limit).offset(offset)
            )
        )
        bills = {p: r for p, r in (await session.execute(deciding)).all() if p is not None}
        events = []
        for poll in polls:
            event = await vote_record(session, poll, council_id)
            if poll.id in bills:
                event["bill_id"] = f"quorum:resolution:{bills[poll.id]}"
            events.append(event)
    path = f"/api/public/councils/{council_id}/vote-events.json"
    return {
        "organization": _organization(council),
        "vote_events": events,
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
        "next": _next(path, limit, offset, int(total or 0)),
    }


# -- sitemap -------------------------------------------------------------------------------------


async def _published_count(services: Services) -> int:
    async with services.db.reading() as session:
        count = await session.scalar(
            select(func.count(col(ArchiveRecord.id))).where(col(ArchiveRecord.public))
        )
    return int(count or 0)


def _url(loc: str, lastmod: datetime | None = None) -> str:
    when = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(loc)}</loc>{when}</url>"


XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


async def sitemap(services: Services, page: int | None = None) -> str | None:
    """/sitemap.xml (page None) or /sitemap-{page}.xml: the public pages and every published
    resolution and minutes. Up to `SITEMAP_URLS` URLs /sitemap.xml lists them; past it, it is
    an index of pages 1…n. None: no such page."""
    base = _base(services)
    total = len(STATIC_PAGES) + await _published_count(services)
    pages = max(1, -(-total // SITEMAP_URLS))
    if page is None and pages > 1:
        entries = "".join(
            f"<sitemap><loc>{escape(base)}/sitemap-{n}.xml</loc></sitemap>"
            for n in range(1, pages + 1)
        )
        return f"{XML_HEAD}<sitemapindex {NS}>{entries}</sitemapindex>\n"
    if page is not None and not 1 <= page <= pages:
        return None
    first = ((page or 1) - 1) * SITEMAP_URLS
    urls: list[str] = []
    statics = list(STATIC_PAGES)[first : first + SITEMAP_URLS]
    urls += [_url(base + path) for path in statics]
    skip = max(0, first - len(STATIC_PAGES))
    async with services.db.reading() as session:
        rows = await session.execute(
            select(
                col(ArchiveRecord.kind),
                col(ArchiveRecord.source_id),
                col(ArchiveRecord.published_at),
            )
            .where(col(ArchiveRecord.public))
            .order_by(col(ArchiveRecord.id))
            .limit(SITEMAP_URLS - len(statics))
            .offset(skip)
        )
        for kind, source_id, published_at in rows:
            urls.append(_url(f"{base}/public/{PATHS[kind]}/{source_id}", published_at))
    return f"{XML_HEAD}<urlset {NS}>{''.join(urls)}</urlset>\n"


def robots(services: Services) -> str:
    """robots.txt: the public site and its files may be indexed; the rest is for members."""
    return (
        "User-agent: *\n"
        "Allow: /public\n"
        "Allow: /verify\n"
        "Allow: /api/public/\n"
        "Disallow: /api/\n"
        "Disallow: /m/\n"
        "Disallow: /desk\n"
        "Disallow: /sign\n"
        f"Sitemap: {_base(services)}/sitemap.xml\n"
    )
