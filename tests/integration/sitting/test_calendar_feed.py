"""Each user's calendar feed (docs/features/sitting.md, "Calendar feed"): parsed with the
`icalendar` package, over a real server and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from sqlalchemy import select

from meetings.storage.tables import CalendarFeed
from tests.conftest import Running


async def new_feed(server: Running, token: str) -> str:
    status, body, _ = await server.http("POST", "/api/calendar/feed", token=token)
    assert status == 201 and body["active"] is True
    url = str(body["url"])
    assert url.startswith(server.settings.public_url + "/api/calendar/qcal_")
    return url.removeprefix(server.settings.public_url)


async def fetch(server: Running, path: str) -> tuple[int, Any]:
    status, raw, headers = await server.http("GET", path)
    if status == 200:
        assert headers["content-type"].startswith("text/calendar")
        return status, icalendar.Calendar.from_ical(raw)
    return status, raw


def events(calendar: Any) -> dict[str, Any]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def make_meeting(server: Running, token: str, **fields: Any) -> int:
    status, body, _ = await server.http(
        "POST", "/api/meetings", token=token, json={"council_id": server.council_id, **fields}
    )
    assert status == 201, body
    return int(body["id"])


async def test_feed_lists_published_meetings_and_follows_changes(server: Running) -> None:
    secretary = await server.token("secretary")
    delegate = await server.token("delegate001")
    title = "Kỳ họp thứ 12, phiên chất vấn; nội dung: ngân sách \\ đầu tư " + " ".join(["dài"] * 20)
    start = datetime(2027, 3, 15, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội
    meeting = await make_meeting(
        server, secretary, title=title, location="Hội trường A", starts_at=start.isoformat()
    )
    draft = await make_meeting(server, secretary, title="Bản nháp", starts_at=start.isoformat())
    path = await new_feed(server, delegate)
    status, cal = await fetch(server, path)
    assert status == 200
    assert not any(str(e["SUMMARY"]) in (title, "Bản nháp") for e in cal.walk("VEVENT"))

    status, _, _ = await server.http(
        "POST", f"/api/meetings/{meeting}/transition", token=secretary, json={"action": "publish"}
    )
    assert status == 200
    status, cal = await fetch(server, path)
    found = [e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == title]
    assert len(found) == 1
    event = found[0]
    uid = str(event["UID"])
    assert event["DTSTART"].dt == start
    assert event["DTEND"].dt == start + timedelta(hours=3)
    assert str(event["LOCATION"]) == "Hội trường A"
    assert str(event["URL"]).endswith(f"/m/{meeting}")
    assert str(event["STATUS"]) == "CONFIRMED"
    first_sequence = int(event["SEQUENCE"])
    # folded at 75 octets, CRLF, escaped: the raw text says so
    _, raw, _ = await server.http("GET", path)
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\\;" in raw and b"\\," in raw and b"\\\\" in raw

    # a change of time and place: same UID, a higher SEQUENCE
    later = start + timedelta(days=1)
    status, _, _ = await server.http(
        "PATCH",
        f"/api/meetings/{meeting}",
        token=secretary,
        json={"starts_at": later.isoformat(), "location": "Phòng họp số 2"},
    )
    assert status == 200
    _, cal = await fetch(server, path)
    event = events(cal)[uid]
    assert event["DTSTART"].dt == later and str(event["LOCATION"]) == "Phòng họp số 2"
    assert int(event["SEQUENCE"]) > first_sequence
    # withdrawn: still there, CANCELLED, so calendars drop it
    status, _, _ = await server.http(
        "POST", f"/api/meetings/{meeting}/transition", token=secretary, json={"action": "unpublish"}
    )
    assert status == 200
    _, cal = await fetch(server, path)
    assert str(events(cal)[uid]["STATUS"]) == "CANCELLED"
    assert all(f"meeting-{draft}@" not in u for u in events(cal))


async def test_feed_address_is_secret_revocable_and_per_user(server: Running) -> None:
    delegate = await server.token("delegate001")
    outsider_view = await server.token("delegate002")
    first = await new_feed(server, delegate)
    status, body, _ = await server.http("GET", "/api/calendar/feed", token=delegate)
    assert status == 200 and body["active"] is True and "url" not in body
    second = await new_feed(server, delegate)
    assert first != second
    status, _ = await fetch(server, first)
    assert status == 404  # regenerated: the old address ends
    status, _ = await fetch(server, second)
    assert status == 200
    # only a hash is stored
    async with server.services.db.reading() as session:
        hashes = list((await session.execute(select(CalendarFeed.token_hash))).scalars())
    token = second.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    # the login token is not a feed token, nor is a made-up one
    status, _ = await fetch(server, f"/api/calendar/{delegate}.ics")
    assert status == 404
    status, _ = await fetch(server, "/api/calendar/qcal_nothing.ics")
    assert status == 404
    status, _, _ = await server.http("DELETE", "/api/calendar/feed", token=delegate)
    assert status == 204
    status, _ = await fetch(server, second)
    assert status == 404
    status, body, _ = await server.http("GET", "/api/calendar/feed", token=outsider_view)
    assert status == 200 and body == {"active": False, "created_at": None}
