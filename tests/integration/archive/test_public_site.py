"""The public site's server side (docs/features/archive.md, "Public (no login)", "Open data"):
a published resolution found by a search without diacritics, its record (vote, verified
signatures, hash) by the id its QR code names, open data, the sitemap and robots.txt; on
SQLite and PostgreSQL, over a real server and the demo's really signed resolution."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlmodel import col

from meetings.domain.text import fold
from meetings.services.archive import open_data
from meetings.storage.tables_archive import ArchiveRecord
from realtime.asgi import FRONTEND_DIST as DIST
from tests.conftest import Running, need
from tests.integration.archive.conftest import CHAIR_PASSWORD, Flow

LISTED = {"id", "number", "label", "title", "council", "council_id", "date", "sha256", "size",
          "signatures", "archived_at", "published_at", "download_url", "kind"}  # fmt: skip


async def get(server: Running, path: str, status: int = 200) -> Any:
    got, body, _ = await server.http("GET", path)
    assert got == status, (path, got, body)
    return body


TITLE = "Nghị quyết về dự toán ngân sách địa phương năm 2027"


async def published_resolution(flow: Flow) -> ArchiveRecord:
    """Adopted over Socket.IO (4 yes, 1 no, open ballot), generated, signed by the chair and
    the seal with the test PKI (time-stamped), archived (B-LTA) and published."""
    server = flow.server
    draft = await flow.draft(await flow.adopted_poll(), TITLE)
    await flow.call("POST", f"/api/resolutions/{draft['id']}/generate")
    await flow.call(
        "POST", f"/api/resolutions/{draft['id']}/sign", flow.chair_token, json=CHAIR_PASSWORD
    )
    record_id = (await flow.call("POST", f"/api/resolutions/{draft['id']}/archive"))["id"]
    async with server.services.db.reading() as session:
        record = await session.get(ArchiveRecord, record_id)
    assert record is not None and record.public
    return record


async def test_published_resolution_found_read_and_verified(flow: Flow) -> None:
    server = flow.server
    record = await published_resolution(flow)
    res_id = record.source_id

    found = await get(server, "/api/public/resolutions?q=du+toan+NGAN+sach+2027")
    assert found["total"] == 1
    [entry] = found["resolutions"]
    assert set(entry) >= LISTED - {"kind"} and entry["title"] == TITLE
    assert entry["download_url"] == f"/api/public/resolutions/{record.id}/file"
    assert entry["resolution_id"] == res_id and entry["page"] == f"/public/resolutions/{res_id}"
    assert (await get(server, "/api/public/resolutions?q=khong+co+dau"))["total"] == 0
    seq = record.number.split("/")[0]
    assert (await get(server, f"/api/public/resolutions?number={seq}"))["total"] == 1
    assert (await get(server, f"/api/public/resolutions?number={seq}9"))["total"] == 0
    day = record.doc_date
    in_range = f"date_from={day}&date_to={day}&council_id={server.council_id}"
    assert (await get(server, f"/api/public/resolutions?{in_range}"))["total"] == 1
    after = f"date_from={day + timedelta(days=1)}"
    assert (await get(server, f"/api/public/resolutions?{after}"))["total"] == 0
    for bad in ("date_from=12/2026", "date_from=2026-12-02&date_to=2026-12-01", "offset=10001",
                "council_id=x"):  # fmt: skip
        body = await get(server, f"/api/public/resolutions?{bad}", 422)
        assert body["error"]["code"] == "bad_query"
    councils = await get(server, "/api/public/councils")
    assert councils["councils"] == [
        {"id": server.council_id, "name": record.council_name, "resolutions": 1}
    ]

    page = await get(server, f"/api/public/resolutions/{res_id}/record")
    assert page["id"] == res_id and page["record_id"] == record.id and page["kind"] == "resolution"
    assert page["sha256"] == record.sha256 and page["title"] == TITLE
    assert page["page_url"] == f"{server.settings.public_url}/public/resolutions/{res_id}"
    check = page["verification"]
    assert check["ok"] is True and check["sha256"] == record.sha256
    assert check["summary_vi"].startswith("HỢP LỆ") and check["summary"].startswith("VALID")
    signers = [s for s in check["signatures"] if s["kind"] == "signature"]
    assert len(signers) == 2 and all(s["ok"] and s["intact"] and s["valid"] for s in signers)
    assert all(s["level"] in ("B-B", "B-T", "B-LT", "B-LTA") for s in signers)
    [vote] = page["votes"]
    assert vote["result"] == "pass" and vote["secret"] is False
    assert vote["extras"]["majority"] == {"fraction": "1/2", "comparison": "gt",
                                          "base": "votes_cast"}  # fmt: skip
    counts = {c["option"]: c["value"] for c in vote["counts"]}
    assert sum(counts.values()) == len(vote["votes"]) and counts["yes"] > counts["no"]
    assert all(v["voter_name"] for v in vote["votes"])  # an open ballot: named

    again = await get(server, f"/api/public/resolutions/{res_id}/record")
    assert again["verification"]["checked_at"] == check["checked_at"]  # once per file

    status, pdf, headers = await server.http("GET", page["download_url"])
    assert status == 200 and hashlib.sha256(pdf).hexdigest() == record.sha256
    assert headers["etag"] == f'"{record.sha256}"'

    for missing in (f"/api/public/resolutions/{res_id + 1000}/record",
                    f"/api/public/minutes/{res_id}/record", f"/api/public/minutes/{res_id}/file",
                    "/api/public/resolutions/0/record"):  # fmt: skip
        assert (await get(server, missing, 404))["error"]["code"] == "not_found"
    # an archived record that is not published is as unknown as one that does not exist
    async with server.services.uow() as uow:
        await uow.session.execute(
            update(ArchiveRecord).where(col(ArchiveRecord.id) == record.id).values(public=False)
        )
        await uow.commit()
    await get(server, f"/api/public/resolutions/{res_id}/record", 404)
    assert (await get(server, "/api/public/resolutions?q=ngan+sach"))["total"] == 0
    sitemap = (await get(server, "/sitemap.xml")).decode()
    assert f"/public/resolutions/{res_id}<" not in sitemap


async def test_open_data_sitemap_and_robots(flow: Flow) -> None:
    server = flow.server
    record = await published_resolution(flow)
    res_id, council = record.source_id, server.council_id

    bills = await get(server, f"/api/public/councils/{council}/resolutions.json")
    assert bills["organization"]["id"] == f"quorum:council:{council}"
    [bill] = bills["resolutions"]
    assert bill["id"] == f"quorum:resolution:{res_id}" and bill["identifier"] == record.number
    [document] = bill["documents"]
    assert document["sha256"] == record.sha256
    assert document["links"][0]["url"].startswith(server.settings.public_url + "/api/public/")
    events = await get(server, f"/api/public/councils/{council}/vote-events.json")
    [event] = events["vote_events"]
    assert bill["vote_event_ids"] == [event["id"]]
    assert event["bill_id"] == bill["id"] and event["result"] == "pass" and event["votes"]
    assert events["total"] == 1 and events["next"] is None
    await get(server, "/api/public/councils/999999/resolutions.json", 404)
    await get(server, "/api/public/councils/999999/vote-events.json", 404)

    status, body, headers = await server.http("GET", "/sitemap.xml")
    assert status == 200 and headers["content-type"].startswith("application/xml")
    text = body.decode()
    base = server.settings.public_url
    assert text.startswith("<?xml") and "<urlset " in text
    assert f"<loc>{base}/public/resolutions/{res_id}</loc>" in text
    assert f"<loc>{base}/public</loc>" in text and f"<loc>{base}/verify</loc>" in text
    robots = (await get(server, "/robots.txt")).decode()
    assert f"Sitemap: {base}/sitemap.xml" in robots and "Disallow: /api/\n" in robots
    await get(server, "/sitemap-2.xml", 404)


async def test_sitemap_splits_into_an_index(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the per-file limit (50,000; 3 here) /sitemap.xml is an index of pages."""
    monkeypatch.setattr(open_data, "SITEMAP_URLS", 3)
    await insert_records(server, 5, council_id=server.council_id)  # 2 static pages + 5 = 7 URLs
    index = (await get(server, "/sitemap.xml")).decode()
    base = server.settings.public_url
    assert "<sitemapindex " in index
    assert re.findall(r"<loc>([^<]+)</loc>", index) == [
        f"{base}/sitemap-{n}.xml" for n in (1, 2, 3)
    ]
    seen: list[str] = []
    for n in (1, 2, 3):
        page = (await get(server, f"/sitemap-{n}.xml")).decode()
        assert "<urlset " in page
        seen += re.findall(r"<loc>([^<]+)</loc>", page)
    assert len(seen) == len(set(seen)) == 7
    await get(server, "/sitemap-4.xml", 404)


