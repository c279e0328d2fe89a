"""Re-anchoring annotations on a new document version by their quoted text (docs/DOMAIN.md,
"Re-anchoring").

Each annotation keeps a `TextQuote`: the exact text it covered, a little context either side and
where it was. On a new version the quote is searched for in three steps, each only if the
previous found nothing: exact, then with whitespace and Unicode normalised, then approximately
(small edits). Among several candidates the one whose context matches best wins, then the one
nearest the old position. A quote that cannot be placed confidently gives None: the annotation
is kept and marked orphaned rather than moved to a wrong place.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from functools import cached_property
from typing import Final

PAGE_BREAK: Final = "\n"
"""What stands between two pages when they are searched as one text."""
MAX_CANDIDATES: Final = 2000
"""Exact or normalised occurrences examined at most (a very common short quote)."""
FUZZY_MIN_LENGTH: Final = 8
"""Shorter quotes must match exactly (after normalisation): too little to tell an edit from
another place."""
FUZZY_MIN_SIMILARITY: Final = 0.75
"""1 - edit distance / quote length that an approximate match must reach."""
FUZZY_WEAK_CONTEXT: Final = 0.35
"""An approximate match below 0.9 similarity whose context matches less than this is refused."""
_SEED_COUNT: Final = 16
_SEED_MAX_HITS: Final = 200
_FUZZY_CANDIDATES: Final = 8
_DROP: Final = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")


class MatchMethod(StrEnum):
    EXACT = "exact"
    NORMALIZED = "normalized"
    FUZZY = "fuzzy"


@dataclass(frozen=True)
class TextQuote:
    """What an annotation covered on the old version."""

    exact: str
    prefix: str = ""
    """Up to ~32 characters just before `exact`."""
    suffix: str = ""
    """Up to ~32 characters just after `exact`."""
    page: int | None = None
    """0-based page index on the old version, a hint."""
    offset: int | None = None
    """Character offset of `exact` within that page's text, a hint."""


@dataclass(frozen=True)
class Match:
    """Where a quote lies in the new version: from (`page`, `start`) to (`end_page`, `end`)."""

    page: int
    start: int
    """Offset in `pages[page]` where the quote starts."""
    end: int
    """Offset in `pages[end_page]` where the quote ends (exclusive)."""
    score: float
    """Confidence in [0, 1]: 1.0 for an exact match with matching context."""
    method: MatchMethod
    end_page: int
    """Equal to `page` unless the quote now crosses a page break."""


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    similarity: float
    context: float | None
    closeness: float

    @property
    def rank(self) -> float:
        context = 1.0 if self.context is None else self.context
        return self.similarity + 0.3 * context + 0.05 * self.closeness

    @property
    def score(self) -> float:
        context = 1.0 if self.context is None else self.context
        return round(self.similarity * (0.85 + 0.15 * context), 4)


@dataclass(frozen=True)
class _Normalised:
    """Text with whitespace runs collapsed, invisible characters dropped and NFKC applied;
    `starts[i]`/`ends[i]` give the source span of character i."""

    text: str
    starts: list[int]
    ends: list[int]


def _normalise(text: str) -> _Normalised:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            if out and out[-1] != " ":
                out.append(" ")
                starts.append(i)
                ends.append(j)
            i = j
            continue
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        if char not in _DROP:
            for c in unicodedata.normalize("NFKC", text[i:j]):
                out.append(c)
                starts.append(i)
                ends.append(j)
        i = j
    if out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    return _Normalised("".join(out), starts, ends)


def _norm(text: str) -> str:
    return _normalise(text).text


def _similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def best_approximate_match(pattern: str, text: str) -> tuple[int, int, int]:
    """(edit distance, start, end) of the substring of `text` closest to `pattern` in
    Levenshtein distance (Myers' bit-parallel algorithm). Among equally close spans the first is
    taken, extended over quote characters that were substituted rather than dropped."""
    if not pattern:
        return 0, 0, 0
    distance, end = _first_best(_myers(pattern, text, anchored=False))
    _, length = _first_best(_myers(pattern[::-1], text[:end][::-1], anchored=True))
    return distance, end - length, end


def _first_best(scores: list[int]) -> tuple[int, int]:
    """(minimum, index): the first minimum, moved on while the next scores stay equal."""
    best = min(scores)
    at = scores.index(best)
    while at + 1 < len(scores) and scores[at + 1] == best:
        at += 1
    return best, at


