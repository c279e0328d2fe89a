"""Engine.IO reads at most a command's size before anyone logs in (docs/SECURITY.md).

Before, an anonymous Engine.IO session could send 16 MiB frames that were decoded in full (the
security review: ten of them, +345 MiB). A command's payload is at most 2 MiB
(docs/PROTOCOL.md), so the server now takes frames of 2 MiB and a little framing.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from realtime.asgi import MAX_FRAME
from realtime.namespace import MAX_PAYLOAD
from tests.conftest import Running

MIB = 1024 * 1024


async def _open(session: aiohttp.ClientSession, server: Running) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(
        server.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        max_msg_size=0,
    )
    opening = await ws.receive_str()
    assert opening.startswith("0")
    assert json.loads(opening[1:])["maxPayload"] == MAX_FRAME
    return ws


async def test_an_anonymous_big_frame_closes_the_session_undecoded(server: Running) -> None:
    assert MAX_PAYLOAD < MAX_FRAME < 3 * MIB
    async with aiohttp.ClientSession() as session:
        # a CONNECT with a made-up 3 MiB token: refused by size, never decoded
        ws = await _open(session, server)
        await ws.send_str('40{"token":"' + "x" * (3 * MIB) + '"}')
        message = await asyncio.wait_for(ws.receive(), timeout=10)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        # the same CONNECT at a normal size is decoded and refused for its token
        ws = await _open(session, server)
        await ws.send_str('40{"token":"not-a-token"}')
        message = await asyncio.wait_for(ws.receive(), timeout=10)
        assert message.type == aiohttp.WSMsgType.TEXT and message.data.startswith("44")
        await ws.close()
        # long-polling announces the same limit (engine.io refuses longer bodies by length)
        async with session.get(server.base_url + "/socket.io/?EIO=4&transport=polling") as r:
            assert json.loads((await r.text())[1:])["maxPayload"] == MAX_FRAME
