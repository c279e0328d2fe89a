"""Routes of the public site (docs/features/archive.md, "Public (no login)" and "Open data"):
search of published resolutions, a published resolution's or minutes' record, open data, the
sitemap and robots.txt. No login; the pages themselves are the web app's (`/public…`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.responses import Response

from meetings.domain.errors import InvalidInput, NotFound
from meetings.domain.text import fold
from meetings.http.api import Api, Call
from meetings.http.pdf_files import pdf_response
from meetings.services.archive import open_data, public
from meetings.services.archive.targets import Kind
from meetings.services.context import Services

SEARCH = ("q", "number", "council_id", "date_from", "date_to", "limit", "offset")


def _date(call: Call, name: str) -> date | None:
    raw = call.request.query_params.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} is a date like 2026-12-31", code="bad_query") from None


def _text(call: Call, name: str, longest: int) -> str:
    value = call.request.query_params.get(name, "")
    if len(value) > longest:
        raise InvalidInput(f"{name} is too long (at most {longest} characters)", code="bad_query")
    return value


async def search(call: Call) -> dict[str, Any]:
    council = call.query_int("council_id")
    return await public.search_resolutions(
        call.services,
        public.PublicSearch(
            q=_text(call, "q", 200),
            number=_text(call, "number", 100),
            council_id=council or None,
            date_from=_date(call, "date_from"),
            date_to=_date(call, "date_to"),
            limit=call.query_int("limit") or 50,
            offset=call.query_int("offset") or 0,
        ),
    )


async def councils(call: Call) -> dict[str, Any]:
    return await public.public_councils(call.services)


async def resolution_record(call: Call) -> dict[str, Any]:
    return await public.public_document(
        call.services, "resolution", call.int_param("resolution_id")
    )


async def minutes_record(call: Call) -> dict[str, Any]:
    return await public.public_document(call.services, "minutes", call.int_param("minutes_id"))


async def minutes_file(call: Call) -> Response:
    record = await public.record_file(call.services, "minutes", call.int_param("minutes_id"))
    stem = re.sub(r"[^a-z0-9-]+", "-", fold(record.title)).strip("-")[:60]
    return await pdf_response(
        call.services, record.sha256, f"{stem or 'bien-ban'}.pdf", public=True
    )


async def council_resolutions(call: Call) -> dict[str, Any]:
    return await open_data.council_resolutions(
        call.services,
        call.int_param("council_id"),
        call.query_int("limit"),
        call.query_int("offset"),
    )


async def council_vote_events(call: Call) -> dict[str, Any]:
    return await open_data.council_vote_events(
        call.services,
        call.int_param("council_id"),
        call.query_int("limit"),
        call.query_int("offset"),
    )


XML = "application/xml; charset=utf-8"
FOR_AN_HOUR = {"cache-control": "public, max-age=3600"}


async def sitemap(call: Call) -> Response:
    body = await open_data.sitemap(call.services)
    assert body is not None
    return Response(body, media_type=XML, headers=FOR_AN_HOUR)


async def sitemap_page(call: Call) -> Response:
    page = int(call.request.path_params["page"])
    body = await open_data.sitemap(call.services, page)
    if body is None:
        raise NotFound(f"no sitemap page {page}")
    return Response(body, media_type=XML, headers=FOR_AN_HOUR)


async def robots(call: Call) -> Response:
    return Response(
        open_data.robots(call.services),
        media_type="text/plain; charset=utf-8",
        headers=FOR_AN_HOUR,
    )


R = "/api/public/resolutions/{resolution_id:int}"
MN = "/api/public/minutes/{minutes_id:int}"
C = "/api/public/councils/{council_id:int}"

ROUTES: list[Api] = [
    Api("GET", "/api/public/resolutions", search,
        "Published resolutions with a download URL each, newest first; filters: q (words, with "
        "or without diacritics), number, council_id, date_from, date_to; limit, offset",
        auth=False, tag="public", query=SEARCH),
    Api("GET", "/api/public/councils", councils,
        "Councils with published resolutions (id, name, how many)", auth=False, tag="public"),
    Api("GET", R + "/record", resolution_record,
        "A published resolution (the id its QR code names): record, vote, verified signatures",
        auth=False, tag="public"),
    Api("GET", MN + "/record", minutes_record,
        "Published minutes: record, the sitting's votes, verified signatures", auth=False,
        tag="public"),
    Api("GET", MN + "/file", minutes_file, "Published minutes' signed PDF", auth=False,
        tag="public"),
    Api("GET", C + "/resolutions.json", council_resolutions,
        "A council's published resolutions as Open Civic Data (limit, offset)", auth=False,
        tag="public", query=("limit", "offset")),
    Api("GET", C + "/vote-events.json", council_vote_events,
        "The votes a council's published resolutions and minutes report, as Popolo / Open "
        "Civic Data vote events (limit, offset)", auth=False, tag="public",
        query=("limit", "offset")),
    Api("GET", "/sitemap.xml", sitemap,
        "Sitemap of the public pages (an index of /sitemap-N.xml past 50,000 URLs)",
        auth=False, tag="public"),
    Api("GET", "/sitemap-{page:int}.xml", sitemap_page, "One page of a split sitemap",
        auth=False, tag="public"),
    Api("GET", "/robots.txt", robots, "robots.txt, naming the sitemap", auth=False,
        tag="public"),
]  # fmt: skip


PUBLIC_PAGE = re.compile(r"public/(resolutions|minutes)/([^/]+)/?")


def page_status(services: Services) -> Callable[[str], Awaitable[int]]:
    """The status the app's page paths answer with (meetings/http/webapp.py): 404 for the public
    page of a resolution or minutes that is not published (or not a number), else 200."""

    async def status(path: str) -> int:
        found = PUBLIC_PAGE.fullmatch(path)
        if found is None:
            return 200
        kind: Kind = "resolution" if found[1] == "resolutions" else "minutes"
        number = found[2]
        if not number.isdigit() or len(number) > 18:
            return 404
        return 200 if await public.is_published(services, kind, int(number)) else 404

    return status
