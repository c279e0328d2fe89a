"""Core vocabulary of councils and sittings (docs/features/accounts.md, "Roles";
docs/features/sitting.md, "Meetings", "Agenda").

Pure enums and state machines. The storage layer keeps these values in its columns; services
ask these functions whether a change is allowed.
"""

from __future__ import annotations

from enum import StrEnum

from meetings.domain.errors import Conflict


class Role(StrEnum):
    """A user's role in one council. `admin` is global and lives on the user."""

    secretary = "secretary"
    chair = "chair"
    delegate = "delegate"
    display = "display"


VOTING_ROLES = frozenset({Role.chair, Role.delegate})
STAFF_ROLES = frozenset({Role.secretary, Role.chair})


class MeetingStatus(StrEnum):
    draft = "draft"
    published = "published"
    open = "open"
    closed = "closed"
    archived = "archived"


MEETING_TRANSITIONS: dict[str, tuple[MeetingStatus, frozenset[MeetingStatus]]] = {
    # action: (target, allowed sources)
    "publish": (MeetingStatus.published, frozenset({MeetingStatus.draft})),
    "unpublish": (MeetingStatus.draft, frozenset({MeetingStatus.published})),
    "open": (MeetingStatus.open, frozenset({MeetingStatus.published})),
    "close": (MeetingStatus.closed, frozenset({MeetingStatus.open})),
    "reopen": (MeetingStatus.open, frozenset({MeetingStatus.closed})),
    "archive": (MeetingStatus.archived, frozenset({MeetingStatus.closed})),
}


def meeting_transition(current: str, action: str) -> MeetingStatus:
    """The status after `action`, or Conflict naming what is allowed from `current`."""
    if action not in MEETING_TRANSITIONS:
        raise Conflict(f"unknown meeting action {action!r}", code="illegal_transition")
    target, sources = MEETING_TRANSITIONS[action]
    if MeetingStatus(current) not in sources:
        allowed = sorted(a for a, (_, src) in MEETING_TRANSITIONS.items() if current in src)
        raise Conflict(
            f"cannot {action} a meeting that is {current}"
            + (f"; from {current} you may: {', '.join(allowed)}" if allowed else ""),
            code="illegal_transition",
            details={"status": current, "action": action, "allowed": allowed},
        )
    return target


EDITABLE_MEETING = frozenset({MeetingStatus.draft, MeetingStatus.published, MeetingStatus.open})


class Attendance(StrEnum):
    unknown = "unknown"
    present = "present"
    absent = "absent"
    excused = "excused"


class Visibility(StrEnum):
    public = "public"
    members = "members"
    restricted = "restricted"
    confidential = "confidential"


class ItemStatus(StrEnum):
    pending = "pending"
    current = "current"
    done = "done"
    skipped = "skipped"


def agenda_numbers(items: list[tuple[str, str | None, int]]) -> dict[str, str]:
    """Nested numbering "1", "1.1", "1.2", "2" from (id, parent_id, position) triples."""
    children: dict[str | None, list[tuple[int, str]]] = {}
    for item_id, parent_id, position in items:
        children.setdefault(parent_id, []).append((position, item_id))
    numbers: dict[str, str] = {}

    def walk(parent: str | None, prefix: str) -> None:
        for index, (_, item_id) in enumerate(sorted(children.get(parent, [])), start=1):
            numbers[item_id] = f"{prefix}{index}"
            walk(item_id, f"{prefix}{index}.")

    walk(None, "")
    return numbers