def _myers(pattern: str, text: str, *, anchored: bool) -> list[int]:
    """Edit distance of `pattern` to the best substring of `text` ending at each j (0..n), or,
    if `anchored`, to `text[0:j]`."""
    m = len(pattern)
    mask = (1 << m) - 1
    top = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, c in enumerate(pattern):
        peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = mask, 0, m
    scores = [m]
    carry = 1 if anchored else 0
    for c in text:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | carry) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
        scores.append(score)
    return scores


class AnchorIndex:
    """A new version's pages, prepared once for re-anchoring many quotes."""

    def __init__(self, pages: Sequence[str]) -> None:
        self.pages = list(pages)
        self.starts: list[int] = []
        offset = 0
        for page in self.pages:
            self.starts.append(offset)
            offset += len(page) + len(PAGE_BREAK)
        self.text = PAGE_BREAK.join(self.pages)

    @cached_property
    def normalised(self) -> _Normalised:
        return _normalise(self.text)

    def find(self, quote: TextQuote) -> Match | None:
        """Where `quote` lies in these pages, or None if it cannot be placed confidently."""
        if not quote.exact.strip() or not self.pages:
            return None
        hint = self._hint(quote)
        found = self._exact(quote, hint)
        if found is not None:
            return self._match(found, MatchMethod.EXACT)
        norm_quote = _norm(quote.exact)
        found = self._normalised_exact(quote, norm_quote, hint)
        if found is not None:
            return self._match(found, MatchMethod.NORMALIZED)
        found = self._fuzzy(quote, norm_quote, hint)
        return None if found is None else self._match(found, MatchMethod.FUZZY)

    # --- candidates --------------------------------------------------------------------------

    def _exact(self, quote: TextQuote, hint: tuple[int, int] | None) -> _Candidate | None:
        best: _Candidate | None = None
        for at in self._nearest(_occurrences(self.text, quote.exact), hint, lambda at: at):
            end = at + len(quote.exact)
            context = self._context(
                quote, self.text[max(0, at - len(quote.prefix)) : at],
                self.text[end : end + len(quote.suffix)],
            )
            best = _better(best, _Candidate(at, end, 1.0, context, self._closeness(at, hint)))
        return best

    def _normalised_exact(
        self, quote: TextQuote, key: str, hint: tuple[int, int] | None
    ) -> _Candidate | None:
        norm = self.normalised
        best: _Candidate | None = None
        found = _occurrences(norm.text, key)
        for at in self._nearest(found, hint, lambda at: norm.starts[at]):
            best = _better(best, self._norm_candidate(quote, at, at + len(key), 1.0, hint))
        return best

    def _nearest(
        self, found: list[int], hint: tuple[int, int] | None, source: Callable[[int], int]
    ) -> list[int]:
        """At most `MAX_CANDIDATES` occurrences, the nearest to the hint when there are more."""
        if len(found) <= MAX_CANDIDATES:
            return found
        if hint is None:
            return found[:MAX_CANDIDATES]
        return sorted(found, key=lambda at: -self._closeness(source(at), hint))[:MAX_CANDIDATES]

    def _fuzzy(
        self, quote: TextQuote, key: str, hint: tuple[int, int] | None
    ) -> _Candidate | None:
        m = len(key)
        if m < FUZZY_MIN_LENGTH:
            return None
        norm = self.normalised.text
        slack = max(8, m // 4)
        best: _Candidate | None = None
        for centre in self._seed_positions(key, slack, hint):
            lo = max(0, centre - slack)
            window = norm[lo : centre + m + slack]
            distance, start, end = best_approximate_match(key, window)
            similarity = 1 - distance / m
            if similarity < FUZZY_MIN_SIMILARITY:
                continue
            found = self._norm_candidate(quote, lo + start, lo + end, similarity, hint)
            if (
                found.context is not None
                and found.context < FUZZY_WEAK_CONTEXT
                and similarity < 0.9
            ):
                continue
            best = _better(best, found)
        return best

    def _seed_positions(self, key: str, slack: int, hint: tuple[int, int] | None) -> list[int]:
        """Likely start positions of `key` in the normalised text: where its pieces occur."""
        norm = self.normalised.text
        length = max(4, min(24, len(key) // 6))
        step = max(length, (len(key) - length) // (_SEED_COUNT - 1) or 1)
        votes: dict[int, set[int]] = {}
        for piece_at in range(0, len(key) - length + 1, step):
            piece = key[piece_at : piece_at + length]
            hits: list[int] = []
            at = norm.find(piece)
            while at >= 0 and len(hits) <= _SEED_MAX_HITS:
                hits.append(at - piece_at)
                at = norm.find(piece, at + 1)
            if len(hits) > _SEED_MAX_HITS:
                continue  # too common to say anything
            for start in hits:
                votes.setdefault(start // slack, set()).add(piece_at)
        ranked = sorted(
            votes.items(),
            key=lambda kv: (-len(kv[1]), -self._closeness_norm(kv[0] * slack, hint)),
        )
        return [bucket * slack + slack // 2 for bucket, _ in ranked[:_FUZZY_CANDIDATES]]

    def _norm_candidate(
        self, quote: TextQuote, start: int, end: int, similarity: float,
        hint: tuple[int, int] | None,
    ) -> _Candidate:
        norm = self.normalised
        prefix, suffix = _norm(quote.prefix), _norm(quote.suffix)
        before = norm.text[max(0, start - len(prefix) - 1) : start].strip()[-len(prefix) :]
        after = norm.text[end : end + len(suffix) + 1].strip()[: len(suffix)]
        context = self._context(quote, before if prefix else "", after if suffix else "")
        source_start, source_end = norm.starts[start], norm.ends[end - 1]
        return _Candidate(
            source_start, source_end, similarity, context, self._closeness(source_start, hint)
        )

    @staticmethod
    def _context(quote: TextQuote, before: str, after: str) -> float | None:
        """How well the text around a candidate matches the quote's prefix and suffix."""
        parts = [(p, b) for p, b in ((quote.prefix, before), (quote.suffix, after)) if p.strip()]
        if not parts:
            return None
        total = sum(len(p) for p, _ in parts)
        return sum(_similarity(_norm(p), _norm(b)) * len(p) for p, b in parts) / total

    # --- positions ---------------------------------------------------------------------------

    def _hint(self, quote: TextQuote) -> tuple[int, int] | None:
        """The old position as a range [lo, hi) of the joined text, or None."""
        if quote.page is None:
            return None
        page = min(max(quote.page, 0), len(self.pages) - 1)
        lo = self.starts[page]
        if quote.offset is not None:
            at = lo + min(max(quote.offset, 0), len(self.pages[page]))
            return at, at + 1
        return lo, lo + len(self.pages[page]) + 1

    def _closeness(self, at: int, hint: tuple[int, int] | None) -> float:
        if hint is None:
            return 0.0
        lo, hi = hint
        distance = lo - at if at < lo else max(0, at - hi + 1)
        return 1 / (1 + distance / 1000)

    def _closeness_norm(self, at: int, hint: tuple[int, int] | None) -> float:
        starts = self.normalised.starts
        return self._closeness(starts[min(at, len(starts) - 1)] if starts else 0, hint)

    def _locate(self, at: int) -> tuple[int, int]:
        page = bisect_right(self.starts, at) - 1
        return page, at - self.starts[page]

    def _match(self, found: _Candidate, method: MatchMethod) -> Match:
        page, start = self._locate(found.start)
        if start >= len(self.pages[page]) and page + 1 < len(self.pages):
            page, start = page + 1, 0  # starts on a page break: the next page
        end_page, end = self._locate(max(found.start, found.end - 1))
        end = min(end + 1, len(self.pages[end_page])) if found.end > found.start else start
        return Match(page, start, end, found.score, method, end_page)


def _occurrences(text: str, needle: str) -> list[int]:
    found: list[int] = []
    at = text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _better(best: _Candidate | None, other: _Candidate) -> _Candidate:
    return other if best is None or other.rank > best.rank else best


def create_anchor_index(pages: Sequence[str]) -> AnchorIndex:
    """Prepare a version's per-page texts for re-anchoring many quotes."""
    return AnchorIndex(pages)


def reanchor(quote: TextQuote, pages: Sequence[str]) -> Match | None:
    """Where `quote` lies in `pages` (a new version's per-page texts), or None (orphaned)."""
    return AnchorIndex(pages).find(quote)
