""" "My annotated copy": a PDF with real annotation objects (docs/ANNOTATIONS.md, "Export").

Each live annotation becomes a PDF annotation any reader shows: Highlight, Underline and
StrikeOut with /QuadPoints, Ink with /InkList, Text (a sticky note) and FreeText, with colour,
opacity, author (/T), content and the annotation's UUID (/NM). Geometry is stored in the
displayed-page space (origin at the crop box's bottom-left corner, after /Rotate) and turned
back into the page's user space here. Blocking (pypdf): run in a worker thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from meetings.domain.annotations import Annotation, AnnotationKind

__all__ = ["SUBTYPES", "export_annotated_pdf"]

SUBTYPES = {
    AnnotationKind.HIGHLIGHT: "/Highlight",
    AnnotationKind.UNDERLINE: "/Underline",
    AnnotationKind.STRIKE: "/StrikeOut",
    AnnotationKind.INK: "/Ink",
    AnnotationKind.NOTE: "/Text",
    AnnotationKind.FREETEXT: "/FreeText",
}
NOTE_SIZE = 24.0


class _Space:
    """Displayed-page point → the page's user space (crop box origin and /Rotate)."""

    def __init__(self, page: PageObject) -> None:
        box = page.cropbox
        self.left, self.bottom = float(box.left), float(box.bottom)
        self.right, self.top = float(box.right), float(box.top)
        self.rotation = page.rotation % 360

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self.rotation == 90:
            return self.right - y, self.bottom + x
        if self.rotation == 180:
            return self.right - x, self.top - y
        if self.rotation == 270:
            return self.left + y, self.top - x
        return self.left + x, self.bottom + y

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> ArrayObject:
        (a, b), (c, d) = self.point(x0, y0), self.point(x1, y1)
        return _numbers([min(a, c), min(b, d), max(a, c), max(b, d)])


def _numbers(values: Sequence[float]) -> ArrayObject:
    return ArrayObject(FloatObject(round(v, 3)) for v in values)


def _color(hex_color: str) -> ArrayObject:
    return _numbers([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _pdf_date(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def _annotation(a: Annotation, space: _Space, author: str) -> DictionaryObject:
    x0, y0, x1, y1 = a.bounds()
    if a.kind is AnnotationKind.NOTE and a.rect is not None:
        x1, y0 = x0 + NOTE_SIZE, y1 - NOTE_SIZE  # the icon sits at the rect's top-left corner
    out = DictionaryObject()
    out[NameObject("/Type")] = NameObject("/Annot")
    out[NameObject("/Subtype")] = NameObject(SUBTYPES[a.kind])
    out[NameObject("/Rect")] = space.rect(x0, y0, x1, y1)
    out[NameObject("/C")] = _color(a.color)
    out[NameObject("/CA")] = FloatObject(round(a.opacity, 3))
    out[NameObject("/T")] = TextStringObject(author)
    out[NameObject("/NM")] = TextStringObject(a.id)
    out[NameObject("/M")] = TextStringObject(_pdf_date(a.updated_at))
    out[NameObject("/F")] = NumberObject(4)  # print
    if a.text:
        out[NameObject("/Contents")] = TextStringObject(a.text)
    if a.kind.is_text_markup:
        flat: list[float] = []
        for q in a.quads:
            for k in range(0, 8, 2):
                flat.extend(space.point(q[k], q[k + 1]))
        out[NameObject("/QuadPoints")] = _numbers(flat)
    elif a.kind is AnnotationKind.INK:
        strokes = ArrayObject()
        pressures: list[float] = []
        for stroke in a.strokes:
            points: list[float] = []
            for x, y, p in stroke:
                points.extend(space.point(x, y))
                pressures.append(p)
            strokes.append(_numbers(points))
        out[NameObject("/InkList")] = strokes
        width = 1.0 + 3.0 * (sum(pressures) / len(pressures) if pressures else 0.5)
        border = DictionaryObject({NameObject("/W"): FloatObject(round(width, 2))})
        out[NameObject("/BS")] = border
    elif a.kind is AnnotationKind.NOTE:
        out[NameObject("/Name")] = NameObject("/Comment")
        out[NameObject("/Open")] = BooleanObject(False)
    else:
        r, g, b = (int(a.color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        out[NameObject("/DA")] = TextStringObject(f"/Helv 11 Tf {r:.3f} {g:.3f} {b:.3f} rg")
    return out


def export_annotated_pdf(data: bytes, annotations: Sequence[Annotation], author: str) -> bytes:
    """`data` (one document version) with `annotations` added as PDF annotation objects;
    deleted ones and those on pages the file lacks are left out."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    writer = PdfWriter(clone_from=reader)
    count = len(writer.pages)
    for a in annotations:
        if a.deleted or not 0 <= a.page < count:
            continue
        page = writer.pages[a.page]
        writer.add_annotation(a.page, _annotation(a, _Space(page), author))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
