"""Fixtures for the voting tests (docs/features/voting.md): an open sitting with delegates checked
in."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from realtime.client import CommandFailed, QuorumClient
from tests.conftest import DELEGATES, Running


@dataclass
class Sitting:
    server: Running
    chair: QuorumClient
    delegates: list[QuorumClient]

    @property
    def meeting_id(self) -> int:
        return self.server.meeting_id

    async def create(self, **spec: Any) -> int:
        body = {"meeting_id": self.meeting_id, "kind": "motion", "title": "Motion", "secret": False}
        ack = await self.chair.command("poll.create", body | spec)
        return int(ack["poll_id"])

    async def open(self, **spec: Any) -> int:
        poll_id = await self.create(**spec)
        await self.chair.command("poll.open", {"poll_id": poll_id})
        return poll_id


async def cast(client: QuorumClient, poll_id: int, choice: Any, **extra: Any) -> dict[str, Any]:
    body = {"poll_id": poll_id, "choice": choice, "idempotency_key": uuid.uuid4().hex}
    return await client.call("ballot.cast", body | extra)


async def refused(coro: Any) -> str:
    """The error code of a command that must fail."""
    with pytest.raises(CommandFailed) as info:
        await coro
    return info.value.code


@pytest.fixture
async def sitting(server: Running) -> Sitting:
    chair = await server.client("chair")
    await chair.join(server.meeting_id)
    await chair.command("meeting.open", {"meeting_id": server.meeting_id})
    delegates = [await server.client(f"delegate{i:03d}") for i in range(1, DELEGATES + 1)]
    await asyncio.gather(*(d.join(server.meeting_id) for d in delegates))
    for client in [chair, *delegates[:5]]:  # delegate006 stays away
        await client.command("attendance.check_in", {"meeting_id": server.meeting_id})
    return Sitting(server, chair, delegates)
