"""Joins and replays give what the caller may see now (docs/PROTOCOL.md, "meeting.join")."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.client import CommandFailed
from tests.conftest import Running


async def _transition(server: Running, token: str, action: str) -> None:
    status, body, _ = await server.http(
        "POST",
        f"/api/meetings/{server.meeting_id}/transition",
        token=token,
        json={"action": action},
    )
    assert status == 200, body


async def test_rejoining_a_draft_in_a_loop_hears_none_of_its_events(server: Running) -> None:
    chair = await server.client("chair")
    await chair.join(server.meeting_id)  # the meeting's council is now known to the worker
    chair_token = await server.token("chair")
    await _transition(server, await server.token("secretary"), "unpublish")
    delegate = await server.client("delegate001")
    heard: list[dict[str, Any]] = []
    delegate.sio.on("event", lambda event: heard.append(event))
    stop = asyncio.Event()

    async def rejoin() -> int:
        refused = 0
        while not stop.is_set():
            try:
                await delegate.call("meeting.join", {"meeting_id": server.meeting_id})
            except CommandFailed as exc:
                assert exc.code in ("not_found", "rate_limited"), exc
                refused += exc.code == "not_found"
                if exc.code == "rate_limited":
                    await asyncio.sleep(0.05)
        return refused

    looping = asyncio.ensure_future(rejoin())
    for n in range(30):
        status, body, _ = await server.http(
            "POST",
            f"/api/meetings/{server.meeting_id}/agenda",
            token=chair_token,
            json={"title": f"Draft item {n}"},
        )
        assert status == 201, body
    stop.set()
    assert await looping > 0
    await asyncio.sleep(0.3)
    assert heard == []
