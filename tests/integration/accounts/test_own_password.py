"""A user changes their own password (docs/features/accounts.md, "Your password"), over a real
server, sockets and database: the other sessions end, this one stays; the current password is
checked and throttled like a login; the secretariat's temporary mark comes and goes."""

from __future__ import annotations

from typing import Any

from meetings.services.accounts import auth
from tests.conftest import PASSWORD, Running
from tests.integration.accounts.test_revocation import connect, until

NEW = "Mật khẩu riêng của đại biểu"


async def change(server: Running, token: str, current: str, new: str) -> tuple[int, Any]:
    status, body, _ = await server.http(
        "POST",
        "/api/auth/password",
        token=token,
        json={"current_password": current, "new_password": new},
    )
    return status, body


async def login_status(server: Running, username: str, password: str) -> int:
    status, _, _ = await server.http(
        "POST", "/api/auth/login", json={"username": username, "password": password}
    )
    return status


async def test_the_other_sessions_end_and_this_one_stays(server: Running) -> None:
    m = server.meeting_id
    here = await server.token("delegate001")
    elsewhere = await server.token("delegate001")
    tablet, tablet_notices = await connect(server, here)
    phone, phone_notices = await connect(server, elsewhere)
    await tablet.join(m)
    await phone.join(m)

    status, body = await change(server, here, PASSWORD, NEW)
    assert status == 200, body
    assert body["username"] == "delegate001" and body["temporary_password"] is False

    await until(lambda: not phone.sio.connected, 2.0, "the other session's socket is closed")
    assert phone_notices and phone_notices[0][0] == "session_ended"
    assert (await server.http("GET", "/api/auth/me", token=elsewhere))[0] == 401
    # this device keeps its session, its socket and its place in the sitting
    assert tablet.sio.connected
    assert not [n for n in tablet_notices if n[0] == "session_ended"]
    assert "server_time" in await tablet.call("time.sync")
    assert (await server.http("GET", "/api/auth/me", token=here))[0] == 200
    # the old password no longer logs in; the new one (with its diacritics) does
    assert await login_status(server, "delegate001", PASSWORD) == 401
    assert await login_status(server, "delegate001", NEW) == 200


async def stored_hash(server: Running, username: str) -> str:
    return {u.username: u.password_hash for u in await auth.list_users(server.services, None)}[
        username
    ]


async def test_a_wrong_current_password_changes_nothing_and_is_throttled(
    server: Running,
) -> None:
    token = await server.token("delegate002")
    before = await stored_hash(server, "delegate002")
    free = server.settings.login_attempts
    codes = []
    for _ in range(free + 1):
        status, body = await change(server, token, "not the password", NEW)
        codes.append((status, body["error"]["code"]))
    assert codes[:free] == [(403, "reauth_failed")] * free
    assert codes[free] == (429, "rate_limited")
    # nothing changed, and the session that guessed is still a session
    assert await stored_hash(server, "delegate002") == before
    assert (await server.http("GET", "/api/auth/me", token=token))[0] == 200


async def test_weak_same_and_malformed_new_passwords_are_refused(server: Running) -> None:
    token = await server.token("delegate003")
    status, body = await change(server, token, PASSWORD, "short")
    assert (status, body["error"]["code"]) == (422, "weak_password")
    status, body = await change(server, token, PASSWORD, PASSWORD)
    assert (status, body["error"]["code"]) == (422, "same_password")
    status, body, _ = await server.http(
        "POST", "/api/auth/password", token=token, json={"new_password": NEW}
    )
    assert (status, body["error"]["code"]) == (422, "validation")
    status, body, _ = await server.http(
        "POST", "/api/auth/password", token=token, json={"current_password": 5, "new_password": []}
    )
    assert (status, body["error"]["code"]) == (422, "validation")
    assert await login_status(server, "delegate003", PASSWORD) == 200
    # without a session: no change, whatever the body says
    status, body = await change(server, "", PASSWORD, NEW)
    assert status == 401


async def test_the_secretariats_passwords_are_temporary_until_changed(server: Running) -> None:
    secretary = await server.token("secretary")
    status, made, _ = await server.http(
        "POST",
        f"/api/councils/{server.council_id}/accounts",
        token=secretary,
        json={"username": "tam.nv", "name": "Nguyễn Văn Tâm", "role": "delegate"},
    )
    assert status == 201, made
    temporary = made["password"]
    status, answer, _ = await server.http(
        "POST", "/api/auth/login", json={"username": "tam.nv", "password": temporary}
    )
    assert status == 200 and answer["user"]["temporary_password"] is True
    token = answer["token"]
    assert (await server.http("GET", "/api/auth/me", token=token))[1]["temporary_password"]

    status, body = await change(server, token, temporary, NEW)
    assert status == 200 and body["temporary_password"] is False
    status, me, _ = await server.http("GET", "/api/auth/me", token=token)
    assert status == 200 and me["temporary_password"] is False

    # a reset by the secretariat marks it again; the operator's `quorum user passwd` does not
    status, reset, _ = await server.http(
        "POST",
        f"/api/councils/{server.council_id}/members/{made['id']}/password",
        token=secretary,
        json={},
    )
    assert status == 200, reset
    status, answer, _ = await server.http(
        "POST", "/api/auth/login", json={"username": "tam.nv", "password": reset["password"]}
    )
    assert status == 200 and answer["user"]["temporary_password"] is True
    await auth.set_password(server.services, None, "tam.nv", NEW)
    status, answer, _ = await server.http(
        "POST", "/api/auth/login", json={"username": "tam.nv", "password": NEW}
    )
    assert status == 200 and answer["user"]["temporary_password"] is False
