"""The sitting's events: the meeting, its roster and attendance, the agenda, the speakers.

Each model is the `data` of one wire type (docs/PROTOCOL.md, "Events"); the services of
this package emit them (`uow.emit(meeting_id, MeetingUpdated(...))`).
"""

from __future__ import annotations

from meetings.domain.events import EventData, MeetingEventData, Payload, UserEventData
from meetings.services.quorum import QuorumData


class QuorumRuleData(Payload):
    num: int
    den: int
    strict: bool


class MeetingData(Payload):
    id: int
    council_id: int
    title: str
    session_name: str
    location: str
    starts_at: str | None
    status: str
    current_item_id: int | None
    seq: int
    quorum_rule: QuorumRuleData
    opened_at: str | None
    closed_at: str | None


class MeetingCreated(MeetingData, MeetingEventData):
    TYPE = "meeting_created"
    WHEN = "the meeting was created (all its public fields)"


class MeetingUpdated(MeetingData, MeetingEventData):
    TYPE = "meeting_updated"
    WHEN = "title, place, time or quorum rule changed"


class MeetingStatusChanged(MeetingEventData):
    TYPE = "meeting_status_changed"
    WHEN = "published, opened, closed, archived …"
    status: str
    opened_at: str | None
    closed_at: str | None


class ParticipantData(Payload):
    user_id: int
    name: str
    username: str
    voting: bool
    attendance: str
    checked_in_at: str | None
    recorded_how: str


class ParticipantAdded(ParticipantData, MeetingEventData):
    TYPE = "participant_added"
    WHEN = "a member was invited; the new quorum"
    quorum: QuorumData


class ParticipantRemoved(MeetingEventData):
    TYPE = "participant_removed"
    WHEN = "an invitation was withdrawn; the new quorum"
    user_id: int
    quorum: QuorumData


class AttendanceChanged(MeetingEventData):
    TYPE = "attendance_changed"
    WHEN = "a check-in or the secretariat's record"
    user_id: int
    attendance: str
    checked_in_at: str | None
    recorded_how: str
    quorum: QuorumData


class ItemData(Payload):
    id: int
    parent_id: int | None
    position: int
    number: str
    title: str
    description: str
    presenter: str
    duration_minutes: int | None
    status: str


class AgendaChanged(MeetingEventData):
    TYPE = "agenda_changed"
    WHEN = "the whole numbered agenda after any change"
    items: list[ItemData]


class CurrentItemChanged(MeetingEventData):
    TYPE = "current_item_changed"
    WHEN = "the chair moved the sitting to an item; the previous item is now done"
    item_id: int | None
    previous_item_id: int | None


class SpeakerData(Payload):
    id: int
    item_id: int
    user_id: int
    name: str
    status: str
    position: int
    requested_at: str | None
    started_at: str | None
    stopped_at: str | None
    time_limit_s: int | None


class SpeakersChanged(MeetingEventData):
    TYPE = "speakers_changed"
    WHEN = "one item's whole speakers list, server time"
    item_id: int
    speakers: list[SpeakerData]
    server_time: str


class Invitation(UserEventData):
    TYPE = "invitation"
    WHEN = "the secretariat sent the invitations of a published meeting"
    meeting: MeetingData


EVENTS: tuple[type[EventData], ...] = (
    MeetingCreated,
    MeetingUpdated,
    MeetingStatusChanged,
    ParticipantAdded,
    ParticipantRemoved,
    AttendanceChanged,
    AgendaChanged,
    CurrentItemChanged,
    SpeakersChanged,
    Invitation,
)
