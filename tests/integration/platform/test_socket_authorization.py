"""Walk docs/AUTHORIZATION.md's Socket.IO table: every command × every role, on a real server.

Each role holds its own Socket.IO connection; for each row and role the probe builds a fresh
payload and the ack must be `ok` or carry exactly the refusal code of the cell. A command the
server registers that the table lacks fails, as does a row naming a command the server does
not have, or one without a probe. QUORUM_AUTHZ_PRINT=1 prints the observed rows.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from meetings.config import Settings
from meetings.services.accounts import auth
from realtime.client import QuorumClient
from tests.conftest import PASSWORD
from tests.integration.platform.socket_authz import (
    SOCKET_ROLES,
    CommandRow,
    parse_commands,
    served_commands,
)
from tests.integration.platform.socket_authz_probes import PROBES
from tests.support.world import World


def _coverage(settings: Settings, rows: list[CommandRow]) -> None:
    served = set(asyncio.run(served_commands(settings)))
    listed = {r.command for r in rows}
    problems = [
        f"Socket.IO command {name!r} is served but not listed in docs/AUTHORIZATION.md "
        "under '## Socket.IO commands'"
        for name in sorted(served - listed)
    ]
    problems += [
        f"{name!r} is listed under '## Socket.IO commands' but the server has no such command"
        for name in sorted(listed - served)
    ]
    problems += [
        f"no probe for {r.command} {r.case!r} in socket_authz_probes.PROBES"
        for r in rows
        if r.key not in PROBES
    ]
    keys = [r.key for r in rows]
    problems += [f"{k} appears twice" for k in set(keys) if keys.count(k) > 1]
    assert not problems, "\n".join(problems)


def test_every_command_listed(tmp_path: Path) -> None:
    _coverage(Settings(data_dir=tmp_path, secret_key="test").prepare(), parse_commands())


def test_an_unlisted_command_fails(tmp_path: Path) -> None:
    """The coverage check itself: without its row, a served command must be named."""
    rows = [r for r in parse_commands() if r.command != "speakers.start"]
    settings = Settings(data_dir=tmp_path, secret_key="test").prepare()
    with pytest.raises(AssertionError, match=r"'speakers\.start' is served but not listed"):
        _coverage(settings, rows)


@pytest.fixture
async def sockets(world: World) -> AsyncIterator[dict[str, QuorumClient]]:
    """A connection per role (the non-member: an account that belongs to no council)."""
    if "nonmember" not in world.tokens:
        await auth.create_user(world.services, None, "nonmember", "Không thuộc", PASSWORD)
        world.tokens["nonmember"] = await world.server.token("nonmember")
    clients: dict[str, QuorumClient] = {}
    try:
        for role in SOCKET_ROLES:
            token = world.tokens[role]
            assert token is not None
            clients[role] = QuorumClient(world.server.base_url, token)
            await clients[role].connect()
        yield clients
    finally:
        for client in clients.values():
            await client.disconnect()


def _outcome(ack: Any) -> str:
    if isinstance(ack, dict) and ack.get("ok") is True:
        return "ok"
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        return str(ack["error"].get("code"))
    return f"no ack ({ack!r:.100})"


async def test_every_command_for_every_role(world: World, sockets: dict[str, QuorumClient]) -> None:
    wrong: list[str] = []
    observed: list[str] = []
    for row in parse_commands():
        got: dict[str, str] = {}
        for role in SOCKET_ROLES:
            body = await PROBES[row.key](world, role)
            ack = await sockets[role].sio.call(row.command, body, timeout=15)
            got[role] = _outcome(ack)
            if got[role] != row.expected[role]:
                wrong.append(
                    f"{row.command} {row.case!r} as {role}: expected {row.expected[role]}, "
                    f"got {got[role]} ({ack!r:.200})"
                )
        observed.append(
            f"| `{row.command}` | {row.case} | " + " | ".join(got[r] for r in SOCKET_ROLES) + " |"
        )
    if os.environ.get("QUORUM_AUTHZ_PRINT"):
        print("\n".join(observed))
    assert not wrong, "\n".join(wrong)
    for role, client in sockets.items():
        assert client.sio.connected, f"{role}'s connection was dropped"
