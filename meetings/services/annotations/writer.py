"""Group commit of annotation upserts (docs/features/annotations.md, "Sync" and "Throughput").

A stroke is small and delegates draw many: committing each alone through SQLite's single
writer made 160 upserts/s queue for seconds. `annotations.upsert` validates the change in the
caller's task (page sizes from `VersionCache`), then queues it here; one writer task per process
takes everything queued and applies it in ONE transaction: the document, meeting and named
readers of every version in the batch read once, the annotation rows read with one query, each
user's cursors taken with one statement, idempotency keys stored beside the change. Only after
the commit is every caller answered (an acknowledged annotation is durable), and the user
events published. Each change is checked exactly as if it ran alone, in queue order, so two
changes of one annotation in a batch see each other. A batch that fails on the database
(a duplicate id from another worker, a deadlock) is rolled back whole and each change retried
alone.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from meetings.domain.annotations import Annotation
from meetings.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from meetings.services.annotations.events import AnnotationChanged, AnnotationUnshared
from meetings.services.annotations.views import annotation_public, meeting_body
from meetings.services.context import Actor, Services, settle
from meetings.services.documents.access import NAMED, may_read
from meetings.services.loading import may_see_meeting
from meetings.storage.tables import CommandResult, Document, DocumentAccess, Meeting, pk, utcnow
from meetings.storage.tables_annotations import AnnotationCursor, AnnotationRow
from meetings.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_BATCH = 500
COMMAND = "annotation.upsert"
Outcome = dict[str, Any] | DomainError


@dataclass(frozen=True)
class VersionInfo:
    """What never changes about a document version: its document and page sizes."""

    version_id: int
    document_id: int
    sizes: list[tuple[float, float]]


class VersionCache:
    """Per process, bounded: a version's document and page sizes are immutable, so entries are
    never stale. Who may read it is NOT cached: the writer checks that in every batch."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[int, VersionInfo] = OrderedDict()

    def get(self, version_id: int) -> VersionInfo | None:
        info = self._entries.get(version_id)
        if info is not None:
            self._entries.move_to_end(version_id)
        return info

    def put(self, info: VersionInfo) -> None:
        self._entries[info.version_id] = info
        self._entries.move_to_end(info.version_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


@dataclass
class Change:
    """One validated upsert waiting for the writer."""

    actor: Actor
    annotation: Annotation
    data: dict[str, Any]
    info: VersionInfo
    base_version: int
    key: str | None
    sid: str | None
    future: asyncio.Future[dict[str, Any]]
    size: int = 0
    """Bytes of `data` as compact JSON (`data_size`), measured in the caller's task."""


def data_size(data: dict[str, Any]) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass(frozen=True)
class Quota:
    """Per-user limits (docs/features/annotations.md, "Quotas"): per document version and in all."""

    count: int
    size: int
    total_count: int
    total_size: int

    @classmethod
    def of(cls, services: Services) -> Quota:
        s = services.settings
        mb = 1024 * 1024
        return cls(
            s.annotation_quota_count,
            int(s.annotation_quota_mb * mb),
            s.annotation_total_count,
            int(s.annotation_total_mb * mb),
        )


def unknown_version(version_id: int) -> NotFound:
    return NotFound(f"no document version {version_id}", code="unknown_document_version")


class AnnotationWriter:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.versions = VersionCache()
        self._queue: list[Change] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, change: Change) -> dict[str, Any]:
        self._queue.append(change)
        if self._task is None or self._task.done():
            # a clean context: the writer must not inherit a caller's pending idempotency key
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=contextvars.Context()
            )
        return await change.future

    async def _run(self) -> None:
        """Drain the queue, a batch per transaction; end when it is empty (no idle task:
        between the emptiness check and the return nothing can run, `submit` restarts it)."""
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._write(batch)

    async def _write(self, batch: list[Change]) -> None:
        try:
            try:
                outcomes = await self._apply(batch)
            except DBAPIError:
                if len(batch) == 1:
                    raise
                log.info("annotation batch of %d failed; retrying each alone", len(batch))
                outcomes = []
                for change in batch:
                    try:
                        outcomes += await self._apply([change])
                    except DBAPIError as exc:
                        change.future.set_exception(exc)
            for change, outcome in outcomes:
                settle(change.future, outcome)
        except Exception as exc:  # never leave a caller waiting; the namespace logs it
            for change in batch:
                if not change.future.done():
                    change.future.set_exception(exc)

    async def _apply(self, batch: list[Change]) -> list[tuple[Change, Outcome]]:
        async with self.services.uow() as uow:
            b = await _Batch.load(uow, batch, Quota.of(self.services))
            answers: dict[int, Outcome | _Later] = {}
            applied: list[tuple[Change, AnnotationRow, dict[str, Any], bool]] = []
            for change in batch:
                try:
                    outcome = b.apply(change)
                except DomainError as exc:
                    answers[id(change)] = exc
                    continue
                if isinstance(outcome, AnnotationRow):
                    was_shared = b.was_shared.pop(outcome.id, False)
                    b.was_shared[outcome.id] = outcome.shared  # for a second change of it
                    applied.append((change, outcome, annotation_public(outcome), was_shared))
                else:
                    answers[id(change)] = outcome
            seqs: list[int] = []
            if applied:
                with uow.session.no_autoflush:  # rows are written once, with their cursor
                    seqs = await _take_cursors(
                        uow, [(c.actor.user_id, r) for c, r, _, _ in applied]
                    )
                uow.session.add_all(b.new_rows)
            for (change, row, public, was_shared), seq in zip(applied, seqs, strict=True):
                public["cursor"] = seq
                result = {"annotation": public, "cursor": seq}
                await _announce(uow, b, change, row, public, was_shared)
                if change.key is not None:
                    uow.session.add(
                        CommandResult(
                            user_id=change.actor.user_id,
                            key=change.key,
                            command=COMMAND,
                            result=result,
                        )
                    )
                answers[id(change)] = result
            await uow.commit()
        return [(change, _resolve(answers, change)) for change in batch]


