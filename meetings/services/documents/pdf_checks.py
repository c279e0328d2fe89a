"""Reading uploaded PDFs without slowing the sitting (docs/features/documents.md, "Ingest").

Every uploaded PDF (a document, a new version, a draft resolution) is read by `inspect_pdf` in a
separate process with CPU, memory and per-page bounds (`meetings.documents.sandbox`), at most
`QUORUM_PDF_CHECK_WORKERS` at once; the event loop only waits. Callers authorise the uploader
first, so a refused caller's file is never read.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from meetings.documents.ingest import PdfInfo
from meetings.documents.sandbox import ParseLimits, inspect_isolated
from meetings.services.context import Services

MIB = 1024 * 1024


def _gate(services: Services) -> anyio.Semaphore:
    workers = max(1, services.settings.pdf_check_workers)
    return services.shared("pdf_checks", anyio.Semaphore, lambda: anyio.Semaphore(workers))


def limits(services: Services) -> ParseLimits:
    settings = services.settings
    return ParseLimits(
        max_pages=settings.max_pdf_pages,
        cpu_seconds=max(1, settings.pdf_check_seconds),
        memory_bytes=max(256, settings.pdf_check_memory_mb) * MIB,
    )


async def inspect_upload(services: Services, source: bytes | Path) -> PdfInfo:
    """Check and describe an uploaded PDF (bytes, or the file it was spooled to).

    Raises the `PdfRejected` errors of `inspect_pdf`, and `PdfTooComplex` past a bound.
    """
    bounds = limits(services)
    async with _gate(services):
        return await anyio.to_thread.run_sync(inspect_isolated, source, bounds)
