"""Small PDFs for the document tests: generated agendas, hand-built and hostile files."""

from __future__ import annotations

import io
import zlib
from functools import cache

from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs

TITLE = "Tờ trình về dự toán ngân sách địa phương năm 2026"


@cache
def agenda(pages: int = 3, seed: int = 4) -> bytes:
    return generate_agenda_document(TITLE, vietnamese_paragraphs(12, seed=seed), pages=pages)


@cache
def rotated_agenda() -> bytes:
    """Four pages: rotated 0, 90, 180, 270; the last also cropped away from the origin."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(agenda(4))))
    for i, page in enumerate(writer.pages):
        page.rotate(90 * i)
    writer.pages[3].cropbox = RectangleObject((100, 100, 400, 700))
    return write(writer)


def write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted(user_password: str, owner_password: str = "owner") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(agenda(1))))
    writer.encrypt(user_password, owner_password, algorithm="AES-128")
    return write(writer)


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF with a correct cross-reference table around the given object bodies (1 0 obj ...)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_KID = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def page_with(extra: bytes) -> bytes:
    return raw_pdf(
        CATALOG, ONE_KID, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " + extra + b" >>"
    )


def deeply_nested_array(depth: int = 100_000) -> bytes:
    return page_with(b"/Deep " + b"[" * depth + b"]" * depth)


def deeply_nested_dict(depth: int = 50_000) -> bytes:
    return page_with(b"/Deep " + b"<< /A " * depth + b">>" * depth)


def page_tree_loop() -> bytes:
    return raw_pdf(
        CATALOG,
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    )


def inherited_resources() -> bytes:
    """Two pages sharing resources and a font inherited from the page tree node."""
    content = b"BT /F1 24 Tf 72 700 Td (Hello inherited) Tj ET"
    return raw_pdf(
        CATALOG,
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    )


@cache
def shared_stream_pdf(pages: int = 3000, stream_bytes: int = 70_000_000) -> bytes:
    """The security review's upload: every page draws one huge, well-compressed content stream
    (about 450 kB on disk for 3,000 pages of 70 MB each; pypdf needs ~0.1 s per page)."""
    content = zlib.compress(b" " * stream_bytes, 9)
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        *[page] * pages,
    )
