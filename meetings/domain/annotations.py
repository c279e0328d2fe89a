"""The annotation model: validation and W3C Web Annotation export (docs/features/documents.md).

An annotation belongs to one user and one document version. Geometry is in PDF points on the
page *as displayed*: origin at the bottom-left corner of the visible (cropped, rotated) page,
x to the right, y up, so it matches the page sizes `inspect_pdf` reports. A viewer converts a
point from its canvas with `x = cx / scale`, `y = height - cy / scale`. A text quote (exact,
prefix, suffix) is kept beside the geometry so an annotation can be re-anchored on a new version.

Pure: standard library only.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from meetings.domain.errors import InvalidInput

__all__ = [
    "COORD_TOLERANCE",
    "MAX_POINTS_PER_STROKE",
    "MAX_POINTS_TOTAL",
    "MAX_QUADS",
    "MAX_QUOTE_CONTEXT",
    "MAX_QUOTE_EXACT",
    "MAX_STROKES",
    "MAX_TEXT",
    "Annotation",
    "AnnotationKind",
    "InkPoint",
    "InvalidAnnotation",
    "Quad",
    "Rect",
    "TextQuote",
    "to_web_annotation",
    "to_web_annotation_collection",
    "validate_annotation",
]

MAX_STROKES = 200
"""Ink strokes per annotation."""
MAX_POINTS_PER_STROKE = 5_000
"""Points in one ink stroke."""
MAX_POINTS_TOTAL = 20_000
"""Points over all strokes of one annotation."""
MAX_QUADS = 1_000
"""Quads of one highlight, underline or strike (one per line of selected text)."""
MAX_TEXT = 10_000
"""Characters of a note's or free text's content."""
MAX_QUOTE_EXACT = 5_000
"""Characters of the quoted text an annotation is anchored to."""
MAX_QUOTE_CONTEXT = 200
"""Characters of the quote's prefix and of its suffix."""
COORD_TOLERANCE = 2.0
"""How far (points) geometry may stray outside the page: a pen stroke ending on the edge."""

Quad = tuple[float, float, float, float, float, float, float, float]
"""x1 y1 x2 y2 x3 y3 x4 y4: upper-left, upper-right, lower-left, lower-right (PDF QuadPoints)."""
InkPoint = tuple[float, float, float]
"""x, y, pressure (0..1; 0.5 when the device reports none)."""
Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 with x0 < x1 and y0 < y1."""

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AnnotationKind(StrEnum):
    HIGHLIGHT = "highlight"
    UNDERLINE = "underline"
    STRIKE = "strike"
    INK = "ink"
    NOTE = "note"
    FREETEXT = "freetext"

    @property
    def is_text_markup(self) -> bool:
        return self in (AnnotationKind.HIGHLIGHT, AnnotationKind.UNDERLINE, AnnotationKind.STRIKE)


class InvalidAnnotation(InvalidInput):
    """An annotation payload was refused; `code` says why (docs/features/documents.md lists
    them)."""

    code = "invalid_annotation"


@dataclass(frozen=True)
class TextQuote:
    """The annotated text and a little context, for re-anchoring on a new version."""

    exact: str
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Annotation:
    id: str
    """Client-generated UUID, so a tablet can create annotations offline."""
    document_version_id: str
    kind: AnnotationKind
    page: int
    """0-based page index."""
    color: str = "#ffd400"
    """`#rrggbb`, lower case."""
    opacity: float = 1.0
    quads: tuple[Quad, ...] = ()
    """Text markup geometry (highlight, underline, strike)."""
    strokes: tuple[tuple[InkPoint, ...], ...] = ()
    """Ink geometry: each stroke a sequence of points with pressure."""
    rect: Rect | None = None
    """Note icon position or free-text box."""
    text: str = ""
    """A note's or free text's content, or a comment on a markup."""
    anchor: TextQuote | None = None
    shared: bool = False
    """Private by default; shared annotations are visible to the meeting's members."""
    version: int = 1
    """Increases by one with every change; the service uses it for optimistic concurrency."""
    deleted: bool = False
    """A tombstone, kept so devices that were offline learn of the deletion."""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def bounds(self) -> Rect:
        """The smallest rectangle holding the geometry."""
        xs: list[float] = []
        ys: list[float] = []
        for q in self.quads:
            xs.extend(q[0::2])
            ys.extend(q[1::2])
        for stroke in self.strokes:
            xs.extend(p[0] for p in stroke)
            ys.extend(p[1] for p in stroke)
        if self.rect is not None:
            xs.extend((self.rect[0], self.rect[2]))
            ys.extend((self.rect[1], self.rect[3]))
        if not xs:
            return (0.0, 0.0, 0.0, 0.0)
        return (min(xs), min(ys), max(xs), max(ys))


