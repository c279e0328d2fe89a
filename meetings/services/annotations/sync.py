"""Annotations: upsert, delete, sync by cursor, listing (docs/features/annotations.md).

Ids are UUIDs made by the client, so a tablet annotates offline. Every row carries a `version`
that each change increases by one; an upsert names the `base_version` it was made from:
- equal to the stored version (0 for a new annotation): applied, version + 1;
- stale, but the same content as stored: a replay of a change already applied, answered with
  the stored annotation (so a retried or re-sent change never applies twice);
- stale and different: refused with `stale_version` and the stored annotation in the error's
  `details.current`; the device keeps the stored one, or re-applies its change on top of it
  (base_version = current version), which is an explicit "last writer wins".
A delete always wins and leaves a tombstone; a tombstone is never revived. Each change takes
the owner's next change cursor (`seq`), so a device that was offline asks for everything with
a cursor above the last one it saw (`annotation.sync`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.annotations import (
    validate_annotation,
)
from meetings.domain.errors import Forbidden, NotFound
from meetings.services import commands as c
from meetings.services.annotations.events import (
    AnnotationChanged,
    AnnotationUnshared,
)
from meetings.services.annotations.views import annotation_data, annotation_public, meeting_body
from meetings.services.annotations.writer import (
    Change,
    VersionInfo,
    annotation_writer,
    data_size,
    unknown_version,
)
from meetings.services.context import Actor, Services
from meetings.services.documents.access import readable_version
from meetings.storage.tables import (
    Document,
    DocumentVersion,
    Meeting,
    pk,
    utcnow,
)
from meetings.storage.tables_annotations import AnnotationCursor, AnnotationRow
from meetings.storage.uow import UnitOfWork

SYNC_LIMIT = 500
"""Changes returned by one `annotation.sync` call; `more` says when to ask again."""


class UpsertAnnotation(c.Command):
    """`annotation.upsert`: the whole annotation, as the client now has it."""

    id: Annotated[str, StringConstraints(max_length=64)]
    document_version_id: c.Id
    kind: Annotated[str, StringConstraints(max_length=20)]
    page: Annotated[int, Field(ge=0, le=100_000)]
    color: str | None = None
    opacity: float | None = None
    quads: list[Any] | None = None
    strokes: list[Any] | None = None
    rect: list[Any] | None = None
    text: str | None = None
    anchor: dict[str, Any] | None = None
    shared: bool = False
    base_version: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    idempotency_key: c.IdempotencyKey | None = None


class DeleteAnnotation(c.Command):
    annotation_id: Annotated[str, StringConstraints(max_length=64)]
    idempotency_key: c.IdempotencyKey | None = None


class SyncAnnotations(c.Command):
    since: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    limit: Annotated[int, Field(ge=1, le=SYNC_LIMIT)] = SYNC_LIMIT


async def next_seq(session: AsyncSession, user_id: int, count: int = 1) -> int:
    """Take `count` cursors of the user (row-locked until commit); the last one taken."""
    bind = session.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(AnnotationCursor)
        .values(user_id=user_id, last_seq=count)
        .on_conflict_do_update(
            index_elements=["user_id"], set_={"last_seq": col(AnnotationCursor.last_seq) + count}
        )
        .returning(col(AnnotationCursor.last_seq))
    )
    return int((await session.execute(stmt)).scalar_one())


async def current_cursor(session: AsyncSession, user_id: int) -> int:
    found = await session.get(AnnotationCursor, user_id)
    return found.last_seq if found is not None else 0


async def _owned(session: AsyncSession, actor: Actor, annotation_id: str) -> AnnotationRow | None:
    row = (
        await session.execute(
            select(AnnotationRow).where(col(AnnotationRow.id) == annotation_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is not None and row.user_id != actor.user_id:
        raise Forbidden(
            f"annotation {annotation_id} belongs to another user; generate a new UUID",
            code="not_owner",
        )
    return row


async def _announce(
    uow: UnitOfWork,
    actor: Actor,
    meeting: Meeting,
    doc: Document,
    row: AnnotationRow,
    was_shared: bool,
    sid: str | None,
) -> dict[str, Any]:
    public = annotation_public(row)
    uow.notify_user(actor.user_id, AnnotationChanged(annotation=public, cursor=row.seq), sid)
    assert meeting.id is not None
    if row.shared and not row.deleted:
        await uow.emit(meeting.id, meeting_body(doc, row, public))
    elif was_shared:
        await uow.emit(meeting.id, AnnotationUnshared(annotation_id=row.id, document_id=pk(doc)))
    return public


async def version_info(services: Services, version_id: int) -> VersionInfo:
    """A version's document and page sizes, cached per process (they never change)."""
    cache = annotation_writer(services).versions
    info = cache.get(version_id)
    if info is None:
        async with services.db.reading() as session:
            version = await session.get(DocumentVersion, version_id)
        if version is None or version.id is None:
            raise unknown_version(version_id)
        sizes = [(float(w), float(h)) for w, h in version.page_sizes]
        info = VersionInfo(version.id, version.document_id, sizes)
        cache.put(info)
    return info


