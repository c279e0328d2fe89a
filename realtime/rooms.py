"""Room names (docs/PROTOCOL.md, "Rooms"): who hears what."""

from __future__ import annotations

from meetings.domain.model import Role
from meetings.services.context import Actor


def meeting(meeting_id: int) -> str:
    """Every member who joined the meeting, the display included."""
    return f"meeting:{meeting_id}"


def chair(meeting_id: int) -> str:
    """The chair and the secretariat of the meeting."""
    return f"meeting:{meeting_id}:chair"


def display(meeting_id: int) -> str:
    """Hall displays (projector)."""
    return f"display:{meeting_id}"


def user(user_id: int) -> str:
    """All devices of one user (annotation sync, invitations)."""
    return f"user:{user_id}"


def by_kind(kind: str, meeting_id: int) -> str:
    return {"meeting": meeting, "chair": chair, "display": display}[kind](meeting_id)


def meeting_rooms(actor: Actor, council_id: int, meeting_id: int) -> list[str]:
    """The rooms of a meeting that `actor` hears (`realtime.access` re-checks them)."""
    out = [meeting(meeting_id)]
    if actor.is_staff(council_id):
        out.append(chair(meeting_id))
    if actor.role_in(council_id) == Role.display:
        out.append(display(meeting_id))
    return out
