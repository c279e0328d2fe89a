"""Joins and replays give what the caller may see now (docs/PROTOCOL.md, "`meeting.join` in
detail")."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from realtime.client import CommandFailed, QuorumClient
from tests.conftest import Running
from tests.support.upload_pdfs import text_pdf


async def _transition(server: Running, token: str, action: str) -> None:
    status, body, _ = await server.http(
        "POST",
        f"/api/meetings/{server.meeting_id}/transition",
        token=token,
        json={"action": action},
    )
    assert status == 200, body


async def test_rejoining_a_draft_in_a_loop_hears_none_of_its_events(server: Running) -> None:
    chair = await server.client("chair")
    await chair.join(server.meeting_id)  # the meeting's council is now known to the worker
    chair_token = await server.token("chair")
    await _transition(server, await server.token("secretary"), "unpublish")
    delegate = await server.client("delegate001")
    heard: list[dict[str, Any]] = []
    delegate.sio.on("event", lambda event: heard.append(event))
    stop = asyncio.Event()

    async def rejoin() -> int:
        refused = 0
        while not stop.is_set():
            try:
                await delegate.call("meeting.join", {"meeting_id": server.meeting_id})
            except CommandFailed as exc:
                assert exc.code in ("not_found", "rate_limited"), exc
                refused += exc.code == "not_found"
                if exc.code == "rate_limited":
                    await asyncio.sleep(0.05)
        return refused

    looping = asyncio.ensure_future(rejoin())
    for n in range(30):
        status, body, _ = await server.http(
            "POST",
            f"/api/meetings/{server.meeting_id}/agenda",
            token=chair_token,
            json={"title": f"Draft item {n}"},
        )
        assert status == 201, body
    stop.set()
    assert await looping > 0
    await asyncio.sleep(0.3)
    assert heard == []


async def _ids(server: Running, token: str) -> dict[str, int]:
    _, snap, _ = await server.http(
        "GET", f"/api/meetings/{server.meeting_id}/snapshot", token=token
    )
    return {p["username"]: p["user_id"] for p in snap["participants"]}


async def _joined(server: Running) -> tuple[int, str, QuorumClient, int]:
    """The meeting, a secretary's token, delegate001 joined, and the seq it joined at."""
    delegate = await server.client("delegate001")
    before = (await delegate.join(server.meeting_id)).seq
    return server.meeting_id, await server.token("secretary"), delegate, before


async def _both_ways(server: Running, delegate: QuorumClient, since: int) -> list[Any]:
    """The delegate's replay since `since` over Socket.IO and over REST."""
    ack = await delegate.call("meeting.join", {"meeting_id": server.meeting_id, "since_seq": since})
    status, rest, _ = await server.http(
        "GET",
        f"/api/meetings/{server.meeting_id}/events?since_seq={since}",
        token=await server.token("delegate001"),
    )
    assert status == 200, rest
    return [ack, rest]


async def test_replay_does_not_show_a_document_that_became_restricted(server: Running) -> None:
    mid, secretary, delegate, before = await _joined(server)
    named = await server.token("delegate002")
    status, doc, _ = await server.http(
        "POST",
        f"/api/meetings/{mid}/documents?title=Land+clearance+plan&filename=land-plan.pdf",
        token=secretary,
        data=text_pdf("Land clearance"),
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, doc
    status, body, _ = await server.http(
        "PATCH",
        f"/api/documents/{doc['id']}",
        token=secretary,
        json={
            "visibility": "restricted",
            "allowed_user_ids": [(await _ids(server, secretary))["delegate002"]],
        },
    )
    assert status == 200, body
    secrets = ("Land clearance plan", "land-plan.pdf", doc["versions"][0]["sha256"])

    def document_events(answer: dict[str, Any]) -> list[dict[str, Any]]:
        return [e["data"] for e in answer["events"] if e["data"].get("document_id") == doc["id"]]

    for answer in await _both_ways(server, delegate, before):
        shown = document_events(answer)
        assert len(shown) == 2
        assert all(data == {"document_id": doc["id"], "restricted": True} for data in shown)
        assert not any(secret in json.dumps(answer, ensure_ascii=False) for secret in secrets)
    # the delegate named on it, and staff, still replay it in full
    status, theirs, _ = await server.http(
        "GET", f"/api/meetings/{mid}/events?since_seq={before}", token=named
    )
    assert document_events(theirs)[0]["document"]["title"] == "Land clearance plan"
    status, staff, _ = await server.http(
        "GET", f"/api/meetings/{mid}/events?since_seq={before}", token=secretary
    )
    assert document_events(staff)[0]["document"]["title"] == "Land clearance plan"


async def test_a_members_history_starts_at_publication(server: Running) -> None:
    mid, secretary, delegate, before = await _joined(server)
    chair = await server.client("chair")
    await _transition(server, secretary, "unpublish")
    status, item, _ = await server.http(
        "POST", f"/api/meetings/{mid}/agenda", token=secretary, json={"title": "Draft-only item"}
    )
    assert status == 201, item
    status, _, _ = await server.http(
        "DELETE", f"/api/meetings/{mid}/agenda/{item['id']}", token=secretary
    )
    assert status in (200, 204)
    await _transition(server, secretary, "publish")
    for answer in await _both_ways(server, delegate, before):
        assert "events" not in answer and answer["snapshot"]["meeting"]["status"] == "published"
        assert "Draft-only item" not in json.dumps(answer, ensure_ascii=False)
    # staff keep the whole history
    staff = await chair.call("meeting.join", {"meeting_id": mid, "since_seq": before})
    assert "Draft-only item" in json.dumps(staff["events"], ensure_ascii=False)