WORDS = ["ngân sách", "đầu tư công", "giáo dục", "y tế", "giao thông", "đất đai", "môi trường",
         "biên chế", "quy hoạch", "nông thôn mới", "văn hóa", "thể thao"]  # fmt: skip


async def insert_records(server: Running, n: int, council_id: int) -> list[dict[str, Any]]:
    """`n` published resolution records (rows only: the listing reads no file)."""
    start = date(2020, 1, 1)
    rows = []
    for i in range(n):
        title = f"Nghị quyết về {WORDS[i % len(WORDS)]} năm {2020 + i % 7} (lần {i})"
        number = f"{i + 1}/NQ-HĐND"
        rows.append(
            {"kind": "resolution", "source_id": 1_000_000 + i, "council_id": council_id,
             "council_name": "Hội đồng nhân dân tỉnh", "meeting_id": server.meeting_id,
             "number": number, "title": title,
             "folded": f"{number} {title} Hội đồng nhân dân tỉnh",
             "doc_date": start + timedelta(days=i % 2000), "sha256": f"{i:064x}", "size": 1,
             "signatures": [], "public": True}
        )  # fmt: skip
    for row in rows:
        row["folded"] = fold(row["folded"])
    async with server.services.uow() as uow:
        await uow.session.execute(insert(ArchiveRecord), rows)
        await uow.commit()
    return rows


