"""Verifying the hash-chained audit log (docs/ARCHITECTURE.md, "Audit chain").

Each entry stores the previous entry's hash and its own: sha256 over the previous hash and the
entry's canonical JSON (`uow.audit_hash`). `verify_audit_chain` recomputes the chain from the
first row and reports the first row whose content, link or order does not match, and whether
the head row (newest hash and count) agrees, so a changed, deleted or inserted row is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.storage.tables import AuditEntry, AuditHead
from meetings.storage.uow import GENESIS_HASH, audit_hash, audit_payload

BATCH = 1000


@dataclass(frozen=True)
class AuditReport:
    """The outcome of a verification; `ok` is True when every link holds."""

    ok: bool
    checked: int
    """Entries read before the first problem (all of them when ok)."""
    bad_entry_id: int | None = None
    """The first entry whose stored hash or link does not match, if any."""
    reason: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries"
        where = f" at entry {self.bad_entry_id}" if self.bad_entry_id is not None else ""
        return f"audit chain broken{where} after {self.checked} good entries: {self.reason}"


async def verify_audit_chain(session: AsyncSession) -> AuditReport:
    """Recompute every link of the audit chain, in id order, in batches."""
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(col(AuditEntry.id) > last_id)
                    .order_by(col(AuditEntry.id))
                    .limit(BATCH)
                )
            )
            .scalars()
            .all()
        )
        for entry in rows:
            if entry.prev_hash != prev:
                return AuditReport(
                    False,
                    checked,
                    entry.id,
                    "its link to the previous entry does not match "
                    "(an entry was removed, inserted or reordered)",
                )
            if audit_hash(prev, audit_payload(entry)) != entry.hash:
                return AuditReport(False, checked, entry.id, "its content does not match its hash")
            prev = entry.hash
            checked += 1
        if len(rows) < BATCH:
            break
        last_id = rows[-1].id or 0
    head = await session.get(AuditHead, 1)
    head_hash, head_count = (head.hash, head.count) if head else (GENESIS_HASH, 0)
    if head_hash != prev or head_count != checked:
        return AuditReport(
            False,
            checked,
            None,
            f"the head says {head_count} entries ending in {head_hash[:12]}…, the log has "
            f"{checked} ending in {prev[:12]}… (entries at the end were removed or added)",
        )
    return AuditReport(True, checked)
