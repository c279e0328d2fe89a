"""Which web pages may open a Socket.IO connection (docs/SECURITY.md, "Browser connections").

A browser sends the page's `Origin` with every websocket handshake and cross-site request, and
it sends the user's cookies along; a foreign page that opened a socket to Quorum would act as
the user (cross-site websocket hijacking). The session cookie is SameSite=Strict, which stops
that in current browsers; this check is the second lock. Allowed: requests without an Origin
(tablet apps, scripts and other non-browser clients, which authenticate with a token), pages of
the same host (the Origin's host and port equal the request's Host header), and the origins an
operator lists in `QUORUM_ALLOWED_ORIGINS` (a hall display on another host, a development
server, a reverse proxy that rewrites Host). Anything else gets HTTP 400 from engine.io before a
session exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from meetings.config import Settings


def listed(settings: Settings) -> set[str]:
    """The operator's extra origins, normalised (`scheme://host[:port]`, lower case)."""
    return {o.strip().rstrip("/").lower() for o in settings.allowed_origins.split(",") if o.strip()}


def origin_check(settings: Settings) -> Callable[[str | None, dict[str, Any]], bool]:
    """A callable for engine.io's `cors_allowed_origins`. It reads the settings at each
    handshake, so a changed list applies without a restart of the check."""

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True
        normal = origin.strip().rstrip("/").lower()
        if normal in listed(settings):
            return True
        parts = urlsplit(normal)
        host = str(environ.get("HTTP_HOST", "")).lower()
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host

    return allowed
