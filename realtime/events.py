"""Meeting event payloads: schemas and the reference reducers (docs/PROTOCOL.md, "Events").

`EVENT_SCHEMAS` names every stored event type with the model of its `data`, from the catalogue
(`meetings/services/events.py`); the tests check every event the server sends against it.
`apply_event` is the reference client-side reducer of a meeting's state: snapshot + events in
seq order equals a fresh snapshot (the convergence tests), with `apply_poll` and
`apply_ballot_ack` for the poll objects a client gets in acks and refetches. A meeting state
holds no annotations (they are per user; docs/features/annotations.md, "What a client holds"):
`apply_user_event` is the reducer of one user's annotation store.
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
    elif kind.startswith("poll_"):
        _apply_poll_event(snap, kind, data)
    elif kind in ("annotation_shared", "annotation_unshared"):
        pass  # a meeting state holds no annotations: a viewer of the document applies them
    elif kind == "document_removed":
        snap["documents"] = [d for d in snap["documents"] if d["id"] != data["document_id"]]
    elif kind.startswith("document_") and data.get("document"):
        docs = [d for d in snap["documents"] if d["id"] != data["document_id"]]
        snap["documents"] = sorted([*docs, data["document"]], key=lambda d: d["id"])
    snap["seq"] = event["seq"]
    snap["meeting"]["seq"] = event["seq"]
    return snap


# --- polls: as `meetings/services/voting/polls.py` shows them in a snapshot (`view_for`) ---

POLL_ORDER = ("draft", "open", "closed", "published")


def _poll_rank(status: str) -> int:
    return len(POLL_ORDER) if status == "cancelled" else POLL_ORDER.index(status)


def _old_poll(snap: dict[str, Any], poll_id: int) -> dict[str, Any]:
    return next((p for p in snap.get("polls", []) if p["id"] == poll_id), {})


def _set_poll(snap: dict[str, Any], poll: dict[str, Any]) -> None:
    polls = [p for p in snap.get("polls", []) if p["id"] != poll["id"]]
    snap["polls"] = sorted([*polls, poll], key=lambda p: int(p["id"]))


def _cancel_poll(snap: dict[str, Any], poll: dict[str, Any]) -> None:
    """A cancelled poll is not counted: no `voted`, no result, no entry in `my_ballots`."""
    _set_poll(snap, {k: v for k, v in poll.items() if k not in ("voted", "result", "votes")})
    snap.get("my_ballots", {}).pop(str(poll["id"]), None)


def _apply_poll_event(snap: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
    poll = dict(data["poll"])
    old = _old_poll(snap, poll["id"])
    if kind == "poll_opened":  # a fresh snapshot counts the ballots of an open poll: none yet
        _set_poll(snap, poll | {"voted": 0})
        snap["quorum"] = data["quorum"]
    elif kind == "poll_closed":
        # no result in the event: a member sees it from publication; staff from the close
        # (the `poll.close` ack or a refetch, merged by `apply_poll`): keep one merged already
        known = {k: old[k] for k in ("result", "votes") if k in old and old["status"] == "closed"}
        _set_poll(snap, poll | known | {"voted": data["voted"]})
    elif kind == "poll_published":  # no `voted`: the count stopped at the close
        voted = poll.get("voted", old.get("voted", (poll.get("result") or {}).get("ballots")))
        _set_poll(snap, poll if voted is None else poll | {"voted": voted})
    elif kind == "poll_cancelled":
        _cancel_poll(snap, poll)
    else:
        _set_poll(snap, poll)


def apply_poll(snapshot: dict[str, Any], poll: dict[str, Any]) -> dict[str, Any]:
    """The snapshot after a poll object from an ack (`poll.close` carries the result for the
    chair) or `GET /api/polls/{id}`: merged unless it is older than what the snapshot shows."""
    snap = copy.deepcopy(snapshot)
    old = _old_poll(snap, poll["id"])
    if old and _poll_rank(poll["status"]) < _poll_rank(old["status"]):
        return snap
    if old and _poll_rank(poll["status"]) == _poll_rank(old["status"]):
        if old["status"] != poll["status"]:
            return snap
    merged = old | poll
    if merged["status"] == "cancelled":
        _cancel_poll(snap, merged)
    else:
        _set_poll(snap, merged)
    return snap


def apply_ballot_ack(snapshot: dict[str, Any], ack: dict[str, Any]) -> dict[str, Any]:
    """The snapshot after the caller's own `ballot.cast` ack, as `my_ballots` would show it:
    `{voted, choice}` for open polls, `{voted}` for secret ones (the receipt stays on the
    device)."""
    snap = copy.deepcopy(snapshot)
    secret = ack.get("secret") or "choice" not in ack
    ballot = {"voted": True} if secret else {"voted": True, "choice": ack["choice"]}
    snap.setdefault("my_ballots", {})[str(ack["poll_id"])] = ballot
    return snap


# --- one user's annotations (user events; docs/features/annotations.md, "What a client holds") ---


def annotation_store(annotations: list[dict[str, Any]], cursor: int) -> dict[str, Any]:
    """A device's annotations from `annotation.sync` pages: every annotation by id (tombstones
    included) and the highest cursor applied."""
    return {"annotations": {a["id"]: a for a in annotations}, "cursor": cursor}


def apply_user_event(store: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The store after one `user_event`. `annotations_carried` with `more` (over 200 carried)
    is a hint, not the whole change: the device then calls `annotation.sync` from its cursor.
    Other user events (`invitation`) leave the store as it is."""
    out = copy.deepcopy(store)
    kind, data = event["type"], event["data"]
    if kind == "annotation_changed":
        changed = [data["annotation"]]
    elif kind == "annotations_carried":
        changed = data["annotations"]
    else:
        return out
    for annotation in changed:
        out["annotations"][annotation["id"]] = annotation
    out["cursor"] = max(out["cursor"], int(data["cursor"]))
    return out
