"""users.temporary_password: set by the secretariat, cleared when the user chooses their own

Revision ID: 0013
Revises: 0012

Accounts that exist when this runs keep `false`: whether their password came from the
secretariat is not known, and asking every existing user to change it at their next sitting is
worse than not asking.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("temporary_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("temporary_password")
