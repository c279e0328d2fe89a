"""Vietnamese search folding: fold, tokens, snippets (docs/DOMAIN.md, "Search folding").

`fold` maps text to a search key: lower case, no diacritics, "đ" → "d", single spaces, so that
"Nghị quyết" and "nghi quyet" meet. `make_snippet` finds the first folded match of a query in
the original text and returns an excerpt around it with the match's bounds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

_EXTRA: Final = {"đ": "d", "ð": "d", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe"}
"""Letters NFD does not decompose, after lower-casing."""
_DROP: Final = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
"""Soft hyphen and zero-width characters: invisible, so never part of a key."""
_TOKEN: Final = re.compile(r"\w+")
ELLIPSIS: Final = "…"


def _fold_char(char: str) -> str:
    if char in _DROP:
        return ""
    lowered = unicodedata.normalize("NFD", char.casefold())
    return "".join(
        _EXTRA.get(c, c) for c in lowered if not unicodedata.combining(c)
    )


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of its source character."""
    out: list[str] = []
    source: list[int] = []
    for i, char in enumerate(text):
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                source.append(i)
            continue
        for c in _fold_char(char):
            out.append(c)
            source.append(i)
    if out and out[-1] == " ":
        out.pop()
        source.pop()
    return "".join(out), source


def fold(text: str) -> str:
    """The search key of `text`: case-folded, without diacritics, "đ" → "d", whitespace runs
    collapsed to one space and trimmed. `fold("ĐẠI BIỂU  Hội đồng") == "dai bieu hoi dong"`."""
    return _fold_mapped(text)[0]


def tokens(text: str) -> list[str]:
    """The folded words of `text` (letters and digits; punctuation separates)."""
    return _TOKEN.findall(fold(text))


@dataclass(frozen=True)
class Snippet:
    text: str
    """The excerpt, with "…" where it was cut from the surrounding text."""
    start: int
    """Where the match starts in `text`."""
    end: int
    """Where the match ends (exclusive) in `text`."""
    source_start: int
    """Where the match starts in the original text."""
    source_end: int
    """Where the match ends (exclusive) in the original text."""

    @property
    def match(self) -> str:
        return self.text[self.start : self.end]


def find_folded(text: str, query: str) -> tuple[int, int] | None:
    """Bounds in `text` of the first match of `query` compared folded, or None."""
    key = fold(query)
    if not key:
        return None
    folded, source = _fold_mapped(text)
    at = folded.find(key)
    if at < 0:
        return None
    end = source[at + len(key) - 1] + 1
    while end < len(text) and (unicodedata.combining(text[end]) or text[end] in _DROP):
        end += 1  # keep a decomposed letter's marks with it
    return source[at], end


def make_snippet(text: str, query: str, width: int = 160) -> Snippet | None:
    """An excerpt of about `width` characters of `text` around the first folded match of
    `query`; if the whole query does not occur, around its first word that does. None when
    nothing matches. The excerpt is cut at word boundaries and marked with "…"."""
    bounds = find_folded(text, query)
    if bounds is None:
        for word in tokens(query):
            bounds = find_folded(text, word)
            if bounds is not None:
                break
    if bounds is None:
        return None
    start, end = bounds
    room = max(0, width - (end - start))
    left = max(0, start - room // 2)
    right = min(len(text), max(end, left + width))
    left = min(start, max(0, right - width))
    left = _word_boundary(text, left, forward=True, limit=start)
    right = _word_boundary(text, right, forward=False, limit=end)
    head = ELLIPSIS if left > 0 else ""
    tail = ELLIPSIS if right < len(text) else ""
    body = text[left:right]
    stripped = body.lstrip()
    shift = len(body) - len(stripped)
    excerpt = head + stripped.rstrip() + tail
    offset = len(head) - left - shift
    return Snippet(excerpt, start + offset, end + offset, start, end)


def _word_boundary(text: str, at: int, *, forward: bool, limit: int) -> int:
    """Move a cut that falls inside a word to the word's edge, never past the match (`limit`)."""
    if at <= 0 or at >= len(text):
        return at
    if text[at - 1].isspace() or text[at].isspace():
        return at
    if forward:
        while at < limit and not text[at - 1].isspace():
            at += 1
    else:
        while at > limit and not text[at].isspace():
            at -= 1
    return at
