"""Revocation reaches live sockets at once (docs/PROTOCOL.md, "Revocation"): a logout ends that
token's sockets, a password change or deactivation all of the user's, a membership change
re-authorises them (rooms left, commands refused) — not up to 30 s later."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from meetings.services.accounts import auth
from meetings.storage.tables import AuthToken, Membership, User, utcnow
from realtime import access as access_module
from realtime.client import CommandFailed, QuorumClient
from tests.conftest import PASSWORD, Running


async def until(condition: Callable[[], bool], within: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def connect(server: Running, token: str) -> tuple[QuorumClient, list[Any]]:
    """A client that records the server's `session_ended` and `access_changed` notices."""
    client = QuorumClient(server.base_url, token)
    notices: list[Any] = []
    client.sio.on("session_ended", lambda data: notices.append(("session_ended", data)))
    client.sio.on("access_changed", lambda data: notices.append(("access_changed", data)))
    await client.connect()
    server._clients.append(client)
    return client, notices


async def test_logout_ends_that_tokens_sockets_at_once(server: Running) -> None:
    m = server.meeting_id
    first = await server.token("delegate001")
    second = await server.token("delegate001")
    tablet, notices = await connect(server, first)
    phone, _ = await connect(server, second)
    await tablet.join(m)
    await phone.join(m)
    status, _, _ = await server.http("POST", "/api/auth/logout", token=first)
    assert status == 200
    await until(lambda: not tablet.sio.connected, 2.0, "the logged-out socket is closed")
    assert notices and notices[0][0] == "session_ended"
    # the user's other token is another session: it stays, and works
    assert phone.sio.connected
    assert "server_time" in await phone.call("time.sync")


async def member_id(server: Running, username: str) -> int:
    async with server.services.db.reading() as session:
        found = await session.scalar(
            select(col(Membership.id))
            .join(User, col(User.id) == col(Membership.user_id))
            .where(col(User.username) == username, col(Membership.council_id) == server.council_id)
        )
    assert found is not None
    return int(found)


async def test_a_removed_secretary_loses_the_sitting_at_once(server: Running) -> None:
    m = server.meeting_id
    await auth.create_user(server.services, None, "clerk-admin", "Admin", PASSWORD, is_admin=True)
    admin = await server.token("clerk-admin")
    secretary, notices = await connect(server, await server.token("secretary"))
    delegate = await server.client("delegate001")
    await secretary.join(m)
    await delegate.join(m)
    delegate_id = (
        await server.http("GET", "/api/auth/me", token=await server.token("delegate002"))
    )[1]["id"]

    removed = await member_id(server, "secretary")
    status, body, _ = await server.http(
        "DELETE", f"/api/councils/{server.council_id}/members/{removed}", token=admin
    )
    assert status == 204, body
    # at once: no command of the secretariat works any more ...
    absent = {"meeting_id": m, "user_id": delegate_id, "attendance": "absent"}
    for command, payload in (
        ("attendance.record", absent | {"idempotency_key": "after-removal"}),
        ("meeting.join", {"meeting_id": m}),
    ):
        try:
            await secretary.call(command, payload)
        except CommandFailed as failed:
            assert failed.code in ("forbidden", "not_found"), failed.error
        else:
            raise AssertionError(f"{command} still worked for a removed secretary")
    # ... and the live feed has stopped: the delegate hears the next event, the secretary not
    await until(lambda: any(n[0] == "access_changed" for n in notices), 2.0, "told")
    changed = next(data for kind, data in notices if kind == "access_changed")
    assert (
        changed["left_meetings"] == [m] and str(server.council_id) not in changed["user"]["roles"]
    )
    heard = secretary.meetings[m].seq
    status, _, _ = await server.http(
        "POST", f"/api/meetings/{m}/agenda", token=await server.token("chair"),
        json={"title": "After the removal"},
    )  # fmt: skip
    assert status == 201
    await delegate.wait_for_seq(m, delegate.meetings[m].seq + 1)
    await asyncio.sleep(0.3)
    assert secretary.meetings[m].seq == heard
    assert secretary.sio.connected  # the token itself is still good (other councils, REST)


