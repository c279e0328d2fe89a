"""Public routes: a published resolution's file and the verifier (docs/features/archive.md,
"Public (no login)"); the listing, the records and open data are in `public_site.py`, the
`/verify` page is the web app's.

No login.

The verifier is open to anyone, so it has bounds of its own: a file of at most
`QUORUM_VERIFY_MAX_MB` (20 MiB), streamed to a temporary file, and at most
`QUORUM_VERIFY_CONCURRENCY` checks at once; one more is answered 503 `busy` with `Retry-After`
at once, before its body is read.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import anyio
from starlette.responses import Response

from meetings.domain.text import fold
from meetings.http.api import Api, Call
from meetings.http.errors import error_response
from meetings.http.pdf_files import pdf_response
from meetings.http.uploads import check_pdf_type, spooled_body
from meetings.services.archive import records as archive
from meetings.services.context import Services

BUSY_RETRY_S = 5
"""Seconds a refused verification is asked to wait; one check takes about a second."""


def _gate(services: Services) -> asyncio.Semaphore:
    checks = max(1, services.settings.verify_concurrency)
    return services.shared("public_verify", asyncio.Semaphore, lambda: asyncio.Semaphore(checks))


async def verify(call: Call) -> dict[str, Any] | Response:
    gate = _gate(call.services)
    if gate.locked():  # full: refused before a byte of the body is read
        busy = error_response(
            503,
            "busy",
            "the verifier is checking other files; try again in a few seconds",
            {"retry_after_s": BUSY_RETRY_S},
        )
        busy.headers["retry-after"] = str(BUSY_RETRY_S)
        return busy
    check_pdf_type(call.request)
    settings = call.services.settings
    async with gate:
        limit = settings.verify_max_mb * 1024 * 1024
        async with spooled_body(call.request, settings.data_dir, limit) as path:
            pdf = await anyio.to_thread.run_sync(path.read_bytes)
        return await archive.verify_upload(call.services, pdf)


async def public_file(call: Call) -> Response:
    record = await archive.public_record(call.services, call.int_param("record_id"))
    stem = re.sub(r"[^a-z0-9-]+", "-", fold(record.number or record.title)).strip("-")[:60]
    return await pdf_response(
        call.services, record.sha256, f"nghi-quyet-{stem or record.id}.pdf", public=True
    )


ROUTES: list[Api] = [
    Api("GET", "/api/public/resolutions/{record_id:int}/file", public_file,
        "A published resolution's signed PDF", auth=False, tag="public"),
    Api("POST", "/api/public/verify", verify,
        "Verify a signed PDF (body: the PDF) and match it against the archive", auth=False,
        tag="public", raw_body="application/pdf"),
]  # fmt: skip
