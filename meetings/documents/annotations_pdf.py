"""Export a user's annotations into the PDF as real PDF annotations (docs/features/documents.md,
"Export").

Each `Annotation` becomes a PDF annotation any reader lists and edits: /Highlight, /Underline,
/StrikeOut (with /QuadPoints), /Ink (/InkList), /Text (a sticky note) and /FreeText, carrying
the colour (/C), opacity (/CA), author (/T), content (/Contents), id (/NM) and times. Every one
gets an appearance stream (/AP /N), so readers that do not generate appearances still show it.
Appearances are drawn in displayed page coordinates, with the form's /Matrix mapping them onto
rotated or cropped pages; free-text boxes are laid out by fpdf2 with an embedded Unicode font.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText, Highlight, Text
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from meetings.documents.fonts import sans_font
from meetings.documents.ingest import BrokenPdf, EncryptedPdf
from meetings.documents.overlay import (
    Matrix,
    add_form,
    display_matrix,
    forms_from_pdf,
    multiply,
    transform_point,
)
from meetings.domain.annotations import Annotation, AnnotationKind, Rect

__all__ = ["export_annotated_pdf"]

PRINT_FLAG = 4
FREETEXT_SIZE = 10.0


def _rgb(color: str) -> tuple[float, float, float]:
    return (int(color[1:3], 16) / 255, int(color[3:5], 16) / 255, int(color[5:7], 16) / 255)


def _f(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _pdf_date(when: datetime | None) -> str | None:
    if when is None:
        return None
    return "D:" + when.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def _grow(rect: Rect, by: float) -> Rect:
    return (rect[0] - by, rect[1] - by, rect[2] + by, rect[3] + by)


def _user_rect(m: Matrix, rect: Rect) -> tuple[float, float, float, float]:
    corners = [transform_point(m, x, y) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _numbers(values: Iterable[float]) -> ArrayObject:
    return ArrayObject(FloatObject(round(v, 3)) for v in values)


def _gstate(opacity: float, multiply_blend: bool = False) -> DictionaryObject:
    gs = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/ExtGState"),
            NameObject("/CA"): FloatObject(opacity),
            NameObject("/ca"): FloatObject(opacity),
        }
    )
    if multiply_blend:
        gs[NameObject("/BM")] = NameObject("/Multiply")
    return DictionaryObject({NameObject("/ExtGState"): DictionaryObject({NameObject("/GS0"): gs})})


def _markup_content(a: Annotation) -> bytes:
    r, g, b = (_f(c) for c in _rgb(a.color))
    ops = ["/GS0 gs"]
    for q in a.quads:
        ulx, uly, urx, ury, llx, lly, lrx, lry = q
        if a.kind is AnnotationKind.HIGHLIGHT:
            ops.append(
                f"{r} {g} {b} rg {_f(ulx)} {_f(uly)} m {_f(urx)} {_f(ury)} l "
                f"{_f(lrx)} {_f(lry)} l {_f(llx)} {_f(lly)} l h f"
            )
            continue
        height = max(abs(uly - lly), abs(ulx - llx))
        width = max(0.5, height / 14)
        if a.kind is AnnotationKind.UNDERLINE:
            t = 0.1  # a little above the bottom of the line box
            x0, y0 = llx + (ulx - llx) * t, lly + (uly - lly) * t
            x1, y1 = lrx + (urx - lrx) * t, lry + (ury - lry) * t
        else:
            x0, y0 = (ulx + llx) / 2, (uly + lly) / 2
            x1, y1 = (urx + lrx) / 2, (ury + lry) / 2
        ops.append(f"{r} {g} {b} RG {_f(width)} w {_f(x0)} {_f(y0)} m {_f(x1)} {_f(y1)} l S")
    return "\n".join(ops).encode()


def _ink_content(a: Annotation) -> bytes:
    r, g, b = (_f(c) for c in _rgb(a.color))
    ops = [f"/GS0 gs {r} {g} {b} RG 1 J 1 j"]
    for stroke in a.strokes:
        if len(stroke) == 1:
            x, y, p = stroke[0]
            ops.append(f"{_f(_ink_width(p))} w {_f(x)} {_f(y)} m {_f(x)} {_f(y)} l S")
            continue
        current: float | None = None
        path: list[str] = []
        for (x0, y0, p0), (x1, y1, p1) in itertools.pairwise(stroke):
            width = round(_ink_width((p0 + p1) / 2) * 4) / 4
            if width != current:
                if path:
                    ops.append(" ".join(path) + " S")
                path = [f"{_f(width)} w {_f(x0)} {_f(y0)} m"]
                current = width
            path.append(f"{_f(x1)} {_f(y1)} l")
        if path:
            ops.append(" ".join(path) + " S")
    return "\n".join(ops).encode()


def _ink_width(pressure: float) -> float:
    """Pen width in points from pressure: 1 pt at none, 4 pt at full."""
    return 1.0 + 3.0 * pressure


def _note_content(a: Annotation, rect: Rect) -> bytes:
    """A folded-corner note icon filling the rect, with three text lines."""
    r, g, b = (_f(c) for c in _rgb(a.color))
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    fold = min(w, h) * 0.3
    lines = []
    for i in (1, 2, 3):
        y = y1 - h * (0.25 * i)
        lines.append(f"{_f(x0 + w * 0.2)} {_f(y)} m {_f(x1 - w * 0.2)} {_f(y)} l")
    return (
        f"/GS0 gs {r} {g} {b} rg 0.25 0.25 0.25 RG 0.75 w "
        f"{_f(x0)} {_f(y0)} m {_f(x1)} {_f(y0)} l {_f(x1)} {_f(y1 - fold)} l "
        f"{_f(x1 - fold)} {_f(y1)} l {_f(x0)} {_f(y1)} l h B " + " ".join(lines) + " S"
    ).encode()


def _freetext_drawings(items: Sequence[Annotation]) -> bytes:
    """One fpdf2 page per free-text box: border, white fill and the wrapped text."""
    pdf = FPDF(unit="pt")
    pdf.set_creator("Quorum")
    pdf.add_font("sans", "", str(sans_font("Regular")))
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    for a in items:
        assert a.rect is not None
        w, h = a.rect[2] - a.rect[0], a.rect[3] - a.rect[1]
        pdf.add_page(format=(max(w, 1.0), max(h, 1.0)))
        red, green, blue = (round(c * 255) for c in _rgb(a.color))
        pdf.set_draw_color(red, green, blue)
        pdf.set_line_width(1)
        with pdf.local_context(fill_opacity=a.opacity, stroke_opacity=a.opacity):
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(0.5, 0.5, max(w - 1, 0.1), max(h - 1, 0.1), style="DF")
        pdf.set_font("sans", "", FREETEXT_SIZE)
        pdf.set_text_color(20, 20, 20)
        pdf.set_xy(3, 3)
        pdf.multi_cell(max(w - 6, 5.0), FREETEXT_SIZE * 1.25, a.text, align="L")
    return bytes(pdf.output())


def _base(annot: DictionaryObject, a: Annotation, author: str, rect: Sequence[float]) -> None:
    annot[NameObject("/Rect")] = _numbers(rect)
    annot[NameObject("/C")] = _numbers(_rgb(a.color))
    annot[NameObject("/CA")] = FloatObject(a.opacity)
    annot[NameObject("/T")] = TextStringObject(author)
    annot[NameObject("/NM")] = TextStringObject(a.id)
    annot[NameObject("/F")] = NumberObject(PRINT_FLAG)
    if a.text:
        annot[NameObject("/Contents")] = TextStringObject(a.text)
    modified = _pdf_date(a.updated_at or a.created_at)
    if modified:
        annot[NameObject("/M")] = TextStringObject(modified)
    created = _pdf_date(a.created_at)
    if created:
        annot[NameObject("/CreationDate")] = TextStringObject(created)


def _appearance(form: IndirectObject) -> DictionaryObject:
    return DictionaryObject({NameObject("/N"): form})


def _build(
    writer: PdfWriter,
    a: Annotation,
    m: Matrix,
    author: str,
    freetext_form: tuple[IndirectObject, float, float] | None,
) -> DictionaryObject:
    """The annotation dictionary for `a` on a page whose display matrix is `m`."""
    box: Rect
    annot: DictionaryObject
    if a.kind.is_text_markup:
        box = _grow(a.bounds(), 1.0)
        quads = [
            c for q in a.quads for i in range(0, 8, 2) for c in transform_point(m, q[i], q[i + 1])
        ]
        if a.kind is AnnotationKind.HIGHLIGHT:
            annot = Highlight(
                rect=_user_rect(m, box),
                quad_points=_numbers(quads),
                highlight_color=a.color[1:],
                printing=True,
            )
        else:
            subtype = "/Underline" if a.kind is AnnotationKind.UNDERLINE else "/StrikeOut"
            annot = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Annot"),
                    NameObject("/Subtype"): NameObject(subtype),
                    NameObject("/QuadPoints"): _numbers(quads),
                }
            )
        content = _markup_content(a)
        resources = _gstate(a.opacity, multiply_blend=a.kind is AnnotationKind.HIGHLIGHT)
    elif a.kind is AnnotationKind.INK:
        box = _grow(a.bounds(), 3.0)
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Ink"),
                NameObject("/InkList"): ArrayObject(
                    _numbers(c for x, y, _p in s for c in transform_point(m, x, y))
                    for s in a.strokes
                ),
                NameObject("/BS"): DictionaryObject({NameObject("/W"): FloatObject(2.5)}),
            }
        )
        content = _ink_content(a)
        resources = _gstate(a.opacity)
    elif a.kind is AnnotationKind.NOTE:
        assert a.rect is not None
        box = a.rect
        annot = Text(rect=_user_rect(m, box), text=a.text)
        annot[NameObject("/Name")] = NameObject("/Comment")
        content = _note_content(a, box)
        resources = _gstate(a.opacity)
    else:
        assert a.rect is not None and freetext_form is not None
        box = a.rect
        annot = FreeText(
            text=a.text,
            rect=_user_rect(m, box),
            font="Be Vietnam Pro",
            font_size=f"{FREETEXT_SIZE:g}pt",
            font_color="141414",
            border_color=a.color[1:],
            background_color=None,
        )
        annot[NameObject("/DA")] = TextStringObject("/Helv 10 Tf 0.08 0.08 0.08 rg")
        form, _w, _h = freetext_form
        # The fpdf2 page is the box moved to the origin: its matrix puts it back, onto the page.
        placed = multiply((1.0, 0.0, 0.0, 1.0, box[0], box[1]), m)
        stream = form.get_object()
        assert isinstance(stream, DictionaryObject)
        stream[NameObject("/Matrix")] = _numbers(placed)
        annot[NameObject("/AP")] = _appearance(form)
        _base(annot, a, author, _user_rect(m, box))
        return annot
    _base(annot, a, author, _user_rect(m, box))
    annot[NameObject("/AP")] = _appearance(add_form(writer, content, box, resources, matrix=m))
    return annot


def export_annotated_pdf(data: bytes, annotations: list[Annotation], author: str) -> bytes:
    """A copy of the PDF carrying `annotations` (deleted ones skipped) as PDF annotations.

    Annotations on pages the document does not have are skipped. Raises `EncryptedPdf` or
    `BrokenPdf` for files `inspect_pdf` would have refused.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise EncryptedPdf("an encrypted PDF cannot be annotated")
        writer = PdfWriter(clone_from=reader)
        page_count = len(writer.pages)
    except EncryptedPdf:
        raise
    except Exception as exc:
        raise BrokenPdf("the PDF is damaged and cannot be annotated") from exc

    live = [a for a in annotations if not a.deleted and 0 <= a.page < page_count]
    boxes = [a for a in live if a.kind is AnnotationKind.FREETEXT and a.rect is not None]
    drawn = forms_from_pdf(writer, _freetext_drawings(boxes)) if boxes else []
    freetext = {a.id: form for a, form in zip(boxes, drawn, strict=True)}
    matrices: dict[int, Matrix] = {}
    for a in live:
        page = writer.pages[a.page]
        m = matrices.get(a.page)
        if m is None:
            m = matrices[a.page] = display_matrix(page)
        writer.add_annotation(a.page, _build(writer, a, m, author, freetext.get(a.id)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
