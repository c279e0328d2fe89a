"""Annotation upserts written in group-committed batches (docs/features/annotations.md, "Throughput
(group commit)"): changes queued together are checked one by one in queue order, each
acknowledged only once the batch is committed, and nothing is lost, doubled or mis-numbered."""

from __future__ import annotations

import asyncio

from meetings.domain.errors import Conflict, DomainError
from meetings.services.accounts.auth import actor_for_token
from meetings.services.annotations import sync as service
from meetings.services.annotations.sync import UpsertAnnotation
from tests.conftest import Running
from tests.integration.annotations.conftest import agenda_pdf, stroke, upload


async def _version(server: Running) -> int:
    doc = await upload(server, agenda_pdf())
    return int(doc["current_version"]["id"])


async def test_one_batch_applies_changes_in_queue_order(server: Running) -> None:
    version_id = await _version(server)
    tokens = {u: await server.token(u) for u in ("delegate001", "delegate002")}
    me = await actor_for_token(server.services, tokens["delegate001"])
    other = await actor_for_token(server.services, tokens["delegate002"])
    assert me is not None and other is not None
    # warm the version cache so that every call below is queued before the writer runs
    await service.upsert(server.services, me, UpsertAnnotation(**stroke(version_id)))

    first = stroke(version_id)
    edit = first | {"color": "#00aa00", "base_version": 1}
    stale = first | {"color": "#0000ff", "base_version": 0}
    keyed = stroke(version_id, idempotency_key="k-" + first["id"])
    others = [stroke(version_id) for _ in range(20)]
    outcomes = await asyncio.gather(
        service.upsert(server.services, me, UpsertAnnotation(**first)),
        service.upsert(server.services, me, UpsertAnnotation(**edit)),
        service.upsert(server.services, me, UpsertAnnotation(**stale)),
        service.upsert(server.services, me, UpsertAnnotation(**keyed)),
        service.upsert(server.services, me, UpsertAnnotation(**keyed)),  # a retry, same key
        service.upsert(server.services, me, UpsertAnnotation(**edit)),  # a replay, no key
        service.upsert(server.services, other, UpsertAnnotation(**(first | {"base_version": 1}))),
        *(service.upsert(server.services, other, UpsertAnnotation(**o)) for o in others),
        return_exceptions=True,
    )
    created, edited, refused, once, again, replay, foreign, *rest = outcomes
    assert isinstance(created, dict) and isinstance(edited, dict), (created, edited)
    assert created["annotation"]["version"] == 1 and created["annotation"]["color"] == "#d00000"
    assert edited["annotation"]["version"] == 2 and edited["annotation"]["color"] == "#00aa00"
    assert edited["cursor"] == created["cursor"] + 1
    assert isinstance(refused, Conflict) and refused.code == "stale_version"
    assert isinstance(once, dict) and isinstance(again, dict)
    assert again.get("replayed") is True and again["cursor"] == once["cursor"]
    assert again["annotation"]["id"] == once["annotation"]["id"]
    assert isinstance(replay, dict), replay  # answered with the stored annotation
    assert replay["annotation"]["version"] == 2 and replay["cursor"] == edited["cursor"]
    assert isinstance(foreign, DomainError) and foreign.code == "not_owner"
    assert all(isinstance(r, dict) for r in rest)
    their = sorted(int(r["cursor"]) for r in rest if isinstance(r, dict))
    assert their == list(range(their[0], their[0] + len(others)))  # one cursor each, no gaps

    # what is stored is what was acknowledged: a fresh device syncs the same
    tablet = await server.client("delegate001")
    synced = await tablet.call("annotation.sync", {"since": 0})
    stored = {a["id"]: a for a in synced["annotations"]}
    assert stored[first["id"]]["version"] == 2 and stored[first["id"]]["color"] == "#00aa00"
    assert stored[first["id"]]["cursor"] == edited["cursor"]
    assert keyed["id"] in stored
    cursors = [a["cursor"] for a in synced["annotations"]]
    assert cursors == sorted(set(cursors))
    await tablet.disconnect()


async def test_withdrawn_document_refused_in_the_batch(server: Running) -> None:
    """Access is checked in the writing transaction, not cached: a withdrawn document's
    version is unknown at once, even though its page sizes are cached."""
    doc = await upload(server, agenda_pdf())
    version_id = int(doc["current_version"]["id"])
    tablet = await server.client("delegate003")
    await tablet.call("annotation.upsert", stroke(version_id))
    status, _, _ = await server.http(
        "DELETE", f"/api/documents/{doc['id']}", token=await server.token("secretary")
    )
    assert status in (200, 204)
    ack = await tablet.sio.call("annotation.upsert", stroke(version_id))
    assert ack["ok"] is False and ack["error"]["code"] == "unknown_document_version", ack
    await tablet.disconnect()
