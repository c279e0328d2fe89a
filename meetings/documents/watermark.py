"""Per-user watermarks on confidential documents (docs/features/documents.md, "Watermark").

`watermark_pdf` stamps every page with a diagonal, semi-transparent block of text (the reader's
name, "MẬT / CONFIDENTIAL", the time) in an embedded Unicode font, so it renders and extracts
as real text. The stamp is drawn once per distinct page size with fpdf2 and added to the
document as a Form XObject; each page only gains a short content stream that paints it, so the
page's own content is never decoded or rewritten (a 300-page document in well under a second).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

from meetings.documents.fonts import sans_font
from meetings.documents.ingest import BrokenPdf, EncryptedPdf, displayed_size
from meetings.documents.overlay import Matrix, display_matrix, forms_from_pdf

__all__ = ["watermark_pdf"]

OPACITY = 0.18
COLOR = (190, 20, 20)
MAX_FONT = 44.0
MIN_FONT = 9.0
MAX_LINES = 6
MAX_LINE_CHARS = 120
_NAME = "QuorumWm"


def _draw_stamps(sizes: Sequence[tuple[float, float]], lines: Sequence[str]) -> bytes:
    """One fpdf2 page per page size, each with the text block along its rising diagonal."""
    pdf = FPDF(unit="pt")
    pdf.set_creator("Quorum")
    pdf.add_font("sans", "B", str(sans_font("Bold")))
    for w, h in sizes:
        pdf.add_page(format=(w, h))
        pdf.set_font("sans", "B", MAX_FONT)
        diagonal = math.hypot(w, h)
        widest = max(pdf.get_string_width(line) for line in lines) or 1.0
        size = max(MIN_FONT, min(MAX_FONT, MAX_FONT * 0.6 * diagonal / widest))
        pdf.set_font("sans", "B", size)
        leading = size * 1.3
        cx, cy = w / 2, h / 2
        top = cy - leading * (len(lines) - 1) / 2 + size * 0.35
        angle = math.degrees(math.atan2(h, w))
        with (
            pdf.local_context(fill_opacity=OPACITY, text_color=COLOR),
            pdf.rotation(angle, x=cx, y=cy),
        ):
            for i, line in enumerate(lines):
                pdf.text(cx - pdf.get_string_width(line) / 2, top + i * leading, line)
    return bytes(pdf.output())


def _resources(page: DictionaryObject) -> DictionaryObject:
    """The page's resources, made the page's own (a shallow copy of what it shared or inherited)."""
    node: PdfObject | None = page
    for _ in range(64):
        if not isinstance(node, DictionaryObject):
            break
        found = node.get("/Resources")
        if found is not None:
            found = found.get_object()
            if isinstance(found, DictionaryObject):
                return DictionaryObject(found)
            break
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return DictionaryObject()


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _clean_lines(lines: Sequence[str]) -> list[str]:
    cleaned = [" ".join(str(line).split())[:MAX_LINE_CHARS] for line in lines]
    cleaned = [line for line in cleaned if line][:MAX_LINES]
    if not cleaned:
        raise ValueError("a watermark needs at least one line of text")
    return cleaned


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """A copy of the PDF with `lines` stamped diagonally across every page.

    Raises `EncryptedPdf` or `BrokenPdf` for files `inspect_pdf` would have refused.
    """
    text = _clean_lines(lines)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise EncryptedPdf("an encrypted PDF cannot be watermarked")
        writer = PdfWriter(clone_from=reader)
        pages = list(writer.pages)
        sizes = [displayed_size(p) for p in pages]
    except EncryptedPdf:
        raise
    except Exception as exc:
        raise BrokenPdf("the PDF is damaged and cannot be watermarked") from exc

    distinct = sorted(set(sizes))
    forms = forms_from_pdf(writer, _draw_stamps(distinct, text))
    form_of = {size: form for size, (form, _w, _h) in zip(distinct, forms, strict=True)}
    opening = _stream(writer, b"q\n")
    closings: dict[tuple[Matrix, tuple[float, float]], IndirectObject] = {}

    for page, size in zip(pages, sizes, strict=True):
        matrix = display_matrix(page)
        resources = _resources(page)
        xobjects = resources.get("/XObject")
        xobjects = DictionaryObject(xobjects.get_object()) if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            xobjects = DictionaryObject()
        name = _NAME
        while NameObject("/" + name) in xobjects and xobjects["/" + name] != form_of[size]:
            name += "x"
        xobjects[NameObject("/" + name)] = form_of[size]
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources

        key = (matrix, size)
        closing = closings.get(key)
        if closing is None or name != _NAME:
            cm = " ".join(f"{v:.4f}" for v in matrix)
            closing = _stream(writer, f"\nQ\nq {cm} cm /{name} Do Q\n".encode())
            if name == _NAME:
                closings[key] = closing
        contents = page.get("/Contents")
        parts: list[PdfObject] = [opening]
        if contents is not None:
            resolved = contents.get_object()
            if isinstance(resolved, ArrayObject):
                parts.extend(resolved)
            else:
                parts.append(contents)
        parts.append(closing)
        page[NameObject("/Contents")] = ArrayObject(parts)

    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
