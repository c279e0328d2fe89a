"""Which pages may open a Socket.IO connection (docs/SECURITY.md, "Browser connections"):
the server's own host, listed origins, and clients that send no Origin; others get 400."""

from __future__ import annotations

import aiohttp
import socketio

from tests.conftest import Running


async def connect(server: Running, token: str, origin: str | None) -> bool:
    sio = socketio.AsyncClient(reconnection=False)
    headers = {"Origin": origin} if origin else {}
    try:
        await sio.connect(
            server.base_url,
            auth={"token": token},
            headers=headers,
            transports=["websocket"],
            wait_timeout=10,
        )
    except socketio.exceptions.ConnectionError:
        if sio.eio.http is not None:  # a refused handshake leaves the client's session open
            await sio.eio.http.close()
        return False
    await sio.disconnect()
    return True


async def test_websocket_origins(server: Running) -> None:
    token = await server.token("delegate001")
    own = server.base_url  # http://127.0.0.1:<port>, the Host the client sends
    assert await connect(server, token, None)
    assert await connect(server, token, own)
    assert not await connect(server, token, "https://evil.example")
    assert not await connect(server, token, own.replace("127.0.0.1", "127.0.0.1.evil.example"))
    assert not await connect(server, token, "http://display.example")
    server.settings.allowed_origins = "https://other.example, http://display.example/"
    assert await connect(server, token, "http://display.example")
    assert await connect(server, token, "HTTP://Display.Example")
    assert not await connect(server, token, "https://display.example")


async def test_polling_origins_get_400_and_no_session(server: Running) -> None:
    """Long-polling is checked the same way (its handshake here; every later request too)."""
    url = server.base_url + "/socket.io/?EIO=4&transport=polling"

    async def handshake(origin: str) -> tuple[int, str, str | None]:
        async with http.get(url, headers={"Origin": origin}) as response:
            text = await response.text()
            return response.status, text, response.headers.get("access-control-allow-origin")

    async with aiohttp.ClientSession() as http:
        status, text, _ = await handshake("https://evil.example")
        assert status == 400 and "not an accepted origin" in text and '"sid"' not in text
        status, text, allow = await handshake(server.base_url)
        assert status == 200 and '"sid"' in text and allow == server.base_url
        assert (await handshake("http://display.example"))[0] == 400
        server.settings.allowed_origins = "http://display.example"
        status, _, allow = await handshake("http://display.example")
        assert status == 200 and allow == "http://display.example"
