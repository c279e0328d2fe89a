"""The annotations' events (docs/features/annotations.md, "Sync").

A change reaches its owner's other devices as a user event with the owner's cursor; a shared
annotation also reaches the meeting as a stored event. A restricted document's annotation is
only named there: those who may read the document refetch.
"""

from __future__ import annotations

from typing import Any

from meetings.domain.events import EventData, MeetingEventData, UserEventData


class AnnotationShared(MeetingEventData):
    TYPE = "annotation_shared"
    WHEN = "an annotation was shared or a shared one changed; restricted documents: ids only"
    annotation_id: str
    document_id: int
    annotation: dict[str, Any] | None = None
    restricted: bool | None = None


class AnnotationUnshared(MeetingEventData):
    TYPE = "annotation_unshared"
    WHEN = "a shared annotation was made private or deleted"
    annotation_id: str
    document_id: int


class AnnotationChanged(UserEventData):
    TYPE = "annotation_changed"
    WHEN = "to the owner's other devices: an annotation changed (the sender has the ack)"
    annotation: dict[str, Any]
    cursor: int


class AnnotationsCarried(UserEventData):
    TYPE = "annotations_carried"
    WHEN = "to the owner: their annotations were carried to a new document version"
    document_id: int
    document_version_id: int
    cursor: int
    orphaned: list[str]
    annotations: list[dict[str, Any]]
    more: bool


EVENTS: tuple[type[EventData], ...] = (
    AnnotationShared,
    AnnotationUnshared,
    AnnotationChanged,
    AnnotationsCarried,
)
