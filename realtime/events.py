"""Meeting event payloads: schemas and the reference reducer (docs/PROTOCOL.md, "Events").

`EVENT_SCHEMAS` names every core event type with the pydantic model of its `data`; the tests
check every event the server sends against it, and docs/PROTOCOL.md is generated from it.
`apply_event` is the reference client-side reducer: snapshot + events in seq order equals a
fresh snapshot (the convergence test). Poll and annotation events are documented in
docs/VOTING.md and docs/ANNOTATIONS.md.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuorumData(Data):
    present: int
    total: int
    needed: int
    met: bool


class QuorumRuleData(Data):
    num: int
    den: int
    strict: bool


class MeetingData(Data):
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


class StatusChanged(Data):
    status: str
    opened_at: str | None
    closed_at: str | None


class ParticipantData(Data):
    user_id: int
    name: str
    username: str
    voting: bool
    attendance: str
    checked_in_at: str | None
    recorded_how: str


class ParticipantAdded(ParticipantData):
    quorum: QuorumData


class ParticipantRemoved(Data):
    user_id: int
    quorum: QuorumData


class AttendanceChanged(Data):
    user_id: int
    attendance: str
    checked_in_at: str | None
    recorded_how: str
    quorum: QuorumData


class ItemData(Data):
    id: int
    parent_id: int | None
    position: int
    number: str
    title: str
    description: str
    presenter: str
    duration_minutes: int | None
    status: str


class AgendaChanged(Data):
    items: list[ItemData]


class CurrentItemChanged(Data):
    item_id: int | None
    previous_item_id: int | None


class SpeakerData(Data):
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


class SpeakersChanged(Data):
    item_id: int
    speakers: list[SpeakerData]
    server_time: str


class DocumentEvent(Data):
    document_id: int
    document: dict[str, Any] | None = None
    restricted: bool | None = None


class DocumentRemoved(Data):
    document_id: int


EVENT_SCHEMAS: dict[str, tuple[type[Data], str]] = {
    "meeting_created": (MeetingData, "the meeting was created (all its public fields)"),
    "meeting_updated": (MeetingData, "title, place, time or quorum rule changed"),
    "meeting_status_changed": (StatusChanged, "published, opened, closed, archived …"),
    "participant_added": (ParticipantAdded, "a member was invited; the new quorum"),
    "participant_removed": (ParticipantRemoved, "an invitation was withdrawn; the new quorum"),
    "attendance_changed": (AttendanceChanged, "a check-in or the secretariat's record"),
    "agenda_changed": (AgendaChanged, "the whole numbered agenda after any change"),
    "current_item_changed": (
        CurrentItemChanged,
        "the chair moved the sitting to an item; the previous item is now done",
    ),
    "speakers_changed": (SpeakersChanged, "one item's whole speakers list, server time"),
    "document_added": (DocumentEvent, "a document; restricted ones are only named"),
    "document_version_added": (DocumentEvent, "a new version of a document"),
    "document_updated": (DocumentEvent, "title, item or visibility changed"),
    "document_removed": (DocumentRemoved, "a document was withdrawn"),
}


def check_event(event: dict[str, Any]) -> None:
    """Raise ValueError/ValidationError unless `event` matches the envelope and its schema."""
    if set(event) != {"seq", "type", "meeting_id", "at", "data"}:
        raise ValueError(f"bad envelope: {sorted(event)}")
    schema = EVENT_SCHEMAS.get(event["type"])
    if schema is None:
        raise ValueError(f"unknown event type {event['type']!r}")
    schema[0].model_validate(event["data"])


def _speaker_key(s: dict[str, Any]) -> tuple[int, int, int]:
    return (int(s["item_id"]), int(s["position"]), int(s["id"]))


def apply_event(snapshot: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The snapshot after `event` (the next seq). Unknown types only advance `seq`."""
    snap = copy.deepcopy(snapshot)
    kind, data = event["type"], event["data"]
    meeting = snap["meeting"]
    if kind in ("meeting_created", "meeting_updated"):
        snap["meeting"] = dict(data)
    elif kind == "meeting_status_changed":
        meeting.update(data)
    elif kind == "current_item_changed":
        meeting["current_item_id"] = data["item_id"]
        for item in snap["agenda"]:  # the previous item is done, the new one current
            if item["id"] == data["previous_item_id"]:
                item["status"] = "done"
            if item["id"] == data["item_id"]:
                item["status"] = "current"
    elif kind == "agenda_changed":
        snap["agenda"] = data["items"]
    elif kind == "speakers_changed":
        others = [s for s in snap["speakers"] if s["item_id"] != data["item_id"]]
        snap["speakers"] = sorted(others + data["speakers"], key=_speaker_key)
    elif kind in ("attendance_changed", "participant_added", "participant_removed"):
        snap["quorum"] = data["quorum"]
        row = {k: v for k, v in data.items() if k != "quorum"}
        if "participants" in snap:
            rows = [p for p in snap["participants"] if p["user_id"] != data["user_id"]]
            old: dict[str, Any] = next(
                (p for p in snap["participants"] if p["user_id"] == data["user_id"]), {}
            )
            if kind != "participant_removed":
                rows.append(old | row)
            snap["participants"] = sorted(rows, key=lambda p: p["name"])
        elif snap.get("me") and snap["me"]["user_id"] == data["user_id"]:
            snap["me"] = None if kind == "participant_removed" else snap["me"] | row
    elif kind == "document_removed":
        snap["documents"] = [d for d in snap["documents"] if d["id"] != data["document_id"]]
    elif kind.startswith("document_") and data.get("document"):
        docs = [d for d in snap["documents"] if d["id"] != data["document_id"]]
        snap["documents"] = sorted([*docs, data["document"]], key=lambda d: d["id"])
    snap["seq"] = event["seq"]
    snap["meeting"]["seq"] = event["seq"]
    return snap
