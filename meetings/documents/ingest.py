"""Defensive inspection of uploaded PDFs (docs/features/documents.md, "Ingest").

`inspect_pdf` is a pure function over bytes, run by the service layer in a worker thread. It
refuses what the system cannot serve (not a PDF, empty, broken, encrypted, too many pages) with
`PdfRejected` errors whose codes the clients translate, and never lets a hostile file crash the
worker: every pypdf failure, `RecursionError` and `MemoryError` becomes `broken_pdf`. Text is
extracted page by page under a character and time budget; pages past the budget get no text and
`text_complete` is False, so search is partial but the upload still succeeds.

One page is bounded too, not only the whole file: its content streams may decompress to at most
`page_content_limit` bytes (a shared stream is measured once, but counted on every page that
draws it), and `page_guard` wraps the reading of each page so the caller can stop a page that
takes too long (the sandbox arms a CPU timer there). A page past a bound refuses the file with
`pdf_too_complex`. Untrusted uploads run this in a separate, limited process (`sandbox.py`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import MappingProxyType

from pypdf import PageObject, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, IndirectObject, StreamObject

from meetings.domain.errors import InvalidInput

__all__ = [
    "BrokenPdf",
    "EmptyPdf",
    "EncryptedPdf",
    "NotPdf",
    "PdfInfo",
    "PdfRejected",
    "PdfTooComplex",
    "TooManyPages",
    "displayed_size",
    "inspect_pdf",
    "safe_filename",
]

log = logging.getLogger(__name__)

HEADER_WINDOW = 1024
"""The `%PDF-` header may follow up to this many bytes of junk, as readers allow."""
PAGE_TEXT_LIMIT = 100_000
"""Characters kept from one page's text."""
METADATA_LIMIT = 1_000
"""Characters kept from one metadata field."""
FILENAME_LIMIT = 180
"""Characters kept from an uploaded file's name."""
PAGE_CONTENT_LIMIT = 16 * 1024 * 1024
"""Decompressed bytes of one page's content streams. A text page has 5-50 KB, a dense map a few
MB; the hostile file of the security review drew one 70 MB stream on each of 3,000 pages."""
RECOVERY_INPUT_LIMIT = 1_000_000
"""Bytes of a damaged deflate stream pypdf may retry byte by byte (its default, 5 MB, costs
seconds of CPU per stream)."""

PageGuard = Callable[[int], AbstractContextManager[object]]
"""Wraps the reading of one page (0-based number), e.g. with a CPU timer."""


class PdfRejected(InvalidInput):
    """An uploaded file cannot be accepted as a document."""

    code = "bad_pdf"


class EmptyPdf(PdfRejected):
    code = "empty"


class NotPdf(PdfRejected):
    code = "not_pdf"


class BrokenPdf(PdfRejected):
    code = "broken_pdf"


class EncryptedPdf(PdfRejected):
    code = "encrypted_pdf"


class TooManyPages(PdfRejected):
    code = "too_many_pages"


class PdfTooComplex(PdfRejected):
    """Reading the file would pass a bound on work or memory (a page's content, a page's or the
    whole file's time, the checking process's memory)."""

    code = "pdf_too_complex"


@dataclass(frozen=True)
class PdfInfo:
    """What the system needs to know about an accepted PDF."""

    sha256: str
    """Hex digest of the file's bytes: its address in the blob store."""
    page_count: int
    page_sizes: tuple[tuple[float, float], ...]
    """(width, height) in points of each page as displayed: crop box, after /Rotate."""
    page_texts: tuple[str, ...]
    """Extracted text of each page, NFC-normalised, without NUL or other control characters."""
    title: str | None = None
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Document information entries (Title, Author, Subject, ...) as plain strings."""
    text_complete: bool = True
    """False when the text budget ran out or a page's text could not be extracted."""


def _check_header(data: bytes) -> None:
    if not data:
        raise EmptyPdf("the file is empty")
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise NotPdf("the file is not a PDF document")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(text: str, limit: int) -> str:
    return unicodedata.normalize("NFC", _CONTROL.sub("", text[:limit]))


def displayed_size(page: PageObject) -> tuple[float, float]:
    """A page's visible (crop box) width and height in points, after its /Rotate."""
    box = page.cropbox
    width, height = abs(float(box.width)), abs(float(box.height))
    if page.rotation % 180 == 90:
        width, height = height, width
    return (round(width, 2), round(height, 2))


