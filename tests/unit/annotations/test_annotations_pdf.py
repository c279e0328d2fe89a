"""Annotated PDF export: real annotation objects that pypdf and pdfium see
(docs/features/documents.md)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from pypdf import PdfReader

from meetings.documents.annotations_pdf import export_annotated_pdf
from meetings.documents.ingest import BrokenPdf, EncryptedPdf, inspect_pdf
from meetings.domain.annotations import Annotation, validate_annotation
from tests.support import pdfs

AUTHOR = "Trần Văn Hùng"
KINDS = ["/Highlight", "/Underline", "/StrikeOut", "/Ink", "/Text", "/FreeText"]
PDFIUM_SUBTYPES = {
    pdfium_c.FPDF_ANNOT_HIGHLIGHT: "/Highlight",
    pdfium_c.FPDF_ANNOT_UNDERLINE: "/Underline",
    pdfium_c.FPDF_ANNOT_STRIKEOUT: "/StrikeOut",
    pdfium_c.FPDF_ANNOT_INK: "/Ink",
    pdfium_c.FPDF_ANNOT_TEXT: "/Text",
    pdfium_c.FPDF_ANNOT_FREETEXT: "/FreeText",
}


def one_of_each(page: int, sizes: tuple[tuple[float, float], ...]) -> list[Annotation]:
    w, _h = sizes[page]
    when = datetime(2026, 3, 12, 8, 30, tzinfo=UTC)

    def make(kind: str, **fields: Any) -> Annotation:
        body = {
            "id": str(uuid.uuid4()),
            "document_version_id": "v1",
            "kind": kind,
            "page": page,
            "created_at": when,
            **fields,
        }
        return validate_annotation(body, list(sizes))

    return [
        make(
            "highlight",
            color="#ffd400",
            opacity=0.5,
            text="Xem lại số liệu",
            quads=[[60, 280, 300, 280, 60, 266, 300, 266]],
        ),
        make("underline", color="#0044ff", quads=[[60, 250, 300, 250, 60, 236, 300, 236]]),
        make("strike", color="#ff0000", quads=[[60, 220, 300, 220, 60, 206, 300, 206]]),
        make(
            "ink",
            color="#008800",
            strokes=[
                [[100 + i * 2, 120 + (i % 10) * 3, i / 100] for i in range(100)],
                [[120, 100, 0.5]],
            ],
        ),
        make(
            "note",
            color="#ffcc00",
            rect=[400, 150, 420, 170],
            text="Đề nghị làm rõ nguồn vốn đối ứng",
        ),
        make(
            "freetext",
            color="#cc0000",
            rect=[330, 20, w - 20, 80],
            text="Đại biểu đề nghị bổ sung đánh giá tác động đến người dân.",
        ),
    ]


@pytest.fixture(scope="module")
def exported() -> tuple[bytes, list[Annotation]]:
    data = pdfs.rotated_agenda()
    sizes = inspect_pdf(data).page_sizes
    annotations = one_of_each(0, sizes) + one_of_each(1, sizes) + one_of_each(3, sizes)
    return export_annotated_pdf(data, annotations, AUTHOR), annotations


def test_pypdf_sees_every_subtype_on_its_page(exported: tuple[bytes, list[Annotation]]) -> None:
    data, annotations = exported
    reader = PdfReader(io.BytesIO(data))
    by_id = {a.id: a for a in annotations}
    for number, page in enumerate(reader.pages):
        annots = [ref.get_object() for ref in page.get("/Annots", [])]
        expected = KINDS if number in (0, 1, 3) else []
        assert [a["/Subtype"] for a in annots] == expected
        for annot in annots:
            source = by_id[annot["/NM"]]
            assert source.page == number
            assert annot["/T"] == AUTHOR
            assert annot["/F"] == 4
            assert "/N" in annot["/AP"]
            assert annot["/CreationDate"] == "D:20260312083000Z"
            assert [round(float(c) * 255) for c in annot["/C"]] == [
                int(source.color[i : i + 2], 16) for i in (1, 3, 5)
            ]
            if source.text:
                assert annot["/Contents"] == source.text
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            box = page.mediabox
            assert box.left - 1 <= x0 < x1 <= box.right + 1
            assert box.bottom - 1 <= y0 < y1 <= box.top + 1


def test_geometry_is_in_user_space(exported: tuple[bytes, list[Annotation]]) -> None:
    data, _ = exported
    reader = PdfReader(io.BytesIO(data))
    annots = [ref.get_object() for ref in reader.pages[1].get("/Annots", [])]  # rotated 90°
    highlight = annots[0]
    quad = [float(v) for v in highlight["/QuadPoints"]]
    # displayed (60, 280) on a page rotated 90° is user (595.28 - 280, 60)
    assert quad[0] == pytest.approx(595.28 - 280, abs=0.01)
    assert quad[1] == pytest.approx(60, abs=0.01)
    ink = annots[3]
    assert len(ink["/InkList"]) == 2 and len(ink["/InkList"][0]) == 200


def test_pdfium_sees_and_renders_them(exported: tuple[bytes, list[Annotation]]) -> None:
    data, _ = exported
    doc = pdfium.PdfDocument(data)
    try:
        for number in range(len(doc)):
            page = doc[number]
            subtypes = []
            for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
                handle = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
                subtypes.append(PDFIUM_SUBTYPES.get(pdfium_c.FPDFAnnot_GetSubtype(handle)))
                pdfium_c.FPDFPage_CloseAnnot(handle)
            assert subtypes == (KINDS if number in (0, 1, 3) else [])
            image = page.render(scale=0.5, draw_annots=True).to_pil()
            assert image.size[0] > 0
    finally:
        doc.close()


def _mean_colour(
    data: bytes, box: tuple[float, float, float, float], *, annots: bool
) -> tuple[float, float, float]:
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[0]
        height = page.get_height()
        image = page.render(scale=1, draw_annots=annots).to_pil().convert("RGB")
    finally:
        doc.close()
    x0, y0, x1, y1 = box
    region = image.crop((round(x0), round(height - y1), round(x1), round(height - y0)))
    pixels = region.tobytes()
    n = len(pixels) // 3
    return (sum(pixels[0::3]) / n, sum(pixels[1::3]) / n, sum(pixels[2::3]) / n)


def test_highlight_is_painted_where_it_was_made(exported: tuple[bytes, list[Annotation]]) -> None:
    data, _ = exported
    quad = (62.0, 268.0, 298.0, 278.0)
    r0, g0, b0 = _mean_colour(data, quad, annots=False)
    r1, g1, b1 = _mean_colour(data, quad, annots=True)
    assert b1 < b0 - 40  # yellow takes the blue out
    assert r1 > r0 - 25 and g1 > g0 - 40


def test_freetext_text_is_extractable_from_the_appearance(
    exported: tuple[bytes, list[Annotation]],
) -> None:
    data, _ = exported
    reader = PdfReader(io.BytesIO(data))
    annot = [ref.get_object() for ref in reader.pages[0].get("/Annots", [])][5]
    form = annot["/AP"]["/N"].get_object()
    assert "/Matrix" in form
    assert b"Tj" in form.get_data() or b"TJ" in form.get_data()


def test_deleted_and_off_document_annotations_are_skipped() -> None:
    data = pdfs.agenda(2)
    sizes = inspect_pdf(data).page_sizes
    kept, gone = one_of_each(0, sizes)[:2]
    gone = Annotation(**{**gone.__dict__, "deleted": True})
    elsewhere = Annotation(**{**kept.__dict__, "id": str(uuid.uuid4()), "page": 7})
    out = export_annotated_pdf(data, [kept, gone, elsewhere], AUTHOR)
    reader = PdfReader(io.BytesIO(out))
    assert [a.get_object()["/NM"] for a in reader.pages[0].get("/Annots", [])] == [kept.id]
    assert "/Annots" not in reader.pages[1]


def test_no_annotations_is_a_plain_copy() -> None:
    data = pdfs.agenda(1)
    out = export_annotated_pdf(data, [], AUTHOR)
    assert inspect_pdf(out).page_texts == inspect_pdf(data).page_texts


def test_refusals() -> None:
    with pytest.raises(EncryptedPdf):
        export_annotated_pdf(pdfs.encrypted("x"), [], AUTHOR)
    with pytest.raises(BrokenPdf):
        export_annotated_pdf(b"%PDF-1.4\ngarbage", [], AUTHOR)
