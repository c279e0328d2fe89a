"""Events: what changed, as clients receive it (docs/PROTOCOL.md, "Events").

A meeting event has a per-meeting `seq` and is stored in the same transaction as the change.
A user event (annotation sync) goes to one user's devices and carries its own cursor.
A volatile update (coalesced vote progress) is not stored: the next stored event supersedes it.

Every stored and user event's `data` is a model (`MeetingEventData`, `UserEventData`) that
knows its wire type name; each feature keeps its models next to the service that emits them
(`meetings/services/<feature>/events.py`), and `meetings/services/events.py` gathers them into
the catalogue the docs' tables and the reference reducer are built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """A part of an event's `data`: an unknown key is refused, so the model names every field."""

    model_config = ConfigDict(extra="forbid")


class EventData(Payload):
    """The `data` of one wire event type: `TYPE` is its name, `WHEN` the docs' "when" column."""

    TYPE: ClassVar[str]
    WHEN: ClassVar[str]

    def wire(self) -> dict[str, Any]:
        """The `data` as sent and stored: JSON types, and an optional field that was not given
        stays absent (a restricted document's event has no `document` key, not a null one)."""
        return self.model_dump(mode="json", exclude_unset=True)


class MeetingEventData(EventData):
    """Stored in the meeting's log with the next `seq`; sent to everyone who joined it."""


class UserEventData(EventData):
    """Sent to one user's devices after the commit; not in any meeting's log."""


def iso(at: datetime | None) -> str | None:
    """A datetime → ISO 8601 in UTC with Z (the wire format of every time); naive is UTC."""
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True)
class MeetingEventOut:
    meeting_id: int
    seq: int
    type: str
    at: datetime
    data: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "meeting_id": self.meeting_id,
            "at": iso(self.at),
            "data": self.data,
        }


@dataclass(frozen=True)
class UserEventOut:
    user_id: int
    type: str
    at: datetime
    data: dict[str, Any]
    exclude_sid: str | None = None

    def wire(self) -> dict[str, Any]:
        return {"type": self.type, "at": iso(self.at), "data": self.data}


@dataclass(frozen=True)
class VolatileOut:
    """Not stored; `room` is `meeting`, `chair` or `display` of `meeting_id`."""

    meeting_id: int
    type: str
    data: dict[str, Any]
    room: str = "meeting"
    extra: dict[str, Any] = field(default_factory=dict)
