"""Exports (annotated PDF, W3C JSON) and meeting search, on SQLite and PostgreSQL
(docs/features/annotations.md, "Export", "Search")."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

from tests.conftest import Running
from tests.integration.annotations.conftest import agenda_pdf, stroke, upload

PDFIUM_SUBTYPES = {
    pdfium_c.FPDF_ANNOT_HIGHLIGHT: "/Highlight",
    pdfium_c.FPDF_ANNOT_UNDERLINE: "/Underline",
    pdfium_c.FPDF_ANNOT_STRIKEOUT: "/StrikeOut",
    pdfium_c.FPDF_ANNOT_INK: "/Ink",
    pdfium_c.FPDF_ANNOT_TEXT: "/Text",
    pdfium_c.FPDF_ANNOT_FREETEXT: "/FreeText",
}


def _all_kinds(version_id: int) -> list[dict[str, Any]]:
    quad = [100.0, 700.0, 300.0, 700.0, 100.0, 688.0, 300.0, 688.0]

    def one(kind: str, **geometry: Any) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "document_version_id": version_id,
            "kind": kind,
            "page": 0,
            **geometry,
        }

    return [
        one("highlight", quads=[quad], color="#ffd400", opacity=0.5),
        one("underline", quads=[quad], color="#0000ff"),
        one("strike", quads=[quad], color="#ff0000"),
        stroke(version_id),
        one("note", rect=[500, 750, 520, 770], text="Cần bổ sung số liệu năm 2025"),
        one("freetext", rect=[80, 100, 400, 140], text="Đồng ý với tờ trình"),
    ]


async def test_annotated_copy_and_web_annotations(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    version_id = doc["current_version"]["id"]
    tablet = await server.client("delegate001")
    payloads = _all_kinds(version_id)
    for payload in payloads:
        await tablet.command("annotation.upsert", payload)
    await tablet.command("annotation.delete", {"annotation_id": payloads[2]["id"]})
    other = await server.client("delegate002")
    await other.command("annotation.upsert", stroke(version_id))  # not in my copy

    me = await server.token("delegate001")
    status, pdf, headers = await server.http(
        "GET", f"/api/document-versions/{version_id}/annotated.pdf", token=me
    )
    assert status == 200 and headers["content-type"] == "application/pdf"
    expected = ["/Highlight", "/Underline", "/Ink", "/Text", "/FreeText"]

    reader = PdfReader(io.BytesIO(pdf))
    annots = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    assert sorted(a["/Subtype"] for a in annots) == sorted(expected)
    highlight = next(a for a in annots if a["/Subtype"] == "/Highlight")
    assert [float(v) for v in highlight["/QuadPoints"]] == [
        100.0,
        700.0,
        300.0,
        700.0,
        100.0,
        688.0,
        300.0,
        688.0,
    ]
    assert highlight["/NM"] == payloads[0]["id"]
    note = next(a for a in annots if a["/Subtype"] == "/Text")
    assert note["/Contents"] == "Cần bổ sung số liệu năm 2025"
    assert len(next(a for a in annots if a["/Subtype"] == "/Ink")["/InkList"][0]) == 40

    document = pdfium.PdfDocument(pdf)
    page = document[0]
    count = pdfium_c.FPDFPage_GetAnnotCount(page.raw)
    seen = []
    for i in range(count):
        handle = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        seen.append(PDFIUM_SUBTYPES.get(pdfium_c.FPDFAnnot_GetSubtype(handle), "?"))
        pdfium_c.FPDFPage_CloseAnnot(handle)
    assert sorted(seen) == sorted(expected)
    page.render(scale=0.5)  # renders with its annotations without failing
    page.close()
    document.close()

    status, body, headers = await server.http(
        "GET", f"/api/document-versions/{version_id}/annotations.jsonld", token=me
    )
    assert status == 200 and "application/ld+json" in headers["content-type"]
    if isinstance(body, bytes):
        import json

        body = json.loads(body)
    assert body["type"] == "AnnotationCollection" and body["total"] == 5
    items = body["first"]["items"]
    assert {i["id"] for i in items} == {f"urn:uuid:{p['id']}" for p in payloads} - {
        f"urn:uuid:{payloads[2]['id']}"
    }
    assert all(i["target"]["selector"]["value"].startswith("page=1") for i in items)

    # someone who may not read it gets not_found, not the file
    status, _, _ = await server.http("GET", "/api/document-versions/987654/annotated.pdf", token=me)
    assert status == 404


async def test_search_with_and_without_diacritics(server: Running) -> None:
    road = await upload(
        server,
        agenda_pdf(
            [
                "Nghị quyết về phát triển đường tỉnh ĐT 741.",
                "Báo cáo thẩm tra của Ban Kinh tế – Ngân sách.",
            ]
        ),
        title="Nghị quyết đường tỉnh",
    )
    await upload(
        server,
        agenda_pdf(["Kế hoạch mật về nhân sự trường học."]),
        title="Tài liệu mật",
        visibility="restricted",
    )
    me = await server.token("delegate001")

    async def search(q: str) -> list[dict[str, Any]]:
        status, body, _ = await server.http(
            "GET", f"/api/meetings/{server.meeting_id}/search", token=me, params={"q": q}
        )
        assert status == 200, body
        return list(body["results"])

    with_marks = await search("đường tỉnh")
    without = await search("duong tinh")
    upper = await search("ĐƯỜNG TỈNH")
    assert with_marks and with_marks == without == upper
    hit = with_marks[0]
    assert hit["title"] == "Nghị quyết đường tỉnh" and hit["page"] == 0
    assert "đường tỉnh" in hit["snippet"].lower()
    start, end = hit["match"]
    assert hit["snippet"][start:end].lower() == "đường tỉnh"
    assert await search("ngan sach") and await search("thẩm tr")  # prefix of the last word
    assert await search("nhân sự trường") == []  # restricted: not this delegate's to read
    assert await search("khong co tu nay") == []
    status, body, _ = await server.http(
        "GET", f"/api/meetings/{server.meeting_id}/search", token=me, params={"q": "  ;; "}
    )
    assert status == 422 and body["error"]["code"] == "bad_query"
    secretary = await server.token("secretary")
    status, body, _ = await server.http(
        "GET",
        f"/api/meetings/{server.meeting_id}/search",
        token=secretary,
        params={"q": "nhan su truong"},
    )
    assert status == 200 and [r["title"] for r in body["results"]] == ["Tài liệu mật"]
    # one document only (the reader's "search in this document")
    for document_id, found in ((road["id"], 1), (road["id"] + 1000, 0)):
        status, body, _ = await server.http(
            "GET",
            f"/api/meetings/{server.meeting_id}/search",
            token=secretary,
            params={"q": "duong tinh", "document_id": str(document_id)},
        )
        assert status == 200 and len(body["results"]) == found, body
    status, body, _ = await server.http(
        "GET",
        f"/api/meetings/{server.meeting_id}/search",
        token=secretary,
        params={"q": "nhan su truong", "document_id": str(road["id"])},
    )
    assert status == 200 and body["results"] == []
