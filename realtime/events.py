"""Meeting event payloads: schemas and the reference reducer (docs/PROTOCOL.md, "Events").

`EVENT_SCHEMAS` names every stored event type with the model of its `data`, from the catalogue
(`meetings/services/events.py`); the tests check every event the server sends against it.
`apply_event` is the reference client-side reducer of the core events: snapshot + events in
seq order equals a fresh snapshot (the convergence test).
"""

from __future__ import annotations

import copy
from typing import Any

from meetings.domain.events import MeetingEventData
from meetings.services.events import meeting_events

EVENT_SCHEMAS: dict[str, type[MeetingEventData]] = meeting_events()


def check_event(event: dict[str, Any]) -> None:
    """Raise ValueError/ValidationError unless `event` matches the envelope and its schema."""
    if set(event) != {"seq", "type", "meeting_id", "at", "data"}:
        raise ValueError(f"bad envelope: {sorted(event)}")
    schema = EVENT_SCHEMAS.get(event["type"])
    if schema is None:
        raise ValueError(f"unknown event type {event['type']!r}")
    if schema.model_validate(event["data"]).wire() != event["data"]:
        raise ValueError(f"{event['type']} data does not round-trip through its model")


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

