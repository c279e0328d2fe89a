"""A new version with inserted and deleted paragraphs: annotations on unchanged text move with
it, those on deleted text are orphaned and listed (docs/features/annotations.md, "Carried to new
versions")."""

from __future__ import annotations

import uuid
from typing import Any

from meetings.documents.generate import generate_agenda_document, revise_paragraphs
from meetings.documents.text_boxes import TextLocator
from tests.conftest import Running
from tests.integration.annotations.conftest import (
    PARAGRAPHS,
    agenda_pdf,
    until,
    upload,
    upload_version,
)

TITLE = "Tờ trình về dự toán ngân sách"


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _phrase(paragraph: str, whole: str, size: int = 10) -> tuple[str, str, str]:
    """`size` words of `paragraph` found once in `whole`, with a little context either side;
    preferably with a number in it (the generated prose repeats its phrasing)."""
    words = paragraph.split()
    starts = list(range(3, len(words) - size - 2))
    starts.sort(key=lambda i: not any(c.isdigit() for w in words[i : i + size] for c in w))
    for start in starts:
        exact = " ".join(words[start : start + size])
        if _collapse(whole).count(exact) == 1:
            at = paragraph.index(exact)
            return exact, paragraph[max(0, at - 30) : at], paragraph[at + len(exact) :][:30]
    raise AssertionError("no unique phrase")


def _where(pdf: bytes, exact: str) -> tuple[int, tuple[Any, ...]]:
    with TextLocator(pdf) as locator:
        for page in range(len(locator)):
            quads = locator.locate(page, exact)
            if quads:
                return page, quads
    raise AssertionError(f"{exact!r} is not in the PDF")


def _close(a: Any, b: Any, tolerance: float = 0.6) -> bool:
    flat_a = [float(v) for quad in a for v in quad]
    flat_b = [float(v) for quad in b for v in quad]
    return len(flat_a) == len(flat_b) and all(
        abs(x - y) <= tolerance for x, y in zip(flat_a, flat_b, strict=True)
    )


