"""Documents: versions, visibility, watermarks, Range, ETag and caching (docs/API.md)."""

from __future__ import annotations

import io
from datetime import datetime
from email.utils import parsedate_to_datetime

from pypdf import PdfReader

from meetings.domain.model import Visibility
from tests.support.upload_pdfs import text_pdf
from tests.support.world import World

PDF = {"content-type": "application/pdf"}


async def _upload(world: World, query: str, data: bytes) -> dict:  # type: ignore[type-arg]
    status, body, _ = await world.http(
        "secretary",
        "POST",
        f"/api/meetings/{world.meeting_id}/documents{query}",
        data=data,
        headers=PDF,
    )
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def test_versions_range_etag_and_caching(world: World) -> None:
    v1 = text_pdf("Budget draft one", pages=3)
    doc = await _upload(world, "?title=Dự+toán&filename=du-toan.pdf", v1)
    assert doc["title"] == "Dự toán" and doc["current_version"]["page_count"] == 3
    assert doc["current_version"]["filename"] == "du-toan.pdf"
    assert world.services.blobs.read(doc["current_version"]["sha256"]) == v1
    path = f"/api/documents/{doc['id']}/file"

    status, body, headers = await world.http("delegate", "GET", path)
    assert status == 200 and body == v1
    assert headers["content-type"] == "application/pdf"
    assert headers["cache-control"] == "private, no-cache"  # the newest version may change
    etag = headers["etag"]
    assert etag == f'"{doc["current_version"]["sha256"]}"'
    assert headers["accept-ranges"] == "bytes"
    assert "filename*=UTF-8''du-toan.pdf" in headers["content-disposition"]

    status, body, _ = await world.http("delegate", "GET", path, headers={"if-none-match": etag})
    assert status == 304 and body == b""

    status, body, headers = await world.http(
        "delegate", "GET", path, headers={"range": "bytes=0-99"}
    )
    assert status == 206 and body == v1[:100]
    assert headers["content-range"] == f"bytes 0-99/{len(v1)}"
    status, body, headers = await world.http(
        "delegate", "GET", path, headers={"range": "bytes=-50"}
    )
    assert status == 206 and body == v1[-50:]
    status, _, _ = await world.http(
        "delegate", "GET", path, headers={"range": f"bytes={len(v1) + 10}-"}
    )
    assert status == 416

    v2 = text_pdf("Budget draft two", pages=1)
    status, body, _ = await world.http(
        "chair",
        "POST",
        f"/api/documents/{doc['id']}/versions?note=s%E1%BB%ADa",
        data=v2,
        headers=PDF,
    )
    assert status == 201, body
    assert body["current_version"]["number"] == 2 and body["current_version"]["note"] == "sửa"
    assert [v["number"] for v in body["versions"]] == [1, 2]

    status, latest, headers = await world.http("delegate", "GET", path)
    assert latest == v2 and headers["etag"] != etag
    status, first, headers = await world.http("delegate", "GET", path + "?version=1")
    assert first == v1
    assert headers["cache-control"] == "private, max-age=31536000, immutable"
    assert headers["etag"] == etag
    listed = await world.http("delegate", "GET", f"/api/meetings/{world.meeting_id}/documents")
    assert any(d["id"] == doc["id"] and d["current_version"]["number"] == 2 for d in listed[1])


async def test_restricted_documents_are_invisible_to_others(world: World) -> None:
    delegate = world.user_ids["delegate"]
    _, before, _ = await world.http("delegate", "GET", f"/api/meetings/{world.meeting_id}/snapshot")
    doc = await _upload(
        world,
        f"?title=Secret+plan&visibility=restricted&allowed_user_ids={delegate}",
        text_pdf("restricted"),
    )
    assert doc["allowed_user_ids"] == [delegate]
    ids = lambda body: {d["id"] for d in body}  # noqa: E731
    other = await world.server.token("delegate002")
    _, mine, _ = await world.http("delegate", "GET", f"/api/meetings/{world.meeting_id}/documents")
    _, theirs, _ = await world.server.http(
        "GET", f"/api/meetings/{world.meeting_id}/documents", token=other
    )
    assert doc["id"] in ids(mine) and doc["id"] not in ids(theirs)
    assert "allowed_user_ids" not in next(d for d in mine if d["id"] == doc["id"])
    status, _, _ = await world.server.http("GET", f"/api/documents/{doc['id']}/file", token=other)
    assert status == 404
    # the meeting's event log names the document without its title or file
    _, log, _ = await world.http(
        "delegate", "GET", f"/api/meetings/{world.meeting_id}/events?since_seq={before['seq']}"
    )
    added = [
        e
        for e in log["events"]
        if e["type"] == "document_added" and e["data"]["document_id"] == doc["id"]
    ]
    assert added and added[0]["data"] == {"document_id": doc["id"], "restricted": True}
    # making it public shows it to everyone
    status, body, _ = await world.http(
        "secretary", "PATCH", f"/api/documents/{doc['id']}", json={"visibility": "public"}
    )
    assert status == 200 and body["visibility"] == "public"
    status, _, _ = await world.server.http("GET", f"/api/documents/{doc['id']}/file", token=other)
    assert status == 200


