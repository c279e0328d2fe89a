"""Socket.IO client managers whose room emits hand packets to the sockets directly
(docs/performance-journal.md, "Realtime: connections and broadcast").

python-socketio's `AsyncManager.emit` encodes a room emit once, then creates one asyncio task
per recipient and waits for all of them. Each task only puts the packet on that socket's
unbounded queue (its writer task does the sending), so the tasks buy no concurrency: they are
pure overhead, paid 500 times per vote-progress update and 2,000 times per agenda move. Here the
packets are queued in a plain loop. Emits with an ack callback (unique per recipient) and
single-client emits keep the library's path. The Redis variant inherits this through its MRO:
`AsyncPubSubManager` delivers messages from Redis with `super().emit`, which lands here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger("quorum.fanout")

SIGNALS = "/quorum-signals"
"""Pseudo-namespace of `signal` messages: never a client namespace, so nothing is sent."""

SignalHandler = Callable[[Any], Awaitable[None] | None]


class DirectEmitManager(socketio.AsyncManager):  # type: ignore[misc]
    """Also keeps, for each connection, the rooms it is in (`_rooms_of`): the library finds a
    leaving socket's rooms by testing every room of the namespace, and a province's 3,000
    tablets are in 3,000 user rooms and 200 sitting rooms, so each disconnect cost 3,300
    lookups and 3,000 tablets leaving (a Wi-Fi drop, the end of a morning) cost ten million
    (docs/performance-journal.md, "A province on one server")."""

    signal_handlers: dict[str, SignalHandler]
    _rooms_of: dict[tuple[str, str], set[Any]]

    def _index(self) -> dict[tuple[str, str], set[Any]]:
        if not hasattr(self, "_rooms_of"):
            self._rooms_of = {}
        return self._rooms_of

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._index().setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._index().get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        """The rooms a client is in (the library's scans every room)."""
        return [r for r in self._index().get((namespace, sid), ()) if r is not None]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The library's `basic_disconnect`, leaving only the rooms the client is in."""
        if namespace not in self.rooms:
            return
        for room in list(self._index().get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self._rooms_of.pop((namespace, sid), None)
        if sid in self.callbacks:
            del self.callbacks[sid]
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def on_signal(self, name: str, handler: SignalHandler) -> None:
        """Run `handler(data)` on every worker when any worker sends `signal(name, data)`."""
        if not hasattr(self, "signal_handlers"):
            self.signal_handlers = {}
        self.signal_handlers[name] = handler

    async def signal(self, name: str, data: Any) -> None:
        """A small message for the workers themselves (no client sees it). One process: the
        handler runs here; with Redis, `DirectEmitRedisManager` publishes it to all."""
        await self._run_signal(name, data)

    async def _run_signal(self, name: str, data: Any) -> None:
        handler = getattr(self, "signal_handlers", {}).get(name)
        if handler is None:
            return
        try:
            outcome = handler(data)
            if outcome is not None:
                await outcome
        except Exception:  # one worker's handler failing must not stop the listener
            log.exception("signal %s failed", name)

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        send = self.server.eio.send_packet
        # get_participants iterates over a copy: sockets may come and go while we send
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            for frame in frames:
                try:
                    await send(eio_sid, frame)
                except Exception:  # a socket closing meanwhile; the others still get it
                    log.debug("could not queue a packet for %s", sid, exc_info=True)


class Unparsable:
    """The payload of a command whose JSON could not be decoded (nested past what the parser
    allows, or malformed): the namespace answers it with an `invalid_payload` error ack."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _event_name(encoded: str) -> str:
    """The command name at the start of an event packet's JSON array, if it can be read."""
    start = encoded.find("[")
    try:
        name, _ = json.JSONDecoder().raw_decode(encoded, start + 1)
    except (ValueError, RecursionError):
        return ""
    return name if isinstance(name, str) and start >= 0 else ""


class JsonPacket(packet.Packet):  # type: ignore[misc]
    """A Socket.IO packet that is assumed to be JSON until encoding proves otherwise.

    The library's packet checks every payload for bytes when it is built, with a recursive
    walk that builds a list at every level; for a 2,000-member join that walk over every
    snapshot was as costly as encoding it. Quorum sends JSON only, so the check is skipped; if
    a payload does hold bytes, `json.dumps` fails on it and the packet is encoded as binary
    then, as the library would have.

    Incoming packets decode as before, except that an event whose JSON cannot be decoded
    (thousands of nested arrays make the parser raise `RecursionError`) still reaches the
    namespace, as its command name and an `Unparsable` payload, so the client gets an error
    ack; the library would log a traceback for each such packet and never answer. A connect
    packet whose auth cannot be decoded connects without auth (and is refused).
    """

    def __init__(
        self,
        packet_type: int = packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,
        binary: bool | None = None,
        encoded_packet: Any = None,
    ) -> None:
        super().__init__(
            packet_type, data, namespace, id,
            binary=bool(binary), encoded_packet=encoded_packet,
        )  # fmt: skip

    def decode(self, encoded_packet: Any) -> int:
        try:
            return int(super().decode(encoded_packet))
        except (ValueError, RecursionError) as exc:
            data: Any = getattr(self, "data", None)
            if not isinstance(encoded_packet, str) or data is not None:
                raise
            if self.packet_type == packet.EVENT:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else "not JSON"
                self.data = [_event_name(encoded_packet), Unparsable(reason)]
                return 0
            if self.packet_type == packet.CONNECT:
                return 0
            raise

    def encode(self) -> Any:
        try:
            return super().encode()
        except TypeError:
            if self.packet_type not in (packet.EVENT, packet.ACK) or not self.data_is_binary(
                self.data
            ):
                raise
            self.packet_type += packet.BINARY_EVENT - packet.EVENT
            return super().encode()


class DirectEmitRedisManager(socketio.AsyncRedisManager, DirectEmitManager):  # type: ignore[misc]
    """Publishes through Redis like `AsyncRedisManager`; delivers locally like the above.

    Signals ride the same channel as emits, addressed to the `SIGNALS` pseudo-namespace: the
    library publishes the message, handles it at once in this worker and, in every other
    worker, when it arrives from Redis; `_handle_emit` hands those to the signal handlers
    instead of delivering them to sockets."""

    async def signal(self, name: str, data: Any) -> None:
        await self.emit(name, data, namespace=SIGNALS)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("namespace") == SIGNALS:
            data = message.get("data")  # the library wraps the payload in a list
            await self._run_signal(
                str(message.get("event")), data[0] if isinstance(data, list) and data else data
            )
            return
        await super()._handle_emit(message)
