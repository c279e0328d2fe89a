"""Polls and ballots (docs/VOTING.md). Filled in by the voting issue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.services.context import Actor
from meetings.storage.tables import Meeting


async def polls_snapshot(session: AsyncSession, actor: Actor, meeting: Meeting) -> dict[str, Any]:
    """The meeting's polls as this member sees them, with the caller's own ballots."""
    return {"polls": [], "my_ballots": {}}