def _metadata(reader: PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
        if info is None:
            return {}
        out = {}
        for key, value in info.items():
            if isinstance(value, str) and isinstance(key, str):
                text = _clean_text(str(value), METADATA_LIMIT).strip()
                if text:
                    out[key.lstrip("/")] = text
        return out
    except Exception:
        log.info("unreadable PDF metadata", exc_info=True)
        return {}


def inspect_pdf(
    data: bytes,
    *,
    max_pages: int = 5000,
    text_budget: int = 5_000_000,
    time_budget: float = 60.0,
    page_content_limit: int = PAGE_CONTENT_LIMIT,
    page_guard: PageGuard | None = None,
) -> PdfInfo:
    """Check an uploaded PDF and describe it: page sizes, metadata, text per page, sha256.

    Raises a `PdfRejected` subclass: `EmptyPdf` (code `empty`), `NotPdf` (`not_pdf`),
    `BrokenPdf` (`broken_pdf`), `EncryptedPdf` (`encrypted_pdf`), `TooManyPages`
    (`too_many_pages`), `PdfTooComplex` (`pdf_too_complex`). `text_budget` (characters) and
    `time_budget` (seconds) bound text extraction; past them the remaining pages get no text
    and `text_complete` is False. `page_content_limit` and `page_guard` bound each page.
    """
    limit = page_content_limit
    with apply_configuration(
        zlib_maximum_output_length=limit,
        lzw_maximum_output_length=limit,
        run_length_maximum_output_length=limit,
        brotli_maximum_output_length=limit,
        array_based_stream_maximum_output_length=limit,
        zlib_maximum_recovery_input_length=RECOVERY_INPUT_LIMIT,
    ):
        return _inspect(data, max_pages, text_budget, time_budget, limit, page_guard)


def _inspect(
    data: bytes,
    max_pages: int,
    text_budget: int,
    time_budget: float,
    page_content_limit: int,
    page_guard: PageGuard | None,
) -> PdfInfo:
    _check_header(data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise EncryptedPdf(
                "the PDF is protected by a password or encryption; remove the password "
                "(print or export it to a new PDF) and upload it again"
            )
        count = len(reader.pages)
        if count == 0:
            raise BrokenPdf("the PDF has no pages")
        if count > max_pages:
            raise TooManyPages(
                f"the PDF has {count} pages; at most {max_pages} are accepted",
                details={"pages": count, "limit": max_pages},
            )
        pages = [reader.pages[i] for i in range(count)]
        sizes = tuple(displayed_size(p) for p in pages)
        metadata = _metadata(reader)
    except PdfRejected:
        raise
    except (RecursionError, MemoryError) as exc:
        raise BrokenPdf("the PDF's structure is too deeply nested or too large to read") from exc
    except Exception as exc:
        log.info("unreadable PDF %s: %r", digest, exc)
        raise BrokenPdf("the PDF is damaged or incomplete and cannot be read") from exc
    if any(w <= 0 or h <= 0 for w, h in sizes):
        raise BrokenPdf("the PDF has a page without a size")

    reading = _PageReading(page_content_limit, page_guard or (lambda _n: nullcontext()))
    texts, complete = reading.texts(pages, text_budget, time.monotonic() + time_budget)
    return PdfInfo(
        sha256=digest,
        page_count=count,
        page_sizes=sizes,
        page_texts=texts,
        title=metadata.get("Title"),
        metadata=MappingProxyType(metadata),
        text_complete=complete,
    )


class _PageReading:
    """Text of each page, each page within its bounds (content size, the guard's time)."""

    def __init__(self, content_limit: int, guard: PageGuard) -> None:
        self.content_limit = content_limit
        self.guard = guard
        self.stream_sizes: dict[tuple[int, int], int] = {}

    def texts(
        self, pages: list[PageObject], budget: int, deadline: float
    ) -> tuple[tuple[str, ...], bool]:
        texts: list[str] = []
        complete = True
        for number, page in enumerate(pages):
            if budget <= 0 or time.monotonic() > deadline:
                complete = False
                texts.append("")
                continue
            with self.guard(number):
                self.check_content(number, page)
                raw, ok = _page_text(number, page)
            complete = complete and ok
            text = _clean_text(raw, min(PAGE_TEXT_LIMIT, budget))
            if len(raw) > PAGE_TEXT_LIMIT:
                complete = False
            budget -= len(text)
            texts.append(text)
        return tuple(texts), complete

    def check_content(self, number: int, page: PageObject) -> None:
        """Refuse a page whose content streams decompress to more than the limit."""
        try:
            contents = page.get("/Contents")
            target = contents.get_object() if contents is not None else None
            parts = list(target) if isinstance(target, ArrayObject) else [contents]
            total = 0
            for part in parts:
                total += self.stream_size(part)
                if total > self.content_limit:
                    raise LimitReachedError("page content over the limit")
        except LimitReachedError:
            raise PdfTooComplex(
                f"page {number + 1} holds more than {self.content_limit // (1024 * 1024)} MiB "
                "of drawing instructions; the file is too complex to accept",
                details={"page": number + 1, "limit_bytes": self.content_limit},
            ) from None
        except (RecursionError, MemoryError):
            raise PdfTooComplex(
                f"page {number + 1} is too deeply nested or too large to read",
                details={"page": number + 1},
            ) from None
        except Exception as exc:  # the text extraction below reports a damaged page
            log.info("page %d content not measured: %r", number, exc)

    def stream_size(self, part: object) -> int:
        key = (part.idnum, part.generation) if isinstance(part, IndirectObject) else None
        if key is not None and key in self.stream_sizes:
            return self.stream_sizes[key]
        stream = part.get_object() if isinstance(part, IndirectObject) else part
        # decoded without keeping it: pypdf stops at the configured output limit
        size = len(decode_stream_data(stream)) if isinstance(stream, StreamObject) else 0
        if key is not None:
            self.stream_sizes[key] = size
        return size


def _page_text(number: int, page: PageObject) -> tuple[str, bool]:
    """A page's text, and False when it could not be extracted."""
    try:
        return page.extract_text(), True
    except (RecursionError, MemoryError):
        return "", False
    except Exception as exc:
        log.info("no text from page %d: %r", number, exc)
        return "", False


_UNSAFE_NAME = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def safe_filename(name: str) -> str:
    """A display name from an uploaded file's name: no path, no control or bidi characters.

    Vietnamese letters are kept (NFC); characters Windows forbids become `_`; the name is cut
    to FILENAME_LIMIT characters keeping its extension. File names never reach the file system
    (blobs are stored by sha256); this only keeps listings and downloads tidy and unspoofable.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = posixpath.basename(name.replace("\\", "/"))
    name = "".join(
        " " if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\t\r\n" else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in "\t\r\n"
    )
    name = _UNSAFE_NAME.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return "document.pdf"
    if len(name) > FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: FILENAME_LIMIT - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:FILENAME_LIMIT].rstrip(" .")
    return name
