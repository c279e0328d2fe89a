"""Delivery of committed events to Socket.IO rooms (docs/PROTOCOL.md, "Rooms").

Implements the services' `EventPublisher` port. Every emit goes through the server's client
manager, so with Redis configured it reaches the clients of every worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import socketio

from meetings.domain.events import MeetingEventOut, UserEventOut, VolatileOut
from realtime import rooms


class SocketFanout:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def publish(
        self, meeting_events: Sequence[MeetingEventOut], user_events: Sequence[UserEventOut]
    ) -> None:
        for event in meeting_events:
            await self.sio.emit("event", event.wire(), room=rooms.meeting(event.meeting_id))
        for user_event in user_events:
            await self.sio.emit(
                "user_event",
                user_event.wire(),
                room=rooms.user(user_event.user_id),
                skip_sid=user_event.exclude_sid,
            )

    async def volatile(self, update: VolatileOut) -> None:
        body: dict[str, Any] = {
            "type": update.type,
            "meeting_id": update.meeting_id,
            "data": update.data,
        }
        await self.sio.emit("update", body, room=rooms.by_kind(update.room, update.meeting_id))
