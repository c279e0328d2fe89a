"""Login, logout, me, users (docs/API.md, "Authentication", "Resources")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse

from meetings.http.api import Api, Call
from meetings.http.auth import CSRF_COOKIE, SESSION_COOKIE, csrf_token, vouch
from meetings.services import commands as c
from meetings.services.accounts import auth, passwords


def client_ip(call: Call) -> str:
    return call.request.client.host if call.request.client else "unknown"


async def login(call: Call) -> JSONResponse:
    body: c.Login = call.body
    token, _user = await auth.login(call.services, body.username, body.password, client_ip(call))
    vouch(call.request, token)  # the new token's requests count on their own from the first
    actor = await auth.actor_for_token(call.services, token)
    assert actor is not None
    csrf = csrf_token(call.services.settings.secret_key, token)
    response = JSONResponse({"token": token, "csrf_token": csrf, "user": actor.public()})
    settings = call.services.settings
    max_age = settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


async def logout(call: Call) -> JSONResponse:
    await auth.logout(call.services, call.me)
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


async def change_password(call: Call) -> dict[str, Any]:
    body: c.ChangePassword = call.body
    await auth.change_own_password(
        call.services, call.me, body.current_password, body.new_password, client_ip(call)
    )
    return replace(call.me, temporary_password=False).public()


async def me(call: Call) -> dict[str, Any]:
    return call.me.public()


async def list_users(call: Call) -> list[dict[str, Any]]:
    return [auth.user_public(u) for u in await auth.list_users(call.services, call.me)]


async def create_user(call: Call) -> dict[str, Any]:
    body: c.CreateUser = call.body
    user = await auth.create_user(
        call.services,
        call.me,
        body.username,
        body.name,
        body.password,
        is_admin=body.is_admin,
        email=body.email,
    )
    return auth.user_public(user)


ROUTES = [
    Api(
        "POST",
        "/api/auth/login",
        login,
        "Log in; returns a token and sets the session cookie",
        body=c.Login,
        auth=False,
        tag="accounts",
    ),
    Api("POST", "/api/auth/logout", logout, "Revoke the current token", tag="accounts"),
    Api("GET", "/api/auth/me", me, "The caller with their roles per council", tag="accounts"),
    Api(
        "POST",
        "/api/auth/password",
        change_password,
        "Change one's own password (the current one typed again); the other sessions end",
        body=c.ChangePassword,
        tag="accounts",
    ),
    Api("GET", "/api/users", list_users, "All accounts (administrators)", tag="accounts"),
    Api(
        "POST",
        "/api/users",
        create_user,
        "Create an account (administrators)",
        body=c.CreateUser,
        status=201,
        tag="accounts",
    ),
]

ON_START = [passwords.start]
"""Made at start: the dummy hash for unknown names, which also measures what a hash costs."""
ON_STOP = [passwords.stop]
