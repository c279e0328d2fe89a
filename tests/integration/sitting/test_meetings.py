"""Meetings, participants, attendance and the agenda over HTTP (docs/API.md, "Resources")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from meetings.domain.model import Role
from meetings.services import commands as c
from meetings.services.accounts import councils
from tests.support.world import World


async def ok(world: World, role: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    got, body, _ = await world.http(role, method, path, **kw)
    assert got == status, body
    return body


async def err(
    world: World, role: str, method: str, path: str, status: int, code: str, **kw: Any
) -> None:
    got, body, _ = await world.http(role, method, path, **kw)
    assert (got, body["error"]["code"]) == (status, code), body


async def test_status_machine_and_its_events(world: World) -> None:
    m = await world.new_meeting()
    path = f"/api/meetings/{m}"
    seq = (await ok(world, "admin", "GET", path))["seq"]
    steps = [
        ("secretary", "publish", "published"),
        ("secretary", "unpublish", "draft"),
        ("secretary", "publish", "published"),
        ("chair", "open", "open"),
        ("chair", "close", "closed"),
        ("chair", "reopen", "open"),
        ("chair", "close", "closed"),
        ("secretary", "archive", "archived"),
    ]
    for role, action, status in steps:
        body = await ok(world, role, "POST", path + "/transition", json={"action": action})
        assert body["status"] == status
    events = (await ok(world, "secretary", "GET", f"{path}/events?since_seq={seq}"))["events"]
    assert [e["seq"] for e in events] == list(range(seq + 1, seq + 1 + len(steps)))
    assert [e["data"]["status"] for e in events] == [s for _, _, s in steps]
    assert all(e["type"] == "meeting_status_changed" for e in events)
    # an archived meeting is frozen
    await err(world, "secretary", "PATCH", path, 409, "meeting_locked", json={"title": "x"})
    await err(
        world, "secretary", "POST", path + "/agenda", 409, "meeting_locked", json={"title": "x"}
    )
    await err(
        world,
        "chair",
        "POST",
        path + "/transition",
        409,
        "illegal_transition",
        json={"action": "reopen"},
    )


async def test_participants_follow_terms_and_roles(world: World) -> None:
    past = await world.new_user()
    await councils.add_member(
        world.services,
        None,
        world.council_id,
        c.AddMember(
            user_id=past,
            role=Role.delegate,
            term_start=date(2020, 1, 1),
            term_end=date.today() - timedelta(days=1),
        ),
    )
    m = await world.new_meeting()
    invited = {
        p["user_id"] for p in await ok(world, "secretary", "GET", f"/api/meetings/{m}/participants")
    }
    assert world.user_ids["delegate"] in invited and world.user_ids["chair"] in invited
    assert past not in invited and world.user_ids["display"] not in invited
    assert world.user_ids["secretary"] not in invited
    path = f"/api/meetings/{m}/participants"
    await err(
        world,
        "secretary",
        "POST",
        path,
        422,
        "not_voting_member",
        json={"user_id": world.user_ids["display"]},
    )
    body = await ok(
        world,
        "secretary",
        "POST",
        path,
        201,
        json={"user_id": world.user_ids["display"], "voting": False},
    )
    assert body["voting"] is False
    await err(
        world,
        "secretary",
        "POST",
        path,
        409,
        "already_invited",
        json={"user_id": world.user_ids["delegate"]},
    )
    await err(world, "secretary", "POST", path, 404, "not_found", json={"user_id": 999999})
    # invitations: only once published; each participant once
    await err(world, "secretary", "POST", f"/api/meetings/{m}/invitations", 409, "not_published")
    await ok(
        world, "secretary", "POST", f"/api/meetings/{m}/transition", json={"action": "publish"}
    )
    first = await ok(world, "secretary", "POST", f"/api/meetings/{m}/invitations")
    assert first["invited"] == len(invited) + 1
    assert (await ok(world, "secretary", "POST", f"/api/meetings/{m}/invitations"))["invited"] == 0


async def test_attendance_and_quorum(world: World) -> None:
    m = await world.new_meeting(publish=True)
    path = f"/api/meetings/{m}"
    before = (await ok(world, "delegate", "GET", path))["quorum"]
    assert before["present"] == 0 and before["total"] >= 7
    body = await ok(world, "delegate", "POST", path + "/check-in")
    assert body["attendance"] == "present" and body["recorded_how"] == "self"
    assert body["quorum"]["present"] == 1
    again = await ok(world, "delegate", "POST", path + "/check-in")
    assert again.get("unchanged") is True
    body = await ok(
        world,
        "secretary",
        "POST",
        path + "/attendance",
        json={"user_id": world.user_ids["chair"], "attendance": "excused"},
    )
    assert body["attendance"] == "excused" and body["recorded_how"] == "secretariat"
    await err(
        world,
        "secretary",
        "POST",
        path + "/attendance",
        404,
        "not_participant",
        json={"user_id": world.user_ids["display"], "attendance": "present"},
    )
    await err(
        world,
        "secretary",
        "POST",
        path + "/attendance",
        422,
        "validation",
        json={"user_id": world.user_ids["chair"], "attendance": "asleep"},
    )
    people = {p["user_id"]: p for p in await ok(world, "chair", "GET", path + "/participants")}
    assert people[world.user_ids["delegate"]]["checked_in_at"]
    await ok(world, "chair", "POST", path + "/transition", json={"action": "open"})
    await ok(world, "chair", "POST", path + "/transition", json={"action": "close"})
    await err(world, "delegate", "POST", path + "/check-in", 409, "meeting_not_open")


async def _agenda(world: World, m: int) -> dict[str, str]:
    items = await ok(world, "delegate", "GET", f"/api/meetings/{m}/agenda")
    return {i["title"]: i["number"] for i in items}


async def test_nested_numbering_move_and_depth(world: World) -> None:
    m = await world.new_meeting(publish=True)
    a = f"/api/meetings/{m}/agenda"

    async def add(title: str, parent: int | None = None, **extra: Any) -> int:
        body = await ok(
            world, "secretary", "POST", a, 201, json={"title": title, "parent_id": parent, **extra}
        )
        return int(body["id"])

    i1 = await add("A", presenter="Chủ tịch", duration_minutes=30)
    i2 = await add("B")
    i11 = await add("A1", i1)
    i111 = await add("A1a", i11)
    await add("A2", i1)
    assert await _agenda(world, m) == {"A": "1", "A1": "1.1", "A1a": "1.1.1", "A2": "1.2", "B": "2"}
    items = await ok(world, "delegate", "GET", a)
    assert [i["title"] for i in items] == ["A", "A1", "A1a", "A2", "B"]
    first = items[0]
    assert first["presenter"] == "Chủ tịch" and first["duration_minutes"] == 30
    # at most three levels
    await err(
        world, "secretary", "POST", a, 422, "too_deep", json={"title": "x", "parent_id": i111}
    )
    # no cycles: an item cannot move under itself or its descendants
    for parent in (i1, i11, i111):
        await err(
            world,
            "secretary",
            "POST",
            f"{a}/{i1}/move",
            422,
            "cycle",
            json={"parent_id": parent, "position": 0},
        )
    # moving a subtree must keep its deepest item within the limit
    await err(
        world,
        "secretary",
        "POST",
        f"{a}/{i11}/move",
        422,
        "too_deep",
        json={"parent_id": await add("C1", i2), "position": 0},
    )
    # reorder at the top level, then move B under A as its first child
    await ok(world, "secretary", "POST", f"{a}/{i2}/move", json={"parent_id": None, "position": 0})
    assert (await _agenda(world, m))["B"] == "1" and (await _agenda(world, m))["A"] == "2"
    await ok(world, "chair", "POST", f"{a}/{i2}/move", json={"parent_id": i1, "position": 0})
    numbers = await _agenda(world, m)
    assert numbers == {
        "A": "1",
        "B": "1.1",
        "C1": "1.1.1",
        "A1": "1.2",
        "A1a": "1.2.1",
        "A2": "1.3",
    }
    positions = sorted(
        i["position"] for i in await ok(world, "delegate", "GET", a) if i["parent_id"] == i1
    )
    assert positions == [0, 1, 2]
    # deleting: children first
    await err(world, "secretary", "DELETE", f"{a}/{i11}", 409, "has_children")
    await ok(world, "secretary", "DELETE", f"{a}/{i111}", 204)
    await ok(world, "secretary", "DELETE", f"{a}/{i11}", 204)
    assert await _agenda(world, m) == {"A": "1", "B": "1.1", "C1": "1.1.1", "A2": "1.2"}
    # an item of another meeting is not found here
    await err(
        world,
        "secretary",
        "POST",
        f"/api/meetings/{world.meeting_id}/agenda/{i1}/move",
        404,
        "not_found",
        json={"position": 0},
    )
    await err(
        world,
        "secretary",
        "POST",
        f"{a}/{i1}/move",
        404,
        "not_found",
        json={"parent_id": await world.new_item(), "position": 0},
    )
