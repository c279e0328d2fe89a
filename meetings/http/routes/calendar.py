"""Each user's calendar feed (docs/features/sitting.md, "Calendar feed")."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from meetings.http.api import Api, Call
from meetings.services.sitting import calendar


async def feed_status(call: Call) -> dict[str, Any]:
    return await calendar.feed_status(call.services, call.me)


async def new_feed(call: Call) -> dict[str, Any]:
    return await calendar.new_feed(call.services, call.me)


async def revoke_feed(call: Call) -> None:
    await calendar.revoke_feed(call.services, call.me)


async def feed(call: Call) -> Response:
    text = await calendar.render_feed(call.services, call.request.path_params["token"])
    return Response(
        text.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )


ROUTES = [
    Api(
        "GET",
        "/api/calendar/feed",
        feed_status,
        "Whether the caller has a calendar feed address",
        tag="calendar",
    ),
    Api(
        "POST",
        "/api/calendar/feed",
        new_feed,
        "A new secret calendar feed address, shown once (the previous one ends)",
        status=201,
        tag="calendar",
    ),
    Api("DELETE", "/api/calendar/feed", revoke_feed, "End the calendar feed", tag="calendar"),
    Api(
        "GET",
        "/api/calendar/{token}.ics",
        feed,
        "The calendar (text/calendar) of the feed's owner; no login: the address is the secret",
        auth=False,
        tag="calendar",
    ),
]
