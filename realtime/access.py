"""Revoked or changed access reaches live connections at once (docs/PROTOCOL.md, "Revocation").

A logout, a password change, a deactivation or a change of a user's memberships is committed by
a service, which announces it (`services.accounts.auth.announce_access_change`, an
`AccessChanged` signal); after the commit its handler (`AccessWatch.announce`) sends a worker
signal (with Redis every worker gets it, without it the one process does). Each worker then,
for the user's sockets it holds (those of the one token, for a logout):

1. marks their cached caller stale at once, so any command from them re-reads the token and
   roles from the database (otherwise a command costs a clock comparison, not a query);
2. re-reads them: a socket whose token no longer works is sent `session_ended` and
   disconnected; the others get their new roles, leave the rooms of meetings they may no longer
   see (and the chair's or display's rooms they no longer belong in), enter those their new role
   opens, and are sent `access_changed`.

Changes made by another process (the `quorum user` command) send no signal: each worker also
reads the audit log's new account and membership entries every `POLL_S` seconds.

And every connection's caller is re-read from the database at least every `RECHECK_TOKEN_S`
seconds, whatever happened (an expired token, a change written by hand): every `SWEEP_S`
seconds a sweep reads, in batches of up to 500 tokens, the callers read longer ago than that, and
re-authorises (as above) a socket whose caller is gone or changed. Commands never wait for this
read: before, a command more than 30 s after the last read re-read its caller itself, which for
a province voting at once was one token lookup for nearly every ballot (issue 16).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Protocol

from meetings.domain.errors import DomainError
from meetings.domain.signals import AccessChanged
from meetings.services.accounts import auth
from meetings.services.accounts.tokens import TokenBatcher, actors_for_tokens
from meetings.services.context import Services
from meetings.services.sitting.state import visible_council
from realtime import rooms
from realtime.presence import Presence
from realtime.rooms import meeting_rooms

log = logging.getLogger("quorum.access")

POLL_S = 2.0
RECHECK_TOKEN_S = 30.0
SWEEP_S = 10.0
STALE_S = RECHECK_TOKEN_S + 3 * SWEEP_S
"""A caller read longer ago than this (the sweep fell behind, or a change marked it stale) is
re-read by the next command before it runs."""
SWEEP_BATCH = 500
SIGNAL = "access_changed"
"""The worker signal (`DirectEmitManager.signal`) that carries an `AccessChanged`."""
_MEETING_ROOM = re.compile(r"^(?:meeting|display):(\d+)(?::chair)?$")


def meetings_in(names: list[str]) -> set[int]:
    """The meetings whose rooms a socket is in."""
    return {int(m.group(1)) for name in names if (m := _MEETING_ROOM.match(str(name)))}


class Sockets(Protocol):
    """What the watch needs of the namespace that holds it (`realtime.namespace`, which
    imports this module): its sockets, their sessions and rooms, the token check."""

    services: Services
    server: Any
    tokens: TokenBatcher
    presence: Presence | None

    async def get_session(self, sid: str) -> dict[str, Any]: ...

    async def emit(self, event: str, data: Any, *, to: str) -> None: ...

    async def disconnect(self, sid: str) -> None: ...

    async def enter_room(self, sid: str, room: str) -> None: ...

    async def leave_room(self, sid: str, room: str) -> None: ...


class AccessWatch:
    def __init__(self, namespace: Sockets) -> None:
        self.namespace = namespace
        self.services: Services = namespace.services
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._listening = False

    def listen(self) -> None:
        """Take the signal on this worker (once its server exists)."""
        if not self._listening:
            self.namespace.server.manager.on_signal(SIGNAL, self.changed)
            self._listening = True

    async def announce(self, signal: AccessChanged) -> None:
        """After-commit handler (registered in `realtime/asgi.py`): to every worker's watch."""
        await self.namespace.server.manager.signal(
            SIGNAL, {"user_id": signal.user_id, "token_id": signal.token_id}
        )

    async def changed(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("user_id"), int):
            return
        token_id = data.get("token_id")
        ns = self.namespace
        affected = []
        for sid, _eio in ns.server.manager.get_participants("/", rooms.user(data["user_id"])):
            try:
                session = await ns.get_session(sid)
            except KeyError:  # disconnected meanwhile
                continue
            if token_id is not None and session["actor"].token_id != token_id:
                continue  # another device of the user: its token still works
            session["checked"] = float("-inf")  # step 1, for every socket before any await
            affected.append(sid)
        for sid in affected:
            try:
                await self.reauthorise(sid)
            except Exception:  # one socket's failure must not spare the others
                log.exception("re-authorising a socket failed; it is disconnected")
                await ns.disconnect(sid)

    async def reauthorise(self, sid: str) -> None:
        ns = self.namespace
        session = await ns.get_session(sid)
        actor = await ns.tokens.resolve(session["token"])
        if actor is None:
            await ns.emit(
                "session_ended",
                {"code": "unauthenticated", "message": "the session has ended; log in again"},
                to=sid,
            )
            await ns.disconnect(sid)
            return
        session["actor"], session["checked"] = actor, time.monotonic()
        current = set(ns.server.manager.get_rooms(sid, "/"))
        left = []
        for meeting_id in sorted(meetings_in(list(current))):
            try:
                council_id = await visible_council(self.services, actor, meeting_id)
                allowed = set(meeting_rooms(actor, council_id, meeting_id))
            except DomainError:
                allowed = set()
            for room in (rooms.meeting(meeting_id), rooms.chair(meeting_id),
                         rooms.display(meeting_id)):  # fmt: skip
                if room in allowed and room not in current:
                    await ns.enter_room(sid, room)
                elif room not in allowed and room in current:
                    await ns.leave_room(sid, room)
            if not allowed:
                left.append(meeting_id)
                if ns.presence is not None:
                    ns.presence.left(sid, meeting_id)
        await ns.emit("access_changed", {"user": actor.public(), "left_meetings": left}, to=sid)

    async def start(self, _services: Services) -> None:
        self.listen()
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._poll())
        self._sweeper = loop.create_task(self._sweep_forever())

    async def stop(self, _services: Services) -> None:
        for task in (self._task, self._sweeper):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:  # the next sweep tries again; commands fall back after STALE_S
                log.exception("re-reading the callers of live connections failed")

    async def sweep(self) -> int:
        """Re-read the callers read more than `RECHECK_TOKEN_S` ago; re-authorise the sockets
        whose caller is gone or changed. Answers how many callers were read."""
        ns = self.namespace
        started = time.monotonic()
        due: list[tuple[str, dict[str, Any]]] = []
        for sid, _eio in list(ns.server.manager.get_participants("/", None)):
            try:
                session = await ns.get_session(sid)
            except KeyError:  # disconnected meanwhile
                continue
            if "token" in session and started - session["checked"] > RECHECK_TOKEN_S:
                due.append((sid, session))
        tokens = list(dict.fromkeys(session["token"] for _sid, session in due))
        actors: dict[str, Any] = {}
        for i in range(0, len(tokens), SWEEP_BATCH):
            actors |= await actors_for_tokens(self.services, tokens[i : i + SWEEP_BATCH])
        for sid, session in due:
            if session["checked"] > started:  # re-read meanwhile (a change, a join)
                continue
            actor = actors.get(session["token"])
            if actor is not None and actor == session["actor"]:
                session["checked"] = time.monotonic()
                continue
            try:
                await self.reauthorise(sid)
            except KeyError:  # disconnected meanwhile
                continue
            except Exception:
                log.exception("re-authorising a socket failed; it is disconnected")
                await ns.disconnect(sid)
        return len(due)

    async def _poll(self) -> None:
        last = await auth.newest_audit_entry(self.services)
        while True:
            await asyncio.sleep(POLL_S)
            try:
                newest = await auth.newest_audit_entry(self.services)
                if newest > last:
                    for user_id in await auth.access_changes(self.services, last, newest):
                        await self.changed({"user_id": user_id})
                last = max(last, newest)
            except Exception:  # the database may be briefly away; try again next round
                log.warning("reading access changes from the audit log failed", exc_info=True)
