"""Carrying annotations to a new document version after upload (docs/features/annotations.md,
"Carried to new versions").

`carry_forward` runs after the new version is committed (`carry_after_upload`, an
after-commit handler of `VersionStored`): it reads the previous version's live
annotations, places them on the new version in a worker thread (`meetings.documents.reanchor`)
and stores the results as new annotations of the new version, with ids derived from the old
ones (uuid5), so running it again adds nothing twice. The old version keeps its annotations.
Each owner's devices get `annotations_carried` with the new annotations and their cursor; the
meeting already got `document_version_added`.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from typing import Any

import anyio
from sqlalchemy import select
from sqlmodel import col

from meetings.documents.reanchor import Carried, Placement, carry
from meetings.domain.signals import VersionStored
from meetings.services.annotations.events import AnnotationsCarried
from meetings.services.annotations.sync import next_seq
from meetings.services.annotations.views import annotation_data, annotation_public, to_domain
from meetings.services.annotations.writer import data_size
from meetings.services.context import Services
from meetings.storage.tables import DocumentPage, DocumentVersion, pk
from meetings.storage.tables_annotations import AnnotationRow

log = logging.getLogger(__name__)

CARRY_NAMESPACE = uuid.UUID("6f1f3c52-94a8-4a53-9d0e-5b1f0c6a7e21")
EVENT_LIST_LIMIT = 200
"""Annotations listed in one `annotations_carried` event; past it devices sync by cursor."""


def carried_id(old_id: str, version_id: int) -> str:
    return str(uuid.uuid5(CARRY_NAMESPACE, f"{old_id}/{version_id}"))


async def _texts(services: Services, version_id: int) -> list[str]:
    async with services.db.reading() as session:
        rows = await session.execute(
            select(col(DocumentPage.text))
            .where(col(DocumentPage.version_id) == version_id)
            .order_by(col(DocumentPage.page_no))
        )
        return list(rows.scalars())


async def carry_forward(services: Services, new_version_id: int) -> dict[str, Any]:
    """Carry the previous version's annotations to version `new_version_id`; a summary."""
    async with services.db.reading() as session:
        new = await session.get(DocumentVersion, new_version_id)
        if new is None:
            return {"carried": 0}
        prev = (
            await session.execute(
                select(DocumentVersion)
                .where(
                    col(DocumentVersion.document_id) == new.document_id,
                    col(DocumentVersion.number) < new.number,
                )
                .order_by(col(DocumentVersion.number).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if prev is None:
            return {"carried": 0}
        rows = list(
            (
                await session.execute(
                    select(AnnotationRow).where(
                        col(AnnotationRow.version_id) == prev.id,
                        col(AnnotationRow.deleted).is_(False),
                    )
                )
            ).scalars()
        )
        done = set(
            (
                await session.execute(
                    select(col(AnnotationRow.id)).where(
                        col(AnnotationRow.version_id) == new_version_id
                    )
                )
            ).scalars()
        )
    assert prev.id is not None
    rows = [r for r in rows if carried_id(r.id, new_version_id) not in done]
    if not rows:
        return {"carried": 0}
    old_texts = await _texts(services, prev.id)
    new_texts = await _texts(services, new_version_id)
    sizes = [(float(w), float(h)) for w, h in new.page_sizes]

    def work() -> list[Carried]:
        return carry(
            [to_domain(r) for r in rows],
            services.blobs.read(prev.sha256),
            services.blobs.read(new.sha256),
            old_texts,
            new_texts,
            sizes,
        )

    results = await anyio.to_thread.run_sync(work)
    return await _store(services, new, rows, results)


async def _store(
    services: Services, new: DocumentVersion, rows: list[AnnotationRow], results: list[Carried]
) -> dict[str, Any]:
    by_user: dict[int, list[tuple[AnnotationRow, Carried]]] = defaultdict(list)
    for row, result in zip(rows, results, strict=True):
        by_user[row.user_id].append((row, result))
    counts = {p.value: 0 for p in Placement}
    async with services.uow() as uow:
        for user_id, items in by_user.items():
            last = await next_seq(uow.session, user_id, len(items))
            created: list[AnnotationRow] = []
            for n, (old, result) in enumerate(items):
                data = annotation_data(result.annotation)
                if result.method:
                    data["reanchor"] = {
                        "method": result.method,
                        "score": result.score,
                        "from_page": old.page,
                        "moved": result.moved,
                    }
                row = AnnotationRow(
                    id=carried_id(old.id, new.id),  # type: ignore[arg-type]
                    user_id=user_id,
                    document_id=new.document_id,
                    version_id=new.id,  # type: ignore[arg-type]
                    kind=old.kind,
                    page=result.annotation.page,
                    data=data,
                    size=data_size(data),
                    shared=old.shared,
                    status=result.placement.value,
                    carried_from=old.id,
                    seq=last - len(items) + 1 + n,
                )
                uow.session.add(row)
                created.append(row)
                counts[result.placement.value] += 1
            public = [annotation_public(r) for r in created]
            uow.notify_user(
                user_id,
                AnnotationsCarried(
                    document_id=new.document_id,
                    document_version_id=pk(new),
                    cursor=last,
                    orphaned=[p["id"] for p in public if p["status"] == "orphaned"],
                    annotations=public[:EVENT_LIST_LIMIT],
                    more=len(public) > EVENT_LIST_LIMIT,
                ),
            )
        await uow.commit()
    log.info("carried %d annotations to document version %s: %s", len(rows), new.id, counts)
    return {"carried": len(rows), **counts}


async def carry_after_upload(services: Services, stored: VersionStored) -> dict[str, Any] | None:
    """After-commit handler (registered in `services.assembly`): a new version of a document
    gets the previous version's annotations; the summary is the upload's `annotations`. The
    version is committed already, so a failure here is logged and reported in the answer,
    never turned into a failed upload."""
    if stored.number == 1:
        return None  # a new document: nothing to carry
    try:
        return {"annotations": await carry_forward(services, stored.version_id)}
    except Exception:
        log.exception("carrying annotations to document version %s failed", stored.version_id)
        return {
            "annotations": {
                "carried": 0,
                "error": "carrying annotations failed; see the server log",
            }
        }
