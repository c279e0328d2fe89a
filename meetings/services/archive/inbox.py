"""What awaits the chair's signature (docs/features/archive.md, "Signing").

A generated resolution or set of minutes is ready for the chair: `generate` is the
secretariat's "send for signing" (a document cannot be signed before, and any change to a draft
sends it back to `draft`), so the inbox needs no status of its own. It lists, across the councils
the caller chairs (an administrator: every council, as they may stand in), what is `generated`,
oldest first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.events import iso
from meetings.domain.model import Role
from meetings.services.archive.targets import minutes_public
from meetings.services.context import Actor, Services
from meetings.services.loading import get_meeting
from meetings.storage.tables import Council, Meeting
from meetings.storage.tables_archive import MinutesDoc, Resolution


def chaired(actor: Actor) -> list[int] | None:
    """Council ids whose documents `actor` signs; None: all (an administrator)."""
    if actor.is_admin:
        return None
    return sorted(cid for cid, role in actor.roles.items() if role == Role.chair)


async def signing_inbox(services: Services, actor: Actor) -> dict[str, Any]:
    """GET /api/signing/inbox: `{"items": [{kind, id, title, label, council, meeting…}]}`."""
    councils = chaired(actor)
    if councils == []:
        return {"items": []}
    items: list[dict[str, Any]] = []
    async with services.db.reading() as session:
        res_q = (
            select(Resolution, Meeting, Council)
            .join(Meeting, col(Meeting.id) == col(Resolution.meeting_id))
            .join(Council, col(Council.id) == col(Resolution.council_id))
            .where(col(Resolution.status) == "generated")
        )
        min_q = (
            select(MinutesDoc, Meeting, Council)
            .join(Meeting, col(Meeting.id) == col(MinutesDoc.meeting_id))
            .join(Council, col(Council.id) == col(MinutesDoc.council_id))
            .where(col(MinutesDoc.status) == "generated")
        )
        if councils is not None:
            res_q = res_q.where(col(Resolution.council_id).in_(councils))
            min_q = min_q.where(col(MinutesDoc.council_id).in_(councils))
        for res, meeting, council in (await session.execute(res_q)).all():
            items.append(
                {
                    "kind": "resolution",
                    "id": res.id,
                    "title": res.title,
                    "label": f"Nghị quyết số {res.number}" if res.number else "",
                    "number": res.number,
                    "council_id": council.id,
                    "council": council.name,
                    "meeting_id": meeting.id,
                    "meeting_title": meeting.title,
                    "ready_at": iso(res.generated_at),
                }
            )
        for doc, meeting, council in (await session.execute(min_q)).all():
            items.append(
                {
                    "kind": "minutes",
                    "id": doc.id,
                    "title": meeting.title,
                    "label": "",
                    "number": "",
                    "council_id": council.id,
                    "council": council.name,
                    "meeting_id": meeting.id,
                    "meeting_title": meeting.title,
                    "ready_at": iso(doc.created_at),
                }
            )
    items.sort(key=lambda i: (i["ready_at"] or "", i["kind"], i["id"]))
    return {"items": items}


async def list_minutes(services: Services, actor: Actor, meeting_id: int) -> list[dict[str, Any]]:
    """GET /api/meetings/{id}/minutes: every set generated for the sitting, newest last."""
    async with services.db.reading() as session:
        await get_meeting(session, actor, meeting_id)
        rows = await session.scalars(
            select(MinutesDoc)
            .where(col(MinutesDoc.meeting_id) == meeting_id)
            .order_by(col(MinutesDoc.id))
        )
        return [minutes_public(m) for m in rows]
