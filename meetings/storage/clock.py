"""The server's clock: aware UTC datetimes (docs/ARCHITECTURE.md, "Storage").

Its own module so that the subsystems' table modules (`tables_*.py`), which `tables` imports to
register them with the metadata, need not import `tables` back.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
