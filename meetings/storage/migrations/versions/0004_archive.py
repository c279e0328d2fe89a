"""resolutions, minutes and archive

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("title", Str(length=500), nullable=False),
        sa.Column("status", Str(length=20), nullable=False),
        sa.Column("draft_sha256", Str(length=64), nullable=False),
        sa.Column("draft_filename", Str(length=255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("number", Str(length=100), nullable=False),
        sa.Column("generated_sha256", Str(length=64), nullable=True),
        sa.Column("signed_sha256", Str(length=64), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("generated_at", Time(), nullable=True),
        sa.Column("signed_at", Time(), nullable=True),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agenda_items.id"]),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_id", "year", "seq"),
    )
    op.create_index("ix_resolutions_council_id", "resolutions", ["council_id"], unique=False)
    op.create_index("ix_resolutions_meeting_id", "resolutions", ["meeting_id"], unique=False)
    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("status", Str(length=20), nullable=False),
        sa.Column("generated_sha256", Str(length=64), nullable=False),
        sa.Column("signed_sha256", Str(length=64), nullable=True),
        sa.Column("audit_head_hash", Str(length=64), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("signed_at", Time(), nullable=True),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_minutes_council_id", "minutes", ["council_id"], unique=False)
    op.create_index("ix_minutes_meeting_id", "minutes", ["meeting_id"], unique=False)
    op.create_table(
        "signing_sessions",
        sa.Column("id", Str(length=40), nullable=False),
        sa.Column("kind", Str(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("digest_algorithm", Str(length=20), nullable=False),
        sa.Column("status", Str(length=20), nullable=False),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("expires_at", Time(), nullable=False),
        sa.Column("completed_at", Time(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "archive_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", Str(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("council_name", Str(length=300), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("number", Str(length=100), nullable=False),
        sa.Column("title", Str(length=500), nullable=False),
        sa.Column("folded", Str(length=2000), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=False),
        sa.Column("sha256", Str(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("archived_at", Time(), nullable=False),
        sa.Column("archived_by", sa.Integer(), nullable=True),
        sa.Column("audit_hash", Str(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("published_at", Time(), nullable=True),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "source_id"),
    )
    op.create_index(
        "ix_archive_records_council_id", "archive_records", ["council_id"], unique=False
    )
    op.create_index("ix_archive_records_sha256", "archive_records", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_archive_records_sha256", table_name="archive_records")
    op.drop_index("ix_archive_records_council_id", table_name="archive_records")
    op.drop_table("archive_records")
    op.drop_table("signing_sessions")
    op.drop_index("ix_minutes_meeting_id", table_name="minutes")
    op.drop_index("ix_minutes_council_id", table_name="minutes")
    op.drop_table("minutes")
    op.drop_index("ix_resolutions_meeting_id", table_name="resolutions")
    op.drop_index("ix_resolutions_council_id", table_name="resolutions")
    op.drop_table("resolutions")
