"""Unit of work: one transaction, its events and audit entries (docs/ARCHITECTURE.md).

A service opens a `UnitOfWork`, changes rows, records events with `emit` (the meeting's next
`seq`, stored in the same transaction) and audit entries with `audit` (hash-chained), then
calls `commit`. Only after the commit succeeds are the events handed to the publisher and the
signals (`signal`) to their after-commit handlers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from meetings.domain.events import (
    MeetingEventData,
    MeetingEventOut,
    UserEventData,
    UserEventOut,
    VolatileOut,
    iso,
)
from meetings.storage.after_commit import AfterCommit
from meetings.storage.db import Database
from meetings.storage.ports import EventPublisher
from meetings.storage.prepared import rows
from meetings.storage.tables import (
    AuditEntry,
    AuditHead,
    CommandResult,
    Meeting,
    MeetingEvent,
    utcnow,
)
from meetings.storage.writes import Rows, core_table, insert_into, write_and_commit

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64


@dataclass
class PendingKey:
    """The idempotency key of the command being run (set by `services.idempotency.once`)."""

    user_id: int
    key: str
    command: str
    stored: bool = False
    answered: bool = False
    """The command's answer was stored with the key, in the commit that applied it."""


pending_key: ContextVar[PendingKey | None] = ContextVar("pending_key", default=None)


@dataclass(frozen=True)
class AuditLink:
    """An audit entry as `UnitOfWork.audit` appended it (its row is written at the commit)."""

    at: datetime
    actor_id: int | None
    action: str
    target: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


@functools.cache
def _next_seq() -> Any:
    """The meeting's next event seq (built once, as the statements below)."""
    meetings = core_table(Meeting)
    return (
        update(meetings)
        .where(meetings.c.id == bindparam("b_meeting"))
        .values(last_seq=meetings.c.last_seq + 1)
        .returning(meetings.c.last_seq)
    )


@functools.cache
def _head_read() -> Any:
    heads = core_table(AuditHead)
    return select(heads.c.hash, heads.c.count).where(heads.c.id == 1).with_for_update()


@functools.cache
def _head_update() -> Any:
    heads = core_table(AuditHead)
    return (
        update(heads)
        .where(heads.c.id == bindparam("b_id"))
        .values(hash=bindparam("b_hash"), count=bindparam("b_count"))
    )


