"""Batched token lookups answer exactly as single lookups do (docs/ARCHITECTURE.md, "Batching")."""

from __future__ import annotations

import asyncio

from meetings.services.accounts.auth import actor_for_token
from meetings.services.accounts.tokens import TokenBatcher, actors_for_tokens
from tests.conftest import Running


async def test_batch_matches_single_lookups(server: Running) -> None:
    tokens = [await server.token(name) for name in ("chair", "delegate001", "delegate002")]
    revoked = await server.token("delegate003")
    status, _, _ = await server.http("POST", "/api/auth/logout", token=revoked)
    assert status == 200
    asked = [*tokens, revoked, "not-a-token", "x" * 500, tokens[0]]
    batch = await actors_for_tokens(server.services, asked)
    for token in asked:
        assert batch.get(token) == await actor_for_token(server.services, token)
    assert set(batch) == set(tokens)

    batcher = TokenBatcher(server.services)
    answers = await asyncio.gather(*(batcher.resolve(t) for t in asked * 20))
    assert [a.username if a else None for a in answers[: len(asked)]] == [
        "chair",
        "delegate001",
        "delegate002",
        None,
        None,
        None,
        "chair",
    ]
    assert batcher.lookups <= 2  # 140 requests, gathered while the first lookup ran
