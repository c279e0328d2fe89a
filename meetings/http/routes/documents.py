"""Document upload and download (docs/API.md, "Documents").

Uploads are the raw PDF as the request body (`Content-Type: application/pdf`), read as a stream
and refused with 413 as soon as they pass the limit. Downloads of a stored version are served
from the content-addressed file with ETag (the sha256), HTTP Range and immutable caching when
the URL names the version; confidential documents are watermarked per user and never cached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from starlette.responses import FileResponse, Response

from meetings.domain.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia
from meetings.domain.model import Visibility
from meetings.http.api import Api, Call
from meetings.http.routes import page_images
from meetings.services import commands as c
from meetings.services import documents
from meetings.services.documents import Upload

CHUNK = 1 << 20


async def read_pdf(call: Call) -> Upload:
    request = call.request
    limit = call.services.settings.upload_limit
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/pdf", "application/octet-stream"):
        raise UnsupportedMedia(
            "send the PDF as the request body with Content-Type: application/pdf"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the file is larger than {call.services.settings.max_upload_mb} MiB")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"the file is larger than {call.services.settings.max_upload_mb} MiB"
            )
        parts.append(chunk)
    filename = (
        request.query_params.get("filename") or request.headers.get("x-filename") or "document.pdf"
    )
    return Upload(b"".join(parts), filename[:255])


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
    data = await read_pdf(call)
    return await documents.upload_document(
        call.services,
        call.me,
        call.int_param("meeting_id"),
        data,
        title=call.request.query_params.get("title", ""),
        visibility=_visibility(call),
        agenda_item_id=call.query_int("agenda_item_id"),
        allowed_user_ids=_user_ids(call),
    )


async def upload_version(call: Call) -> dict[str, Any]:
    data = await read_pdf(call)
    return await documents.upload_version(
        call.services,
        call.me,
        call.int_param("document_id"),
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
    *page_images.ROUTES,
]
