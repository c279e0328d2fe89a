"""Reading untrusted PDFs in a separate, bounded process (docs/features/documents.md, "Ingest").

pypdf is pure Python: parsing a hostile file in a thread of the server holds the interpreter
lock, and the security review measured vote acks going from 17 ms to 2 s while two uploads were
read. `inspect_isolated` runs `inspect_pdf` in a fresh child process forked from a forkserver
that has pypdf loaded (about 10 ms to start, instead of 0.6 s for a new interpreter). The child
first limits itself, before it reads a byte of the file: CPU seconds (`RLIMIT_CPU`), address
space (`RLIMIT_AS`), a lower scheduling priority, and a CPU timer per page; the parent kills it
when the wall-clock deadline passes. Whatever goes wrong in the child (killed, out of memory, a
page too slow) is `pdf_too_complex`, never a server error. The call blocks: run it in a thread.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Iterator
from dataclasses import dataclass, fields
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any

from meetings.documents.ingest import (
    PAGE_CONTENT_LIMIT,
    BrokenPdf,
    EmptyPdf,
    EncryptedPdf,
    NotPdf,
    PdfInfo,
    PdfRejected,
    PdfTooComplex,
    TooManyPages,
    inspect_pdf,
)

__all__ = ["ParseLimits", "inspect_isolated"]

log = logging.getLogger(__name__)

PAGE_SECONDS = 5.0
"""CPU seconds to read one page (its content checked, its text extracted). A dense text page
takes 10-50 ms."""
REFUSALS: dict[str, type[PdfRejected]] = {
    cls.code: cls
    for cls in (EmptyPdf, NotPdf, BrokenPdf, EncryptedPdf, TooManyPages, PdfTooComplex)
}
NICENESS = 10
"""The checking process yields the CPU to the server (the event loop, signing) when both want it."""


@dataclass(frozen=True)
class ParseLimits:
    """Bounds of one check."""

    max_pages: int = 3000
    cpu_seconds: int = 60
    """CPU time of the whole check; half of it may go to text extraction (past that, pages get
    no text and the file is still accepted); at the full time the child is killed."""
    memory_bytes: int = 1024 * 1024 * 1024
    """Address space of the checking process (pypdf holds the file and its parsed objects)."""
    page_seconds: float = PAGE_SECONDS
    page_content_bytes: int = PAGE_CONTENT_LIMIT

    @property
    def wall_seconds(self) -> float:
        """The parent's deadline: the child runs at a lower priority, so it gets some slack."""
        return self.cpu_seconds * 2 + 5


class _PageTimeout(BaseException):
    """Raised by the page timer; a BaseException so that no `except Exception` in pypdf eats it."""


@contextlib.contextmanager
def _page_timer(seconds: float, number: int) -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise _PageTimeout

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    except _PageTimeout:
        raise PdfTooComplex(
            f"page {number + 1} takes more than {seconds:g} s to read; the file is too complex "
            "to accept",
            details={"page": number + 1, "limit_seconds": seconds},
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _limit_self(limits: ParseLimits) -> None:
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(NICENESS)


def _child(conn: Connection, source: bytes | str, limits: ParseLimits) -> None:
    """The checking process: limit itself, read the file, answer once on `conn`."""
    answer: tuple[str, Any]
    try:
        _limit_self(limits)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        info = inspect_pdf(
            data,
            max_pages=limits.max_pages,
            time_budget=limits.cpu_seconds / 2,
            page_content_limit=limits.page_content_bytes,
            page_guard=lambda n: _page_timer(limits.page_seconds, n),
        )
        found = {f.name: getattr(info, f.name) for f in fields(info)}
        answer = ("ok", found | {"metadata": dict(info.metadata)})  # a mapping proxy won't pickle
    except PdfRejected as exc:
        answer = ("rejected", (exc.code, exc.message, exc.details))
    except (MemoryError, RecursionError, _PageTimeout):
        answer = ("too_complex", "the PDF needs more memory or time than the server allows")
    except BaseException as exc:
        answer = ("too_complex", f"the PDF could not be read ({type(exc).__name__})")
    try:
        conn.send(answer)
    finally:
        conn.close()


def _context() -> Any:
    """A forkserver that imported pypdf once; checks fork from it (not from the server)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["meetings.documents.ingest"])
    return context


def _too_complex(message: str) -> PdfTooComplex:
    return PdfTooComplex(message + "; the file is too complex to accept")


def inspect_isolated(source: bytes | Path, limits: ParseLimits) -> PdfInfo:
    """`inspect_pdf` of `source` (the bytes, or a file) in a bounded child process (blocking).

    Raises what `inspect_pdf` raises, and `PdfTooComplex` when the child passes a bound.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    arg = source if isinstance(source, bytes) else str(source)
    child = context.Process(target=_child, args=(sender, arg, limits), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(limits.wall_seconds):
            raise _too_complex(f"reading the PDF took more than {limits.wall_seconds:g} s")
        try:
            kind, body = receiver.recv()
        except EOFError:  # killed: CPU limit, or the kernel refused memory
            raise _too_complex("reading the PDF passed the server's CPU or memory limit") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if kind == "ok":
        found = dict(body)
        found["metadata"] = MappingProxyType(dict(found["metadata"]))
        return PdfInfo(**found)
    if kind == "rejected":
        code, message, details = body
        raise REFUSALS.get(code, PdfRejected)(message, code=code, details=details)
    log.info("PDF check refused: %s (child exit %s)", body, child.exitcode)
    raise _too_complex(str(body))
