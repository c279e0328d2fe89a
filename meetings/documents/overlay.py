"""Drawing on existing PDF pages: Form XObjects, the display transform (docs/features/documents.md).

Watermarks and annotation appearances are drawn in *displayed* page coordinates (origin at the
bottom-left of the visible page as a reader shows it, after the crop box and /Rotate), the same
space annotations are stored in. `display_matrix` maps that space to the page's user space.
Unicode text is laid out by fpdf2 with an embedded font; `forms_from_pdf` turns each page of
fpdf2's output into a Form XObject of the target document, so the font is embedded once and
every page can show the drawing with a few bytes of content.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

__all__ = [
    "Matrix",
    "add_form",
    "display_matrix",
    "forms_from_pdf",
    "multiply",
    "transform_point",
]

Matrix = tuple[float, float, float, float, float, float]
"""A PDF transformation matrix [a b c d e f]: x' = a·x + c·y + e, y' = b·x + d·y + f."""


def display_matrix(page: PageObject) -> Matrix:
    """The matrix from displayed coordinates to the page's default user space."""
    box = page.cropbox
    x0, y0 = float(min(box.left, box.right)), float(min(box.bottom, box.top))
    w, h = abs(float(box.width)), abs(float(box.height))
    rotation = page.rotation % 360
    if rotation == 90:
        return (0.0, 1.0, -1.0, 0.0, x0 + w, y0)
    if rotation == 180:
        return (-1.0, 0.0, 0.0, -1.0, x0 + w, y0 + h)
    if rotation == 270:
        return (0.0, -1.0, 1.0, 0.0, x0, y0 + h)
    return (1.0, 0.0, 0.0, 1.0, x0, y0)


def multiply(first: Matrix, then: Matrix) -> Matrix:
    """The matrix applying `first`, then `then` (PDF's row-vector convention: first × then)."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def transform_point(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _numbers(values: Sequence[float]) -> ArrayObject:
    return ArrayObject(FloatObject(round(v, 4)) for v in values)


def add_form(
    writer: PdfWriter,
    content: bytes,
    bbox: Sequence[float],
    resources: DictionaryObject | None = None,
    matrix: Matrix | None = None,
) -> IndirectObject:
    """A compressed Form XObject in `writer` drawing `content` within `bbox`."""
    stream = DecodedStreamObject()
    stream.set_data(content)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): _numbers(bbox),
            NameObject("/Resources"): resources if resources is not None else DictionaryObject(),
        }
    )
    if matrix is not None:
        stream[NameObject("/Matrix")] = _numbers(matrix)
    encoded: PdfObject = stream.flate_encode()
    return writer._add_object(encoded)


def forms_from_pdf(writer: PdfWriter, pdf: bytes) -> list[tuple[IndirectObject, float, float]]:
    """Each page of `pdf` (a drawing made by fpdf2) as a Form XObject in `writer`.

    Returns (reference, width, height) per page; the form's bounding box is (0, 0, w, h).
    Resources shared between the pages (the embedded font) are copied into `writer` once.
    """
    reader = PdfReader(io.BytesIO(pdf))
    forms = []
    for page in reader.pages:
        box = page.mediabox
        w, h = float(box.width), float(box.height)
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        raw = page.get("/Resources")
        resources = DictionaryObject()
        if raw is not None:
            cloned = raw.get_object().clone(writer)
            if isinstance(cloned, DictionaryObject):
                resources = cloned
        forms.append((add_form(writer, data, (0.0, 0.0, w, h), resources), w, h))
    return forms
