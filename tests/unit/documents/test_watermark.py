"""Watermark: every page stamped with extractable Unicode text, pages intact
(docs/features/documents.md)."""

from __future__ import annotations

import io
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from meetings.documents.ingest import BrokenPdf, EncryptedPdf, inspect_pdf
from meetings.documents.watermark import watermark_pdf
from tests.support import pdfs

LINES = ["Nguyễn Thị Hồng Nhung", "MẬT / CONFIDENTIAL · delegate017", "2026-03-12 08:30"]


def pdfium_texts(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_every_page_carries_the_stamp_as_text() -> None:
    original = pdfs.agenda(3)
    stamped = watermark_pdf(original, LINES)
    before = inspect_pdf(original)
    after = inspect_pdf(stamped)
    assert after.page_count == before.page_count
    assert after.page_sizes == before.page_sizes
    for old, new in zip(before.page_texts, after.page_texts, strict=True):
        assert old.strip() in new  # the page's own text is untouched
        for line in LINES:
            assert line in new
    for text in pdfium_texts(stamped):
        assert "MẬT / CONFIDENTIAL" in text
        assert "Nguyễn Thị Hồng Nhung" in text


def test_font_is_embedded_once() -> None:
    stamped = watermark_pdf(pdfs.agenda(3), LINES)
    reader = PdfReader(io.BytesIO(stamped))
    forms = {
        page["/Resources"]["/XObject"].raw_get("/QuorumWm").idnum  # type: ignore[index]
        for page in reader.pages
    }
    assert len(forms) == 1


def _red_pixels(data: bytes, page: int) -> tuple[int, tuple[int, int]]:
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[page].render(scale=0.5).to_pil().convert("RGB")
    finally:
        doc.close()
    pixels = image.tobytes()
    red = sum(
        1
        for i in range(0, len(pixels), 3)
        if pixels[i] > 200 and pixels[i] - pixels[i + 1] > 15 and pixels[i] - pixels[i + 2] > 15
    )
    return red, image.size


@pytest.mark.parametrize("page", [0, 1, 2, 3])
def test_rotated_and_cropped_pages_show_the_stamp(page: int) -> None:
    stamped = watermark_pdf(pdfs.rotated_agenda(), LINES)
    red, _size = _red_pixels(stamped, page)
    assert red > 500
    untouched, _ = _red_pixels(pdfs.rotated_agenda(), page)
    assert untouched == 0


def test_inherited_and_shared_resources() -> None:
    stamped = watermark_pdf(pdfs.inherited_resources(), ["Lê Minh Đức"])
    reader = PdfReader(io.BytesIO(stamped))
    for page in reader.pages:
        text = page.extract_text()
        assert "Hello inherited" in text
        assert "Lê Minh Đức" in text
    # the page tree's own resources were not changed
    parent: Any = reader.pages[0]["/Parent"].get_object()
    assert "/XObject" not in parent["/Resources"]


def test_refusals() -> None:
    with pytest.raises(EncryptedPdf):
        watermark_pdf(pdfs.encrypted("secret"), LINES)
    with pytest.raises(BrokenPdf):
        watermark_pdf(b"%PDF-1.7\nnot really", LINES)
    with pytest.raises(ValueError):
        watermark_pdf(pdfs.agenda(1), ["  ", ""])


def test_long_lines_are_bounded() -> None:
    stamped = watermark_pdf(pdfs.agenda(1), ["Đ" * 500] * 20)
    before = PdfReader(io.BytesIO(pdfs.agenda(1))).pages[0].extract_text().count("Đ")
    after = PdfReader(io.BytesIO(stamped)).pages[0].extract_text().count("Đ")
    assert after - before == 6 * 120  # at most 6 lines of 120 characters
