"""`quorum loadtest`'s client code against the bare python-socketio server of
`tests/bench/bare_sio_server.py`, so that bench_broadcast's comparison differs only in the server.

The bare server takes any token and answers `loadtest.broadcast` with one event shaped like
Quorum's; the product's `LoadRun` knows nothing of it.
"""

from __future__ import annotations

import socketio

from realtime.loadtest import Chair, LoadRun

BARE_MEETING_ID = 1


class BareChair(Chair):
    """Asks the bare server for one broadcast and answers its seq."""

    def __init__(self, url: str, meeting_id: int) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.url = url
        self.meeting_id = meeting_id

    async def start(self) -> None:
        await self.sio.connect(self.url, auth={"token": "chair"}, transports=["websocket"])

    async def fire(self) -> int:
        ack = await self.sio.call("loadtest.broadcast", {"meeting_id": self.meeting_id})
        return int(ack["seq"])

    async def stop(self) -> None:
        await self.sio.disconnect()


class BareLoadRun(LoadRun):
    """A `LoadRun` whose chair and delegates need no login: the bare server has no accounts."""

    async def prepare(self) -> list[str]:
        self.meeting_id = self.spec.meeting_id or BARE_MEETING_ID
        self.chair = BareChair(self.spec.url, self.meeting_id)
        return [f"bare-{i}" for i in range(self.spec.delegates)]
