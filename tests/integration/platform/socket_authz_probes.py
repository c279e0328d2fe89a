"""Probes of every Socket.IO command for the walk of docs/AUTHORIZATION.md ("Socket.IO commands").

A probe returns the payload one role sends; it first prepares fresh objects (as the
administrator or the delegate, through the services) so an allowed role succeeds and no role's
command changes what the next one sees. Objects live in the world's council: for the
outsider (a delegate of another council) and the non-member (an account in no council) every
id names something they cannot see.
"""

from __future__ import annotations

import uuid
from typing import Any

from meetings.services import commands as c
from meetings.services.sitting import speakers
from tests.integration.annotations.authz_probes import actor as actor_of
from tests.integration.annotations.authz_probes import annotation_of, payload, version_of
from tests.integration.platform.socket_authz import SocketKey, SocketProbe
from tests.integration.voting.authz_probes import new_poll, sitting
from tests.support.world import World

Payload = dict[str, Any]


async def seeded(w: World, role: str) -> Payload:
    return {"meeting_id": w.meeting_id}


async def draft(w: World, role: str) -> Payload:
    return {"meeting_id": await w.new_meeting()}


async def published(w: World, role: str) -> Payload:
    return {"meeting_id": await w.new_meeting(publish=True)}


async def opened(w: World, role: str) -> Payload:
    return {"meeting_id": await w.new_meeting(open_=True)}


async def in_sitting(w: World, role: str) -> Payload:
    return {"meeting_id": await sitting(w)}


async def record(w: World, role: str) -> Payload:
    # a sitting of its own: the polls' sitting keeps its quorum
    target = await w.new_meeting(open_=True)
    return {"meeting_id": target, "user_id": w.user_ids["delegate"], "attendance": "excused"}


async def set_current(w: World, role: str) -> Payload:
    meeting_id = await sitting(w)
    return {"meeting_id": meeting_id, "item_id": await w.new_item(meeting_id)}


async def request(w: World, role: str) -> Payload:
    meeting_id = await sitting(w)
    return {"meeting_id": meeting_id, "item_id": await w.new_item(meeting_id)}


async def add(w: World, role: str) -> Payload:
    return await request(w, role) | {"user_id": w.user_ids["delegate"]}


async def _waiting(w: World) -> tuple[int, int, int]:
    """A fresh item of the sitting with the delegate waiting to speak: meeting, item, speaker."""
    meeting_id = await sitting(w)
    item_id = await w.new_item(meeting_id)
    delegate = await actor_of(w, "delegate")
    out = await speakers.request(
        w.services, delegate, c.SpeakerRequest(meeting_id=meeting_id, item_id=item_id)
    )
    return meeting_id, item_id, int(out["speaker_id"])


async def waiting(w: World, role: str) -> Payload:
    return {"speaker_id": (await _waiting(w))[2]}


async def speaking(w: World, role: str) -> Payload:
    speaker_id = (await _waiting(w))[2]
    await speakers.start(w.services, w.admin, c.SpeakerStart(speaker_id=speaker_id))
    return {"speaker_id": speaker_id}


async def reorder(w: World, role: str) -> Payload:
    meeting_id, item_id, first = await _waiting(w)
    chair = await actor_of(w, "chair")
    out = await speakers.request(
        w.services, chair, c.SpeakerRequest(meeting_id=meeting_id, item_id=item_id)
    )
    return {"meeting_id": meeting_id, "item_id": item_id, "speaker_ids": [out["speaker_id"], first]}


async def nothing(w: World, role: str) -> Payload:
    return {}


async def create_poll(w: World, role: str) -> Payload:
    return {"meeting_id": await sitting(w), "title": "Probe motion"}


def poll(state: str, extra: Payload | None = None) -> SocketProbe:
    async def probe(w: World, role: str) -> Payload:
        return {"poll_id": await new_poll(w, state)} | (extra or {})

    return probe


async def upsert(w: World, role: str) -> Payload:
    return payload(await version_of(w))


async def delete_delegates(w: World, role: str) -> Payload:
    return {"annotation_id": await annotation_of(w, "delegate")}


async def delete_own(w: World, role: str) -> Payload:
    if role == "nonmember":  # may read no document, so owns no annotation: a made-up id
        return {"annotation_id": str(uuid.uuid4())}
    return {"annotation_id": await annotation_of(w, role)}


PROBES: dict[SocketKey, SocketProbe] = {
    ("meeting.join", ""): seeded,
    ("meeting.join", "draft"): draft,
    ("meeting.leave", ""): seeded,
    ("meeting.open", ""): published,
    ("meeting.close", ""): opened,
    ("attendance.check_in", ""): in_sitting,
    ("attendance.record", ""): record,
    ("agenda.set_current", ""): set_current,
    ("speakers.request", ""): request,
    ("speakers.add", ""): add,
    ("speakers.withdraw", ""): waiting,
    ("speakers.start", ""): waiting,
    ("speakers.stop", ""): speaking,
    ("speakers.reorder", ""): reorder,
    ("time.sync", ""): nothing,
    ("poll.create", ""): create_poll,
    ("poll.open", ""): poll("draft"),
    ("poll.close", ""): poll("open"),
    ("poll.publish", ""): poll("closed"),
    ("poll.cancel", ""): poll("draft", {"reason": "probe"}),
    ("ballot.cast", ""): poll("open", {"choice": "yes"}),
    ("annotation.upsert", ""): upsert,
    ("annotation.delete", ""): delete_delegates,
    ("annotation.delete", "own"): delete_own,
    ("annotation.sync", ""): nothing,
}
