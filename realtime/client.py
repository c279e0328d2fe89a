"""A Python client of the public protocol (docs/PROTOCOL.md), for tests, `quorum loadtest`
and third parties: login over HTTP, Socket.IO with acks, and a meeting state that applies
events strictly in `seq` order, buffering early ones and catching up on gaps.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio


class CommandFailed(Exception):
    def __init__(self, command: str, error: dict[str, Any]) -> None:
        super().__init__(f"{command}: {error.get('code')}: {error.get('message')}")
        self.command = command
        self.code = str(error.get("code"))
        self.error = error


@dataclass
class MeetingView:
    """What one client knows of one meeting: the last snapshot plus events applied in order."""

    meeting_id: int
    seq: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)
    applied: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def login(session: aiohttp.ClientSession, base_url: str, username: str, password: str) -> str:
    async with session.post(
        f"{base_url}/api/auth/login", json={"username": username, "password": password}
    ) as response:
        body = await response.json()
        if response.status != 200:
            raise CommandFailed("login", body.get("error", {}))
        return str(body["token"])


class QuorumClient:
    def __init__(self, base_url: str, token: str, *, gap_timeout: float = 1.0) -> None:
        self.base_url = base_url
        self.token = token
        self.gap_timeout = gap_timeout
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0
        )
        self.meetings: dict[int, MeetingView] = {}
        self.updates: list[dict[str, Any]] = []
        self.user_events: list[dict[str, Any]] = []
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        self.on_update: Callable[[dict[str, Any]], None] | None = None
        self.sio.on("event", self._event)
        self.sio.on("update", self._update)
        self.sio.on("user_event", self._user_event)
        self.sio.on("connect", self._connected)
        self._gap_tasks: dict[int, asyncio.Task[None]] = {}

    async def connect(self, transports: list[str] | None = None) -> None:
        await self.sio.connect(
            self.base_url,
            auth={"token": self.token},
            transports=transports or ["websocket"],
            wait_timeout=30,
        )

    async def disconnect(self) -> None:
        """Leave: a connected client disconnects, one the server dropped stops reconnecting
        (`disconnect` alone left it trying, each attempt with a new HTTP session), and its
        HTTP session is closed either way."""
        for task in self._gap_tasks.values():
            task.cancel()
        await self.sio.shutdown()
        http = self.sio.eio.http
        if http is not None and not http.closed:
            await http.close()

    async def call(
        self,
        command: str,
        payload: dict[str, Any] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Emit a command and wait for its ack; raise CommandFailed on an error ack."""
        ack = await self.sio.call(command, payload or {}, timeout=timeout)
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise CommandFailed(command, (ack or {}).get("error", {"code": "no_ack"}))
        return ack

    async def command(self, command: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Like `call`, with a fresh idempotency key."""
        body = dict(payload or {})
        body.setdefault("idempotency_key", uuid.uuid4().hex)
        return await self.call(command, body)

    async def join(self, meeting_id: int) -> MeetingView:
        view = self.meetings.get(meeting_id) or MeetingView(meeting_id)
        self.meetings[meeting_id] = view
        ack = await self.call("meeting.join", {"meeting_id": meeting_id})
        self._apply_join(view, ack)
        return view

    def _apply_join(self, view: MeetingView, ack: dict[str, Any]) -> None:
        if "snapshot" in ack:
            view.snapshot = ack["snapshot"]
            view.seq = int(ack["seq"])
            view.pending = {s: e for s, e in view.pending.items() if s > view.seq}
        for event in ack.get("events", []):
            self._accept(view, event)
        self._drain(view)

    async def _connected(self) -> None:
        # after a reconnect: ask for what was missed since the last applied seq
        for view in list(self.meetings.values()):
            if view.snapshot:
                asyncio.get_running_loop().create_task(self._resync(view))

    async def _resync(self, view: MeetingView) -> None:
        try:
            ack = await self.call(
                "meeting.join", {"meeting_id": view.meeting_id, "since_seq": view.seq}
            )
        except (CommandFailed, socketio.exceptions.SocketIOError, TimeoutError):
            return
        self._apply_join(view, ack)

    def _accept(self, view: MeetingView, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        if seq > view.seq:
            view.pending[seq] = event

    def _drain(self, view: MeetingView) -> None:
        while view.seq + 1 in view.pending:
            event = view.pending.pop(view.seq + 1)
            view.seq += 1
            view.applied.append(event)
            if self.on_event:
                self.on_event(event)
        view.changed.set()
        if view.pending and view.meeting_id not in self._gap_tasks:
            self._gap_tasks[view.meeting_id] = asyncio.get_running_loop().create_task(
                self._gap(view)
            )

    async def _gap(self, view: MeetingView) -> None:
        try:
            await asyncio.sleep(self.gap_timeout)
            if view.pending:
                await self._resync(view)
        finally:
            self._gap_tasks.pop(view.meeting_id, None)

    async def _event(self, event: dict[str, Any]) -> None:
        view = self.meetings.get(int(event.get("meeting_id", 0)))
        if view is None:
            return
        self._accept(view, event)
        self._drain(view)

    async def _update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        if self.on_update:
            self.on_update(update)

    async def _user_event(self, event: dict[str, Any]) -> None:
        self.user_events.append(event)

    async def wait_for_seq(
        self, meeting_id: int, seq: int, timeout: float = 10.0  # noqa: ASYNC109
    ) -> MeetingView:
        view = self.meetings[meeting_id]
        async with asyncio.timeout(timeout):
            while view.seq < seq:
                view.changed.clear()
                await view.changed.wait()
        return view
