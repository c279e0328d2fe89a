"""A first end-to-end pass: login, list, join, follow an event."""

from __future__ import annotations

from tests.conftest import Running


async def test_login_join_and_follow(server: Running) -> None:
    token = await server.token("chair")
    status, meetings, _ = await server.http("GET", "/api/meetings", token=token)
    assert status == 200
    assert [m["id"] for m in meetings] == [server.meeting_id]
    chair = await server.client("chair")
    delegate = await server.client("delegate001")
    view = await delegate.join(server.meeting_id)
    assert view.snapshot["meeting"]["status"] == "published"
    await chair.join(server.meeting_id)
    before = view.seq
    ack = await chair.command("meeting.open", {"meeting_id": server.meeting_id})
    assert ack["meeting"]["status"] == "open"
    await delegate.wait_for_seq(server.meeting_id, before + 1)
    assert delegate.meetings[server.meeting_id].applied[-1]["type"] == "meeting_status_changed"
