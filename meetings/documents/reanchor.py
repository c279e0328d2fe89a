"""Carrying annotations to a new version of their document (docs/features/annotations.md,
"Carried to new versions").

For each annotation of the old version, `carry` decides where it goes on the new one:
- with a text quote: the quote is found in the new pages' text (`meetings.domain.anchoring`:
  exact, normalised, then approximate, context and nearness deciding between candidates), and
  pdfium's character boxes give its quads on the new page. Text markup takes those quads; ink,
  notes and free text move by the distance their quote moved. Not found → `orphaned`.
- without a quote (ink or a note on a figure): kept on the same page at the same place and
  marked `unverified` (the page may have changed under it), or `orphaned` when that page no
  longer exists or the geometry no longer fits on it.
Orphaned annotations keep their old page and geometry, so nothing is lost. Blocking (pdfium):
run in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from meetings.documents.text_boxes import TextLocator
from meetings.domain import anchoring
from meetings.domain.annotations import COORD_TOLERANCE, Annotation, Quad

__all__ = ["Carried", "Placement", "carry"]


class Placement(StrEnum):
    ANCHORED = "anchored"
    """Found by its quote and drawn there."""
    UNVERIFIED = "unverified"
    """Kept at the same page and place: nothing to check it against (no quote)."""
    ORPHANED = "orphaned"
    """Could not be placed; kept with its old page and geometry and listed for its owner."""


@dataclass(frozen=True)
class Carried:
    annotation: Annotation
    placement: Placement
    method: str = ""
    """exact, normalized or fuzzy when found by its quote."""
    score: float = 0.0
    moved: bool = False
    """Found by its quote somewhere else than where it was: another page, or more than
    `MOVE_TOLERANCE` points away on the same page (the owner is told: the text moved)."""


MOVE_TOLERANCE = 1.0
"""Points an annotation may shift on the same page and still count as where it was: pdfium's
boxes of the same glyphs differ by hundredths of a point between two renderings of a file,
while a line inserted above moves the text by a whole line (12 pt and more)."""


def _shifted(old: Annotation, new: Annotation) -> bool:
    """Whether `new` is somewhere else than `old`: another page, or its bounds moved."""
    if old.page != new.page:
        return True
    return any(abs(a - b) > MOVE_TOLERANCE for a, b in zip(old.bounds(), new.bounds(), strict=True))


def _fits(a: Annotation, sizes: Sequence[tuple[float, float]]) -> bool:
    if not 0 <= a.page < len(sizes):
        return False
    w, h = sizes[a.page]
    x0, y0, x1, y1 = a.bounds()
    t = COORD_TOLERANCE
    return -t <= x0 and -t <= y0 and x1 <= w + t and y1 <= h + t


def _moved(a: Annotation, page: int, dx: float, dy: float) -> Annotation:
    def q(quad: Quad) -> Quad:
        return (
            quad[0] + dx,
            quad[1] + dy,
            quad[2] + dx,
            quad[3] + dy,
            quad[4] + dx,
            quad[5] + dy,
            quad[6] + dx,
            quad[7] + dy,
        )

    rect = a.rect
    if rect is not None:
        rect = (rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy)
    return replace(
        a,
        page=page,
        quads=tuple(q(x) for x in a.quads),
        strokes=tuple(tuple((x + dx, y + dy, p) for x, y, p in s) for s in a.strokes),
        rect=rect,
    )


def _near(offset: int, text: str) -> float:
    return offset / len(text) if text else 0.0


def carry(
    annotations: Sequence[Annotation],
    old_pdf: bytes,
    new_pdf: bytes,
    old_texts: Sequence[str],
    new_texts: Sequence[str],
    new_sizes: Sequence[tuple[float, float]],
) -> list[Carried]:
    """Where each of `annotations` (of the old version) goes on the new version."""
    index = anchoring.create_anchor_index(new_texts)
    out: list[Carried] = []
    with TextLocator(old_pdf) as old, TextLocator(new_pdf) as new:
        for a in annotations:
            out.append(_carry_one(a, index, old, new, old_texts, new_texts, new_sizes))
    return out


def _carry_one(
    a: Annotation,
    index: anchoring.AnchorIndex,
    old: TextLocator,
    new: TextLocator,
    old_texts: Sequence[str],
    new_texts: Sequence[str],
    new_sizes: Sequence[tuple[float, float]],
) -> Carried:
    if a.anchor is None:
        placement = Placement.UNVERIFIED if _fits(a, new_sizes) else Placement.ORPHANED
        return Carried(a, placement)
    old_text = old_texts[a.page] if 0 <= a.page < len(old_texts) else ""
    offset = old_text.find(a.anchor.exact)
    quote = anchoring.TextQuote(
        a.anchor.exact,
        a.anchor.prefix,
        a.anchor.suffix,
        page=a.page,
        offset=offset if offset >= 0 else None,
    )
    match = index.find(quote)
    if match is None:
        return Carried(a, Placement.ORPHANED)
    page_text = new_texts[match.page]
    end = match.end if match.end_page == match.page else len(page_text)
    found = new.locate(match.page, page_text[match.start : end], _near(match.start, page_text))
    if found is None:  # in pypdf's text, not in pdfium's: keep the place, flag it
        moved = replace(a, page=match.page)
        if _fits(moved, new_sizes):
            return Carried(
                moved, Placement.UNVERIFIED, match.method.value, match.score, moved.page != a.page
            )
        return Carried(a, Placement.ORPHANED)
    was = old.locate(a.page, a.anchor.exact, _near(max(offset, 0), old_text))
    if a.kind.is_text_markup:
        placed = replace(a, page=match.page, quads=found)
    else:
        if was is None:
            dx = dy = 0.0
        else:
            dx, dy = found[0][0] - was[0][0], found[0][1] - was[0][1]
        placed = _moved(a, match.page, dx, dy)
    if not _fits(placed, new_sizes):
        return Carried(a, Placement.ORPHANED)
    # the quote's place by the same measure (pdfium's boxes) in both files; a quote pdfium
    # cannot find in the old file is compared by the annotation's own bounds
    if match.page != a.page:
        elsewhere = True
    elif was is not None:
        elsewhere = any(
            abs(p - q) > MOVE_TOLERANCE for p, q in zip(was[0], found[0], strict=True)
        )
    else:
        elsewhere = _shifted(a, placed)
    return Carried(placed, Placement.ANCHORED, match.method.value, match.score, elsewhere)
