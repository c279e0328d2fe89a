"""Checking and exporting the whole archive (docs/features/archive.md, "Commands").

`verify_archive` re-reads every archived file: it must exist, hash to its record's sha256 and
carry valid, trusted signatures; then it walks the audit log and recomputes its hash chain, so a
changed file, a changed record's audit entry or a changed audit row is reported. `export_bundle`
writes a zip of the archived PDFs, a JSON manifest with their hashes and a `SHA256SUMS` file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select
from sqlmodel import col

from meetings.documents.signing.validate import verify_pdf_bytes
from meetings.domain.events import iso
from meetings.domain.text import fold
from meetings.services.archive.records import archive_scope, record_public
from meetings.services.archive.signing_keys import runtime
from meetings.services.context import Actor, Services
from meetings.storage.tables import AuditEntry, AuditHead
from meetings.storage.tables_archive import ArchiveRecord
from meetings.storage.uow import GENESIS_HASH, audit_hash, audit_payload

BATCH = 1000


@dataclass
class ArchiveCheck:
    records: int = 0
    audit_entries: int = 0
    audit_head: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "audit_entries": self.audit_entries,
            "audit_head": self.audit_head,
            "problems": self.problems,
        }


async def check_audit_chain(services: Services, check: ArchiveCheck) -> set[str]:
    """Recompute the audit log's hash chain; returns every entry's hash."""
    hashes: set[str] = set()
    prev, last_id, count = GENESIS_HASH, 0, 0
    async with services.db.reading() as session:
        while True:
            rows = list(
                await session.scalars(
                    select(AuditEntry)
                    .where(col(AuditEntry.id) > last_id)
                    .order_by(col(AuditEntry.id))
                    .limit(BATCH)
                )
            )
            if not rows:
                break
            for entry in rows:
                count += 1
                if entry.prev_hash != prev:
                    check.problems.append(
                        f"audit entry {entry.id}: its previous-hash link is broken "
                        "(an entry before it was removed or changed)"
                    )
                if audit_hash(entry.prev_hash, audit_payload(entry)) != entry.hash:
                    check.problems.append(
                        f"audit entry {entry.id} ({entry.action} {entry.target}): its content "
                        "does not match its hash (the row was changed)"
                    )
                hashes.add(entry.hash)
                prev, last_id = entry.hash, entry.id or last_id
        head = await session.get(AuditHead, 1)
    check.audit_entries, check.audit_head = count, prev
    if head is not None and (head.hash != prev or head.count != count):
        check.problems.append(
            f"the audit head ({head.count} entries, {head.hash[:12]}…) does not match the log "
            f"({count} entries, {prev[:12]}…): entries were removed or added around the chain"
        )
    return hashes


async def verify_archive(
    services: Services,
    *,
    fetch: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ArchiveCheck:
    """Revalidate every archived file and the audit chain; report each problem in words."""
    keys = runtime(services).keys
    check = ArchiveCheck()
    hashes = await check_audit_chain(services, check)
    async with services.db.reading() as session:
        records = list(await session.scalars(select(ArchiveRecord).order_by(col(ArchiveRecord.id))))
    for record in records:
        check.records += 1
        label = f"archive record {record.id} ({record.kind} {record.number or record.title})"
        if record.audit_hash not in hashes:
            check.problems.append(f"{label}: its archiving is not in the audit log")
        try:
            data = await anyio.to_thread.run_sync(services.blobs.read, record.sha256)
        except OSError:
            check.problems.append(f"{label}: the file is missing")
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual != record.sha256:
            check.problems.append(
                f"{label}: the file was changed (sha256 {actual[:12]}…, "
                f"recorded {record.sha256[:12]}…)"
            )
        report = await verify_pdf_bytes(
            data, keys.trust_roots, extra_certs=keys.extra_certs, allow_fetching=fetch
        )
        if not report.ok:
            check.problems.append(f"{label}: {report.reason or 'a signature is not valid'}")
        if progress is not None:
            progress(f"{check.records}/{len(records)} {label}: {'ok' if report.ok else 'FAILED'}")
    return check


def _file_name(record: ArchiveRecord) -> str:
    stem = fold(record.number or record.title).replace("/", "-")
    stem = re.sub(r"[^a-z0-9-]+", "-", stem).strip("-")[:60] or "document"
    return f"{record.kind}/{record.id:05d}-{stem}.pdf"


async def export_for(services: Services, actor: Actor, council_id: int | None) -> bytes:
    """GET /api/archive/export: the bundle of the councils the caller staffs (`archive_scope`)."""
    return await export_bundle(services, archive_scope(actor, council_id))


async def export_bundle(services: Services, council_ids: set[int] | None = None) -> bytes:
    """A zip: the archived PDFs, `manifest.json` (records with hashes) and `SHA256SUMS`."""
    async with services.db.reading() as session:
        query = select(ArchiveRecord).order_by(col(ArchiveRecord.id))
        if council_ids is not None:
            query = query.where(col(ArchiveRecord.council_id).in_(council_ids))
        records = list(await session.scalars(query))
        head = await session.get(AuditHead, 1)

    def build() -> bytes:
        buffer = io.BytesIO()
        manifest: list[dict[str, Any]] = []
        sums: list[str] = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
            for record in records:
                name = _file_name(record)
                bundle.writestr(name, services.blobs.read(record.sha256))
                manifest.append({**record_public(record), "file": name})
                sums.append(f"{record.sha256}  {name}")
            body = {
                "format": "quorum-archive-export/1",
                "exported_at": iso(dt.datetime.now(dt.UTC)),
                "audit_head": {
                    "hash": head.hash if head else GENESIS_HASH,
                    "count": head.count if head else 0,
                },
                "records": manifest,
            }
            bundle.writestr("manifest.json", json.dumps(body, ensure_ascii=False, indent=2))
            bundle.writestr("SHA256SUMS", "\n".join(sums) + "\n")
        return buffer.getvalue()

    return await anyio.to_thread.run_sync(build)
