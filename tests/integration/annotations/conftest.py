"""Helpers for the annotation tests (docs/features/annotations.md): documents uploaded over HTTP,
annotation payloads as a tablet would build them, waiting for user events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import QuorumClient
from tests.conftest import Running

PARAGRAPHS = vietnamese_paragraphs(24, seed=7)


async def upload(
    server: Running, pdf: bytes, title: str = "Tờ trình ngân sách", visibility: str = "members"
) -> dict[str, Any]:
    token = await server.token("secretary")
    status, body, _ = await server.http(
        "POST",
        f"/api/meetings/{server.meeting_id}/documents?title={title}&visibility={visibility}",
        token=token,
        data=pdf,
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, body
    return dict(body)


async def upload_version(server: Running, document_id: int, pdf: bytes) -> dict[str, Any]:
    token = await server.token("secretary")
    status, body, _ = await server.http(
        "POST",
        f"/api/documents/{document_id}/versions",
        token=token,
        data=pdf,
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, body
    return dict(body)


def agenda_pdf(paragraphs: list[str] | None = None) -> bytes:
    return generate_agenda_document("Tờ trình về dự toán ngân sách", paragraphs or PARAGRAPHS)


def stroke(version_id: int, page: int = 0, n: int = 20, **extra: Any) -> dict[str, Any]:
    points = [[100 + i * 3.0, 400 + (i % 5) * 2.0, 0.6] for i in range(n)]
    return {
        "id": str(uuid.uuid4()),
        "document_version_id": version_id,
        "kind": "ink",
        "page": page,
        "color": "#d00000",
        "strokes": [points],
        **extra,
    }


async def until(predicate: Any, seconds: float = 5.0) -> None:
    """Poll `predicate` (state filled by socket callbacks) until it holds."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - the state is plain lists, not events
            await asyncio.sleep(0.01)


def changed_ids(client: QuorumClient) -> list[str]:
    return [
        e["data"]["annotation"]["id"]
        for e in client.user_events
        if e["type"] == "annotation_changed"
    ]
