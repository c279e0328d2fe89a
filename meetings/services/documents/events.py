"""The documents' events: added, a new version, changed, withdrawn (docs/features/documents.md).

A restricted or confidential document is only named (`restricted: true`), since a meeting
event reaches every member: the clients that may read it refetch the document list.
"""

from __future__ import annotations

from typing import Any

from meetings.domain.events import EventData, MeetingEventData


class DocumentEvent(MeetingEventData):
    document_id: int
    document: dict[str, Any] | None = None
    restricted: bool | None = None


class DocumentAdded(DocumentEvent):
    TYPE = "document_added"
    WHEN = "a document; restricted ones are only named"


class DocumentVersionAdded(DocumentEvent):
    TYPE = "document_version_added"
    WHEN = "a new version of a document"


class DocumentUpdated(DocumentEvent):
    TYPE = "document_updated"
    WHEN = "title, item or visibility changed"


class DocumentRemoved(MeetingEventData):
    TYPE = "document_removed"
    WHEN = "a document was withdrawn"
    document_id: int


EVENTS: tuple[type[EventData], ...] = (
    DocumentAdded,
    DocumentVersionAdded,
    DocumentUpdated,
    DocumentRemoved,
)
