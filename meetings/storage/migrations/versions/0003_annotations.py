"""annotations: annotations, per-user change cursors, full-text search over document pages

Revision ID: 0003
Revises: 0002

The search index is dialect-specific (docs/features/annotations.md, "Search"): on SQLite an FTS5
external-content table over `document_pages.folded`, kept in step by triggers; on PostgreSQL a
GIN index on `to_tsvector('simple', folded)` (the text is folded already, so the `simple`
configuration is right for Vietnamese).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE document_pages_fts USING fts5("
    "folded, content='document_pages', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER document_pages_fts_ai AFTER INSERT ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER document_pages_fts_ad AFTER DELETE ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(document_pages_fts, rowid, folded) "
    "VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER document_pages_fts_au AFTER UPDATE ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(document_pages_fts, rowid, folded) "
    "VALUES ('delete', old.id, old.folded); "
    "INSERT INTO document_pages_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "INSERT INTO document_pages_fts(document_pages_fts) VALUES ('rebuild')",
]
PG_INDEX = (
    "CREATE INDEX ix_document_pages_fts ON document_pages "
    "USING gin (to_tsvector('simple', folded))"
)


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("carried_from", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["document_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index("ix_annotations_user_seq", ["user_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_annotations_version_shared", ["version_id", "shared"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_annotations_document_id"), ["document_id"], unique=False
        )
    op.create_table(
        "annotation_cursors",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(PG_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS document_pages_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS document_pages_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_pages_fts")
    op.drop_table("annotation_cursors")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotations_document_id"))
        batch_op.drop_index("ix_annotations_version_shared")
        batch_op.drop_index("ix_annotations_user_seq")
    op.drop_table("annotations")
