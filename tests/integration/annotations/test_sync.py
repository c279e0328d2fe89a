"""Annotation sync across a delegate's devices: live, and offline edits replayed
(docs/features/annotations.md, "Sync")."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from realtime.client import CommandFailed, QuorumClient
from tests.conftest import Running
from tests.integration.annotations.conftest import (
    agenda_pdf,
    changed_ids,
    stroke,
    until,
    upload,
)


async def test_stroke_reaches_my_other_device_only(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    version_id = doc["current_version"]["id"]
    tablet = await server.client("delegate001")
    laptop = await server.client("delegate001")
    other = await server.client("delegate002")
    await other.join(server.meeting_id)

    sent = stroke(version_id)
    ack = await tablet.command("annotation.upsert", sent)
    assert ack["annotation"]["version"] == 1 and ack["cursor"] >= 1
    await until(lambda: sent["id"] in changed_ids(laptop))
    got = next(e for e in laptop.user_events if e["type"] == "annotation_changed")["data"]
    assert got["annotation"]["strokes"] == sent["strokes"]
    assert got["cursor"] == ack["cursor"]
    await asyncio.sleep(0.2)
    assert changed_ids(tablet) == []  # the sender has its ack, no echo
    assert changed_ids(other) == []  # private: nobody else's device hears of it

    # shared with the meeting: members hear of it through the meeting's event log
    note = {
        "id": str(uuid.uuid4()),
        "document_version_id": version_id,
        "kind": "note",
        "page": 0,
        "rect": [300, 500, 320, 520],
        "text": "Đề nghị làm rõ",
        "shared": True,
    }
    await tablet.command("annotation.upsert", note)
    view = other.meetings[server.meeting_id]
    await until(lambda: any(e["type"] == "annotation_shared" for e in view.applied))
    shared = next(e for e in view.applied if e["type"] == "annotation_shared")["data"]
    assert shared["annotation"]["text"] == "Đề nghị làm rõ"
    status, listing, _ = await server.http(
        "GET",
        f"/api/document-versions/{version_id}/annotations",
        token=await server.token("delegate002"),
    )
    assert status == 200
    assert [a["id"] for a in listing["annotations"]] == [note["id"]]
    assert listing["annotations"][0]["mine"] is False


async def _replay(device: QuorumClient, ops: list[tuple[str, dict[str, Any]]]) -> None:
    """What a tablet does when it comes back online: send its queue in order; on a stale
    version, re-apply its change on top of the current one (last writer wins) unless the
    annotation was deleted meanwhile."""
    for name, payload in ops:
        try:
            await device.call(name, payload)
        except CommandFailed as exc:
            assert exc.code == "stale_version", exc
            current = exc.error["details"]["current"]
            if not current["deleted"]:
                rebased = payload | {
                    "base_version": current["version"],
                    "idempotency_key": payload["idempotency_key"] + "-rebased",
                }
                await device.call(name, rebased)


def _keyed(device: str, ops: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, p | {"idempotency_key": f"{device}-{uuid.uuid4().hex}"}) for name, p in ops]


async def _sync(device: QuorumClient, store: dict[str, dict[str, Any]], cursor: int) -> int:
    more = True
    while more:
        ack = await device.call("annotation.sync", {"since": cursor})
        for a in ack["annotations"]:
            if a["deleted"]:
                store.pop(a["id"], None)
            else:
                store[a["id"]] = a
        cursor, more = ack["cursor"], ack["more"]
    return cursor


def _view(store: dict[str, dict[str, Any]]) -> set[tuple[str, int, str]]:
    return {(a["id"], a["version"], a["color"]) for a in store.values()}


async def test_offline_edits_on_two_devices_converge(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    version_id = doc["current_version"]["id"]
    a, b = await server.client("delegate001"), await server.client("delegate001")
    x = stroke(version_id)
    await a.command("annotation.upsert", x)
    store_a: dict[str, dict[str, Any]] = {}
    store_b: dict[str, dict[str, Any]] = {}
    cursor_a = await _sync(a, store_a, 0)
    cursor_b = await _sync(b, store_b, 0)
    assert _view(store_a) == _view(store_b) == {(x["id"], 1, "#d00000")}

    # both go offline and queue changes
    a1, b1, b2 = stroke(version_id), stroke(version_id, page=1), stroke(version_id)
    queue_a = _keyed(
        "a",
        [
            ("annotation.upsert", a1),
            ("annotation.upsert", x | {"color": "#0000ff", "base_version": 1}),
        ],
    )
    queue_b = _keyed(
        "b",
        [
            ("annotation.upsert", b1),
            ("annotation.upsert", x | {"color": "#00aa00", "base_version": 1}),
            ("annotation.upsert", b2),
            ("annotation.delete", {"annotation_id": b2["id"]}),
        ],
    )
    # replayed, each twice (acks lost on a flaky network), interleaved; the idempotency keys
    # make a second replay of an applied change return its first result
    await _replay(a, queue_a)
    await _replay(b, queue_b)
    await _replay(a, queue_a)
    await _replay(b, queue_b)

    cursor_a = await _sync(a, store_a, cursor_a)
    cursor_b = await _sync(b, store_b, cursor_b)
    status, listing, _ = await server.http(
        "GET",
        f"/api/document-versions/{version_id}/annotations",
        token=await server.token("delegate001"),
    )
    assert status == 200
    server_view = {(n["id"], n["version"], n["color"]) for n in listing["annotations"]}
    assert _view(store_a) == _view(store_b) == server_view
    assert {i for i, _, _ in server_view} == {x["id"], a1["id"], b1["id"]}  # no loss, no dupes
    assert (x["id"], 3, "#00aa00") in server_view  # b's edit re-applied on top of a's
    assert cursor_a == cursor_b

    # a tombstone is never revived by a stale replay
    with pytest.raises(CommandFailed) as failed:
        await b.call("annotation.upsert", b2 | {"base_version": 1})
    assert failed.value.code == "stale_version"
    assert failed.value.error["details"]["current"]["deleted"] is True


async def test_bad_input_gets_clear_errors(server: Running) -> None:
    doc = await upload(server, agenda_pdf())
    version_id = doc["current_version"]["id"]
    mine = await server.client("delegate001")
    theirs = await server.client("delegate002")
    x = stroke(version_id)
    await mine.command("annotation.upsert", x)

    async def code(client: QuorumClient, name: str, payload: dict[str, Any]) -> str:
        with pytest.raises(CommandFailed) as failed:
            await client.call(name, payload)
        return failed.value.code

    far = stroke(version_id)
    far["strokes"][0][3] = [5000.0, 10.0, 0.5]
    assert await code(mine, "annotation.upsert", far) == "outside_page"
    assert await code(mine, "annotation.upsert", stroke(version_id, n=5001)) == "too_many_points"
    many = stroke(version_id) | {"strokes": [[[1.0, 1.0, 0.5]]] * 201}
    assert await code(mine, "annotation.upsert", many) == "too_many_strokes"
    assert await code(mine, "annotation.upsert", stroke(version_id, page=99)) == (
        "page_out_of_range"
    )
    assert await code(mine, "annotation.upsert", stroke(987654)) == "unknown_document_version"
    assert await code(mine, "annotation.upsert", stroke(version_id) | {"id": "x1"}) == "bad_id"
    assert await code(mine, "annotation.upsert", stroke(version_id) | {"kind": "laser"}) == (
        "unknown_kind"
    )
    assert await code(mine, "annotation.upsert", stroke(version_id) | {"color": "red"}) == (
        "bad_color"
    )
    assert await code(theirs, "annotation.upsert", x | {"base_version": 1}) == "not_owner"
    assert await code(theirs, "annotation.delete", {"annotation_id": x["id"]}) == "not_owner"
    assert await code(mine, "annotation.delete", {"annotation_id": str(uuid.uuid4())}) == (
        "unknown_annotation"
    )
    assert await code(mine, "annotation.upsert", stroke(version_id) | {"extra": 1}) == (
        "validation"
    )
    huge = stroke(version_id) | {"text": "x" * 2_100_000}
    assert await code(mine, "annotation.upsert", huge) == "too_large"
    # the connection survived all of it
    assert (await mine.call("annotation.sync", {"since": 0}))["annotations"][0]["id"] == x["id"]
