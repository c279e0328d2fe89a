"""Page images and page words of documents (docs/features/annotations.md, "Fast delivery").

`GET /api/documents/{id}/pages/{page}/image?version=N&width=W`: the page (0-based) as a PNG,
with the same access rules as the PDF. A versioned URL is immutable (ETag, cached for a year);
a confidential document's page is watermarked for the caller and never cached.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from meetings.http.api import Api, Call
from meetings.services.documents import page_images, page_text


async def page_image(call: Call) -> Response:
    version = call.query_int("version")
    found = await page_images.page_image(
        call.services,
        call.me,
        call.int_param("document_id"),
        min(int(call.request.path_params["page"]), 1_000_000),  # past the last page: 404
        version,
        call.query_int("width"),
    )
    if found.personal:
        return Response(
            found.png, media_type="image/png", headers={"cache-control": "private, no-store"}
        )
    cache = "private, max-age=31536000, immutable" if version is not None else "private, no-cache"
    headers = {"etag": found.etag, "cache-control": cache}
    if found.etag in [t.strip() for t in call.request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(found.png, media_type="image/png", headers=headers)


async def page_words(call: Call) -> dict[str, Any]:
    return await page_text.page_words(
        call.services,
        call.me,
        call.int_param("document_id"),
        min(int(call.request.path_params["page"]), 1_000_000),
        call.query_int("version"),
    )


ROUTES = [
    Api(
        "GET",
        "/api/documents/{document_id:int}/pages/{page:int}/image",
        page_image,
        "A page (0-based) as a PNG, shown while the PDF loads (?version=N&width=400|800|1200|"
        "1600); ETag, immutable caching for versioned URLs",
        tag="documents",
        query=("version", "width"),
    ),
    Api(
        "GET",
        "/api/documents/{document_id:int}/pages/{page:int}/words",
        page_words,
        "A page's words (0-based page, ?version=N) as [text, left, bottom, right, top] in "
        "displayed-page points, for selecting text over the page image",
        tag="documents",
        query=("version",),
    ),
]
