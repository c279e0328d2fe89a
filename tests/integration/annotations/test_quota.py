"""Per-user annotation quotas and per-user command limits (docs/features/annotations.md,
"Quotas")."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from meetings.storage.tables_annotations import AnnotationRow
from realtime.client import CommandFailed, QuorumClient
from tests.conftest import Running
from tests.integration.annotations.conftest import agenda_pdf, stroke, upload


async def _stored(server: Running, version_id: int) -> int:
    async with server.services.db.reading() as session:
        found = await session.execute(
            select(func.count())
            .select_from(AnnotationRow)
            .where(col(AnnotationRow.version_id) == version_id, ~col(AnnotationRow.deleted))
        )
        return int(found.scalar_one())


async def _refused(client: QuorumClient, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        await client.command("annotation.upsert", payload)
    except CommandFailed as exc:
        return exc.error
    raise AssertionError("the upsert was accepted")


async def test_quotas_per_version_and_in_all(server: Running) -> None:
    settings = server.services.settings
    settings.annotation_quota_count = 3
    settings.annotation_total_count = 4
    first = (await upload(server, agenda_pdf()))["current_version"]["id"]
    second = (await upload(server, agenda_pdf(), title="Phụ lục"))["current_version"]["id"]
    tablet = await server.client("delegate001")
    acks = [await tablet.command("annotation.upsert", stroke(first)) for _ in range(3)]
    error = await _refused(tablet, stroke(first))
    assert error["code"] == "quota_exceeded", error
    # over REST too: 409, nothing stored
    token = await server.token("delegate001")
    status, body, _ = await server.http("POST", "/api/annotations", token=token, json=stroke(first))
    assert status == 409 and body["error"]["code"] == "quota_exceeded", body
    assert await _stored(server, first) == 3
    # changing one it has is fine; another document counts toward the total
    kept = acks[0]["annotation"]
    changed = stroke(first, n=25) | {"id": kept["id"], "base_version": kept["version"]}
    await tablet.command("annotation.upsert", changed)
    await tablet.command("annotation.upsert", stroke(second))
    error = await _refused(tablet, stroke(second))
    assert error["code"] == "quota_exceeded", error
    # deleting one frees its place
    await tablet.command("annotation.delete", {"annotation_id": acks[1]["annotation"]["id"]})
    await tablet.command("annotation.upsert", stroke(first))
    # bytes: a quota of 2 KB holds a few small strokes, not one of 150 points
    settings.annotation_quota_count = settings.annotation_total_count = 1000
    settings.annotation_quota_mb = 2 / 1024
    third = (await upload(server, agenda_pdf(), title="Báo cáo"))["current_version"]["id"]
    error = await _refused(tablet, stroke(third, n=150))
    assert error["code"] == "quota_exceeded", error


async def test_command_limit_is_per_user_across_connections(server: Running) -> None:
    sockets = [await server.client("delegate003") for _ in range(3)]
    per_socket = 90  # under each connection's burst (100 in tests), over the user's (120)

    async def flood(client: QuorumClient) -> list[str]:
        async def one() -> str:
            try:
                await client.call("time.sync", {})
            except CommandFailed as exc:
                return exc.code
            return "ok"

        return list(await asyncio.gather(*(one() for _ in range(per_socket))))

    codes = [code for got in await asyncio.gather(*(flood(s) for s in sockets)) for code in got]
    assert set(codes) <= {"ok", "rate_limited"}
    assert codes.count("rate_limited") > 0
    assert codes.count("ok") < len(codes)
    # another user is not slowed by it
    other = await server.client("delegate004")
    await other.call("time.sync", {})
