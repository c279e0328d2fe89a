"""The archive's events: a resolution's and the minutes' way to a signed, archived record
(docs/features/archive.md)."""

from __future__ import annotations

from typing import Any

from meetings.domain.events import EventData, MeetingEventData, Payload


class ResolutionData(Payload):
    """`resolution_public`."""

    id: int
    council_id: int
    meeting_id: int
    agenda_item_id: int | None
    poll_id: int | None
    title: str
    status: str
    number: str
    label: str
    draft_sha256: str
    generated_sha256: str | None
    signed_sha256: str | None
    signatures: list[Any]
    public: bool
    created_at: str | None
    generated_at: str | None
    signed_at: str | None


class MinutesData(Payload):
    """`minutes_public`."""

    id: int
    meeting_id: int
    council_id: int
    status: str
    generated_sha256: str
    signed_sha256: str | None
    audit_head_hash: str
    signatures: list[Any]
    created_at: str | None
    signed_at: str | None


class ArchiveRecordData(Payload):
    """`record_public`."""

    id: int
    kind: str
    source_id: int
    council_id: int
    council: str
    meeting_id: int
    number: str
    label: str
    title: str
    date: str
    sha256: str
    size: int
    signatures: list[Any]
    archived_at: str | None
    audit_hash: str
    public: bool
    published_at: str | None


class ResolutionDrafted(ResolutionData, MeetingEventData):
    TYPE = "resolution_drafted"
    WHEN = "the secretariat uploaded a resolution's draft"


class ResolutionChanged(ResolutionData, MeetingEventData):
    TYPE = "resolution_changed"
    WHEN = "a draft's title, poll, item or `public` changed (it is a draft again)"


class ResolutionGenerated(ResolutionData, MeetingEventData):
    TYPE = "resolution_generated"
    WHEN = "the resolution was numbered and its PDF built"


class ResolutionSigned(ResolutionData, MeetingEventData):
    TYPE = "resolution_signed"
    WHEN = "the chair signed the resolution"


class ResolutionArchived(ResolutionData, MeetingEventData):
    TYPE = "resolution_archived"
    WHEN = "the signed resolution was archived (`archive`: the record)"
    archive: ArchiveRecordData


class MinutesGenerated(MinutesData, MeetingEventData):
    TYPE = "minutes_generated"
    WHEN = "the minutes were rendered from the log up to `last_seq`"
    last_seq: int


class MinutesSigned(MinutesData, MeetingEventData):
    TYPE = "minutes_signed"
    WHEN = "the chair signed the minutes"


class MinutesArchived(MinutesData, MeetingEventData):
    TYPE = "minutes_archived"
    WHEN = "the signed minutes were archived (`archive`: the record)"
    archive: ArchiveRecordData


class ArchivePublished(ArchiveRecordData, MeetingEventData):
    TYPE = "archive_published"
    WHEN = "an archived record was published"


SIGNED: dict[str, type[ResolutionSigned] | type[MinutesSigned]] = {
    "resolution": ResolutionSigned,
    "minutes": MinutesSigned,
}
ARCHIVED: dict[str, type[ResolutionArchived] | type[MinutesArchived]] = {
    "resolution": ResolutionArchived,
    "minutes": MinutesArchived,
}

EVENTS: tuple[type[EventData], ...] = (
    ResolutionDrafted,
    ResolutionChanged,
    ResolutionGenerated,
    ResolutionSigned,
    ResolutionArchived,
    MinutesGenerated,
    MinutesSigned,
    MinutesArchived,
    ArchivePublished,
)