def canonical_json(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def audit_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """The chain link: sha256 over the previous hash and the entry's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()


@functools.cache
def _append_statement() -> Any:
    return text("SELECT quorum_audit_append(CAST(:b_entries AS json), :b_genesis)")


def _append_on_server(entries: list[AuditLink]) -> Rows:
    """PostgreSQL: the entries linked by the database (migration 0012): it locks the head, hashes
    each entry's canonical JSON after the previous hash as `audit_hash` does, inserts the
    entries and moves the head, in one statement instead of a trip for each."""
    doc = [
        {
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "action": e.action,
            "target": e.target,
            "data": e.data,
            "canonical": canonical_json(audit_payload(e)),
        }
        for e in entries
    ]
    params = {"b_entries": json.dumps(doc, ensure_ascii=False), "b_genesis": GENESIS_HASH}
    return Rows(_append_statement(), [params])


def audit_payload(entry: AuditEntry | AuditLink) -> dict[str, Any]:
    """What an entry's hash covers."""
    return {
        "at": iso(entry.at),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target": entry.target,
        "data": entry.data,
    }


class UnitOfWork:
    def __init__(self, db: Database, publisher: EventPublisher, after_commit: AfterCommit) -> None:
        self._db = db
        self._publisher = publisher
        self._after_commit = after_commit
        self.signals: list[object] = []
        self.committed = False
        """A commit succeeded: what follows it (publishing, handlers) cannot undo it."""
        self.meeting_events: list[MeetingEventOut] = []
        self.user_events: list[UserEventOut] = []
        self.volatile: list[VolatileOut] = []
        self._session: AsyncSession | None = None
        # rows written at the commit, with Core statements: the ORM's flush of an event, an
        # audit entry, the head and a key was a third of a chair command's time
        self._event_rows: list[dict[str, Any]] = []
        self._audit_pending: list[AuditLink] = []  # linked at the commit
        self._audit_rows: list[dict[str, Any]] = []
        self._head: tuple[str, int, bool] | None = None  # hash, count, row exists
        self._writes: list[Rows] = []

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "use `async with uow:`"
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._db.writer()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    async def emit(self, meeting_id: int, event: MeetingEventData) -> MeetingEventOut:
        """Store a meeting event with the meeting's next seq (locks the meeting row); its type
        and `data` come from the event's model (`meetings/services/events.py`)."""
        type_, data = event.TYPE, event.wire()
        (seq,) = (await rows(self.session, _next_seq(), {"b_meeting": meeting_id}))[0]
        loaded = self.session.sync_session.identity_map.get(identity_key(Meeting, meeting_id))
        if loaded is not None:  # the caller's copy says the seq it now has, as the row does
            set_committed_value(loaded, "last_seq", seq)
        at = utcnow()
        self._event_rows.append(
            {"meeting_id": meeting_id, "seq": seq, "type": type_, "at": at, "data": data}
        )
        out = MeetingEventOut(meeting_id, seq, type_, at, data)
        self.meeting_events.append(out)
        return out

    def notify_user(
        self, user_id: int, event: UserEventData, exclude_sid: str | None = None
    ) -> None:
        """Send to one user's devices after commit (their state is stored by the caller)."""
        self.user_events.append(
            UserEventOut(user_id, event.TYPE, utcnow(), event.wire(), exclude_sid)
        )

    async def audit(
        self,
        actor_id: int | None,
        action: str,
        target: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append to the hash chain at the commit: the head row is locked by the commit's last
        statements only (on PostgreSQL one statement, `quorum_audit_append`), so commands of
        several workers wait for each other's commits, not for each other's whole commands."""
        # a plain record, not the table's model: building a SQLModel object costs more
        entry = AuditLink(utcnow(), actor_id, action, target, data or {}, "", "")
        self._audit_pending.append(entry)

    async def audit_linked(
        self,
        actor_id: int | None,
        action: str,
        target: str = "",
        data: dict[str, Any] | None = None,
    ) -> AuditLink:
        """As `audit`, but linked now, for a caller that stores the entry's hash: the head row
        is then locked from here until the commit. Take the unit's other row locks first (the
        meeting's `seq` in `emit`): every other unit takes the head last."""
        await self.audit(actor_id, action, target, data)
        return (await self._link())[-1]

    async def _link(self) -> list[AuditLink]:
        """Hash the entries waiting for their link, on the head read (and locked) once."""
        if self._head is None:
            head = await rows(self.session, _head_read())
            found = head[0] if head else None
            self._head = (
                (GENESIS_HASH, 0, False) if found is None else (str(found[0]), int(found[1]), True)
            )
        prev, count, exists = self._head
        linked = []
        for unhashed in self._audit_pending:
            entry = replace(unhashed, prev_hash=prev)
            entry = replace(entry, hash=audit_hash(prev, audit_payload(entry)))
            self._audit_rows.append(
                {
                    "at": entry.at,
                    "actor_id": entry.actor_id,
                    "action": entry.action,
                    "target": entry.target,
                    "data": entry.data,
                    "prev_hash": prev,
                    "hash": entry.hash,
                }
            )
            prev, count = entry.hash, count + 1
            linked.append(entry)
        self._head = (prev, count, exists)
        self._audit_pending = []
        return linked

    def signal(self, signal: object) -> None:
        """Hand `signal` (`domain.signals`) to its after-commit handlers once committed."""
        self.signals.append(signal)

    def write_at_commit(self, writes: Rows) -> None:
        """Rows the commit writes, after everything else the unit changed, in the commit's
        own trip on SQLite (`meetings/storage/writes.py`)."""
        self._writes.append(writes)

    async def commit(self, answer: dict[str, Any] | None = None) -> dict[str, Any]:
        """Commit, publish, run the after-commit handlers; what they report for the answer.

        `answer`: the command's answer as it will return it, stored with its idempotency key in
        this same transaction (else `once` stores it in a second one after the command)."""
        key = pending_key.get()
        claimed = key is not None and not key.stored
        appended = None
        if self._audit_pending:
            if self._head is None and not self._db.sqlite:
                appended = _append_on_server(self._audit_pending)
                self._audit_pending = []
            else:
                await self._link()
        writes = self._tail()
        if claimed:
            assert key is not None
            row = {
                "user_id": key.user_id,
                "key": key.key,
                "command": key.command,
                "result": answer or {},
                "created_at": utcnow(),
            }
            writes.append(Rows(insert_into(core_table(CommandResult)), [row]))
            key.stored, key.answered = True, answer is not None
        if appended is not None:  # the head's lock: the last statement before the COMMIT
            writes.append(appended)
        try:
            await write_and_commit(self.session, writes)
        except Exception:
            if claimed:
                assert key is not None
                key.stored = key.answered = False
            raise
        finally:
            self._head = None  # the head's lock ends with the transaction: read it again
        self.committed = True
        await self._publish()
        signals, self.signals = self.signals, []
        return await self._after_commit.run(signals) if signals else {}

    def _tail(self) -> list[Rows]:
        """What the commit writes: the events and audit entries of this unit, the new audit
        head, then the rows handed to `write_at_commit`."""
        writes = [
            Rows(insert_into(core_table(MeetingEvent)), self._event_rows),
            Rows(insert_into(core_table(AuditEntry)), self._audit_rows),
        ]
        if self._audit_rows and self._head is not None:
            hash_, count, exists = self._head
            if exists:
                writes.append(
                    Rows(_head_update(), [{"b_hash": hash_, "b_count": count, "b_id": 1}])
                )
            else:
                first = {"id": 1, "hash": hash_, "count": count}
                writes.append(Rows(insert_into(core_table(AuditHead)), [first]))
        writes += self._writes
        self._event_rows, self._audit_rows, self._writes = [], [], []
        return writes

    async def _publish(self) -> None:
        meeting_events, user_events, volatile = self.meeting_events, self.user_events, self.volatile
        self.meeting_events, self.user_events, self.volatile = [], [], []
        if not (meeting_events or user_events or volatile):
            return
        try:
            if meeting_events or user_events:
                await self._publisher.publish(meeting_events, user_events)
            for update_ in volatile:
                await self._publisher.volatile(update_)
        except Exception:  # the change is committed; clients catch up by seq on resync
            log.exception("publishing committed events failed")
