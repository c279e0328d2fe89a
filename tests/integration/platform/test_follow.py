"""Join, follow, reconnect, convergence and presence over real servers (docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from realtime.client import QuorumClient
from realtime.events import apply_event
from tests.conftest import Running
from tests.integration.platform.conftest import Proxy
from tests.support.sitting import checked, opened

VOLATILE = ("server_time", "presence")


def comparable(snap: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in snap.items() if k not in VOLATILE}
    if "participants" in out:  # SQL collation and Python sort may order names differently
        out["participants"] = sorted(out["participants"], key=lambda p: p["user_id"])
    return out


async def test_join_and_follow_in_order(server: Running) -> None:
    delegate = await server.client("delegate001")
    view = await delegate.join(server.meeting_id)
    assert "participants" not in view.snapshot and view.snapshot["me"]["username"] == "delegate001"
    start = view.seq
    chair, items = await opened(server)
    for item in items[:3]:
        await chair.command(
            "agenda.set_current", {"meeting_id": server.meeting_id, "item_id": item}
        )
    final = chair.meetings[server.meeting_id].seq
    await delegate.wait_for_seq(server.meeting_id, final)
    seqs = [e["seq"] for e in checked(view.applied)]
    assert seqs == list(range(start + 1, final + 1))
    assert [
        e["data"]["item_id"] for e in view.applied if e["type"] == "current_item_changed"
    ] == items[:3]


async def test_reconnect_replays_missed_events_in_order(server: Running, proxy: Proxy) -> None:
    chair, items = await opened(server)
    token = await server.token("delegate002")
    delegate = QuorumClient(f"http://127.0.0.1:{proxy.port}", token)
    server._clients.append(delegate)
    await delegate.connect()
    view = await delegate.join(server.meeting_id)
    reconnected = asyncio.Event()
    delegate.sio.handlers["/"]["connect"] = _both(delegate, reconnected)
    proxy.refusing = True
    proxy.cut()  # the hall's Wi-Fi drops: the server and the client see a dead connection
    for item in items:
        await chair.command(
            "agenda.set_current", {"meeting_id": server.meeting_id, "item_id": item}
        )
    await chair.command("speakers.request", {"meeting_id": server.meeting_id, "item_id": items[-1]})
    missed = chair.meetings[server.meeting_id].seq
    assert view.seq < missed
    proxy.refusing = False
    await asyncio.wait_for(reconnected.wait(), 15)
    await delegate.wait_for_seq(server.meeting_id, missed)
    assert [e["seq"] for e in view.applied] == list(range(view.applied[0]["seq"], missed + 1))
    assert view.applied[-1]["type"] == "speakers_changed"


def _both(client: QuorumClient, flag: asyncio.Event) -> Any:
    async def handler() -> None:
        await client._connected()
        flag.set()

    return handler


async def test_far_behind_gets_a_snapshot(server: Running) -> None:
    chair, items = await opened(server)
    server.services.settings.resync_limit = 2
    for item in items:
        await chair.command(
            "agenda.set_current", {"meeting_id": server.meeting_id, "item_id": item}
        )
    seq = chair.meetings[server.meeting_id].seq
    delegate = await server.client("delegate003")
    near = await delegate.call(
        "meeting.join", {"meeting_id": server.meeting_id, "since_seq": seq - 2}
    )
    assert [e["seq"] for e in near["events"]] == [seq - 1, seq] and near["seq"] == seq
    far = await delegate.call(
        "meeting.join", {"meeting_id": server.meeting_id, "since_seq": seq - 3}
    )
    assert "snapshot" in far and far["seq"] == seq
    ahead = await delegate.call(
        "meeting.join", {"meeting_id": server.meeting_id, "since_seq": seq + 5}
    )
    assert "snapshot" in ahead
    same = await delegate.call("meeting.join", {"meeting_id": server.meeting_id, "since_seq": seq})
    assert same["events"] == []


async def test_convergence_snapshot_plus_events_equals_fresh_snapshot(server: Running) -> None:
    m = server.meeting_id
    chair = await server.client("chair")
    delegate = await server.client("delegate004")
    views = [await chair.join(m), await delegate.join(m)]
    starts = [dict(v.snapshot) for v in views]
    secretary = await server.token("secretary")
    ids = {p["username"]: p["user_id"] for p in starts[0]["participants"]}
    await delegate.command("attendance.check_in", {"meeting_id": m})
    await chair.command(
        "attendance.record",
        {"meeting_id": m, "user_id": ids["delegate005"], "attendance": "excused"},
    )
    status, _, _ = await server.http(
        "DELETE", f"/api/meetings/{m}/participants/{ids['delegate006']}", token=secretary
    )
    assert status in (200, 204)
    status, item, _ = await server.http(
        "POST", f"/api/meetings/{m}/agenda", token=secretary, json={"title": "Miscellaneous"}
    )
    assert status in (200, 201)
    await chair.command("meeting.open", {"meeting_id": m})
    await chair.command("agenda.set_current", {"meeting_id": m, "item_id": item["id"]})
    first = await delegate.command("speakers.request", {"meeting_id": m, "item_id": item["id"]})
    second = await chair.command(
        "speakers.add", {"meeting_id": m, "item_id": item["id"], "user_id": ids["delegate001"]}
    )
    await chair.command(
        "speakers.reorder",
        {
            "meeting_id": m,
            "item_id": item["id"],
            "speaker_ids": [second["speaker_id"], first["speaker_id"]],
        },
    )
    await chair.command("speakers.start", {"speaker_id": second["speaker_id"], "time_limit_s": 120})
    await chair.command("speakers.stop", {"speaker_id": second["speaker_id"]})
    await delegate.command("speakers.withdraw", {"speaker_id": first["speaker_id"]})
    await chair.command("meeting.close", {"meeting_id": m})
    final = chair.meetings[m].seq
    for client, view, start in zip((chair, delegate), views, starts, strict=True):
        await client.wait_for_seq(m, final)
        rebuilt = start
        for event in checked(view.applied):
            rebuilt = apply_event(rebuilt, event)
        fresh = await client.call("meeting.join", {"meeting_id": m})
        assert comparable(rebuilt) == comparable(fresh["snapshot"])
    kinds = {e["type"] for e in views[0].applied}
    assert kinds >= {
        "attendance_changed",
        "participant_removed",
        "agenda_changed",
        "meeting_status_changed",
        "current_item_changed",
        "speakers_changed",
    }


async def test_floor_given_on_another_item_ends_the_speech_in_the_events_too(
    server: Running,
) -> None:
    """A speech on item A ends when the chair gives the floor on item B: the events say so for
    item A as well, or a tablet that follows by events keeps showing A's speaker speaking."""
    m = server.meeting_id
    chair, items = await opened(server)
    delegate = await server.client("delegate002")
    view = await delegate.join(m)
    start = dict(view.snapshot)
    on_a = await delegate.command("speakers.request", {"meeting_id": m, "item_id": items[0]})
    await chair.command("speakers.start", {"speaker_id": on_a["speaker_id"]})
    ids = {p["username"]: p["user_id"] for p in chair.meetings[m].snapshot["participants"]}
    on_b = await chair.command(
        "speakers.add", {"meeting_id": m, "item_id": items[1], "user_id": ids["delegate003"]}
    )
    await chair.command("speakers.start", {"speaker_id": on_b["speaker_id"]})
    await delegate.wait_for_seq(m, chair.meetings[m].seq)
    rebuilt = start
    for event in checked(view.applied):
        rebuilt = apply_event(rebuilt, event)
    fresh = await delegate.call("meeting.join", {"meeting_id": m})
    assert comparable(rebuilt) == comparable(fresh["snapshot"])
    ended = [
        s
        for e in view.applied
        if e["type"] == "speakers_changed" and e["data"]["item_id"] == items[0]
        for s in e["data"]["speakers"]
    ]
    assert ended[-1]["id"] == on_a["speaker_id"] and ended[-1]["status"] == "done"


