"""Accounts and sessions: login, logout, bearer and cookie, CSRF, revocation, rate limiting,
argon2 hashes and the `quorum user` command (docs/SECURITY.md)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from sqlalchemy import select

from meetings.http.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from meetings.storage.tables import AuthToken, User
from tests.conftest import PASSWORD
from tests.support.world import World, quorum, unique


async def _login(
    world: World, username: str, password: str = PASSWORD
) -> tuple[int, dict, SimpleCookie]:  # type: ignore[type-arg]
    status, body, headers = await world.server.http(
        "POST", "/api/auth/login", json={"username": username, "password": password}
    )
    cookies: SimpleCookie = SimpleCookie()
    for raw in headers.getall("set-cookie", []):  # type: ignore[attr-defined]
        cookies.load(raw)
    return status, body, cookies


async def test_login_answers_token_user_and_sets_safe_cookies(world: World) -> None:
    status, body, cookies = await _login(world, "delegate002")
    assert status == 200
    assert set(body) >= {"token", "csrf_token", "user"}
    assert body["user"]["username"] == "delegate002" and body["user"]["name"]
    session = cookies[SESSION_COOKIE]
    assert session.value == body["token"]
    assert session["httponly"] and session["samesite"].lower() == "strict"
    assert session["path"] == "/" and int(session["max-age"]) > 0
    csrf = cookies[CSRF_COOKIE]
    assert csrf.value == body["csrf_token"] and not csrf["httponly"]


async def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    a = await world.server.http(
        "POST", "/api/auth/login", json={"username": "delegate003", "password": "wrong-one!"}
    )
    b = await world.server.http(
        "POST", "/api/auth/login", json={"username": "nobody-here", "password": "wrong-one!"}
    )
    assert a[0] == b[0] == 401
    assert a[1] == b[1] and a[1]["error"]["code"] == "bad_credentials"


async def test_bearer_and_cookie_both_authenticate(world: World) -> None:
    _, body, _ = await _login(world, "delegate004")
    token = body["token"]
    status, me, _ = await world.server.http("GET", "/api/auth/me", token=token)
    assert status == 200 and me["username"] == "delegate004"
    status, me, _ = await world.server.http(
        "GET", "/api/auth/me", headers={"cookie": f"{SESSION_COOKIE}={token}"}
    )
    assert status == 200 and me["username"] == "delegate004"
    status, body, _ = await world.server.http("GET", "/api/auth/me", token="not-a-token")
    assert status == 401 and body["error"]["code"] == "unauthenticated"


async def test_cookie_mutations_need_the_csrf_header(world: World) -> None:
    _, body, _ = await _login(world, "secretary")
    cookie = {"cookie": f"{SESSION_COOKIE}={body['token']}; {CSRF_COOKIE}={body['csrf_token']}"}
    path = f"/api/meetings/{world.meeting_id}/agenda"
    status, error, _ = await world.server.http("POST", path, json={"title": "x"}, headers=cookie)
    assert (status, error["error"]["code"]) == (403, "csrf")
    wrong = cookie | {CSRF_HEADER: "0" * 64}
    status, error, _ = await world.server.http("POST", path, json={"title": "x"}, headers=wrong)
    assert (status, error["error"]["code"]) == (403, "csrf")
    right = cookie | {CSRF_HEADER: body["csrf_token"]}
    status, item, _ = await world.server.http("POST", path, json={"title": "x"}, headers=right)
    assert status == 201, item
    # reads need no CSRF header; bearer mutations need none either
    assert (await world.server.http("GET", path, headers=cookie))[0] == 200
    status, _, _ = await world.server.http("DELETE", f"{path}/{item['id']}", token=body["token"])
    assert status == 204
    # a stale cookie does not stop a login form from logging in again
    status, _, _ = await world.server.http(
        "POST",
        "/api/auth/login",
        json={"username": "secretary", "password": PASSWORD},
        headers=cookie,
    )
    assert status == 200


async def test_logout_revokes_the_token_and_clears_cookies(world: World) -> None:
    _, body, _ = await _login(world, "delegate005")
    token = body["token"]
    status, _, headers = await world.server.http("POST", "/api/auth/logout", token=token)
    assert status == 200
    cleared = SimpleCookie()
    for raw in headers.getall("set-cookie", []):  # type: ignore[attr-defined]
        cleared.load(raw)
    assert cleared[SESSION_COOKIE].value == "" and cleared[CSRF_COOKIE].value == ""
    status, body, _ = await world.server.http("GET", "/api/auth/me", token=token)
    assert status == 401
    async with world.services.db.reading() as session:
        revoked = await session.scalar(
            select(AuthToken.revoked_at).order_by(AuthToken.id.desc()).limit(1)  # type: ignore[union-attr]
        )
    assert revoked is not None


async def test_login_rate_limit(world: World) -> None:
    user_id = await world.new_user()
    async with world.services.db.reading() as session:
        username = await session.scalar(select(User.username).where(User.id == user_id))
    limit = world.server.settings.login_attempts
    for _ in range(limit):
        status, _, _ = await _login(world, username, "wrong password")
        assert status == 401
    # now even the right password is refused, with a clear code, for this name only
    status, body, _ = await _login(world, username)
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    status, _, _ = await _login(world, "delegate006")
    assert status == 200


async def test_passwords_are_stored_as_argon2_hashes(world: World) -> None:
    async with world.services.db.reading() as session:
        hashes = list((await session.execute(select(User.password_hash))).scalars())
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)
    async with world.services.db.reading() as session:
        stored = list((await session.execute(select(AuthToken.token_hash))).scalars())
    assert all(len(h) == 64 for h in stored)
    assert world.tokens["delegate"] not in stored


async def test_user_command_create_passwd_list(world: World) -> None:
    name = unique("cli")
    code, out, err = await quorum(
        world, "user", "create", name, "--name", "Bí thư", "--password", "first-pass"
    )
    assert code == 0, err
    assert f"Created user {name}" in out
    status, body, _ = await _login(world, name, "first-pass")
    assert status == 200
    old_token = body["token"]

    code, _, err = await quorum(world, "user", "create", name, "--password", "first-pass")
    assert code == 1 and "taken" in err and "Traceback" not in err
    code, _, err = await quorum(world, "user", "create", unique("cli"), "--password", "short")
    assert code == 1 and "8 characters" in err

    code, _, err = await quorum(world, "user", "passwd", name, "--password", "second-pass")
    assert code == 0, err
    assert (await world.server.http("GET", "/api/auth/me", token=old_token))[0] == 401
    assert (await _login(world, name, "first-pass"))[0] == 401
    assert (await _login(world, name, "second-pass"))[0] == 200
    code, _, err = await quorum(
        world, "user", "passwd", "no-such-user", "--password", "second-pass"
    )
    assert code == 1 and "no user" in err

    code, out, _ = await quorum(world, "user", "list")
    assert code == 0
    assert name in out and "admin" in out and "users." in out