@dataclass
class _Later:
    """Answered once the batch is written: the stored annotation (a replay without a key), or
    the answer of the change with the same idempotency key earlier in the batch."""

    row: AnnotationRow | None = None
    same_as: Change | None = None


def _resolve(answers: dict[int, Outcome | _Later], change: Change) -> Outcome:
    answer = answers[id(change)]
    if not isinstance(answer, _Later):
        return answer
    if answer.row is not None:
        return {"annotation": annotation_public(answer.row), "cursor": answer.row.seq}
    assert answer.same_as is not None
    first = _resolve(answers, answer.same_as)
    return first if isinstance(first, DomainError) else first | {"replayed": True}


class _Batch:
    """Rows of one batch, read once in the writing transaction."""

    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        # live (not deleted) annotations' [count, bytes]: per (user, version), per user
        self.used: dict[tuple[int, int], list[int]] = {}
        self.used_total: dict[int, list[int]] = {}
        self.docs: dict[int, Document] = {}
        self.meetings: dict[int, Meeting] = {}
        self.readers: dict[int, set[int]] = {}
        self.rows: dict[str, AnnotationRow] = {}
        self.keys: dict[tuple[int, str], dict[str, Any] | Change] = {}
        self.was_shared: dict[str, bool] = {}
        self.new_rows: list[AnnotationRow] = []

    @classmethod
    async def load(cls, uow: UnitOfWork, batch: list[Change], quota: Quota) -> _Batch:
        b, s = cls(quota), uow.session
        users = {ch.actor.user_id for ch in batch}
        for user_id, version_id, count, size in (
            await s.execute(
                select(
                    col(AnnotationRow.user_id),
                    col(AnnotationRow.version_id),
                    func.count(),
                    func.coalesce(func.sum(col(AnnotationRow.size)), 0),
                )
                .where(col(AnnotationRow.user_id).in_(users), ~col(AnnotationRow.deleted))
                .group_by(col(AnnotationRow.user_id), col(AnnotationRow.version_id))
            )
        ).all():
            b.used[(int(user_id), int(version_id))] = [int(count), int(size)]
            total = b.used_total.setdefault(int(user_id), [0, 0])
            total[0], total[1] = total[0] + int(count), total[1] + int(size)
        doc_ids = {ch.info.document_id for ch in batch}
        for doc, meeting in (
            await s.execute(
                select(Document, Meeting)
                .join(Meeting, col(Meeting.id) == col(Document.meeting_id))
                .where(col(Document.id).in_(doc_ids))
            )
        ).all():
            b.docs[doc.id] = doc  # type: ignore[index]
            b.meetings[meeting.id] = meeting  # type: ignore[index]
        named = [d for d, doc in b.docs.items() if doc.visibility in NAMED]
        if named:
            for doc_id, user_id in (
                await s.execute(
                    select(col(DocumentAccess.document_id), col(DocumentAccess.user_id)).where(
                        col(DocumentAccess.document_id).in_(named)
                    )
                )
            ).all():
                b.readers.setdefault(int(doc_id), set()).add(int(user_id))
        ids = sorted({ch.annotation.id for ch in batch})  # one lock order for every worker
        for row in (
            await s.execute(
                select(AnnotationRow)
                .where(col(AnnotationRow.id).in_(ids))
                .order_by(col(AnnotationRow.id))
                .with_for_update()
            )
        ).scalars():
            b.rows[row.id] = row
        wanted = {(ch.actor.user_id, ch.key) for ch in batch if ch.key is not None}
        if wanted:
            for stored in (
                await s.execute(
                    select(CommandResult).where(
                        col(CommandResult.user_id).in_({u for u, _ in wanted}),
                        col(CommandResult.key).in_({k for _, k in wanted}),
                    )
                )
            ).scalars():
                b.keys[(stored.user_id, stored.key)] = dict(stored.result or {})
        return b

    def apply(self, change: Change) -> AnnotationRow | dict[str, Any] | _Later:
        """Check and apply one change; the row changed, or an answer without a change."""
        actor, a, info = change.actor, change.annotation, change.info
        if change.key is not None and (actor.user_id, change.key) in self.keys:
            first = self.keys[(actor.user_id, change.key)]
            if isinstance(first, Change):  # the same key earlier in this batch
                return _Later(same_as=first)
            return first | {"replayed": True}
        doc = self.docs.get(info.document_id)
        meeting = self.meetings.get(doc.meeting_id) if doc is not None else None
        if (
            doc is None
            or meeting is None
            or doc.deleted_at is not None
            or not may_see_meeting(actor, meeting)
            or not may_read(actor, meeting, doc, list(self.readers.get(info.document_id, ())))
        ):
            raise unknown_version(info.version_id)
        row = self.rows.get(a.id)
        if row is not None and row.user_id != actor.user_id:
            raise Forbidden(
                f"annotation {a.id} belongs to another user; generate a new UUID", code="not_owner"
            )
        if row is not None:
            if row.version_id != info.version_id:
                raise InvalidInput(
                    f"annotation {row.id} belongs to document version {row.version_id}",
                    code="version_mismatch",
                )
            same = (
                not row.deleted
                and row.data == change.data
                and row.page == a.page
                and row.shared == a.shared
                and row.kind == a.kind.value
            )
            if change.base_version != row.version or row.deleted:
                if same:
                    return _Later(row=row)
                raise Conflict(
                    f"annotation {row.id} is at version {row.version}"
                    + (" and was deleted" if row.deleted else "")
                    + f"; this change was made from version {change.base_version}",
                    code="stale_version",
                    details={"current": annotation_public(row)},
                )
            self._take(actor.user_id, info.version_id, 0, change.size - row.size)
            self.was_shared.setdefault(row.id, row.shared)
            row.kind, row.page, row.data = a.kind.value, a.page, change.data
            row.size = change.size
            row.shared, row.version, row.status = a.shared, row.version + 1, "anchored"
            row.updated_at = utcnow()
        else:
            self._take(actor.user_id, info.version_id, 1, change.size)
            row = AnnotationRow(
                size=change.size,
                id=a.id,
                user_id=actor.user_id,
                document_id=info.document_id,
                version_id=info.version_id,
                kind=a.kind.value,
                page=a.page,
                data=change.data,
                shared=a.shared,
            )
            self.rows[a.id] = row
            self.new_rows.append(row)
            self.was_shared.setdefault(row.id, False)
        if change.key is not None:
            self.keys[(actor.user_id, change.key)] = change
        return row

    def _take(self, user_id: int, version_id: int, count: int, size: int) -> None:
        """Count a change against the user's quotas, or refuse it (nothing is stored)."""
        here = self.used.setdefault((user_id, version_id), [0, 0])
        total = self.used_total.setdefault(user_id, [0, 0])
        q = self.quota
        over = (
            (count and here[0] + count > q.count)
            or (size > 0 and here[1] + size > q.size)
            or (count and total[0] + count > q.total_count)
            or (size > 0 and total[1] + size > q.total_size)
        )
        if over:
            raise Conflict(
                f"annotation quota reached: at most {q.count} annotations and "
                f"{q.size // 1024} KiB per document version, {q.total_count} and "
                f"{q.total_size // 1024} KiB in all; delete some first",
                code="quota_exceeded",
                details={"used": {"version": list(here), "total": list(total)}},
            )
        here[0], here[1] = here[0] + count, here[1] + size
        total[0], total[1] = total[0] + count, total[1] + size


