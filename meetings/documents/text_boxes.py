"""Where a piece of text sits on a PDF page, as quads (docs/features/annotations.md,
"Carried to new versions").

Re-anchoring finds a quote in a new version's extracted text (pypdf, `document_pages.text`);
to draw it there we need coordinates. pdfium's text page gives a box per character; we collapse
whitespace on both sides, find the quote (the occurrence nearest the expected position) and
turn its character boxes into one quad per line, in displayed-page points (origin bottom-left
of the crop box), the same space as annotation geometry. Blocking: run in a worker thread.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from types import TracebackType

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from meetings.documents.pdfium_lock import PDFIUM
from meetings.domain.annotations import Quad

__all__ = ["PageText", "TextLocator", "Word"]

Word = tuple[str, float, float, float, float]
"""A word and its box: text, left, bottom, right, top (displayed-page points)."""


def _key(text: str) -> tuple[str, list[int]]:
    """Whitespace runs → one space, NFC; and the source index of every kept character."""
    out: list[str] = []
    source: list[int] = []
    for i, char in enumerate(text):
        if char.isspace() or char in "\ufffe\u00ad\u200b":
            if out and out[-1] != " ":
                out.append(" ")
                source.append(i)
            continue
        out.append(char)
        source.append(i)
    return unicodedata.normalize("NFC", "".join(out)), source


@dataclass
class PageText:
    """One page's characters and their boxes (left, bottom, right, top), displayed space."""

    text: str
    boxes: list[tuple[float, float, float, float]]
    key: str = ""
    source: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        key, source = _key(self.text)
        # NFC may shorten the key when pdfium split a letter from its mark; then map roughly
        self.key, self.source = key, source if len(key) == len(source) else source[: len(key)]

    def find(self, needle: str, near: float = 0.0) -> tuple[int, int] | None:
        """Character range [start, end) of `needle` here, the occurrence nearest `near` (0..1
        of the page's text), comparing with whitespace collapsed. None if absent."""
        want, _ = _key(needle)
        want = want.strip()
        if not want or not self.source:
            return None
        hits: list[int] = []
        at = self.key.find(want)
        while at >= 0 and len(hits) < 500:
            hits.append(at)
            at = self.key.find(want, at + 1)
        if not hits:
            return None
        target = near * len(self.key)
        best = min(hits, key=lambda h: abs(h - target))
        last = min(best + len(want), len(self.source)) - 1
        return self.source[best], self.source[last] + 1

    def quads(self, start: int, end: int) -> tuple[Quad, ...]:
        """One quad per line over characters [start, end): UL, UR, LL, RL corners (QuadPoints)."""
        lines: list[list[float]] = []  # [x0, y0, x1, y1]
        for i in range(start, min(end, len(self.boxes))):
            if self.text[i].isspace():
                continue
            x0, y0, x1, y1 = self.boxes[i]
            if x1 <= x0 or y1 <= y0:
                continue
            if lines:
                line = lines[-1]
                mid = (y0 + y1) / 2
                if line[1] <= mid <= line[3] and x0 >= line[0] - 1:
                    line[0], line[1] = min(line[0], x0), min(line[1], y0)
                    line[2], line[3] = max(line[2], x1), max(line[3], y1)
                    continue
            lines.append([x0, y0, x1, y1])
        return tuple(
            (
                round(a, 2),
                round(d, 2),
                round(c, 2),
                round(d, 2),
                round(a, 2),
                round(b, 2),
                round(c, 2),
                round(b, 2),
            )
            for a, b, c, d in lines
        )

    def words(self) -> list[Word]:
        """The page's words in reading order: runs of characters between spaces, cut where the
        text jumps to another line. What a client needs to select text over a page image."""
        out: list[Word] = []
        chars: list[str] = []
        box: list[float] = []
        for char, (x0, y0, x1, y1) in zip(self.text, self.boxes, strict=False):
            blank = char.isspace() or char in "\ufffe\u00ad\u200b" or x1 <= x0 or y1 <= y0
            same_line = bool(box) and box[1] <= (y0 + y1) / 2 <= box[3] and x0 >= box[0] - 1
            if chars and (blank or not same_line):
                out.append(_word(chars, box))
                chars, box = [], []
            if blank:
                continue
            chars.append(char)
            box = (
                [x0, y0, x1, y1]
                if not box
                else [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
            )
        if chars:
            out.append(_word(chars, box))
        return out


def _word(chars: list[str], box: list[float]) -> Word:
    text = unicodedata.normalize("NFC", "".join(chars))
    return (text, round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2))


class TextLocator:
    """A PDF opened once; pages' characters read on demand and kept."""

    def __init__(self, data: bytes) -> None:
        with PDFIUM:
            self._pdf = pdfium.PdfDocument(data)
        self._pages: dict[int, PageText] = {}

    def __enter__(self) -> TextLocator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with PDFIUM:
            self._pdf.close()

    def __len__(self) -> int:
        with PDFIUM:
            return len(self._pdf)

    def page(self, number: int) -> PageText:
        found = self._pages.get(number)
        if found is None:
            found = self._pages[number] = self._read(number)
        return found

    def _read(self, number: int) -> PageText:
        with PDFIUM:  # pdfium is not thread-safe: `meetings.documents.pdfium_lock`
            return self._read_locked(number)

    def _read_locked(self, number: int) -> PageText:
        page = self._pdf[number]
        try:
            left, bottom, _right, _top = page.get_bbox()  # effective crop box, inherited too
            textpage = page.get_textpage()
            try:
                count = textpage.count_chars()
                chars = [
                    chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(count)
                ]
                boxes = []
                for i in range(count):
                    x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
                    boxes.append((x0 - left, y0 - bottom, x1 - left, y1 - bottom))
            finally:
                textpage.close()
        finally:
            page.close()
        return PageText("".join(chars), boxes)

    def locate(self, number: int, needle: str, near: float = 0.0) -> tuple[Quad, ...] | None:
        """Quads of `needle` on page `number`, or None when the page lacks it."""
        if not 0 <= number < len(self._pdf):
            return None
        page = self.page(number)
        found = page.find(needle, near)
        if found is None:
            return None
        quads = page.quads(*found)
        return quads or None