def _fail(code: str, message: str, **details: Any) -> InvalidAnnotation:
    return InvalidAnnotation(message, code=code, details=details or None)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail("bad_coordinates", f"{field} must be a number", field=field)
    f = float(value)
    if not math.isfinite(f):
        raise _fail("bad_coordinates", f"{field} must be a finite number", field=field)
    return f


def _within(x: float, y: float, size: tuple[float, float], field: str) -> None:
    w, h = size
    t = COORD_TOLERANCE
    if not (-t <= x <= w + t and -t <= y <= h + t):
        raise _fail(
            "outside_page",
            f"{field} ({x:.1f}, {y:.1f}) lies outside the page ({w:.1f} × {h:.1f} pt)",
            field=field,
        )


def _clean_text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail("bad_field", f"{field} must be a string", field=field)
    if len(value) > limit:
        raise _fail(
            "text_too_long", f"{field} is longer than {limit} characters", field=field, limit=limit
        )
    return _CONTROL.sub("", value)


def _list(value: Any, field: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise _fail("bad_field", f"{field} must be a list", field=field)
    return value


def _quads(value: Any, size: tuple[float, float]) -> tuple[Quad, ...]:
    items = _list(value, "quads")
    if len(items) > MAX_QUADS:
        raise _fail("too_many_quads", f"at most {MAX_QUADS} quads", limit=MAX_QUADS)
    quads: list[Quad] = []
    for i, q in enumerate(items):
        q = _list(q, f"quads[{i}]")
        if len(q) != 8:
            raise _fail("bad_coordinates", f"quads[{i}] must have 8 numbers", field=f"quads[{i}]")
        nums = [_number(v, f"quads[{i}]") for v in q]
        for k in range(0, 8, 2):
            _within(nums[k], nums[k + 1], size, f"quads[{i}]")
        quads.append((nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6], nums[7]))
    return tuple(quads)


def _strokes(value: Any, size: tuple[float, float]) -> tuple[tuple[InkPoint, ...], ...]:
    items = _list(value, "strokes")
    if len(items) > MAX_STROKES:
        raise _fail("too_many_strokes", f"at most {MAX_STROKES} strokes", limit=MAX_STROKES)
    total = sum(len(s) for s in items if isinstance(s, list | tuple))
    if total > MAX_POINTS_TOTAL:
        raise _fail(
            "too_many_points",
            f"at most {MAX_POINTS_TOTAL} points in all strokes",
            limit=MAX_POINTS_TOTAL,
        )
    strokes: list[tuple[InkPoint, ...]] = []
    for i, s in enumerate(items):
        s = _list(s, f"strokes[{i}]")
        if not s:
            raise _fail("bad_coordinates", f"strokes[{i}] is empty", field=f"strokes[{i}]")
        if len(s) > MAX_POINTS_PER_STROKE:
            raise _fail(
                "too_many_points",
                f"at most {MAX_POINTS_PER_STROKE} points per stroke",
                limit=MAX_POINTS_PER_STROKE,
            )
        points: list[InkPoint] = []
        for p in s:
            p = _list(p, f"strokes[{i}]")
            if len(p) not in (2, 3):
                raise _fail(
                    "bad_coordinates",
                    f"strokes[{i}] points are [x, y, pressure]",
                    field=f"strokes[{i}]",
                )
            x, y = _number(p[0], f"strokes[{i}]"), _number(p[1], f"strokes[{i}]")
            pressure = _number(p[2], f"strokes[{i}]") if len(p) == 3 else 0.5
            if not 0.0 <= pressure <= 1.0:
                raise _fail(
                    "bad_coordinates", "pressure must be between 0 and 1", field=f"strokes[{i}]"
                )
            _within(x, y, size, f"strokes[{i}]")
            points.append((x, y, pressure))
        strokes.append(tuple(points))
    return tuple(strokes)