async def _take_cursors(uow: UnitOfWork, changes: list[tuple[int, AnnotationRow]]) -> list[int]:
    """Each user's next cursors with one statement; the cursor of each change, in order."""
    counts: dict[int, int] = {}
    for user_id, _ in changes:
        counts[user_id] = counts.get(user_id, 0) + 1
    bind = uow.session.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(AnnotationCursor).values(
        [{"user_id": u, "last_seq": n} for u, n in sorted(counts.items())]  # one lock order
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"last_seq": col(AnnotationCursor.last_seq) + stmt.excluded.last_seq},
    ).returning(col(AnnotationCursor.user_id), col(AnnotationCursor.last_seq))
    last = {int(u): int(s) for u, s in (await uow.session.execute(upsert)).all()}
    nxt = {u: last[u] - n + 1 for u, n in counts.items()}
    seqs = []
    for user_id, row in changes:
        row.seq = nxt[user_id]  # the last change of a row leaves its cursor
        seqs.append(nxt[user_id])
        nxt[user_id] += 1
    return seqs


async def _announce(
    uow: UnitOfWork,
    b: _Batch,
    change: Change,
    row: AnnotationRow,
    public: dict[str, Any],
    was_shared: bool,
) -> None:
    uow.notify_user(
        change.actor.user_id,
        AnnotationChanged(annotation=public, cursor=public["cursor"]),
        change.sid,
    )
    doc = b.docs[row.document_id]
    if public["shared"]:
        await uow.emit(doc.meeting_id, meeting_body(doc, row, public))
    elif was_shared:
        await uow.emit(
            doc.meeting_id, AnnotationUnshared(annotation_id=row.id, document_id=pk(doc))
        )


def annotation_writer(services: Services) -> AnnotationWriter:
    """The app's writer (one task per process), kept in `services.subsystems`."""
    writer = services.subsystems.get("annotation_writer")
    if not isinstance(writer, AnnotationWriter):
        writer = services.subsystems["annotation_writer"] = AnnotationWriter(services)
    return writer
