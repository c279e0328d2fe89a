"""Ports the services publish through (docs/ARCHITECTURE.md, "Fan-out port").

`realtime.fanout` implements `EventPublisher`; services never import `realtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from meetings.domain.events import MeetingEventOut, UserEventOut, VolatileOut


class EventPublisher(Protocol):
    async def publish(
        self, meeting_events: Sequence[MeetingEventOut], user_events: Sequence[UserEventOut]
    ) -> None:
        """Deliver committed events to their rooms. Called only after commit."""

    async def volatile(self, update: VolatileOut) -> None:
        """Deliver an update that is not stored (coalesced vote progress)."""


class NullPublisher:
    """For the CLI and tests without a realtime server: events are stored, nobody is told."""

    async def publish(
        self, meeting_events: Sequence[MeetingEventOut], user_events: Sequence[UserEventOut]
    ) -> None:
        return None

    async def volatile(self, update: VolatileOut) -> None:
        return None
