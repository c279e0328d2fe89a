"""Engine.IO sockets whose writer waits for its next packet without a task per packet
(docs/performance-journal.md, "Realtime: connections and broadcast").

Every connection has a writer task that takes packets from the socket's queue and writes them to
the WebSocket. The library's `AsyncSocket.poll` waits with `asyncio.wait_for(queue.get(),
timeout)`, which wraps the `get` in a new task and arms and cancels a timer for every wake-up:
with one packet per wake-up, as a broadcast gives each socket, that is two tasks, a timer and
four turns of the event loop per packet sent. Here the writer awaits the queue itself. Over
WebSocket it arms no timer at all: the library's reader already waits at most the ping interval
plus the ping timeout for the client's next message (its pong, if nothing else), then ends the
connection and puts the closing marker that ends the writer, so the writer's own limit never
fired first; the timer it armed and cancelled for every packet was 4 % of the event loop's
samples in the province benchmark (docs/performance-journal.md, "A province on one server"), and
a client gone silent is still closed in that time (`tests/integration/platform/test_engine.py`).
A long-polling request still waits under `asyncio.timeout` with the library's limit (no packet
within the ping interval plus the ping timeout ends it, and the socket closes): one timer, no
task. The queue's part of a packet's way fell from 16–17 to 10–11 µs (2,000 sockets, 40
broadcasts, in one process), and a worker's CPU per broadcast to 2,000 clients from 77–102 ms to
78–81 ms, that is from 1.0–1.13 to 0.83–0.96 times the bare stack's in the same run
(docs/performance-journal.md, "Realtime: connections and broadcast").

A long-polling response carries at most `POLLING_BATCH` packets: python-engineio's client
(`realtime/client.py`, the load tests, a third party's script) refuses a payload of more than
16 and drops the connection, so a burst of broadcasts cut polling clients off; the rest go with
the next poll, at once. Over WebSocket each packet is its own frame and nothing is held back.

`send` puts the packet on the queue directly: the queue is unbounded, so the library's awaited
`put` never waits, and its per-packet log line is off in Quorum (`engineio_logger=False`).

The engine adopts each socket as it connects (`QuorumEngine._trigger_event`): the library
builds its sockets inside `_handle_connect` and offers no factory, and a `QuorumSocket` is an
`AsyncSocket` with three methods replaced (`poll`, `send`, `close`), so changing the class of
the new object is safe.
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import socketio
from engineio import async_socket, exceptions

POLLING_BATCH = 16
"""Packets in one long-polling response: python-engineio's client decodes at most 16."""


class QuorumSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    async def poll(self) -> list[Any]:
        """The packets waiting, at least one (at most `POLLING_BATCH` for a long-polling
        client); [] once the socket is closing (the library's `None` marker, left in the queue
        for the next poll); `QueueEmpty` if the writer was cancelled, or if a long-polling
        request got none within the ping interval and timeout (over WebSocket there is no
        timer: module docstring)."""
        queue = self.queue
        if queue.empty():
            try:
                if self.upgraded:  # the reader ends a silent WebSocket and wakes the writer
                    first = await queue.get()
                else:
                    async with asyncio.timeout(
                        self.server.ping_interval + self.server.ping_timeout
                    ):
                        first = await queue.get()
            except (TimeoutError, asyncio.CancelledError):
                raise exceptions.QueueEmpty() from None
        else:
            first = queue.get_nowait()
        queue.task_done()
        if first is None:
            return []
        packets = [first]
        limit = None if self.upgraded else POLLING_BATCH
        while not queue.empty() and (limit is None or len(packets) < limit):
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        """The library's close; a long-polling request still waiting for packets is then
        answered at once (the marker that ends a writer), not when its wait runs out: a
        Python client's `disconnect` waited 30 s for it."""
        closing = self.closing or self.closed
        await super().close(wait=wait, abort=abort, reason=reason)
        if not closing and not self.upgraded:
            self.queue.put_nowait(None)

    async def send(self, pkt: Any) -> None:
        """Queue `pkt` for the writer, unless the client stopped answering pings (then the
        socket is closed, as the library does)."""
        if await self.check_ping_timeout():
            self.queue.put_nowait(pkt)


class QuorumEngine(engineio.AsyncServer):  # type: ignore[misc]
    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect":
            sock = self.sockets.get(args[0])
            if type(sock) is async_socket.AsyncSocket:
                sock.__class__ = QuorumSocket
        return await super()._trigger_event(event, *args, **kwargs)


class QuorumServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server over `QuorumEngine`."""

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return QuorumEngine
