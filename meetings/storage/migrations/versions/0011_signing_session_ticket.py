"""signing_sessions.ticket_hash: the one-time signing ticket of a remote signing session (sha256)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ticket_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_sessions", schema=None) as batch_op:
        batch_op.drop_column("ticket_hash")
