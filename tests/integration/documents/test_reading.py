"""Reading progress (docs/API.md, "Reading progress"): a delegate's own checklist, totals per
document for the chair and the secretariat, the chair's room told live, never who or which
pages."""

from __future__ import annotations

import asyncio

from meetings.domain.model import Visibility
from realtime.client import QuorumClient
from tests.support.world import World


async def _opened(world: World, role: str, document_id: int) -> dict:  # type: ignore[type-arg]
    status, body, _ = await world.http(role, "POST", f"/api/documents/{document_id}/opened")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def _reading(world: World, role: str) -> list[int]:
    status, body, _ = await world.http(role, "GET", f"/api/meetings/{world.meeting_id}/reading")
    assert status == 200, body
    return [d["document_id"] for d in body["documents"]]


async def _totals(world: World, role: str = "chair") -> dict:  # type: ignore[type-arg]
    status, body, _ = await world.http(
        role, "GET", f"/api/meetings/{world.meeting_id}/reading/totals"
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_an_opening_is_recorded_once_and_seen_only_by_its_reader(fresh_world: World) -> None:
    world = fresh_world
    report = await world.new_document(title="Budget report")
    plan = await world.new_document(title="Plan")
    first = await _opened(world, "delegate", report)
    await asyncio.sleep(0.01)
    again = await _opened(world, "delegate", report)
    assert again["first_opened_at"] == first["first_opened_at"]
    assert again["last_opened_at"] > first["last_opened_at"]
    assert set(first) == {"document_id", "first_opened_at", "last_opened_at"}  # no pages

    assert await _reading(world, "delegate") == [report]
    assert await _reading(world, "chair") == []  # a delegate's opening is theirs alone
    status, _, _ = await world.http(
        "delegate", "GET", f"/api/meetings/{world.meeting_id}/reading/totals"
    )
    assert status == 403

    totals = await _totals(world)
    status, participants, _ = await world.http(
        "chair", "GET", f"/api/meetings/{world.meeting_id}/participants"
    )
    assert status == 200
    listed = participants if isinstance(participants, list) else participants["participants"]
    assert totals["participants"] == len(listed)
    by_doc = {d["document_id"]: d["opened_by"] for d in totals["documents"]}
    assert by_doc[report] == 1 and by_doc[plan] == 0
    assert all(set(d) == {"document_id", "title", "opened_by"} for d in totals["documents"])
    assert (await _totals(world, "secretary"))["documents"] == totals["documents"]


async def test_what_may_not_be_read_is_not_recorded(fresh_world: World) -> None:
    world = fresh_world
    secret = await world.new_document(Visibility.confidential, allowed=[])
    status, body, _ = await world.http("delegate", "POST", f"/api/documents/{secret}/opened")
    assert status == 404, body
    assert await _reading(world, "delegate") == []
    status, _, _ = await world.http("outsider", "GET", f"/api/meetings/{world.meeting_id}/reading")
    assert status == 404


async def test_the_chair_room_hears_a_first_opening_with_the_new_count(fresh_world: World) -> None:
    world = fresh_world
    document_id = await world.new_document(title="Proposal")
    chair_token, delegate_token = world.tokens["chair"], world.tokens["delegate"]
    assert chair_token and delegate_token
    chair = QuorumClient(world.server.base_url, chair_token)
    delegate = QuorumClient(world.server.base_url, delegate_token)
    await chair.connect()
    await delegate.connect()
    try:
        await chair.join(world.meeting_id)
        await delegate.join(world.meeting_id)
        arrived = asyncio.Event()
        chair.on_update = lambda u: arrived.set() if u["type"] == "reading_opened" else None

        def heard(client: QuorumClient) -> list[dict]:  # type: ignore[type-arg]
            return [u["data"] for u in client.updates if u["type"] == "reading_opened"]

        await _opened(world, "delegate", document_id)
        async with asyncio.timeout(5):
            await arrived.wait()
        assert heard(chair) == [{"document_id": document_id, "opened_by": 1}]

        await _opened(world, "delegate", document_id)  # opened again: no news
        await _opened(world, "secretary", document_id)  # staff, not a participant: no count
        await asyncio.sleep(0.3)
        assert heard(chair) == [{"document_id": document_id, "opened_by": 1}]
        assert heard(delegate) == []  # the delegates' room never hears it
    finally:
        await chair.disconnect()
        await delegate.disconnect()
