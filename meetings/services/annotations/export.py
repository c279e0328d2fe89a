"""Exports of a user's annotations: "my annotated copy" (PDF) and W3C Web Annotation JSON
(docs/features/annotations.md, "Export").

Both cover the caller's own live annotations on one document version; orphaned ones (not
placed on this version) are left out of the PDF and kept in the JSON, whose selectors still
say what they quoted. A confidential document's copy carries the caller's watermark, as its
download does.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqlalchemy import select
from sqlmodel import col

from meetings.documents.annotations_pdf import export_annotated_pdf
from meetings.domain.annotations import to_web_annotation_collection
from meetings.services.annotations.views import to_domain
from meetings.services.context import Actor, Services
from meetings.services.documents import library as documents
from meetings.services.documents.access import readable_version
from meetings.storage.tables_annotations import AnnotationRow


async def _mine(services: Services, actor: Actor, version_id: int) -> tuple[Any, ...]:
    async with services.db.reading() as session:
        _meeting, doc, version = await readable_version(session, actor, version_id=version_id)
        rows = list(
            (
                await session.execute(
                    select(AnnotationRow)
                    .where(
                        col(AnnotationRow.version_id) == version_id,
                        col(AnnotationRow.user_id) == actor.user_id,
                        col(AnnotationRow.deleted).is_(False),
                    )
                    .order_by(col(AnnotationRow.page), col(AnnotationRow.created_at))
                )
            ).scalars()
        )
    return doc, version, rows


async def annotated_copy(services: Services, actor: Actor, version_id: int) -> tuple[bytes, str]:
    """The version's PDF with the caller's placed annotations; and a file name."""
    doc, version, rows = await _mine(services, actor, version_id)
    download = await documents.open_version(services, actor, doc.id, version.number)
    placed = [to_domain(r) for r in rows if r.status != "orphaned"]

    def work() -> bytes:
        data = download.data if download.data is not None else services.blobs.read(version.sha256)
        return export_annotated_pdf(data, placed, actor.name)

    pdf = await anyio.to_thread.run_sync(work)
    stem = version.filename.rsplit(".", 1)[0] or "document"
    return pdf, f"{stem} (v{version.number}, {actor.name}).pdf"


async def web_annotations(
    services: Services, actor: Actor, version_id: int, base_url: str
) -> dict[str, Any]:
    """The caller's annotations on the version as a W3C AnnotationCollection (JSON-LD)."""
    doc, version, rows = await _mine(services, actor, version_id)
    source = f"{base_url}/api/documents/{doc.id}/file?version={version.number}"
    sizes = [(float(w), float(h)) for w, h in version.page_sizes]
    collection = to_web_annotation_collection(
        [to_domain(r) for r in rows],
        source,
        f"{base_url}/api/document-versions/{version_id}/annotations.jsonld",
        sizes,
        creator=actor.name,
    )
    status = {r.id: r.status for r in rows}
    for item in collection["first"]["items"]:
        item["quorum:status"] = status.get(item["id"].removeprefix("urn:uuid:"), "anchored")
    return collection
