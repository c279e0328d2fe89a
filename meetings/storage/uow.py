"""Unit of work: one transaction, its events and audit entries (docs/ARCHITECTURE.md).

A service opens a `UnitOfWork`, changes rows, records events with `emit` (the meeting's next
`seq`, stored in the same transaction) and audit entries with `audit` (hash-chained), then
calls `commit`. Only after the commit succeeds are the events handed to the publisher and the
signals (`signal`) to their after-commit handlers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
from meetings.storage.tables import (
    AuditEntry,
    AuditHead,
    CommandResult,
    Meeting,
    MeetingEvent,
    utcnow,
)

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64


@dataclass
class PendingKey:
    """The idempotency key of the command being run (set by `services.idempotency.once`)."""

    user_id: int
    key: str
    command: str
    stored: bool = False


pending_key: ContextVar[PendingKey | None] = ContextVar("pending_key", default=None)


def audit_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """The chain link: sha256 over the previous hash and the entry's canonical JSON."""
    canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def audit_payload(entry: AuditEntry) -> dict[str, Any]:
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
        result = await self.session.execute(
            update(Meeting)
            .where(col(Meeting.id) == meeting_id)
            .values(last_seq=col(Meeting.last_seq) + 1)
            .returning(col(Meeting.last_seq))
        )
        seq = int(result.scalar_one())
        at = utcnow()
        self.session.add(MeetingEvent(meeting_id=meeting_id, seq=seq, type=type_, at=at, data=data))
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
    ) -> AuditEntry:
        """Append to the hash chain; the head row stays locked until commit (no fork)."""
        head = (
            await self.session.execute(
                select(AuditHead).where(col(AuditHead.id) == 1).with_for_update()
            )
        ).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, hash=GENESIS_HASH, count=0)
            self.session.add(head)
        entry = AuditEntry(
            at=utcnow(),
            actor_id=actor_id,
            action=action,
            target=target,
            data=data or {},
            prev_hash=head.hash,
            hash="",
        )
        entry.hash = audit_hash(head.hash, audit_payload(entry))
        head.hash = entry.hash
        head.count += 1
        self.session.add(entry)
        return entry

    def signal(self, signal: object) -> None:
        """Hand `signal` (`domain.signals`) to its after-commit handlers once committed."""
        self.signals.append(signal)

    async def commit(self) -> dict[str, Any]:
        """Commit, publish, run the after-commit handlers; what they report for the answer."""
        key = pending_key.get()
        if key is not None and not key.stored:
            self.session.add(CommandResult(user_id=key.user_id, key=key.key, command=key.command))
            key.stored = True
        try:
            await self.session.commit()
        except Exception:
            if key is not None:
                key.stored = False
            raise
        self.committed = True
        await self._publish()
        signals, self.signals = self.signals, []
        return await self._after_commit.run(signals) if signals else {}

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
