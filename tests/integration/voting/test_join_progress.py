"""`meeting.join` gives staff and displays each open poll's progress (docs/PROTOCOL.md): vote
progress is volatile, so a hall display that resyncs during a vote must not show the count
from before its drop until the next ballot arrives."""

from __future__ import annotations

from tests.integration.voting.conftest import Sitting, cast


async def test_resync_carries_open_progress(sitting: Sitting) -> None:
    server, mid = sitting.server, sitting.meeting_id
    display = await server.client("display")
    view = await display.join(mid)
    poll_id = await sitting.open(secret=True, title="Secret motion")
    await cast(sitting.delegates[0], poll_id, "yes")
    await cast(sitting.delegates[1], poll_id, "no")
    # the display comes back (since_seq: events only) and learns the count of now
    ack = await display.call("meeting.join", {"meeting_id": mid, "since_seq": view.seq})
    assert "snapshot" not in ack
    assert ack["progress"] == [{"poll_id": poll_id, "voted": 2, "present": 6, "members": 7}]
    assert "voters" not in ack  # who voted is for the chair's room only
    # a fresh snapshot carries it too
    fresh = await display.call("meeting.join", {"meeting_id": mid})
    assert fresh["progress"][0]["voted"] == 2
    # the chair also gets who has voted
    chair_ack = await sitting.chair.call("meeting.join", {"meeting_id": mid, "since_seq": 0})
    assert chair_ack["progress"][0]["voted"] == 2
    ids = sorted(chair_ack["voters"][str(poll_id)])
    assert len(ids) == 2
    # a delegate's join stays as small as before
    member_ack = await sitting.delegates[2].call("meeting.join", {"meeting_id": mid})
    assert "progress" not in member_ack
    # closed polls have no progress
    await sitting.chair.command("poll.close", {"poll_id": poll_id})
    after = await display.call("meeting.join", {"meeting_id": mid, "since_seq": 0})
    assert after["progress"] == []


async def test_open_poll_with_running_tally(sitting: Sitting) -> None:
    server, mid = sitting.server, sitting.meeting_id
    display = await server.client("display")
    await display.join(mid)
    poll_id = await sitting.open(show_running=True, title="Open motion")
    await cast(sitting.delegates[0], poll_id, "yes")
    ack = await display.call("meeting.join", {"meeting_id": mid, "since_seq": 0})
    (progress,) = ack["progress"]
    assert progress["voted"] == 1
    assert {"option": "yes", "value": 1} in progress["tally"]["counts"]