async def test_new_version_moves_orphans_and_tells(server: Running) -> None:
    old_pdf = agenda_pdf()
    revision = revise_paragraphs(PARAGRAPHS, seed=3, insert=2, delete=2)
    new_pdf = generate_agenda_document(TITLE, list(revision.paragraphs))
    whole_old = " ".join(PARAGRAPHS)
    first_insert = revision.inserted[0]
    kept = revision.paragraphs[first_insert + 1]
    assert first_insert + 1 not in revision.inserted and kept in PARAGRAPHS
    exact, prefix, suffix = _phrase(kept, whole_old)
    gone, gone_prefix, gone_suffix = _phrase(PARAGRAPHS[revision.deleted[0]], whole_old, 14)

    doc = await upload(server, old_pdf, TITLE)
    v1 = doc["current_version"]["id"]
    old_page, old_quads = _where(old_pdf, exact)
    gone_page, gone_quads = _where(old_pdf, gone)
    new_page, new_quads = _where(new_pdf, exact)
    assert (new_page, new_quads[0][1]) != (old_page, old_quads[0][1])  # the text did move

    def markup(kind: str, page: int, quads: Any, quote: tuple[str, str, str]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "document_version_id": v1,
            "kind": kind,
            "page": page,
            "quads": [list(q) for q in quads],
            "anchor": {"exact": quote[0], "prefix": quote[1], "suffix": quote[2]},
        }

    x, y = old_quads[0][0], old_quads[0][1]
    highlight = markup("highlight", old_page, old_quads, (exact, prefix, suffix))
    strike = markup("strike", gone_page, gone_quads, (gone, gone_prefix, gone_suffix))
    note = {
        "id": str(uuid.uuid4()),
        "document_version_id": v1,
        "kind": "note",
        "page": old_page,
        "rect": [x - 30, y - 20, x - 10, y],
        "text": "Hỏi lại nguồn vốn",
        "anchor": {"exact": exact, "prefix": prefix, "suffix": suffix},
    }
    ink = {
        "id": str(uuid.uuid4()),
        "document_version_id": v1,
        "kind": "ink",
        "page": 1,
        "strokes": [[[50.0, 50.0, 0.5], [80.0, 60.0, 0.7]]],
    }
    tablet = await server.client("delegate001")
    laptop = await server.client("delegate001")
    await laptop.join(server.meeting_id)
    for payload in (highlight, strike, note, ink):
        await tablet.command("annotation.upsert", payload)

    token = await server.token("secretary")
    status, body, _ = await server.http(
        "POST",
        f"/api/documents/{doc['id']}/versions",
        token=token,
        data=new_pdf,
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, body
    assert body["annotations"] == {"carried": 4, "anchored": 2, "unverified": 1, "orphaned": 1}
    v2 = body["current_version"]["id"]

    # the delegate's devices are told: the meeting's event and their own carried annotations
    view = laptop.meetings[server.meeting_id]
    await until(lambda: any(e["type"] == "document_version_added" for e in view.applied))
    await until(lambda: any(e["type"] == "annotations_carried" for e in laptop.user_events))
    told = next(e for e in laptop.user_events if e["type"] == "annotations_carried")["data"]
    assert told["document_version_id"] == v2 and len(told["annotations"]) == 4

    me = await server.token("delegate001")
    status, listing, _ = await server.http(
        "GET", f"/api/document-versions/{v2}/annotations", token=me
    )
    assert status == 200
    carried = {a["carried_from"]: a for a in listing["annotations"]}
    moved = carried[highlight["id"]]
    assert moved["status"] == "anchored" and moved["page"] == new_page
    assert _close(moved["quads"], new_quads), (moved["quads"], new_quads)
    assert moved["reanchor"]["method"] in ("exact", "normalized")
    assert moved["reanchor"]["moved"] is True
    moved_note = carried[note["id"]]
    dx, dy = new_quads[0][0] - old_quads[0][0], new_quads[0][1] - old_quads[0][1]
    assert moved_note["page"] == new_page
    assert _close([moved_note["rect"]], [[x - 30 + dx, y - 20 + dy, x - 10 + dx, y + dy]])
    assert carried[ink["id"]]["status"] == "unverified"
    assert carried[ink["id"]]["strokes"] == ink["strokes"]

    orphan = carried[strike["id"]]
    assert orphan["status"] == "orphaned"
    assert orphan["anchor"]["exact"] == gone and orphan["page"] == gone_page  # kept whole
    status, orphans, _ = await server.http(
        "GET", f"/api/annotations/orphaned?document_id={doc['id']}", token=me
    )
    assert [o["id"] for o in orphans] == [orphan["id"]]
    # the old version keeps its annotations untouched
    status, old_listing, _ = await server.http(
        "GET", f"/api/document-versions/{v1}/annotations", token=me
    )
    assert {a["id"] for a in old_listing["annotations"]} == {
        highlight["id"],
        strike["id"],
        note["id"],
        ink["id"],
    }


async def test_a_move_within_the_page_is_told_and_no_move_is_not(server: Running) -> None:
    """Text pushed down its own page by an inserted paragraph: the carried highlight keeps its
    page, and `reanchor.moved` says it moved; carried again to a version that only adds text at
    the end, where the quote did not move, it says it did not."""
    first = PARAGRAPHS[0]
    exact, prefix, suffix = _phrase(first, " ".join(PARAGRAPHS))
    old_pdf = agenda_pdf()
    pushed = agenda_pdf(["Hội đồng nhân dân tỉnh thảo luận tờ trình này.", *PARAGRAPHS])
    appended = agenda_pdf(
        ["Hội đồng nhân dân tỉnh thảo luận tờ trình này.", *PARAGRAPHS, "Phụ lục kèm theo."]
    )
    old_page, old_quads = _where(old_pdf, exact)
    new_page, new_quads = _where(pushed, exact)
    assert new_page == old_page and abs(new_quads[0][1] - old_quads[0][1]) > 5  # same page, lower

    doc = await upload(server, old_pdf, TITLE)
    v1 = doc["current_version"]["id"]
    highlight = {
        "id": str(uuid.uuid4()),
        "document_version_id": v1,
        "kind": "highlight",
        "page": old_page,
        "quads": [list(q) for q in old_quads],
        "anchor": {"exact": exact, "prefix": prefix, "suffix": suffix},
    }
    tablet = await server.client("delegate001")
    ack = await tablet.command("annotation.upsert", highlight)
    assert ack["ok"], ack
    me = await server.token("delegate001")

    async def carried_to(pdf: bytes) -> dict[str, Any]:
        body = await upload_version(server, doc["id"], pdf)
        version = body["current_version"]["id"]
        status, listing, _ = await server.http(
            "GET", f"/api/document-versions/{version}/annotations", token=me
        )
        assert status == 200
        [found] = listing["annotations"]
        return dict(found)

    moved = await carried_to(pushed)
    assert moved["status"] == "anchored" and moved["page"] == old_page
    assert moved["reanchor"]["from_page"] == moved["page"]
    assert moved["reanchor"]["moved"] is True
    assert _close(moved["quads"], new_quads)

    still = await carried_to(appended)
    assert still["status"] == "anchored" and still["page"] == old_page
    assert still["reanchor"]["moved"] is False
