"""Idempotency keys: a retried command never applies twice (docs/PROTOCOL.md, "Commands").

`once` puts the key in a context variable; the command's first commit (`UnitOfWork.commit`)
inserts the key in the same transaction as the change, so "applied" and "remembered" are one
fact. After the command returns, its result is stored on that row, and a retry gets it back.
A concurrent duplicate loses the unique-constraint race, is rolled back whole, and reads the
winner's result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
    first = await _replay(services, user_id, key)
    if first is not None:
        return first
    holder = PendingKey(user_id, key, command)
    token = pending_key.set(holder)
    try:
        result = await run()
    except IntegrityError:
        first = await _replay(services, user_id, key)
        if first is None:
            raise
        return first
    finally:
        pending_key.reset(token)
    if holder.stored:
        async with services.uow() as uow:
            await uow.session.execute(
                update(CommandResult)
                .where(col(CommandResult.user_id) == user_id, col(CommandResult.key) == key)
                .values(result=result)
            )
            await uow.commit()
    return result
