"""Deleting an agenda item that something refers to (docs/API.md, "Resources"): a clear 409
naming what refers to it, never a 500; withdrawn speaker requests go with the item."""

from __future__ import annotations

from realtime.events import apply_event
from tests.conftest import Running
from tests.support.sitting import opened


async def _delete(server: Running, token: str, item_id: int) -> tuple[int, object]:
    status, body, _ = await server.http(
        "DELETE", f"/api/meetings/{server.meeting_id}/agenda/{item_id}", token=token
    )
    return status, body


async def test_an_item_with_a_speaker_request_or_a_poll_is_in_use(server: Running) -> None:
    chair, items = await opened(server)
    mid = server.meeting_id
    secretary = await server.token("secretary")
    spoken, polled, other = items[0], items[1], items[2]
    await chair.command("agenda.set_current", {"meeting_id": mid, "item_id": spoken})
    delegate = await server.client("delegate001")
    await delegate.join(mid)
    asked = await delegate.command("speakers.request", {"meeting_id": mid, "item_id": spoken})
    await chair.command("agenda.set_current", {"meeting_id": mid, "item_id": other})
    status, body = await _delete(server, secretary, spoken)
    assert status == 409, body
    assert body["error"]["code"] == "item_in_use"  # type: ignore[index]
    assert body["error"]["details"] == {"speaker_requests": 1}  # type: ignore[index]

    await chair.command(
        "poll.create", {"meeting_id": mid, "title": "On item two", "agenda_item_id": polled}
    )
    status, body = await _delete(server, secretary, polled)
    assert status == 409, body
    assert body["error"]["code"] == "item_in_use"  # type: ignore[index]
    assert body["error"]["details"] == {"polls": 1}  # type: ignore[index]

    # a withdrawn request does not hold the item: it goes with it, and tablets are told
    await delegate.command("speakers.withdraw", {"speaker_id": asked["speaker_id"]})
    status, body = await _delete(server, secretary, spoken)
    assert status in (200, 204), body
    status, fresh, _ = await server.http("GET", f"/api/meetings/{mid}/snapshot", token=secretary)
    assert status == 200, fresh
    assert [s for s in fresh["speakers"] if s["item_id"] == spoken] == []
    # a tablet that followed the events agrees with a fresh snapshot
    view = await delegate.wait_for_seq(mid, fresh["seq"])
    rebuilt = view.snapshot
    for event in view.applied:
        rebuilt = apply_event(rebuilt, event)
    assert [s for s in rebuilt["speakers"] if s["item_id"] == spoken] == []
    assert [i["id"] for i in rebuilt["agenda"]] == [i["id"] for i in fresh["agenda"]]
    assert spoken not in [i["id"] for i in fresh["agenda"]]
