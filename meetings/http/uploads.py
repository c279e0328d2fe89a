"""Upload bodies spooled to a temporary file within a limit (docs/API.md, "Uploads").

A PDF upload is the raw request body. Handlers authorise the caller first and only then call
`pdf_body`, so a refused caller's body is never read. The body is streamed to an owner-only
temporary file under `DATA_DIR/tmp`, never joined in memory; a declared `Content-Length` over
the limit is refused before the first byte, and a body without one (chunked) or longer than it
claimed is refused with 413 `too_large` as soon as the count passes the limit. The file is
removed when the request ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import BinaryIO

import anyio
from starlette.requests import Request

from meetings.domain.errors import PayloadTooLarge, UnsupportedMedia
from meetings.http.api import Call
from meetings.services.documents.library import Upload

WRITE_SIZE = 256 * 1024
"""Bytes gathered before one write (in a worker thread) to the temporary file."""
PDF_TYPES = ("application/pdf", "application/octet-stream")


def spool_folder(data_dir: Path) -> Path:
    folder = data_dir / "tmp"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def reset_spool(data_dir: Path) -> int:
    """At start-up: create the spool folder and remove what a crash left in it (a request's
    temporary file is otherwise removed when its request ends). Returns how many went."""
    removed = 0
    for leftover in spool_folder(data_dir).iterdir():
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


async def _copy_body(request: Request, handle: BinaryIO, limit: int, too_large: str) -> None:
    buffered: list[bytes] = []
    pending = size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large)
        buffered.append(chunk)
        pending += len(chunk)
        if pending >= WRITE_SIZE:
            data, buffered, pending = b"".join(buffered), [], 0
            await anyio.to_thread.run_sync(handle.write, data)
    if buffered:
        await anyio.to_thread.run_sync(handle.write, b"".join(buffered))
    await anyio.to_thread.run_sync(handle.flush)


@asynccontextmanager
async def spooled_body(request: Request, data_dir: Path, limit: int) -> AsyncIterator[Path]:
    """The request body in a temporary file of at most `limit` bytes (else 413 `too_large`)."""
    too_large = f"the file is larger than {limit / (1024 * 1024):g} MiB"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    fd, name = tempfile.mkstemp(dir=spool_folder(data_dir), prefix="upload-", suffix=".pdf")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            await _copy_body(request, handle, limit, too_large)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)  # one quick call, no await: a cancelled request cleans up too


def check_pdf_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in PDF_TYPES:
        raise UnsupportedMedia(
            "send the PDF as the request body with Content-Type: application/pdf"
        )


@asynccontextmanager
async def pdf_body(call: Call, limit: int | None = None) -> AsyncIterator[Upload]:
    """The uploaded PDF, spooled: call only once the caller is authorised."""
    request = call.request
    check_pdf_type(request)
    settings = call.services.settings
    async with spooled_body(request, settings.data_dir, limit or settings.upload_limit) as path:
        filename = (
            request.query_params.get("filename")
            or request.headers.get("x-filename")
            or "document.pdf"
        )
        yield Upload(path, filename[:255])
