"""Page images: a document page as a PNG, shown at once while the PDF loads
(docs/features/annotations.md, "Fast delivery").

`page_image` checks that the caller may read the document exactly as a download does, then
answers from a file cache keyed by the PDF's sha256, page and width (rendered once in a worker
thread, concurrent requests for the same image wait for one render). Page 1 at the default
width is rendered when a version is stored (`prerender_soon`, after its commit), so the first
delegate to open a new document does not wait for it. Confidential documents are watermarked
per user: their page is cut out, stamped and rendered for each request, and never cached.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio

from meetings.documents.page_image import (
    DEFAULT_WIDTH,
    WIDTHS,
    render_page_png,
    single_page_pdf,
)
from meetings.documents.watermark import watermark_pdf
from meetings.domain.errors import InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.domain.model import Visibility
from meetings.domain.signals import VersionStored
from meetings.services.context import Actor, Services
from meetings.services.documents.access import readable_version
from meetings.storage.tables import DocumentVersion, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageImage:
    png: bytes
    etag: str
    personal: bool  # watermarked for this user: never cached


def _folder(services: Services) -> Path:
    return services.blobs.root.parent / "page-images"


def _cached_path(services: Services, sha256: str, page: int, width: int) -> Path:
    return _folder(services) / sha256[:2] / f"{sha256}-p{page}-w{width}.png"


def _render_cached(services: Services, sha256: str, page: int, width: int) -> bytes:
    """Blocking: the cached image, rendered and written atomically when missing."""
    path = _cached_path(services, sha256, page, width)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    png = render_page_png(services.blobs.read(sha256), page, width)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(png)
    os.replace(tmp, path)
    return png


def _renders(services: Services) -> dict[Path, asyncio.Future[bytes]]:
    found = services.subsystems.get("page_image_renders")
    if not isinstance(found, dict):
        found = services.subsystems["page_image_renders"] = {}
    return found


async def cached_image(services: Services, sha256: str, page: int, width: int) -> bytes:
    """One render per image at a time; everyone asking meanwhile gets its result."""
    path = _cached_path(services, sha256, page, width)
    running = _renders(services)
    if path in running:
        return await asyncio.shield(running[path])
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    running[path] = future
    try:
        png = await anyio.to_thread.run_sync(lambda: _render_cached(services, sha256, page, width))
        future.set_result(png)
        return png
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        del running[path]


async def prerender_soon(services: Services, stored: VersionStored) -> None:
    """After-commit handler (registered in `services.assembly`): render a stored version's
    page 1 at the default width in the background, ready before the first viewer asks."""
    sha256 = stored.sha256
    tasks = services.subsystems.setdefault("page_image_tasks", set())
    assert isinstance(tasks, set)

    async def run() -> None:
        try:
            await cached_image(services, sha256, 0, DEFAULT_WIDTH)
        except Exception:  # a preview is an optimisation; the download still works
            log.exception("pre-rendering page 1 of %s failed", sha256)

    task = asyncio.get_running_loop().create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def check_page(version: DocumentVersion, page: int) -> None:
    """A page number past the version's pages is `page_out_of_range`, not a render error."""
    if not 0 <= page < version.page_count:
        raise NotFound(
            f"page {page} is not in this version (pages 0..{version.page_count - 1})",
            code="page_out_of_range",
        )


async def page_image(
    services: Services,
    actor: Actor,
    document_id: int,
    page: int,
    version_number: int | None = None,
    width: int | None = None,
) -> PageImage:
    width = width or DEFAULT_WIDTH
    if width not in WIDTHS:
        raise InvalidInput(f"width is one of {list(WIDTHS)}", code="bad_width")
    async with services.db.reading() as session:
        _meeting, doc, version = await readable_version(
            session, actor, document_id=document_id, number=version_number
        )
    check_page(version, page)
    if doc.visibility == Visibility.confidential:
        stamp = [actor.name, f"MẬT / CONFIDENTIAL · {actor.username}", iso(utcnow()) or ""]
        sha256 = version.sha256

        def personal() -> bytes:
            one = single_page_pdf(services.blobs.read(sha256), page)
            return render_page_png(watermark_pdf(one, stamp), 0, width)

        return PageImage(await anyio.to_thread.run_sync(personal), "", True)
    png = await cached_image(services, version.sha256, page, width)
    return PageImage(png, f'"{version.sha256}-p{page}-w{width}"', False)