async def test_a_new_role_applies_at_once(server: Running) -> None:
    """A delegate made secretary may act at once, without reconnecting."""
    m = server.meeting_id
    delegate, notices = await connect(server, await server.token("delegate003"))
    await delegate.join(m)
    await auth.create_user(server.services, None, "clerk-admin", "Admin", PASSWORD, is_admin=True)
    admin = await server.token("clerk-admin")
    changed = await member_id(server, "delegate003")
    status, body, _ = await server.http(
        "PATCH", f"/api/councils/{server.council_id}/members/{changed}", token=admin,
        json={"role": "secretary"},
    )  # fmt: skip
    assert status == 200, body
    await until(lambda: bool(notices), 2.0, "told of the new role")
    assert notices[0][1]["user"]["roles"][str(server.council_id)] == "secretary"
    me = (await server.http("GET", "/api/auth/me", token=await server.token("delegate004")))[1]
    ack = await delegate.command(
        "attendance.record", {"meeting_id": m, "user_id": me["id"], "attendance": "present"}
    )
    assert ack["ok"]


async def quorum(server: Running, *args: str) -> str:
    env = os.environ | {
        "QUORUM_DATABASE_URL": server.settings.resolved_database_url,
        "QUORUM_DATA_DIR": str(server.settings.data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "meetings.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_the_quorum_command_ends_sockets_too(server: Running) -> None:
    """A password change or deactivation from the shell, in another process: every worker
    reads the audit log every 2 s and closes that user's sockets."""
    first, _ = await connect(server, await server.token("delegate005"))
    second, _ = await connect(server, await server.token("delegate006"))
    await quorum(server, "user", "passwd", "delegate005", "--password", "a-new-password")
    took = await until(lambda: not first.sio.connected, 6.0, "closed after quorum user passwd")
    await quorum(server, "user", "deactivate", "delegate006")
    took = max(took, await until(lambda: not second.sio.connected, 6.0, "closed after deactivate"))
    assert took < 6.0
    status, body, _ = await server.http(
        "POST", "/api/auth/login", json={"username": "delegate006", "password": PASSWORD}
    )
    assert status == 401, body


async def test_callers_are_re_read_in_the_background_not_by_commands(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command does not wait for a token lookup because its caller was read more than 30 s
    ago: the sweep re-reads callers in the background, in batches, and ends the socket of a
    token that stopped working with no signal at all (here: expired in the database). A command
    re-reads its caller itself only when the sweep fell behind (`STALE_S`)."""
    namespace = server.app.quorum_namespace
    access = namespace.access
    tablet, notices = await connect(server, await server.token("delegate001"))
    phone, _ = await connect(server, await server.token("delegate002"))
    await tablet.join(server.meeting_id)
    sids = [sid for sid, _eio in namespace.server.manager.get_participants("/", None)]
    sessions = {sid: await namespace.get_session(sid) for sid in sids}
    assert len(sessions) == 2

    # read 45 s ago: older than the re-check interval, not stale: the command costs no lookup
    for session in sessions.values():
        session["checked"] = time.monotonic() - (access_module.RECHECK_TOKEN_S + 15)
    lookups = namespace.tokens.lookups
    assert "server_time" in await tablet.call("time.sync")
    assert namespace.tokens.lookups == lookups
    # stale (the sweep fell behind): the command re-reads its caller first
    for session in sessions.values():
        session["checked"] = time.monotonic() - (access_module.STALE_S + 1)
    assert "server_time" in await phone.call("time.sync")
    assert namespace.tokens.lookups == lookups + 1

    # the tablet's token expires in the database, with no signal; nothing is due yet
    async with server.services.uow() as uow:
        await uow.session.execute(
            update(AuthToken)
            .where(col(AuthToken.token_hash) == auth.token_digest(tablet.token))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await uow.commit()
    for session in sessions.values():
        session["checked"] = time.monotonic()
    assert await access.sweep() == 0
    assert tablet.sio.connected and not notices
    # both are due: one sweep reads them together, ends the tablet, keeps the phone
    monkeypatch.setattr(access_module, "RECHECK_TOKEN_S", 0.0)
    assert await access.sweep() == 2
    await until(lambda: not tablet.sio.connected, 2.0, "the expired token's socket is closed")
    assert notices and notices[0][0] == "session_ended"
    assert phone.sio.connected
    assert "server_time" in await phone.call("time.sync")
