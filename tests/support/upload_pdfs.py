"""PDF files for the upload tests: good ones, and the hostile ones uploads must refuse."""

from __future__ import annotations

import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from tests.support.pdfs import raw_pdf


def text_pdf(title: str = "Agenda document", pages: int = 2) -> bytes:
    """A small valid PDF with extractable ASCII text on every page."""
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=14)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 10, f"{title} - page {number}")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf("secret"))))
    writer.encrypt(user_password="open-sesame", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf() -> bytes:
    data = text_pdf("cut short", pages=3)
    return data[: len(data) // 3]


def nested_pdf(depth: int = 100_000) -> bytes:
    """A PDF whose page tree nests arrays far deeper than any parser's recursion limit."""
    deep = b"[" * depth + b"]" * depth
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots " + deep + b" >>",
    )