async def test_published_minutes_name_open_voters_never_secret_ones(flow: Flow) -> None:
    """Minutes of a sitting with an open and a secret poll, signed, archived and published:
    their public record reports both polls, the open one's voters by name, the secret one's
    counts only (no name, no choice of anyone)."""
    server = flow.server
    await flow.adopted_poll("Biểu quyết công khai về chương trình")
    ack = await flow.chair.command(
        "poll.create",
        {"meeting_id": flow.meeting_id, "kind": "motion", "title": "Bỏ phiếu kín", "secret": True},
    )
    secret_id = int(ack["poll_id"])
    await flow.chair.command("poll.open", {"poll_id": secret_id})
    for client, choice in zip(flow.delegates[:3], ["yes", "no", "yes"], strict=True):
        cast = {"poll_id": secret_id, "choice": choice, "idempotency_key": f"k{choice}{id(client)}"}
        await client.call("ballot.cast", cast)
    await flow.chair.command("poll.close", {"poll_id": secret_id})
    minutes = await flow.call("POST", f"/api/meetings/{flow.meeting_id}/minutes")
    await flow.call(
        "POST", f"/api/minutes/{minutes['id']}/sign", flow.chair_token, json=CHAIR_PASSWORD
    )
    await get(server, f"/api/public/minutes/{minutes['id']}/record", 404)  # not archived yet
    await flow.call("POST", f"/api/minutes/{minutes['id']}/archive", params={"publish": "true"})

    page = await get(server, f"/api/public/minutes/{minutes['id']}/record")
    assert page["kind"] == "minutes" and page["verification"]["ok"] is True
    by_title = {v["motion_text"]: v for v in page["votes"]}
    open_vote, secret = by_title["Biểu quyết công khai về chương trình"], by_title["Bỏ phiếu kín"]
    assert len(open_vote["votes"]) == 5 and all(v["voter_name"] for v in open_vote["votes"])
    assert secret["secret"] is True and "votes" not in secret
    assert {c["option"]: c["value"] for c in secret["counts"]} == {"yes": 2, "no": 1, "abstain": 0}
    names = {v["voter_name"] for v in open_vote["votes"]}
    assert not any(name in json.dumps(secret, ensure_ascii=False) for name in names)
    status, pdf, _ = await server.http("GET", page["download_url"])
    assert status == 200 and hashlib.sha256(pdf).hexdigest() == page["sha256"]
    events = await get(server, f"/api/public/councils/{server.council_id}/vote-events.json")
    secret_event = next(e for e in events["vote_events"] if e["motion_text"] == "Bỏ phiếu kín")
    assert "votes" not in secret_event
    sitemap = (await get(server, "/sitemap.xml")).decode()
    assert f"/public/minutes/{minutes['id']}</loc>" in sitemap


async def test_public_pages_of_what_is_not_published_answer_404(flow: Flow) -> None:
    """The app's page for a published resolution answers 200; for an unknown id, a draft that
    was never published or a path that is not a number, the same app page answers 404, so search
    engines and link checkers do not keep a "not found" page as a document."""
    need("The built web app (frontend/dist)", (DIST / "index.html").is_file(), "run make frontend")
    server = flow.server
    record = await published_resolution(flow)
    index = (DIST / "index.html").read_bytes()
    draft = await flow.draft(await flow.adopted_poll(), "Dự thảo chưa công bố")
    for path, status in [
        (f"/public/resolutions/{record.source_id}", 200),
        (f"/public/resolutions/{record.source_id}/", 200),
        ("/public", 200),
        ("/verify", 200),
        (f"/public/resolutions/{draft['id']}", 404),
        ("/public/resolutions/987654", 404),
        ("/public/resolutions/abc", 404),
        ("/public/resolutions/99999999999999999999999", 404),
        (f"/public/minutes/{record.source_id}", 404),
    ]:
        got, body, headers = await server.http("GET", path)
        assert (got, body) == (status, index), path
        assert headers["content-type"].startswith("text/html"), path
