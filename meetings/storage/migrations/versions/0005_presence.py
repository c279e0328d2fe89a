"""presence: devices connected per meeting, reported by every worker

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presence_workers",
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    with op.batch_alter_table("presence_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_presence_workers_heartbeat_at"), ["heartbeat_at"], unique=False
        )
    op.create_table(
        "presence",
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "meeting_id", "user_id"),
    )
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_presence_meeting_id"), ["meeting_id"], unique=False)
    op.create_table(
        "presence_versions",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id"),
    )


def downgrade() -> None:
    op.drop_table("presence_versions")
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presence_meeting_id"))
    op.drop_table("presence")
    with op.batch_alter_table("presence_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presence_workers_heartbeat_at"))
    op.drop_table("presence_workers")
