"""What the chair signs: a resolution or the minutes (docs/features/archive.md, "Signing").

The signing targets' public shape and how a caller loads one, shared by the resolutions and
minutes themselves, their signing (`signing_sessions`) and their archiving (`records`).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.domain.errors import NotFound
from meetings.domain.events import iso
from meetings.services.context import Actor
from meetings.services.loading import get_meeting
from meetings.storage.tables import Meeting
from meetings.storage.tables_archive import MinutesDoc, Resolution

Kind = Literal["resolution", "minutes"]
Target = Resolution | MinutesDoc


def public_page_url(base_url: str, kind: Kind, target_id: int) -> str:
    """The public page a signed document's QR code links to (the web app's URL contract:
    `/public/resolutions/{id}`, `/public/minutes/{id}`, the Resolution / Minutes row id)."""
    path = "resolutions" if kind == "resolution" else "minutes"
    return f"{base_url.rstrip('/')}/public/{path}/{target_id}"


def resolution_public(r: Resolution) -> dict[str, Any]:
    return {
        "id": r.id,
        "council_id": r.council_id,
        "meeting_id": r.meeting_id,
        "agenda_item_id": r.agenda_item_id,
        "poll_id": r.poll_id,
        "title": r.title,
        "status": r.status,
        "number": r.number,
        "label": f"Nghị quyết số {r.number}" if r.number else "",
        "draft_sha256": r.draft_sha256,
        "generated_sha256": r.generated_sha256,
        "signed_sha256": r.signed_sha256,
        "signatures": r.signatures,
        "public": r.public,
        "created_at": iso(r.created_at),
        "generated_at": iso(r.generated_at),
        "signed_at": iso(r.signed_at),
    }


def minutes_public(m: MinutesDoc) -> dict[str, Any]:
    return {
        "id": m.id,
        "meeting_id": m.meeting_id,
        "council_id": m.council_id,
        "status": m.status,
        "generated_sha256": m.generated_sha256,
        "signed_sha256": m.signed_sha256,
        "audit_head_hash": m.audit_head_hash,
        "signatures": m.signatures,
        "created_at": iso(m.created_at),
        "signed_at": iso(m.signed_at),
    }


def target_public(kind: Kind, target: Target) -> dict[str, Any]:
    if isinstance(target, Resolution):
        return resolution_public(target)
    return minutes_public(target)


async def load_target(
    session: AsyncSession, actor: Actor | None, kind: Kind, target_id: int, *, lock: bool = False
) -> tuple[Target, Meeting]:
    """A resolution or minutes the caller may see (`actor` None: the local CLI)."""
    target: Target | None
    if kind == "resolution":
        target = await session.get(Resolution, target_id, with_for_update=lock)
    else:
        target = await session.get(MinutesDoc, target_id, with_for_update=lock)
    if target is None:
        raise NotFound(f"no {kind} {target_id}")
    if actor is None:
        meeting = await session.get(Meeting, target.meeting_id)
        assert meeting is not None
        return target, meeting
    try:
        return target, await get_meeting(session, actor, target.meeting_id)
    except NotFound:
        raise NotFound(f"no {kind} {target_id}") from None
