"""The Socket.IO half of docs/AUTHORIZATION.md: its table of commands, parsed.

A row is ``| `command` | case | admin | secretary | chair | delegate | display | nonmember |
outsider |``; each role cell is `ok` (the ack is `{"ok": true}`) or the error code the ack must
carry (`forbidden`, `not_found`, or a more precise refusal such as `not_voting_member`).
Rows live under `## Socket.IO commands`. The probes that build each payload are in
`socket_authz_probes.py`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from meetings.config import Settings
from tests.support.authz import DOC, table_rows
from tests.support.world import World

SOCKET_ROLES = ("admin", "secretary", "chair", "delegate", "display", "nonmember", "outsider")
SECTION = "Socket.IO commands"
SocketKey = tuple[str, str]  # command, case
SocketProbe = Callable[[World, str], Awaitable[dict[str, Any]]]

_ROW = re.compile(r"^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|")


@dataclass(frozen=True)
class CommandRow:
    command: str
    case: str
    expected: dict[str, str]

    @property
    def key(self) -> SocketKey:
        return (self.command, self.case)


def parse_commands(text: str | None = None) -> list[CommandRow]:
    text = DOC.read_text(encoding="utf-8") if text is None else text
    rows: list[CommandRow] = []
    for number, section, cells in table_rows(text, _ROW):
        if section != SECTION:
            continue
        if len(cells) != 2 + len(SOCKET_ROLES):
            raise AssertionError(f"docs/AUTHORIZATION.md line {number}: expected 9 columns")
        command, case, *codes = cells
        if not all(re.fullmatch(r"[a-z_]+", code) for code in codes):
            raise AssertionError(f"docs/AUTHORIZATION.md line {number}: a cell is ok or a code")
        rows.append(CommandRow(command, case, dict(zip(SOCKET_ROLES, codes, strict=True))))
    return rows


async def served_commands(settings: Settings) -> dict[str, type[Any]]:
    """Every command the server registers (name → payload model), read from the namespace of
    the app that the composition root builds, as `authz.app_routes` reads the HTTP routes."""
    from realtime.asgi import create_asgi_app

    asgi = create_asgi_app(settings)
    await asgi.quorum_services.db.dispose()
    namespace = asgi.engineio_server.namespace_handlers["/"]
    return {name: command.model for name, command in namespace.commands.items()}
