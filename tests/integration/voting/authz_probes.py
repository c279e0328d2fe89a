"""Probes of the polls routes for the authorisation walk (docs/AUTHORIZATION.md, "Polls").

Each probe makes a fresh poll in the state the route needs, as the administrator through the
services, in one open sitting (per world) where the chair and three delegates are present.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.model import Attendance
from meetings.services import commands as c
from meetings.services.sitting import meetings
from meetings.services.voting import ballot_box, polls
from meetings.services.voting.commands import CastBallot, CreatePoll
from meetings.storage.tables import User
from tests.support.authz import Key, Probe, ProbeFactory
from tests.support.world import World

P = "/api/polls/{poll_id}"


async def sitting(w: World) -> int:
    """An open meeting of the world's council with a quorum (chair + delegate001..003)."""
    store: dict[str, int] = vars(w).setdefault("_polls_probes", {})  # not by id(w): reused
    if "sitting" not in store:
        meeting_id = await w.new_meeting(open_=True)
        async with w.services.db.reading() as session:
            present = (
                await session.execute(
                    select(User.id).where(
                        col(User.username).in_(
                            ["chair", "delegate001", "delegate002", "delegate003"]
                        )
                    )
                )
            ).scalars()
            users = list(present)
        for user_id in users:
            body = c.RecordAttendance(user_id=user_id, attendance=Attendance.present)
            await meetings.record_attendance(w.services, w.admin, meeting_id, body)
        store["sitting"] = meeting_id
    return store["sitting"]


async def new_poll(w: World, state: str = "draft", *, secret: bool = False) -> int:
    meeting_id = await sitting(w)
    cmd = CreatePoll(meeting_id=meeting_id, title="Probe motion", secret=secret)
    poll_id = int((await polls.create_poll(w.services, w.admin, cmd))["poll_id"])
    if state == "draft":
        return poll_id
    await polls.open_poll(w.services, w.admin, poll_id)
    if state == "open":
        return poll_id
    chair = await _chair(w)
    await ballot_box.cast(w.services, chair, CastBallot(poll_id=poll_id, choice="yes"))
    await polls.close_poll(w.services, w.admin, poll_id)
    if state == "closed":
        return poll_id
    await polls.publish_poll(w.services, w.admin, poll_id)
    return poll_id


async def _chair(w: World) -> object:
    from meetings.services.accounts.auth import actor_for_token

    actor = await actor_for_token(w.services, w.tokens["chair"])
    assert actor is not None
    return actor


async def list_polls(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{await sitting(w)}/polls")


async def create(w: World, role: str) -> Probe:
    return Probe("/api/polls", json={"meeting_id": await sitting(w), "title": "Probe"})


def at(state: str, suffix: str = "", json: object = None, secret: bool = False) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        poll_id = await new_poll(w, state, secret=secret)
        body = json | {"poll_id": poll_id} if isinstance(json, dict) else json
        return Probe(f"/api/polls/{poll_id}{suffix}", json=body)

    return probe


PROBES: dict[Key, ProbeFactory] = {
    ("GET", "/api/meetings/{meeting_id}/polls", ""): list_polls,
    ("POST", "/api/polls", ""): create,
    ("GET", P, ""): at("draft"),
    ("POST", P + "/open", ""): at("draft", "/open"),
    ("POST", P + "/close", ""): at("open", "/close"),
    ("POST", P + "/publish", ""): at("closed", "/publish"),
    ("POST", P + "/cancel", ""): at("draft", "/cancel", {"reason": "probe"}),
    ("POST", P + "/ballots", ""): at("open", "/ballots", {"choice": "yes"}),
    ("GET", P + "/results", ""): at("published", "/results"),
    ("GET", P + "/results", "closed"): at("closed", "/results"),
    ("GET", P + "/ballots", ""): at("published", "/ballots", secret=True),
    ("GET", P + "/vote-event", ""): at("published", "/vote-event"),
}
