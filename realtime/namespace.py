"""The default Socket.IO namespace: authenticate, then dispatch commands (docs/PROTOCOL.md).

Connections authenticate in `on_connect` with `auth={"token": ...}`, an `Authorization: Bearer`
header or the session cookie, and are refused otherwise. Every other event is a command from
the table in `realtime.protocol`; its return value is the ack. A client's mistake is an error
ack and never drops the connection; an unexpected failure is logged and acked as `internal`.
"""

from __future__ import annotations

import json
import logging
import time
from http.cookies import SimpleCookie
from typing import Any

import socketio

from meetings.domain.errors import (
    DomainError,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from meetings.http.api import check_json, parse_body
from meetings.http.auth import SESSION_COOKIE
from meetings.ratelimit import RateLimiter
from meetings.services.accounts.tokens import TokenBatcher
from meetings.services.context import Actor, Services
from meetings.services.idempotency import once
from meetings.services.sitting.state import Joiner
from realtime import rooms
from realtime.access import STALE_S, AccessWatch
from realtime.manager import Unparsable
from realtime.presence import Presence
from realtime.protocol import Ctx, SocketCommand

log = logging.getLogger("quorum.realtime")

MAX_PAYLOAD = 2 * 1024 * 1024
# `meeting.join` re-reads the caller's roles unless they were read this recently (at connect):
# a tablet that connects and joins at once costs one token lookup, not two
JOIN_RECHECK_S = 5.0


def error_ack(error: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    cookie = SimpleCookie()
    try:
        cookie.load(str(environ.get("HTTP_COOKIE", "")))
    except Exception:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


class QuorumNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        services: Services,
        commands: list[SocketCommand],
        limiter: RateLimiter,
        presence: Presence | None = None,
    ) -> None:
        super().__init__("/")
        self.services = services
        self.commands = {command.name: command for command in commands}
        self.limiter = limiter  # per connection
        settings = services.settings
        # per user, all their connections together: three sockets are not three budgets
        self.user_limiter = RateLimiter(settings.user_command_rate, settings.user_command_burst)
        self.presence = presence
        self.joiner = Joiner(services)
        self.tokens = TokenBatcher(services)
        self.access = AccessWatch(self)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = token_from(environ, auth)
        actor = await self.tokens.resolve(token)
        if actor is None or token is None:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "unauthenticated", "message": "log in first: a valid token is required"}
            )
        self.access.listen()
        await self.save_session(sid, {"token": token, "actor": actor, "checked": time.monotonic()})
        await self.enter_room(sid, rooms.user(actor.user_id))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.limiter.forget(sid)
        if self.presence is not None:
            self.presence.disconnected(sid)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid = args[0]
        payload = args[1] if len(args) > 1 else None
        try:
            return await self.dispatch(event, sid, payload)
        except DomainError as exc:
            return error_ack(exc)
        except Exception:
            log.exception("command %r failed unexpectedly", event)
            return {
                "ok": False,
                "error": {
                    "code": "internal",
                    "message": "an unexpected error happened; it has been logged",
                },
            }

    async def _actor(self, sid: str) -> Actor:
        """The connection's caller as last read. The access watch's sweep re-reads it in the
        background at least every 30 s; a command re-reads it itself only when a change marked
        it stale or the sweep fell behind (realtime/access.py)."""
        session = await self.get_session(sid)
        if time.monotonic() - session["checked"] > STALE_S:
            actor = await self.tokens.resolve(session["token"])
            if actor is None:
                await self.disconnect(sid)
                raise Unauthenticated("the session has ended; log in again")
            session["actor"], session["checked"] = actor, time.monotonic()
        actor_: Actor = session["actor"]
        return actor_

    async def refresh_actor(self, sid: str, fresh_for: float = 0.0) -> Actor:
        """The caller re-read from the token unless that was done less than `fresh_for` ago."""
        session = await self.get_session(sid)
        if time.monotonic() - session["checked"] >= fresh_for:
            session["checked"] = float("-inf")
        return await self._actor(sid)

    async def dispatch(self, event: str, sid: str, payload: Any) -> dict[str, Any]:
        command = self.commands.get(event) if isinstance(event, str) else None
        if command is None:
            raise InvalidInput(f"unknown command {str(event)[:60]!r}", code="unknown_command")
        if not self.limiter.allow(sid):
            raise RateLimited("too many commands; slow down")
        if payload is None:
            payload = {}
        if isinstance(payload, Unparsable):
            log.debug("command %r: payload refused (%s)", str(event)[:60], payload.reason)
            raise InvalidInput(
                f"the payload could not be read as JSON ({payload.reason})", code="invalid_payload"
            )
        if not isinstance(payload, dict):
            raise InvalidInput("the payload must be a JSON object", code="invalid_payload")
        try:
            encoded = json.dumps(payload, separators=(",", ":"))
        except (TypeError, ValueError):  # binary attachments (bytes) in a Socket.IO packet
            raise InvalidInput(
                "the payload must be JSON (no binary attachments)", code="invalid_payload"
            ) from None
        if len(encoded) > MAX_PAYLOAD:
            raise PayloadTooLarge(f"a command payload is at most {MAX_PAYLOAD} bytes")
        try:
            check_json(payload, encoded)  # what JSON allows but Quorum refuses (http/api.py)
        except InvalidInput as exc:
            if exc.code == "invalid_json":
                exc.code = "invalid_payload"
            raise
        cmd = parse_body(command.model, payload)
        if event == "meeting.join":
            actor = await self.refresh_actor(sid, JOIN_RECHECK_S)
        else:
            actor = await self._actor(sid)
        if not self.user_limiter.allow(f"user:{actor.user_id}"):
            raise RateLimited("too many commands from this account; slow down")
        ctx = Ctx(self.services, self.server, sid, self.joiner, self.presence)
        key = getattr(cmd, "idempotency_key", None) if command.idempotent else None
        result = await once(
            self.services, actor.user_id, key, command.name, lambda: command.run(ctx, actor, cmd)
        )
        return {"ok": True, **result}
