"""Document upload and download (docs/API.md, "Uploads", "Downloads").

Uploads are the raw PDF as the request body (`Content-Type: application/pdf`). The caller is
authorised first; only then is the body streamed to a temporary file (`uploads.py`, 413 as
soon as it passes the limit) and the PDF read in a bounded process. Downloads of a stored
version are served from the content-addressed file with ETag (the sha256), HTTP Range and
immutable caching when the URL names the version; confidential documents are watermarked per
user and never cached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from starlette.responses import FileResponse, Response

from meetings.domain.errors import InvalidInput
from meetings.domain.model import Visibility
from meetings.http.api import Api, Call
from meetings.http.routes import page_images
from meetings.http.uploads import pdf_body
from meetings.services import commands as c
from meetings.services.documents import library as documents
from meetings.services.documents import reading


def _visibility(call: Call) -> Visibility:
    raw = call.request.query_params.get("visibility", "members")
    try:
        return Visibility(raw)
    except ValueError:
        raise InvalidInput(
            f"visibility is one of {[v.value for v in Visibility]}", code="bad_query"
        ) from None


def _user_ids(call: Call) -> list[int]:
    raw = call.request.query_params.get("allowed_user_ids", "")
    try:
        return [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise InvalidInput(
            "allowed_user_ids is a comma-separated list of user ids", code="bad_query"
        ) from None


async def upload(call: Call) -> dict[str, Any]:
    meeting_id = call.int_param("meeting_id")
    visibility, agenda_item_id = _visibility(call), call.query_int("agenda_item_id")
    allowed = _user_ids(call)
    await documents.check_upload(call.services, call.me, meeting_id)  # before the body
    async with pdf_body(call) as data:
        return await documents.upload_document(
            call.services,
            call.me,
            meeting_id,
            data,
            title=call.request.query_params.get("title", ""),
            visibility=visibility,
            agenda_item_id=agenda_item_id,
            allowed_user_ids=allowed,
        )


async def upload_version(call: Call) -> dict[str, Any]:
    document_id = call.int_param("document_id")
    await documents.check_new_version(call.services, call.me, document_id)  # before the body
    async with pdf_body(call) as data:
        return await documents.upload_version(
            call.services,
            call.me,
            document_id,
            data,
            note=call.request.query_params.get("note", ""),
        )


async def list_documents(call: Call) -> list[dict[str, Any]]:
    return await documents.list_documents(call.services, call.me, call.int_param("meeting_id"))


async def update_document(call: Call) -> dict[str, Any]:
    return await documents.update_document(
        call.services, call.me, call.int_param("document_id"), call.body
    )


async def delete_document(call: Call) -> None:
    await documents.delete_document(call.services, call.me, call.int_param("document_id"))


def _disposition(filename: str) -> str:
    return f"inline; filename=\"document.pdf\"; filename*=UTF-8''{quote(filename)}"


async def download(call: Call) -> Response:
    version = call.query_int("version")
    found = await documents.open_version(
        call.services, call.me, call.int_param("document_id"), version
    )
    if found.personal:
        assert found.data is not None
        return Response(
            found.data,
            media_type="application/pdf",
            headers={
                "cache-control": "private, no-store",
                "content-disposition": _disposition(found.filename),
            },
        )
    etag = f'"{found.sha256}"'
    cache = "private, max-age=31536000, immutable" if version is not None else "private, no-cache"
    headers = {
        "etag": etag,
        "cache-control": cache,
        "content-disposition": _disposition(found.filename),
        "accept-ranges": "bytes",
    }
    if etag in [t.strip() for t in call.request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    path = call.services.blobs.path(found.sha256)
    stat = await anyio.to_thread.run_sync(path.stat)
    response = FileResponse(
        path, media_type="application/pdf", stat_result=stat, content_disposition_type="inline"
    )
    response.headers.update(headers)
    return response


async def record_opened(call: Call) -> dict[str, Any]:
    return await reading.record_opened(call.services, call.me, call.int_param("document_id"))


async def my_reading(call: Call) -> dict[str, Any]:
    return await reading.my_reading(call.services, call.me, call.int_param("meeting_id"))


async def reading_totals(call: Call) -> dict[str, Any]:
    return await reading.reading_totals(call.services, call.me, call.int_param("meeting_id"))


D = "/api/documents/{document_id:int}"
ROUTES = [
    Api(
        "GET",
        "/api/meetings/{meeting_id:int}/documents",
        list_documents,
        "Documents of a meeting the caller may read",
        tag="documents",
    ),
    Api(
        "POST",
        "/api/meetings/{meeting_id:int}/documents",
        upload,
        "Upload a PDF as a new document (secretariat, chair); query: title, visibility, "
        "agenda_item_id, allowed_user_ids, filename",
        status=201,
        tag="documents",
        raw_body="application/pdf",
        query=("title", "visibility", "agenda_item_id", "allowed_user_ids", "filename"),
    ),
    Api(
        "POST",
        D + "/versions",
        upload_version,
        "Upload a new version (secretariat, chair)",
        status=201,
        tag="documents",
        raw_body="application/pdf",
        query=("note", "filename"),
    ),
    Api(
        "PATCH",
        D,
        update_document,
        "Change title, visibility, agenda item or named readers",
        body=c.UpdateDocument,
        tag="documents",
    ),
    Api("DELETE", D, delete_document, "Withdraw a document (secretariat, chair)", tag="documents"),
    Api(
        "GET",
        D + "/file",
        download,
        "The PDF (?version=N); Range, ETag, caching",
        tag="documents",
        query=("version",),
    ),
    Api(
        "POST",
        D + "/opened",
        record_opened,
        "Record that the caller opened the document (reading progress; idempotent)",
        tag="documents",
    ),
    Api(
        "GET",
        "/api/meetings/{meeting_id:int}/reading",
        my_reading,
        "The caller's reading checklist: the meeting's documents they have opened",
        tag="documents",
    ),
    Api(
        "GET",
        "/api/meetings/{meeting_id:int}/reading/totals",
        reading_totals,
        "Per document, how many participants opened it (secretariat, chair); never who",
        tag="documents",
    ),
    *page_images.ROUTES,
]
