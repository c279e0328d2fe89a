"""archive_records: an index for the public listing and its search (branch public)

Published resolutions are listed newest first and searched in `folded` (number, title and
council without diacritics). With the index on (kind, public, doc_date, id, folded) a page, its
count and a search with `LIKE '%word%'` read the index only, never the table, and the date range
is a range of the index (docs/features/archive.md, "Public (no login)").

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["kind", "public", "doc_date", "id", "folded"]


def upgrade() -> None:
    op.create_index("ix_archive_records_public_list", "archive_records", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_archive_records_public_list", table_name="archive_records")
