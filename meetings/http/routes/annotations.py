"""HTTP routes of the annotations subsystem and meeting search (docs/features/annotations.md,
"Sync", "Export", "Search").

Listing, changes since a cursor, orphaned annotations, the two exports, and search. Changes
themselves go over Socket.IO (`annotation.upsert` / `annotation.delete`), or the POST/DELETE
here for clients without a socket; both call the same service functions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from meetings.domain.errors import InvalidInput
from meetings.http.api import Api, Call
from meetings.services.annotations import export as annotation_export
from meetings.services.annotations import sync as service
from meetings.services.annotations.sync import UpsertAnnotation
from meetings.services.documents import search

V = "/api/document-versions/{version_id:int}"


async def list_for_version(call: Call) -> dict[str, Any]:
    return await service.for_version(call.services, call.me, call.int_param("version_id"))


async def changes(call: Call) -> dict[str, Any]:
    since = call.query_int("since") or 0
    limit = call.query_int("limit") or service.SYNC_LIMIT
    return await service.changes_since(call.services, call.me, since, limit)


async def orphaned(call: Call) -> list[dict[str, Any]]:
    return await service.orphaned(call.services, call.me, call.query_int("document_id"))


async def upsert(call: Call) -> dict[str, Any]:
    return await service.upsert(call.services, call.me, call.body)


async def delete(call: Call) -> dict[str, Any]:
    annotation_id = str(call.request.path_params["annotation_id"])
    return await service.delete(call.services, call.me, annotation_id)


async def annotated_pdf(call: Call) -> Response:
    pdf, filename = await annotation_export.annotated_copy(
        call.services, call.me, call.int_param("version_id")
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "cache-control": "private, no-store",
            "content-disposition": f'attachment; filename="annotated.pdf"; '
            f"filename*=UTF-8''{quote(filename)}",
        },
    )


async def web_annotations(call: Call) -> Response:
    base = str(call.request.base_url).rstrip("/")
    body = await annotation_export.web_annotations(
        call.services, call.me, call.int_param("version_id"), base
    )
    return JSONResponse(
        body,
        media_type='application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"',
        headers={"cache-control": "private, no-store"},
    )


async def search_meeting(call: Call) -> dict[str, Any]:
    q = call.request.query_params.get("q")
    if q is None:
        raise InvalidInput("the query parameter q is required", code="bad_query")
    return await search.search_meeting(
        call.services,
        call.me,
        call.int_param("meeting_id"),
        q,
        call.query_int("limit") or 50,
        call.query_int("document_id"),
    )


ROUTES: list[Api] = [
    Api(
        "GET",
        V + "/annotations",
        list_for_version,
        "The caller's annotations on a document version, and those shared with the meeting",
        tag="annotations",
    ),
    Api(
        "GET",
        "/api/annotations/changes",
        changes,
        "The caller's annotation changes after cursor `since` (tombstones included)",
        tag="annotations",
        query=("since", "limit"),
    ),
    Api(
        "GET",
        "/api/annotations/orphaned",
        orphaned,
        "The caller's annotations that could not be placed on a new version",
        tag="annotations",
        query=("document_id",),
    ),
    Api(
        "POST",
        "/api/annotations",
        upsert,
        "Create or change an annotation (as annotation.upsert)",
        body=UpsertAnnotation,
        tag="annotations",
    ),
    Api(
        "DELETE",
        "/api/annotations/{annotation_id}",
        delete,
        "Delete an annotation (as annotation.delete)",
        tag="annotations",
    ),
    Api(
        "GET",
        V + "/annotated.pdf",
        annotated_pdf,
        "My annotated copy: the PDF with the caller's annotations as PDF annotation objects",
        tag="annotations",
    ),
    Api(
        "GET",
        V + "/annotations.jsonld",
        web_annotations,
        "The caller's annotations as a W3C Web Annotation collection",
        tag="annotations",
    ),
    Api(
        "GET",
        "/api/meetings/{meeting_id:int}/search",
        search_meeting,
        "Search the meeting's documents (with or without Vietnamese diacritics); "
        "?document_id= searches one of them",
        tag="annotations",
        query=("q", "limit", "document_id"),
    ),
]