def _rect(value: Any, size: tuple[float, float]) -> Rect:
    r = _list(value, "rect")
    if len(r) != 4:
        raise _fail("bad_coordinates", "rect must be [x0, y0, x1, y1]", field="rect")
    x0, y0, x1, y1 = (_number(v, "rect") for v in r)
    if not (x0 < x1 and y0 < y1):
        raise _fail("bad_coordinates", "rect must have x0 < x1 and y0 < y1", field="rect")
    _within(x0, y0, size, "rect")
    _within(x1, y1, size, "rect")
    return (x0, y0, x1, y1)


def _anchor(value: Any) -> TextQuote | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail("bad_field", "anchor must be an object", field="anchor")
    exact = _clean_text(value.get("exact"), "anchor.exact", MAX_QUOTE_EXACT)
    if not exact:
        return None
    return TextQuote(
        exact=exact,
        prefix=_clean_text(value.get("prefix"), "anchor.prefix", MAX_QUOTE_CONTEXT),
        suffix=_clean_text(value.get("suffix"), "anchor.suffix", MAX_QUOTE_CONTEXT),
    )


def _timestamp(value: Any, field: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise _fail("bad_field", f"{field} must be an ISO 8601 time", field=field)


def validate_annotation(
    payload: Mapping[str, Any], page_sizes: Sequence[tuple[float, float]]
) -> Annotation:
    """Check a client's annotation against the document's pages and return the model.

    `page_sizes` are the displayed (width, height) of each page, as `PdfInfo.page_sizes`.
    Raises `InvalidAnnotation` with one of the codes in docs/features/documents.md.
    """
    if not isinstance(payload, Mapping):
        raise _fail("bad_field", "an annotation must be an object")
    raw_id = payload.get("id")
    try:
        ann_id = str(uuid.UUID(str(raw_id))) if isinstance(raw_id, str) else ""
    except ValueError:
        ann_id = ""
    if not ann_id:
        raise _fail("bad_id", "id must be a UUID generated by the client", field="id")
    version_id = payload.get("document_version_id")
    if not isinstance(version_id, str) or not version_id or len(version_id) > 100:
        raise _fail("bad_field", "document_version_id is required", field="document_version_id")

    try:
        kind = AnnotationKind(str(payload.get("kind")))
    except ValueError:
        raise _fail(
            "unknown_kind",
            f"unknown annotation kind {payload.get('kind')!r}; "
            f"use one of {', '.join(k.value for k in AnnotationKind)}",
        ) from None

    page = payload.get("page")
    if isinstance(page, bool) or not isinstance(page, int):
        raise _fail("bad_field", "page must be an integer (0-based)", field="page")
    if not 0 <= page < len(page_sizes):
        raise _fail(
            "page_out_of_range",
            f"page {page} does not exist; the document has {len(page_sizes)} pages",
        )
    size = page_sizes[page]

    color = payload.get("color", "#ffd400")
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise _fail("bad_color", "color must be #RRGGBB", field="color")
    opacity = _number(payload.get("opacity", 1.0), "opacity")
    if not 0.05 <= opacity <= 1.0:
        raise _fail("bad_opacity", "opacity must be between 0.05 and 1", field="opacity")

    quads: tuple[Quad, ...] = ()
    strokes: tuple[tuple[InkPoint, ...], ...] = ()
    rect: Rect | None = None
    if kind.is_text_markup:
        quads = _quads(payload.get("quads"), size)
        if not quads:
            raise _fail("missing_geometry", f"a {kind.value} needs at least one quad")
    elif kind is AnnotationKind.INK:
        strokes = _strokes(payload.get("strokes"), size)
        if not strokes:
            raise _fail("missing_geometry", "ink needs at least one stroke")
    else:
        if payload.get("rect") is None:
            raise _fail("missing_geometry", f"a {kind.value} needs a rect")
        rect = _rect(payload.get("rect"), size)
    text = _clean_text(payload.get("text"), "text", MAX_TEXT)
    if kind is AnnotationKind.FREETEXT and not text.strip():
        raise _fail("missing_text", "free text needs some text", field="text")

    version = payload.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail("bad_field", "version must be a positive integer", field="version")
    shared = payload.get("shared", False)
    deleted = payload.get("deleted", False)
    if not isinstance(shared, bool) or not isinstance(deleted, bool):
        raise _fail("bad_field", "shared and deleted must be true or false")
    return Annotation(
        id=ann_id,
        document_version_id=version_id,
        kind=kind,
        page=page,
        color=color.lower(),
        opacity=opacity,
        quads=quads,
        strokes=strokes,
        rect=rect,
        text=text,
        anchor=_anchor(payload.get("anchor")),
        shared=shared,
        version=version,
        deleted=deleted,
        created_at=_timestamp(payload.get("created_at"), "created_at"),
        updated_at=_timestamp(payload.get("updated_at"), "updated_at"),
    )


_MOTIVATION = {
    AnnotationKind.HIGHLIGHT: "highlighting",
    AnnotationKind.UNDERLINE: "highlighting",
    AnnotationKind.STRIKE: "editing",
    AnnotationKind.INK: "commenting",
    AnnotationKind.NOTE: "commenting",
    AnnotationKind.FREETEXT: "commenting",
}


def _svg(a: Annotation, page_height: float) -> str:
    """The ink strokes as SVG, y measured down from the top of the displayed page."""
    paths = []
    for stroke in a.strokes:
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.2f},{page_height - y:.2f}"
            for i, (x, y, _p) in enumerate(stroke)
        )
        paths.append(f'<path d="{d}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"><g fill="none" stroke="{a.color}" '
        f'stroke-opacity="{a.opacity:g}">' + "".join(paths) + "</g></svg>"
    )


