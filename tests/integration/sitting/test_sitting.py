"""Speakers list and attendance with quorum, as the hall sees them (docs/PROTOCOL.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from realtime.client import CommandFailed
from tests.conftest import Running
from tests.support.sitting import checked, opened


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def test_speakers_list_flow(server: Running) -> None:
    m = server.meeting_id
    chair, items = await opened(server)
    await chair.command("agenda.set_current", {"meeting_id": m, "item_id": items[0]})
    one, two = await server.client("delegate001"), await server.client("delegate002")
    display = await server.client("display")
    shown = await display.join(m)
    a = await one.command("speakers.request", {"meeting_id": m, "item_id": items[0]})
    b = await two.command("speakers.request", {"meeting_id": m, "item_id": items[0]})
    with pytest.raises(CommandFailed) as twice:
        await two.command("speakers.request", {"meeting_id": m, "item_id": items[0]})
    assert twice.value.code == "already_requested"
    with pytest.raises(CommandFailed) as other:
        await two.command("speakers.withdraw", {"speaker_id": a["speaker_id"]})
    assert other.value.code == "forbidden"
    order = [b["speaker_id"], a["speaker_id"]]
    ack = await chair.command(
        "speakers.reorder", {"meeting_id": m, "item_id": items[0], "speaker_ids": order}
    )
    assert [s["id"] for s in ack["speakers"] if s["status"] == "waiting"] == order
    with pytest.raises(CommandFailed) as bad:
        await chair.command(
            "speakers.reorder", {"meeting_id": m, "item_id": items[0], "speaker_ids": order[:1]}
        )
    assert bad.value.code == "bad_order"
    clock = await one.call("time.sync")
    started = await chair.command(
        "speakers.start", {"speaker_id": b["speaker_id"], "time_limit_s": 90}
    )
    speaking = next(s for s in started["speakers"] if s["status"] == "speaking")
    assert speaking["id"] == b["speaker_id"] and speaking["time_limit_s"] == 90
    assert (
        when(started["server_time"]) >= when(speaking["started_at"]) >= when(clock["server_time"])
    )
    await one.command("speakers.withdraw", {"speaker_id": a["speaker_id"]})
    stopped = await chair.command("speakers.stop", {"speaker_id": b["speaker_id"]})
    assert [s["status"] for s in stopped["speakers"]] == ["done", "withdrawn"]
    await display.wait_for_seq(m, chair.meetings[m].seq)
    changes = [e for e in checked(shown.applied) if e["type"] == "speakers_changed"]
    assert len(changes) == 6 and changes[-1]["data"]["speakers"] == stopped["speakers"]


async def test_check_in_and_quorum_updates(server: Running) -> None:
    m = server.meeting_id
    chair = await server.client("chair")
    view = await chair.join(m)
    start = view.seq
    assert view.snapshot["quorum"] == {"present": 0, "total": 7, "needed": 4, "met": False}
    for n in range(1, 4):
        delegate = await server.client(f"delegate00{n}")
        ack = await delegate.command("attendance.check_in", {"meeting_id": m})
        assert ack["attendance"]["quorum"]["present"] == n
    again = await delegate.command("attendance.check_in", {"meeting_id": m})
    assert again["attendance"].get("unchanged") is True
    ids = {p["username"]: p["user_id"] for p in view.snapshot["participants"]}
    secretary = await server.client("secretary")
    ack = await secretary.command(
        "attendance.record",
        {"meeting_id": m, "user_id": ids["delegate004"], "attendance": "present"},
    )
    assert ack["attendance"]["quorum"] == {"present": 4, "total": 7, "needed": 4, "met": True}
    await chair.wait_for_seq(m, start + 4)
    quorums = [
        e["data"]["quorum"]["met"]
        for e in checked(view.applied)
        if e["type"] == "attendance_changed"
    ]
    assert quorums == [False, False, False, True]
    last = view.applied[-1]["data"]
    assert last["recorded_how"] == "secretariat" and last["user_id"] == ids["delegate004"]
