"""Tables of the annotations subsystem (docs/features/annotations.md, "Sync").

`annotations` holds one row per annotation (client-generated UUID), tombstones included: a
deletion sets `deleted` and keeps the row so devices that were offline learn of it. `seq` is the
owner's change cursor at the row's last change; `annotation_cursors` holds each user's newest
cursor, bumped (row-locked) in the same transaction as the change. The search index over
`document_pages.folded` is not a table here: it is an FTS5 virtual table on SQLite and a GIN
expression index on PostgreSQL, both made by migration 0003.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from meetings.storage.clock import utcnow


class AnnotationRow(SQLModel, table=True):
    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_user_seq", "user_id", "seq"),
        Index("ix_annotations_version_shared", "version_id", "shared"),
    )
    id: str = Field(primary_key=True, max_length=36)
    user_id: int = Field(foreign_key="users.id")
    document_id: int = Field(foreign_key="documents.id", index=True)
    version_id: int = Field(foreign_key="document_versions.id")
    kind: str = Field(max_length=20)
    page: int
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    size: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Bytes of `data` as compact JSON: what the per-user quotas count
    (docs/features/annotations.md)."""
    shared: bool = False
    version: int = 1
    deleted: bool = False
    status: str = Field(default="anchored", max_length=20)
    carried_from: str | None = Field(default=None, max_length=36)
    seq: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AnnotationCursor(SQLModel, table=True):
    __tablename__ = "annotation_cursors"
    user_id: int = Field(
        primary_key=True, foreign_key="users.id", sa_column_kwargs={"autoincrement": False}
    )
    last_seq: int = 0
