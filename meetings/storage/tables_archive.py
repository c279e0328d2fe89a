"""Tables of the archive subsystem (docs/features/archive.md, "Resolutions", "Signing", "Archive").

A `Resolution` follows a draft from upload to publication; its PDFs (draft, generated, signed)
are blobs named by sha256. A `SigningSession` holds a prepared remote signature until the
chair's token returns it. An `ArchiveRecord` is written once per archived file and never
updated except to publish it; its `sha256` names a read-only blob, and `quorum archive verify`
checks both against each other and against the signatures inside.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from meetings.storage.clock import utcnow


class Resolution(SQLModel, table=True):
    """A draft resolution and what became of it (`draft → generated → signed → archived`)."""

    __tablename__ = "resolutions"
    __table_args__ = (UniqueConstraint("council_id", "year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="councils.id", index=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_items.id")
    poll_id: int | None = Field(default=None, foreign_key="polls.id")
    title: str = Field(max_length=500)
    status: str = Field(default="draft", max_length=20)
    draft_sha256: str = Field(max_length=64)
    draft_filename: str = Field(default="draft.pdf", max_length=255)
    year: int | None = None
    seq: int | None = None
    """Number within the council and year (`Nghị quyết số {seq}/NQ-HĐND`); set on generation."""
    number: str = Field(default="", max_length=100)
    generated_sha256: str | None = Field(default=None, max_length=64)
    signed_sha256: str | None = Field(default=None, max_length=64)
    signatures: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    public: bool = True
    """Published to the public archive once archived."""
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    generated_at: datetime | None = None
    signed_at: datetime | None = None


class MinutesDoc(SQLModel, table=True):
    """Minutes of one sitting, generated from its event log (`generated → signed → archived`)."""

    __tablename__ = "minutes"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    council_id: int = Field(foreign_key="councils.id", index=True)
    status: str = Field(default="generated", max_length=20)
    generated_sha256: str = Field(max_length=64)
    signed_sha256: str | None = Field(default=None, max_length=64)
    audit_head_hash: str = Field(max_length=64)
    signatures: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    signed_at: datetime | None = None


class SigningSession(SQLModel, table=True):
    """A prepared remote signature waiting for the signer's token (docs/features/signing.md)."""

    __tablename__ = "signing_sessions"
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=20)
    """`resolution` or `minutes`."""
    target_id: int
    user_id: int = Field(foreign_key="users.id")
    state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    digest_algorithm: str = Field(default="sha256", max_length=20)
    status: str = Field(default="pending", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    completed_at: datetime | None = None
    ticket_hash: str | None = Field(default=None, max_length=64)
    """sha256 of the session's one-time signing ticket; cleared when the session completes or is
    cancelled (docs/SECURITY.md, "Signing tickets")."""


class ArchiveRecord(SQLModel, table=True):
    """One archived file: write-once; only `published_at` may be set later."""

    __tablename__ = "archive_records"
    __table_args__ = (
        UniqueConstraint("kind", "source_id"),
        # the public listing: published resolutions newest first, searched in `folded` without
        # reading the table (migration 0009, docs/features/archive.md "Public (no login)")
        Index("ix_archive_records_public_list", "kind", "public", "doc_date", "id", "folded"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    """`resolution` or `minutes`."""
    source_id: int
    """The resolution's or the minutes' id."""
    council_id: int = Field(foreign_key="councils.id", index=True)
    council_name: str = Field(max_length=300)
    meeting_id: int = Field(foreign_key="meetings.id")
    number: str = Field(default="", max_length=100)
    title: str = Field(max_length=500)
    folded: str = Field(default="", max_length=2000)
    """Number and title folded for search (meetings.domain.text.fold)."""
    doc_date: date
    sha256: str = Field(max_length=64, index=True)
    size: int
    signatures: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    archived_at: datetime = Field(default_factory=utcnow)
    archived_by: int | None = None
    audit_hash: str = Field(default="", max_length=64)
    """Hash of the audit entry that recorded the archiving."""
    public: bool = False
    published_at: datetime | None = None
