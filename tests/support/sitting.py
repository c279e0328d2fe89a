"""The chair with the sitting open, and events checked against their schema: helpers of the
realtime tests of several features (sitting, platform)."""

from __future__ import annotations

from typing import Any

from realtime.client import QuorumClient
from realtime.events import check_event
from tests.conftest import Running


async def opened(server: Running) -> tuple[QuorumClient, list[int]]:
    """The chair, joined, with the sitting open; and the agenda's item ids."""
    chair = await server.client("chair")
    view = await chair.join(server.meeting_id)
    if view.snapshot["meeting"]["status"] != "open":
        await chair.command("meeting.open", {"meeting_id": server.meeting_id})
    return chair, [int(i["id"]) for i in view.snapshot["agenda"]]


def checked(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for event in events:
        check_event(event)
    return events
