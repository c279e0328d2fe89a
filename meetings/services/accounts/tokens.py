"""Resolving many login tokens at once (docs/ARCHITECTURE.md, "Batching").

When 2,000 tablets connect at the same moment, each connect needs its token checked. Looking
them up one by one costs two queries each; `TokenBatcher` gathers the tokens that arrive
together and resolves each gathered batch with two queries in all. A token's answer is the same
as `services.accounts.auth.actor_for_token` would give: unknown, expired, revoked or inactive
→ None.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.model import Role
from meetings.services.accounts.auth import token_digest
from meetings.services.context import Actor, Services
from meetings.storage.tables import AuthToken, Membership, User, utcnow

MAX_TOKEN_LENGTH = 200


async def actors_for_tokens(services: Services, tokens: Iterable[str]) -> dict[str, Actor]:
    """The caller of each valid token; invalid tokens are absent from the answer."""
    by_digest = {token_digest(t): t for t in tokens if t and len(t) <= MAX_TOKEN_LENGTH}
    if not by_digest:
        return {}
    now = utcnow()
    async with services.db.reading() as session:
        rows = (
            await session.execute(
                select(AuthToken, User)
                .join(User, col(User.id) == col(AuthToken.user_id))
                .where(col(AuthToken.token_hash).in_(list(by_digest)))
            )
        ).all()
        valid = [
            (auth, user)
            for auth, user in rows
            if auth.revoked_at is None and auth.expires_at >= now and user.is_active
        ]
        roles: dict[int, dict[int, Role]] = defaultdict(dict)
        if valid:
            members = await session.execute(
                select(Membership).where(col(Membership.user_id).in_({u.id for _, u in valid}))
            )
            for m in members.scalars():
                roles[m.user_id][m.council_id] = Role(m.role)
    return {
        by_digest[auth.token_hash]: Actor(
            user_id=user.id,  # type: ignore[arg-type]
            username=user.username,
            name=user.name,
            is_admin=user.is_admin,
            roles=dict(roles[user.id]),  # type: ignore[index]
            token_id=auth.id,
            temporary_password=user.temporary_password,
        )
        for auth, user in valid
    }


class TokenBatcher:
    """Tokens asked for while a lookup runs are looked up together by the next one."""

    def __init__(self, services: Services, max_batch: int = 500) -> None:
        self.services = services
        self.max_batch = max_batch
        self._pending: dict[str, list[asyncio.Future[Actor | None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.lookups = 0

    async def resolve(self, token: str | None) -> Actor | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Actor | None] = loop.create_future()
        self._pending.setdefault(token, []).append(future)
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                tokens = list(self._pending)[: self.max_batch]
                batch = {t: self._pending.pop(t) for t in tokens}
                self.lookups += 1
                try:
                    actors = await actors_for_tokens(self.services, batch)
                except Exception as exc:  # the database failed: every waiting caller gets it
                    for futures in batch.values():
                        for f in futures:
                            if not f.done():
                                f.set_exception(exc)
                    continue
                for token, futures in batch.items():
                    for f in futures:
                        if not f.done():
                            f.set_result(actors.get(token))
        finally:
            self._task = None
