"""A page's words and their boxes, for selecting text over a page image
(docs/features/annotations.md, "Fast delivery").

The reader shows the server's page images, not pdf.js, so the browser has no text layer of its
own. Highlight, underline and strike need the text's place in PDF points: pdfium's character
boxes (`meetings/documents/text_boxes.py`) give it in the displayed-page space annotations use,
from the same source that re-anchors annotations on a new version. The access rules are the
download's; the words of the unwatermarked file are what a reader of it may read anyway.
"""

from __future__ import annotations

from typing import Any

import anyio

from meetings.documents.text_boxes import TextLocator
from meetings.services.context import Actor, Services
from meetings.services.documents.access import readable_version
from meetings.services.documents.page_images import check_page


def _words(data: bytes, page: int) -> list[Any]:
    """Blocking: the page's words as [text, left, bottom, right, top]. pdfium may not run in two
    threads at once, so this takes the page images' lock (a reader asks for images and words
    of the same pages together)."""
    with TextLocator(data) as locator:
        return [list(word) for word in locator.page(page).words()]


async def page_words(
    services: Services,
    actor: Actor,
    document_id: int,
    page: int,
    version_number: int | None = None,
) -> dict[str, Any]:
    async with services.db.reading() as session:
        _meeting, _doc, version = await readable_version(
            session, actor, document_id=document_id, number=version_number
        )
    check_page(version, page)
    sha256 = version.sha256
    words = await anyio.to_thread.run_sync(lambda: _words(services.blobs.read(sha256), page))
    return {"document_id": document_id, "version": version.number, "page": page, "words": words}
