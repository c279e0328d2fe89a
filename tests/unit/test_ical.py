"""The iCalendar writer (meetings/domain/ical.py): RFC 5545 escaping and folding, read back
by the `icalendar` package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from meetings.domain.ical import CalendarEvent, escape_text, fold_line, render_calendar

START = datetime(2027, 3, 15, 1, 30, tzinfo=UTC)


def event(**changes: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "uid": "meeting-7@quorum.example",
        "start": START,
        "end": START + timedelta(hours=3),
        "summary": "Kỳ họp thứ 12",
        "stamp": START - timedelta(days=2),
        "sequence": 2,
        "location": "Hội trường A",
        "url": "https://quorum.example/m/7",
    }
    fields.update(changes)
    return CalendarEvent(**fields)  # type: ignore[arg-type]


def test_escapes_text_values() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_folds_at_75_octets_without_splitting_a_character() -> None:
    line = "SUMMARY:" + "Hội đồng nhân dân tỉnh " * 10
    folded = fold_line(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line


@given(st.text(min_size=0, max_size=400))
def test_any_text_survives_a_round_trip(text: str) -> None:
    text = text.replace("\r", "")  # a bare CR is not text a title holds
    body = render_calendar("Lịch", [event(summary=text, location=text)])
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    parsed = icalendar.Calendar.from_ical(body)
    (found,) = parsed.walk("VEVENT")
    assert str(found["SUMMARY"]) == text


def test_utc_times_uid_sequence_and_cancelled() -> None:
    hanoi = timezone(timedelta(hours=7))
    body = render_calendar(
        "Lịch",
        [event(start=START.astimezone(hanoi)), event(uid="meeting-8@x", cancelled=True)],
    )
    assert "DTSTART:20270315T013000Z\r\n" in body
    assert body.endswith("END:VCALENDAR\r\n")
    first, second = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert first["DTSTART"].dt == START and first["DTEND"].dt == START + timedelta(hours=3)
    assert int(first["SEQUENCE"]) == 2 and str(first["STATUS"]) == "CONFIRMED"
    assert str(first["URL"]) == "https://quorum.example/m/7"
    assert str(second["UID"]) == "meeting-8@x" and str(second["STATUS"]) == "CANCELLED"