async def upsert(
    services: Services, actor: Actor, cmd: UpsertAnnotation, sid: str | None = None
) -> dict[str, Any]:
    """Validate here, then queue for the group-committing writer; answered after commit.
    Who may read the version is checked in the writing transaction."""
    payload = cmd.model_dump(exclude={"base_version", "idempotency_key"}, exclude_none=True)
    payload["document_version_id"] = str(cmd.document_version_id)
    payload.pop("version", None)
    info = await version_info(services, cmd.document_version_id)
    annotation = validate_annotation(payload, info.sizes)
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    data = annotation_data(annotation)
    change = Change(
        actor,
        annotation,
        data,
        info,
        cmd.base_version,
        cmd.idempotency_key,
        sid,
        future,
        data_size(data),
    )
    return await annotation_writer(services).submit(change)


async def delete(
    services: Services, actor: Actor, annotation_id: str, sid: str | None = None
) -> dict[str, Any]:
    async with services.uow() as uow:
        row = await _owned(uow.session, actor, annotation_id)
        if row is None:
            raise NotFound(f"no annotation {annotation_id}", code="unknown_annotation")
        if row.deleted:
            return {"annotation": annotation_public(row), "cursor": row.seq}
        doc = await uow.session.get(Document, row.document_id)
        assert doc is not None
        meeting = await uow.session.get(Meeting, doc.meeting_id)
        assert meeting is not None
        was_shared = row.shared
        row.deleted, row.shared, row.version = True, False, row.version + 1
        row.data = {"color": row.data.get("color"), "text": ""}  # tombstone keeps no content
        row.size = data_size(row.data)
        row.updated_at = utcnow()
        row.seq = await next_seq(uow.session, actor.user_id)
        public = await _announce(uow, actor, meeting, doc, row, was_shared, sid)
        await uow.commit()
        return {"annotation": public, "cursor": row.seq}


async def changes_since(
    services: Services, actor: Actor, since: int, limit: int = SYNC_LIMIT
) -> dict[str, Any]:
    """The caller's annotations changed after cursor `since`, tombstones included, oldest
    first; `cursor` is where to continue, `more` whether to ask again at once."""
    limit = max(1, min(limit, SYNC_LIMIT))
    async with services.db.reading() as session:
        rows = list(
            (
                await session.execute(
                    select(AnnotationRow)
                    .where(
                        col(AnnotationRow.user_id) == actor.user_id, col(AnnotationRow.seq) > since
                    )
                    .order_by(col(AnnotationRow.seq))
                    .limit(limit + 1)
                )
            ).scalars()
        )
        latest = await current_cursor(session, actor.user_id)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1].seq if more else max(latest, since)
    return {"annotations": [annotation_public(r) for r in rows], "cursor": cursor, "more": more}


async def for_version(services: Services, actor: Actor, version_id: int) -> dict[str, Any]:
    """The caller's live annotations on a version, and those others shared with the meeting."""
    async with services.db.reading() as session:
        await readable_version(session, actor, version_id=version_id)
        rows = (
            await session.execute(
                select(AnnotationRow)
                .where(
                    col(AnnotationRow.version_id) == version_id,
                    col(AnnotationRow.deleted).is_(False),
                    (col(AnnotationRow.user_id) == actor.user_id)
                    | col(AnnotationRow.shared).is_(True),
                )
                .order_by(col(AnnotationRow.created_at), col(AnnotationRow.id))
            )
        ).scalars()
        out = [annotation_public(r) | {"mine": r.user_id == actor.user_id} for r in rows]
        cursor = await current_cursor(session, actor.user_id)
    return {"annotations": out, "cursor": cursor}


async def orphaned(
    services: Services, actor: Actor, document_id: int | None = None
) -> list[dict[str, Any]]:
    """The caller's annotations that could not be placed on a new version."""
    async with services.db.reading() as session:
        query = select(AnnotationRow).where(
            col(AnnotationRow.user_id) == actor.user_id,
            col(AnnotationRow.status) == "orphaned",
            col(AnnotationRow.deleted).is_(False),
        )
        if document_id is not None:
            query = query.where(col(AnnotationRow.document_id) == document_id)
        rows = (await session.execute(query.order_by(col(AnnotationRow.seq)))).scalars()
        return [annotation_public(r) for r in rows]
