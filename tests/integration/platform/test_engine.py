"""Real connections over `realtime.engine` (the writer without a task per packet): every socket
the server accepts is a `QuorumSocket`, and bursts of broadcasts reach WebSocket and
long-polling clients whole and in order (before, a burst cut a long-polling Python client off:
it refuses responses of more than 16 packets), and a long-polling client leaves at once (it
waited 30 s for its last request). The writer's wait itself:
tests/unit/platform/test_engine_socket.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

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


async def test_a_websocket_client_gone_silent_is_closed_and_its_writer_ends(
    server: Running,
) -> None:
    """The writer waits for packets without a timer over WebSocket: the reader's own wait (the
    ping interval plus the ping timeout) must still close a client that stopped answering, and
    its closing marker end the writer."""
    engine = server.app.quorum_namespace.server.eio
    engine.ping_interval, engine.ping_timeout = 0.3, 0.3
    token = await server.token("delegate001")
    ws_url = server.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"

    def writers() -> int:
        names = (getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks())
        return sum(1 for name in names if name.endswith("_websocket_handler.<locals>.writer"))

    before = writers()
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        opened = await ws.receive_str()
        assert opened.startswith("0")
        await ws.send_str("40" + json.dumps({"token": token}))
        assert (await ws.receive_str()).startswith("40")
        assert len(engine.sockets) == 1
        assert writers() == before + 1
        started = asyncio.get_running_loop().time()
        async with asyncio.timeout(10):  # never answers the pings ("2") it is sent
            while engine.sockets:  # noqa: ASYNC110 - the library's dict, no event
                await asyncio.sleep(0.02)
        waited = asyncio.get_running_loop().time() - started
        async with asyncio.timeout(5):
            while writers() > before:  # noqa: ASYNC110 - the writer's task, no event
                await asyncio.sleep(0.02)
    assert waited < 3, waited
