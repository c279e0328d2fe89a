"""Who is calling over HTTP: bearer token or session cookie, with CSRF (docs/SECURITY.md).

Cookie-authenticated requests that change state must carry `X-CSRF-Token`, an HMAC of the
session token that the login answer returns and that a readable cookie also holds; a page on
another site can make the browser send the cookie but cannot read or forge that header.
Bearer-token requests need no CSRF token: browsers never attach them by themselves.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import HTTPConnection

from meetings.domain.errors import Forbidden
from meetings.services.accounts.auth import actor_for_token
from meetings.services.context import Actor, Services

VOUCHED = "quorum.vouched"
"""Request-scope key holding a credential this request proved valid (it authenticated, or the
login issued it): the rate limiter then counts that credential's later requests on their own
(docs/SECURITY.md, "Rate limits")."""
SESSION_COOKIE = "quorum_session"
CSRF_COOKIE = "quorum_csrf"
CSRF_HEADER = "x-csrf-token"


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), session_token.encode(), hashlib.sha256).hexdigest()


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def vouch(conn: HTTPConnection, token: str) -> None:
    """Tell the rate limiter that `token` is a real credential."""
    conn.scope[VOUCHED] = token


async def authenticate(conn: HTTPConnection, services: Services, *, mutation: bool) -> Actor | None:
    token = bearer_token(conn)
    if token is not None:
        actor = await actor_for_token(services, token)
        if actor is not None:
            vouch(conn, token)
        return actor
    token = conn.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    actor = await actor_for_token(services, token)
    if actor is not None:
        vouch(conn, token)
    if actor is not None and mutation:
        expected = csrf_token(services.settings.secret_key, token)
        if not hmac.compare_digest(conn.headers.get(CSRF_HEADER, ""), expected):
            raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf")
    return actor
