"""Stored PDFs as HTTP answers: signed resolutions, minutes and archive records, for staff
(`routes/archive.py`) and for the public (`routes/public_verify.py`) alike
(docs/features/archive.md).
"""

from __future__ import annotations

from urllib.parse import quote

import anyio
from starlette.responses import FileResponse, Response

from meetings.services.context import Services


async def pdf_response(
    services: Services, sha256: str, filename: str, *, public: bool = False
) -> Response:
    """A stored PDF: immutable (its name is its hash); shared caches may keep only public ones."""
    path = services.blobs.path(sha256)
    stat = await anyio.to_thread.run_sync(path.stat)
    response = FileResponse(path, media_type="application/pdf", stat_result=stat)
    response.headers.update(
        {
            "etag": f'"{sha256}"',
            "cache-control": f"{'public' if public else 'private'}, max-age=31536000, immutable",
            "content-disposition": f"inline; filename=\"document.pdf\"; filename*=UTF-8''"
            f"{quote(filename)}",
        }
    )
    return response