async def _refused(server: Running, auth: Any) -> Any:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.base_url, auth=auth, transports=["websocket"])
    return errors[0] if errors else None


async def test_refused_connects(server: Running) -> None:
    for auth in (None, {"token": "not-a-token"}, {"token": 42}):
        refusal = await _refused(server, auth)
        assert "unauthenticated" in str(refusal), refusal
    token = await server.token("delegate001")
    status, _, _ = await server.http("POST", "/api/auth/logout", token=token)
    assert status in (200, 204)
    assert "unauthenticated" in str(await _refused(server, {"token": token}))


async def test_presence_is_apart_from_attendance(server: Running) -> None:
    m = server.meeting_id
    chair = await server.client("chair")
    snap = (await chair.join(m)).snapshot
    assert "presence" in snap
    delegate = await server.client("delegate001")
    uid = (await delegate.join(m)).snapshot["me"]["user_id"]
    assert "presence" not in delegate.meetings[m].snapshot

    async def presence_until(test: Any) -> dict[str, Any]:
        for _ in range(100):
            latest = [u for u in chair.updates if u["type"] == "presence" and u["meeting_id"] == m]
            if latest and test(max(latest, key=lambda u: u["data"]["version"])["data"]):
                return max(latest, key=lambda u: u["data"]["version"])["data"]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such presence update: {chair.updates[-3:]}")

    data = await presence_until(lambda d: str(uid) in d["users"])
    assert data["users"][str(uid)] == 1
    fresh = await chair.call("meeting.join", {"meeting_id": m})
    assert fresh["snapshot"]["presence"]["users"].get(str(uid)) == 1
    attendance = {p["user_id"]: p["attendance"] for p in fresh["snapshot"]["participants"]}
    assert attendance[uid] != "present"  # connected is not checked in
    await delegate.disconnect()
    await presence_until(lambda d: str(uid) not in d["users"])
