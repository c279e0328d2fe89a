"""The catalogue of events: every stored and user event type, by feature.

Each feature keeps the models of the events it emits next to its services
(`meetings/services/<feature>/events.py`); this module only gathers them. The protocol tables
of docs/PROTOCOL.md, docs/features/voting.md, docs/features/annotations.md and
docs/features/archive.md are generated from it (`realtime/protocol_doc.py`), and the tests
check every event a server sends against it.
"""

from __future__ import annotations

from meetings.domain.events import EventData, MeetingEventData, UserEventData
from meetings.services.annotations import events as annotation_events
from meetings.services.archive import events as archive_events
from meetings.services.documents import events as document_events
from meetings.services.sitting import events as sitting_events
from meetings.services.voting import events as voting_events

FEATURES: dict[str, tuple[type[EventData], ...]] = {
    "sitting": sitting_events.EVENTS,
    "documents": document_events.EVENTS,
    "voting": voting_events.EVENTS,
    "annotations": annotation_events.EVENTS,
    "archive": archive_events.EVENTS,
}

CATALOGUE: dict[str, type[EventData]] = {
    model.TYPE: model for models in FEATURES.values() for model in models
}


def meeting_events() -> dict[str, type[MeetingEventData]]:
    """Every stored event type (with a `seq`), by wire name."""
    return {k: m for k, m in CATALOGUE.items() if issubclass(m, MeetingEventData)}


def user_events() -> dict[str, type[UserEventData]]:
    """Every user event type (`user_event`, to one user's devices), by wire name."""
    return {k: m for k, m in CATALOGUE.items() if issubclass(m, UserEventData)}
