"""Rate limits on the REST API (docs/SECURITY.md, "Rate limits"). Pure ASGI middleware.

One token bucket per caller under `/api/`: the caller is the bearer token or session cookie
(by its digest, no database lookup), else the client address. A read costs one token, a change
(POST, PUT, PATCH, DELETE) five: with the defaults a caller may read 100 times a second, or
change 20 times, after a burst of 1,000 reads or 200 changes; a viewer fetching page images and
byte ranges of a whole document pack stays well inside that, a script hammering the server does
not. Over the limit: 429 `rate_limited` with `Retry-After`, before any handler or query runs.
A login costs one (see `LOGIN`); failed logins have their own, stricter limit
(`QUORUM_LOGIN_ATTEMPTS`). Socket.IO commands are limited per connection
(`QUORUM_COMMAND_RATE`).
"""

from __future__ import annotations

import hashlib
import json
import math

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from meetings.config import Settings
from meetings.http.auth import SESSION_COOKIE, bearer_token
from meetings.ratelimit import RateLimiter

WRITE_COST = 5.0
READS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN = "/api/auth/login"
"""Costs one, like a read: it is anonymous, so counted by address, and a hall of tablets
behind one NAT address logs in at the start of a sitting (its failed attempts have their own
limit)."""


def caller_key(scope: Scope) -> str:
    """Who is asking: a digest of the credential it sends (read as `authenticate` reads it:
    the bearer token first, else the session cookie), else its address."""
    conn = HTTPConnection(scope)
    credential = bearer_token(conn) or conn.cookies.get(SESSION_COOKIE)
    if credential:
        return "t:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
    client = scope.get("client")
    return "a:" + (str(client[0]) if client else "?")


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = RateLimiter(settings.http_rate, settings.http_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        # read at each request, so an operator's (or a test's) change applies at once
        self.limiter.rate, self.limiter.burst = self.settings.http_rate, self.settings.http_burst
        if self.limiter.rate <= 0:  # 0 switches the limit off
            await self.app(scope, receive, send)
            return
        key = caller_key(scope)
        cost = 1.0 if scope.get("method") in READS or scope.get("path") == LOGIN else WRITE_COST
        if self.limiter.allow(key, cost=cost):
            await self.app(scope, receive, send)
            return
        wait = max(1, math.ceil(self.limiter.retry_after(key, cost)))
        error = {
            "code": "rate_limited",
            "message": f"too many requests; try again in {wait} s",
            "details": {"retry_after_s": wait},
        }
        body = json.dumps({"error": error}).encode()  # the shape of every error (errors.py)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(wait).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
