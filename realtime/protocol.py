"""The shape of a Socket.IO command: wire name → payload model → handler (docs/PROTOCOL.md,
"Commands").

A table, not an if/elif: each feature lists its `SocketCommand`s in `realtime.commands.<feature>`
and `realtime.commands.ALL` joins them; `realtime.namespace` dispatches by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio

from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.sitting import state
from realtime.presence import Presence


@dataclass
class Ctx:
    services: Services
    sio: socketio.AsyncServer
    sid: str
    joiner: state.Joiner | None = None
    presence: Presence | None = None

    def joining(self) -> state.Joiner:
        if self.joiner is None:
            self.joiner = state.Joiner(self.services)
        return self.joiner


Run = Callable[[Ctx, Actor, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class SocketCommand:
    name: str
    model: type[c.Command]
    run: Run
    summary: str
    idempotent: bool = True  # honours `idempotency_key`
    ack: str = ""  # what the ack carries besides `ok: true`, for the docs' table


