"""Real connections over `realtime.engine` (the writer without a task per packet): every socket
the server accepts is a `QuorumSocket`, and bursts of broadcasts reach WebSocket and
long-polling clients whole and in order (before, a burst cut a long-polling Python client off:
it refuses responses of more than 16 packets), and a long-polling client leaves at once (it
waited 30 s for its last request). The writer's wait itself:
tests/unit/platform/test_engine_socket.py."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.client import QuorumClient
from realtime.engine import QuorumSocket
from tests.conftest import Running

BURST = 300


async def _listening(
    server: Running, username: str, transport: str
) -> tuple[QuorumClient, list[int]]:
    client = QuorumClient(server.base_url, await server.token(username))
    got: list[int] = []

    async def probe(data: dict[str, Any]) -> None:
        got.append(int(data["i"]))

    client.sio.on("probe", probe)
    await client.connect([transport])
    return client, got


async def test_bursts_reach_websocket_and_polling_clients_whole_and_in_order(
    server: Running,
) -> None:
    listeners = [
        await _listening(server, "delegate001", "websocket"),
        await _listening(server, "delegate002", "polling"),
    ]
    sio = server.app.quorum_namespace.server
    engine = sio.eio
    assert len(engine.sockets) == 2
    assert all(type(s) is QuorumSocket for s in engine.sockets.values())
    try:
        for round_ in range(3):  # bursts with pauses: the writers wait, wake and drain
            for i in range(round_ * BURST, (round_ + 1) * BURST):
                await sio.emit("probe", {"i": i}, namespace="/")
            await asyncio.sleep(0.05)
        async with asyncio.timeout(20):
            while any(len(got) < 3 * BURST for _c, got in listeners):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        for _client, got in listeners:
            assert got == list(range(3 * BURST))
    finally:
        async with asyncio.timeout(10):  # a waiting long-poll is answered when it closes
            for client, _got in listeners:
                await client.disconnect()
    async with asyncio.timeout(10):  # the writers ended and the sockets are gone
        while engine.sockets:  # noqa: ASYNC110 - the library's dict, no event
            await asyncio.sleep(0.02)
