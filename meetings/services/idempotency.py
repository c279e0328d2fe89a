"""Idempotency keys: a retried command never applies twice (docs/PROTOCOL.md, "Commands").

`once` puts the key in a context variable; the command's first commit (`UnitOfWork.commit`)
inserts the key in the same transaction as the change, so "applied" and "remembered" are one
fact. A command that hands its answer to that commit (`uow.commit(answer=...)`) has it stored on
the same row; for the others it is stored after the command returns. A retry gets it back.

The key is not looked up before the command runs (a read per command, on the hot path of a
sitting): a retry runs the command again, and either the command refuses (the poll is already
open) or its commit loses the unique-constraint race on the key and is rolled back whole. Both
end in reading the first answer. A concurrent duplicate ends the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import DomainError
from meetings.services.context import Services
from meetings.storage.tables import CommandResult
from meetings.storage.uow import PendingKey, pending_key


async def remembered(session: AsyncSession, user_id: int, key: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(CommandResult).where(
                col(CommandResult.user_id) == user_id, col(CommandResult.key) == key
            )
        )
    ).scalar_one_or_none()
    return dict(row.result) if row is not None else None


async def _replay(services: Services, user_id: int, key: str) -> dict[str, Any] | None:
    async with services.db.reading() as session:
        first = await remembered(session, user_id, key)
    return None if first is None else first | {"replayed": True}


async def once(
    services: Services,
    user_id: int,
    key: str | None,
    command: str,
    run: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    if key is None:
        return await run()
    holder = PendingKey(user_id, key, command)
    token = pending_key.set(holder)
    try:
        result = await run()
    except (IntegrityError, DomainError):
        if holder.stored:  # this run's own commit remembered the key: its error is the answer
            raise
        first = await _replay(services, user_id, key)
        if first is None:
            raise
        return first
    finally:
        pending_key.reset(token)
    if holder.stored and not holder.answered:
        async with services.uow() as uow:
            await uow.session.execute(
                update(CommandResult)
                .where(col(CommandResult.user_id) == user_id, col(CommandResult.key) == key)
                .values(result=result)
            )
            await uow.commit()
    return result
