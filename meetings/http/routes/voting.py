"""HTTP routes of the polls subsystem (docs/features/voting.md, "Wire format")."""

from __future__ import annotations

from typing import Any

from meetings.domain.errors import Conflict, InvalidInput
from meetings.http.api import Api, Call
from meetings.services.voting import ballot_box, polls
from meetings.services.voting.commands import CancelPoll, CastBallot, CreatePoll


async def list_polls(call: Call) -> list[dict[str, Any]]:
    return await polls.list_polls(call.services, call.me, call.int_param("meeting_id"))


async def get_poll(call: Call) -> dict[str, Any]:
    return await polls.get_poll(call.services, call.me, call.int_param("poll_id"))


async def results(call: Call) -> dict[str, Any]:
    poll = await polls.get_poll(call.services, call.me, call.int_param("poll_id"))
    if "result" not in poll:
        raise Conflict("the result is not published yet", code="not_published")
    return {k: poll[k] for k in ("id", "status", "result", "votes") if k in poll}


async def ballots(call: Call) -> dict[str, Any]:
    return await polls.anonymous_ballots(call.services, call.me, call.int_param("poll_id"))


async def vote_event(call: Call) -> dict[str, Any]:
    return await polls.vote_event(call.services, call.me, call.int_param("poll_id"))


async def create(call: Call) -> dict[str, Any]:
    return await polls.create_poll(call.services, call.me, call.body)


async def open_(call: Call) -> dict[str, Any]:
    return await polls.open_poll(call.services, call.me, call.int_param("poll_id"))


async def close(call: Call) -> dict[str, Any]:
    return await polls.close_poll(call.services, call.me, call.int_param("poll_id"))


async def publish(call: Call) -> dict[str, Any]:
    return await polls.publish_poll(call.services, call.me, call.int_param("poll_id"))


async def cancel(call: Call) -> dict[str, Any]:
    body: CancelPoll = call.body
    if body.poll_id != call.int_param("poll_id"):
        raise InvalidInput("poll_id differs from the path", code="validation")
    return await polls.cancel_poll(call.services, call.me, body)


async def cast(call: Call) -> dict[str, Any]:
    body: CastBallot = call.body
    if body.poll_id != call.int_param("poll_id"):
        raise InvalidInput("poll_id differs from the path", code="validation")
    return await ballot_box.cast(call.services, call.me, body)


P = "/api/polls/{poll_id:int}"
ROUTES: list[Api] = [
    Api(
        "GET", "/api/meetings/{meeting_id:int}/polls", list_polls, "A meeting's polls", tag="polls"
    ),
    Api(
        "POST",
        "/api/polls",
        create,
        "Create a poll (chair, secretariat)",
        body=CreatePoll,
        status=201,
        tag="polls",
    ),
    Api("GET", P, get_poll, "One poll (its result once you may see it)", tag="polls"),
    Api("GET", P + "/results", results, "A poll's result; open polls: who voted what", tag="polls"),
    Api(
        "GET",
        P + "/ballots",
        ballots,
        "A published secret poll's anonymous ballots (receipt, choice), to check a receipt",
        tag="polls",
    ),
    Api(
        "GET",
        P + "/vote-event",
        vote_event,
        "A published poll as a Popolo / Open Civic Data vote event",
        tag="polls",
    ),
    Api("POST", P + "/open", open_, "Open a poll; needs a quorum (chair)", tag="polls"),
    Api("POST", P + "/close", close, "Close a poll and count it (chair)", tag="polls"),
    Api("POST", P + "/publish", publish, "Publish a closed poll's result (chair)", tag="polls"),
    Api(
        "POST", P + "/cancel", cancel, "Cancel with a reason (chair)", body=CancelPoll, tag="polls"
    ),
    Api(
        "POST", P + "/ballots", cast, "Cast a ballot (as ballot.cast)", body=CastBallot, tag="polls"
    ),
]