def to_web_annotation(
    a: Annotation, document_url: str, *, page_height: float, creator: str | None = None
) -> dict[str, Any]:
    """The annotation as W3C Web Annotation JSON-LD (https://www.w3.org/TR/annotation-model/).

    The target is the PDF with a FragmentSelector `page=N` (1-based, RFC 8118), refined by a
    TextQuoteSelector when there is a quote, or an SvgSelector for ink. Web coordinates
    point down from the top-left corner, so `page_height` (displayed, points) turns ours over.
    """
    fragment: dict[str, Any] = {
        "type": "FragmentSelector",
        "conformsTo": "http://tools.ietf.org/rfc/rfc8118",
        "value": f"page={a.page + 1}",
    }
    if a.rect is not None:
        x0, y0, x1, y1 = a.rect
        top = page_height - y1
        fragment["value"] += f"&viewrect={x0:.2f},{top:.2f},{x1 - x0:.2f},{y1 - y0:.2f}"
    if a.anchor is not None:
        fragment["refinedBy"] = {
            "type": "TextQuoteSelector",
            "exact": a.anchor.exact,
            "prefix": a.anchor.prefix,
            "suffix": a.anchor.suffix,
        }
    elif a.strokes:
        fragment["refinedBy"] = {"type": "SvgSelector", "value": _svg(a, page_height)}
    body: list[dict[str, Any]] = []
    if a.text:
        body.append(
            {
                "type": "TextualBody",
                "value": a.text,
                "format": "text/plain",
                "language": "vi",
                "purpose": "commenting",
            }
        )
    body.append({"type": "TextualBody", "value": a.kind.value, "purpose": "tagging"})
    result: dict[str, Any] = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"urn:uuid:{a.id}",
        "type": "Annotation",
        "motivation": _MOTIVATION[a.kind],
        "body": body,
        "target": {"source": document_url, "format": "application/pdf", "selector": fragment},
        "stylesheet": {
            "type": "CssStylesheet",
            "value": f".quorum {{ color: {a.color}; opacity: {a.opacity:g} }}",
        },
    }
    if creator:
        result["creator"] = {"type": "Person", "name": creator}
    if a.created_at is not None:
        result["created"] = a.created_at.isoformat()
    if a.updated_at is not None:
        result["modified"] = a.updated_at.isoformat()
    return result


def to_web_annotation_collection(
    annotations: Sequence[Annotation],
    document_url: str,
    collection_id: str,
    page_sizes: Sequence[tuple[float, float]],
    *,
    creator: str | None = None,
) -> dict[str, Any]:
    """A W3C AnnotationCollection with one page holding the live (not deleted) annotations."""
    items = [
        to_web_annotation(a, document_url, page_height=page_sizes[a.page][1], creator=creator)
        for a in annotations
        if not a.deleted and 0 <= a.page < len(page_sizes)
    ]
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": collection_id,
        "type": "AnnotationCollection",
        "total": len(items),
        "first": {
            "type": "AnnotationPage",
            "id": f"{collection_id}#page1",
            "startIndex": 0,
            "items": items,
        },
    }
