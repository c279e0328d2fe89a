"""Socket.IO commands of the archive subsystem (docs/PROTOCOL.md). Filled in by its issue."""

from __future__ import annotations

from realtime.protocol import SocketCommand

COMMANDS: list[SocketCommand] = []
