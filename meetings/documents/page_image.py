"""A page of a PDF as a PNG, for the viewer's instant first page (docs/features/annotations.md,
"Fast delivery").

pdfium renders the page as displayed (crop box, /Rotate) at a given pixel width, reduced to a
64-colour palette (a text page at 1200 px is about 190 KB); pypdf cuts a
single page out of a document so that a per-user watermark is stamped on that page only.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from PIL import Image
from pypdf import PdfReader, PdfWriter

from meetings.documents.pdfium_lock import PDFIUM

WIDTHS = (400, 800, 1200, 1600)
"""Pixel widths offered (few, so that rendered images are shared and cached)."""
DEFAULT_WIDTH = 1200



def render_page_png(data: bytes, page: int, width: int = DEFAULT_WIDTH) -> bytes:
    """Page `page` (0-based) of the PDF `data` as a PNG `width` pixels wide."""
    with PDFIUM:  # pdfium is not thread-safe: `meetings.documents.pdfium_lock`
        image = _render(data, page, width)
    # 64 colours: text pages stay sharp at a third of the size of a full-colour PNG
    out = io.BytesIO()
    image.quantize(colors=64).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _render(data: bytes, page: int, width: int) -> Image.Image:
    pdf = pdfium.PdfDocument(data)
    try:
        if not 0 <= page < len(pdf):
            raise IndexError(page)
        p = pdf[page]
        try:
            w_pt = p.get_width()
            # a copy: the bitmap's buffer is pdfium's, and it may go with the page
            image: Image.Image = p.render(scale=width / max(w_pt, 1.0)).to_pil().copy()
            return image
        finally:
            p.close()
    finally:
        pdf.close()


def single_page_pdf(data: bytes, page: int) -> bytes:
    """Page `page` of the PDF alone, as a new PDF."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    writer.add_page(reader.pages[page])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
