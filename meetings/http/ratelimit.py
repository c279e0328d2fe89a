"""Rate limits on the REST API (docs/SECURITY.md, "Rate limits"). Pure ASGI middleware.

One token bucket per caller under `/api/`: the caller is the bearer token or session cookie
(by its digest, no database lookup) once that credential has proved real in this worker (a
request with it authenticated, or the login issued it), else the client address: a made-up
token on each request would otherwise be a fresh, full bucket each time. A read costs one
token, a change (POST, PUT, PATCH, DELETE) five: with the defaults a caller may read 100
times a second, or change 20 times, after a burst of 1,000 reads or 200 changes; a viewer
fetching page images and byte ranges of a whole document pack stays well inside that, a
script hammering the server does not. Over the limit: 429 `rate_limited` with `Retry-After`,
before any handler or query runs.
A login costs one (see `LOGIN`); failed logins have their own, stricter limit
(`QUORUM_LOGIN_ATTEMPTS`). Socket.IO commands are limited per connection
(`QUORUM_COMMAND_RATE`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from meetings.config import Settings
from meetings.http.auth import SESSION_COOKIE, VOUCHED, bearer_token
from meetings.ratelimit import MAX_KEYS, RateLimiter

WRITE_COST = 5.0
READS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN = "/api/auth/login"
"""Costs one, like a read: it is anonymous, so counted by address, and a hall of tablets
behind one NAT address logs in at the start of a sitting (its failed attempts have their own
limit)."""


KNOWN_FOR_S = 3600.0
"""How long a credential that proved real is counted on its own without proving it again."""


def digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()[:32]


def credential_of(scope: Scope) -> str | None:
    """The credential a request sends, read as `authenticate` reads it: the bearer token first,
    else the session cookie."""
    conn = HTTPConnection(scope)
    return bearer_token(conn) or conn.cookies.get(SESSION_COOKIE) or None


class KnownCredentials:
    """Digests of credentials that proved real lately; a bounded map, oldest dropped first."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._until: dict[str, float] = {}

    def __contains__(self, key: str) -> bool:
        until = self._until.get(key)
        return until is not None and until > time.monotonic()

    def add(self, key: str) -> None:
        self._until.pop(key, None)
        while len(self._until) >= self.max_keys:
            del self._until[next(iter(self._until))]
        self._until[key] = time.monotonic() + KNOWN_FOR_S


def caller_key(scope: Scope, known: KnownCredentials) -> str:
    """Who is asking: a credential known to be real, by its digest; else the address (a
    request without a credential, or with one never seen to authenticate)."""
    credential = credential_of(scope)
    if credential and (key := "t:" + digest(credential)) in known:
        return key
    client = scope.get("client")
    return "a:" + (str(client[0]) if client else "?")


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = RateLimiter(settings.http_rate, settings.http_burst)
        self.known = KnownCredentials()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        # read at each request, so an operator's (or a test's) change applies at once
        self.limiter.rate, self.limiter.burst = self.settings.http_rate, self.settings.http_burst
        if self.limiter.rate <= 0:  # 0 switches the limit off
            await self.app(scope, receive, send)
            return
        key = caller_key(scope, self.known)
        cost = 1.0 if scope.get("method") in READS or scope.get("path") == LOGIN else WRITE_COST
        if self.limiter.allow(key, cost=cost):
            try:
                await self.app(scope, receive, send)
            finally:
                vouched = scope.get(VOUCHED)
                if isinstance(vouched, str):
                    self.known.add("t:" + digest(vouched))
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
