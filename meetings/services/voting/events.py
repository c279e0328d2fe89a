"""The polls' events: each lifecycle step of a poll (docs/features/voting.md, "Wire format").

Ballots are not events: a vote's progress is a volatile `update` (`realtime/tally.py`).
"""

from __future__ import annotations

from typing import Any

from meetings.domain.events import EventData, MeetingEventData, Payload
from meetings.services.quorum import QuorumData


class PollData(Payload):
    """`poll_public`; `result` and `votes` only where the event says so."""

    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    description: str
    kind: str
    secret: bool
    spec: dict[str, Any]
    show_running: bool
    duration_s: int | None
    status: str
    opened_at: str | None
    closes_at: str | None
    closed_at: str | None
    published_at: str | None
    cancelled_at: str | None
    cancel_reason: str
    result: dict[str, Any] | None = None
    votes: list[dict[str, Any]] | None = None


class PollCreated(MeetingEventData):
    TYPE = "poll_created"
    WHEN = "a poll was created (draft)"
    poll: PollData


class PollOpened(MeetingEventData):
    TYPE = "poll_opened"
    WHEN = "the chair opened a poll; the quorum at that moment, server time"
    poll: PollData
    quorum: QuorumData
    server_time: str


class PollClosed(MeetingEventData):
    TYPE = "poll_closed"
    WHEN = "the chair (or the timer: `automatic`) closed a poll; no result: the chair checks it"
    poll: PollData
    voted: int
    automatic: bool


class PollPublished(MeetingEventData):
    TYPE = "poll_published"
    WHEN = "the result was published (with `votes` for open polls)"
    poll: PollData


class PollCancelled(MeetingEventData):
    TYPE = "poll_cancelled"
    WHEN = "a poll was cancelled (with `cancel_reason`); its ballots are not counted"
    poll: PollData


EVENTS: tuple[type[EventData], ...] = (
    PollCreated,
    PollOpened,
    PollClosed,
    PollPublished,
    PollCancelled,
)