async def test_confidential_download_is_watermarked_for_the_reader(world: World) -> None:
    delegate = world.user_ids["delegate"]
    original = text_pdf("Confidential annex", pages=2)
    doc = await _upload(
        world, f"?title=Annex&visibility=confidential&allowed_user_ids={delegate}", original
    )
    status, body, headers = await world.http("delegate", "GET", f"/api/documents/{doc['id']}/file")
    assert status == 200 and body != original
    assert headers["cache-control"] == "private, no-store"
    assert "etag" not in headers
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 2
    async with world.services.db.reading() as session:
        from meetings.storage.tables import User

        user = await session.get(User, delegate)
        assert user is not None
    for page in reader.pages:
        text = page.extract_text()
        assert "Confidential annex" in text
        assert user.name in text and "delegate001" in text
    # the chair (staff) reads it too, stamped with the chair's own name
    status, chair_copy, _ = await world.http("chair", "GET", f"/api/documents/{doc['id']}/file")
    assert status == 200
    assert "delegate001" not in PdfReader(io.BytesIO(chair_copy)).pages[0].extract_text()
    # the stored blob is the original, untouched
    assert world.services.blobs.read(doc["current_version"]["sha256"]) == original


async def test_confidential_documents_carry_their_offline_expiry(world: World) -> None:
    """The briefcase (docs/WEBAPP.md) drops a confidential paper QUORUM_OFFLINE_HOURS after the
    last list it came in; the others never expire offline."""
    delegate = world.user_ids["delegate"]
    world.services.settings.offline_hours = 2
    secret = await _upload(
        world, f"?title=Annex&visibility=confidential&allowed_user_ids={delegate}", text_pdf("x")
    )
    public = await _upload(world, "?title=Budget", text_pdf("y"))
    _, listed, headers = await world.http(
        "delegate", "GET", f"/api/meetings/{world.meeting_id}/documents"
    )
    by_id = {d["id"]: d for d in listed}
    served = parsedate_to_datetime(headers["date"])
    until = datetime.fromisoformat(by_id[secret["id"]]["offline_expires_at"])
    assert abs((until - served).total_seconds() - 2 * 3600) < 5
    assert by_id[public["id"]]["offline_expires_at"] is None


async def test_withdrawn_documents_are_gone(world: World) -> None:
    document_id = await world.new_document(Visibility.members)
    status, _, _ = await world.http("secretary", "DELETE", f"/api/documents/{document_id}")
    assert status == 204
    status, _, _ = await world.http("delegate", "GET", f"/api/documents/{document_id}/file")
    assert status == 404
    status, _, _ = await world.http("secretary", "DELETE", f"/api/documents/{document_id}")
    assert status == 404


async def test_a_null_in_a_patch_unlinks_the_document_from_its_item(world: World) -> None:
    """`{"agenda_item_id": null}` takes the document off its agenda item (a key left out
    leaves the link as it is); `{"title": null}` is refused, a title cannot be cleared."""
    item = await world.new_item()
    doc = await _upload(world, f"?title=Annex&agenda_item_id={item}", text_pdf("Annex"))
    assert doc["agenda_item_id"] == item
    path = f"/api/documents/{doc['id']}"
    status, body, _ = await world.http("secretary", "PATCH", path, json={"title": "Annex 2"})
    assert status == 200 and body["agenda_item_id"] == item, body
    status, body, _ = await world.http("secretary", "PATCH", path, json={"agenda_item_id": None})
    assert status == 200 and body["agenda_item_id"] is None and body["title"] == "Annex 2", body
    status, body, _ = await world.http("secretary", "PATCH", path, json={"title": None})
    assert status == 422, body
