"""Page images for the viewer's instant first page (docs/features/annotations.md, "Fast delivery"):
the PNG of a page with the PDF's access rules, cacheable when versioned, per-user and never
cached for confidential documents, clear errors for bad input."""

from __future__ import annotations

import io

from PIL import Image

from meetings.documents.text_boxes import TextLocator
from tests.conftest import Running
from tests.integration.annotations.conftest import PARAGRAPHS, agenda_pdf, upload


def _png(body: object) -> Image.Image:
    assert isinstance(body, bytes | bytearray), type(body)
    return Image.open(io.BytesIO(bytes(body)))


async def test_first_page_image_cacheable_and_guarded(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    delegate = await server.token("delegate001")
    url = f"/api/documents/{doc['id']}/pages/0/image?version=1"
    status, body, headers = await server.http("GET", url, token=delegate)
    assert status == 200, body
    assert headers["content-type"] == "image/png"
    assert "immutable" in headers["cache-control"]
    image = _png(body)
    w_pt, h_pt = doc["current_version"]["page_sizes"][0]
    assert image.width == 1200 and abs(image.height - round(1200 * h_pt / w_pt)) <= 1
    lo, hi = image.convert("L").getextrema()
    assert isinstance(lo, int) and hi - lo > 100  # text was drawn, not a blank page
    status, _, again = await server.http(
        "GET", url, token=delegate, headers={"if-none-match": headers["etag"]}
    )
    assert status == 304 and again["etag"] == headers["etag"]
    status, body, _ = await server.http(
        "GET", f"/api/documents/{doc['id']}/pages/1/image?width=400", token=delegate
    )
    assert status == 200 and _png(body).width == 400
    for path, code in (
        (f"/api/documents/{doc['id']}/pages/0/image?width=333", "bad_width"),
        (f"/api/documents/{doc['id']}/pages/999999999/image", "page_out_of_range"),
        (f"/api/documents/{doc['id']}/pages/0/image?version=9", "not_found"),
        ("/api/documents/999999/pages/0/image", "not_found"),
    ):
        status, body, _ = await server.http("GET", path, token=delegate)
        assert status in (404, 422) and body["error"]["code"] == code, (path, body)
    status, _, _ = await server.http("GET", url)
    assert status == 401


async def test_confidential_page_image_is_personal(server: Running) -> None:
    doc = await upload(server, agenda_pdf(), visibility="confidential")
    url = f"/api/documents/{doc['id']}/pages/0/image?version=1"
    status, body, _ = await server.http("GET", url, token=await server.token("delegate001"))
    assert status == 404 and body["error"]["code"] == "not_found"  # not a named reader
    status, body, headers = await server.http("GET", url, token=await server.token("secretary"))
    assert status == 200 and headers["cache-control"] == "private, no-store"
    assert "etag" not in headers and _png(body).width == 1200


async def test_page_words_are_where_pdfium_finds_the_quote(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    delegate = await server.token("delegate001")
    url = f"/api/documents/{doc['id']}/pages/0/words?version=1"
    status, body, _ = await server.http("GET", url, token=delegate)
    assert status == 200, body
    words = body["words"]
    w_pt, h_pt = doc["current_version"]["page_sizes"][0]
    assert len(words) > 50
    assert all(0 <= w[1] < w[3] <= w_pt and 0 <= w[2] < w[4] <= h_pt for w in words)
    assert all(" " not in w[0] and w[0] for w in words)
    # the page's words, joined, hold the first paragraph as pdfium reads it
    text = " ".join(w[0] for w in words)
    first = " ".join(PARAGRAPHS[0].split()[:6])
    assert first in text
    quote = " ".join(first.split()[:3])
    with TextLocator(await _file(server, doc["id"])) as locator:
        quads = locator.locate(0, quote)
    assert quads is not None
    start = text.index(quote)
    index = text[:start].count(" ")
    first_word = words[index]
    ul_x, ul_y = quads[0][0], quads[0][1]
    assert abs(first_word[1] - ul_x) < 0.6 and abs(first_word[4] - ul_y) < 0.6
    for path, code in (
        (f"/api/documents/{doc['id']}/pages/999/words", "page_out_of_range"),
        (f"/api/documents/{doc['id']}/pages/0/words?version=9", "not_found"),
    ):
        status, body, _ = await server.http("GET", path, token=delegate)
        assert status == 404 and body["error"]["code"] == code, (path, body)
    status, _, _ = await server.http("GET", url)
    assert status == 401


async def _file(server: Running, document_id: int) -> bytes:
    status, body, _ = await server.http(
        "GET", f"/api/documents/{document_id}/file?version=1", token=await server.token("secretary")
    )
    assert status == 200
    assert isinstance(body, bytes)
    return body
