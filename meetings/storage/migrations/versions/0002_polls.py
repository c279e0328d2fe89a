"""polls and ballots

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("title", Str(length=500), nullable=False),
        sa.Column("description", Str(length=10000), nullable=False),
        sa.Column("kind", Str(length=20), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("show_running", sa.Boolean(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("status", Str(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("opened_at", Time(), nullable=True),
        sa.Column("closes_at", Time(), nullable=True),
        sa.Column("closed_at", Time(), nullable=True),
        sa.Column("published_at", Time(), nullable=True),
        sa.Column("cancelled_at", Time(), nullable=True),
        sa.Column("cancel_reason", Str(length=1000), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agenda_items.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_polls_closes_at", "polls", ["closes_at"], unique=False)
    op.create_index("ix_polls_meeting_id", "polls", ["meeting_id"], unique=False)
    # secret polls: anonymous ballots and participation, no rowid (no insertion order)
    op.create_table(
        "poll_ballots",
        sa.Column("id", Str(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("receipt", Str(length=40), nullable=False),
        sa.Column("choice", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "receipt"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_poll_ballots_poll_id", "poll_ballots", ["poll_id"], unique=False)
    op.create_table(
        "poll_participation",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("poll_id", "user_id"),
        sqlite_with_rowid=False,
    )
    # open polls: one row per delegate
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.JSON(), nullable=False),
        sa.Column("cast_at", Time(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "user_id"),
    )
    op.create_index("ix_poll_votes_poll_id", "poll_votes", ["poll_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_poll_votes_poll_id", table_name="poll_votes")
    op.drop_table("poll_votes")
    op.drop_table("poll_participation")
    op.drop_index("ix_poll_ballots_poll_id", table_name="poll_ballots")
    op.drop_table("poll_ballots")
    op.drop_index("ix_polls_meeting_id", table_name="polls")
    op.drop_index("ix_polls_closes_at", table_name="polls")
    op.drop_table("polls")
