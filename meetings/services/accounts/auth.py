"""Accounts, login, tokens (docs/SECURITY.md).

Passwords are hashed with argon2id in the password pool's threads (`passwords.py`: hashing is
deliberately slow, so it is bounded and queued, and never runs on the event loop). A login
creates a random token; only its sha256 is stored, so a database leak yields no usable token.
The same token is the session cookie, the `Authorization: Bearer` value and the Socket.IO auth.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from meetings.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from meetings.domain.model import Role
from meetings.domain.signals import AccessChanged
from meetings.services.accounts import login_guard, passwords
from meetings.services.context import Actor, Services
from meetings.storage.tables import (
    AuditEntry,
    AuthToken,
    LoginAttempt,
    Membership,
    User,
    pk,
    utcnow,
)
from meetings.storage.uow import UnitOfWork

ACCESS_ACTIONS = (
    "user.passwd",
    "user.deactivate",
    "user.activate",
    "member.add",
    "member.update",
    "member.remove",
)
"""Audit actions that change who may do what; workers also read them from the audit log, for
changes made by another process (the `quorum user` command)."""

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


TOKEN_PREFIX = "qrm_"


def new_token() -> str:
    """A fresh bearer token: a fixed prefix (so secret scanners can spot a leaked one, and a
    token never begins with "-", which a command line would read as an option) and 256 bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidInput(
            "a username is 2–64 characters: lower-case letters, digits, '.', '_' or '-'",
            code="bad_username",
        )
    return name


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", code="weak_password")
    if len(password) > 1024:
        raise InvalidInput("a password has at most 1024 characters", code="bad_password")


async def hash_password(services: Services, password: str) -> str:
    """An argon2id hash with the configured cost, made in the password pool."""
    return await passwords.pool(services).hash(password)


async def login(
    services: Services, username: str, password: str, ip: str, label: str = "session"
) -> tuple[str, User]:
    """Check the password; return a new token and the user. Guarded against floods by the
    password pool's queue (`503 busy` before anything is written) and against guessing by
    `login_guard`: the attempt is reserved (counted as a failure) before the check. A stored
    hash made with other parameters than the configured ones is replaced, in the login's
    transaction, by a new hash of the password that just proved right."""
    name = username.strip().lower()[:64]
    ip = ip[:64]
    pool = passwords.pool(services)
    with pool.admitted():
        attempt_id = await login_guard.reserve(services, name, ip)
        async with services.db.reading() as session:
            user = (
                await session.execute(select(User).where(col(User.username) == name))
            ).scalar_one_or_none()
        try:  # an unknown name is checked against a dummy hash: the same cost, the same pool
            check = await pool.check(user.password_hash if user else None, password)
        except Unavailable:
            await login_guard.withdraw(services, attempt_id)
            raise
    if not check.ok or user is None or not user.is_active:
        await login_guard.failed(services, attempt_id)
        raise Unauthenticated("wrong username or password", code="bad_credentials")
    async with services.uow() as uow:
        attempt = await uow.session.get(LoginAttempt, attempt_id)
        if attempt is not None:
            attempt.ok, attempt.pending = True, False
        if check.rehashed is not None:  # only if nobody changed the password meanwhile
            await uow.session.execute(
                update(User)
                .where(col(User.id) == pk(user), col(User.password_hash) == user.password_hash)
                .values(password_hash=check.rehashed)
            )
        token = new_token()
        uow.session.add(
            AuthToken(
                token_hash=token_digest(token),
                user_id=pk(user),
                label=label[:100],
                expires_at=utcnow() + timedelta(days=services.settings.session_days),
            )
        )
        details: dict[str, Any] = {"ip": ip}
        if check.rehashed is not None:
            details["rehashed"] = True
        await uow.audit(user.id, "auth.login", f"user:{user.id}", details)
        await uow.commit()
    return token, user


async def confirm_password(services: Services, actor: Actor, password: str, ip: str) -> None:
    """The signed-in user types their password again before an act that binds them in their
    own name (signing with the key the server holds): a session left open on a tablet must not
    be enough. Counted and delayed like a login (`login_guard`, same name and address), so the
    sign route cannot be used to guess passwords. Wrong: `403 reauth_failed`."""
    name = actor.username.strip().lower()[:64]
    pool = passwords.pool(services)
    with pool.admitted():
        attempt_id = await login_guard.reserve(services, name, ip[:64])
        async with services.db.reading() as session:
            user = await session.get(User, actor.user_id)
        try:  # no usable hash: checked against the dummy one, at the same cost
            check = await pool.check(user.password_hash if user else None, password)
        except Unavailable:
            await login_guard.withdraw(services, attempt_id)
            raise
    ok = check.ok
    if not ok or user is None or not user.is_active or not user.password_hash:
        await login_guard.failed(services, attempt_id)
        raise Forbidden("the password is wrong", code="reauth_failed")
    async with services.uow() as uow:
        attempt = await uow.session.get(LoginAttempt, attempt_id)
        if attempt is not None:
            attempt.ok, attempt.pending = True, False
        await uow.commit()


async def change_own_password(
    services: Services, actor: Actor, current: str, new: str, ip: str
) -> None:
    """The signed-in user replaces their password (docs/features/accounts.md, "Your password").
    The current one is checked like a login (`confirm_password`: counted and delayed, so this
    route cannot be used to guess it; wrong: `403 reauth_failed`). Every other session of the
    user ends (a device left signed in, or someone who knew the old password); the caller's own
    stays, so a delegate who changes it during a sitting keeps their place. The secretariat's
    temporary mark goes."""
    check_password_strength(new)
    await confirm_password(services, actor, current, ip)
    if passwords.canonical(new) == passwords.canonical(current):
        raise InvalidInput("the new password is the current one", code="same_password")
    password_hash = await hash_password(services, new)
    async with services.uow() as uow:
        user = await uow.session.get(User, actor.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("the session has ended", code="unauthenticated")
        user.password_hash = password_hash
        user.temporary_password = False
        await revoke_tokens(uow, actor.user_id, keep=actor.token_id)
        await uow.audit(actor.user_id, "user.passwd", f"user:{actor.user_id}", {"own": True})
        await uow.commit()


def announce_access_change(uow: UnitOfWork, user_id: int, token_id: int | None = None) -> None:
    """After commit, every worker re-authorises the user's sockets (only those of `token_id`
    when given): ended tokens are disconnected, changed roles apply at once."""
    uow.signal(AccessChanged(user_id, token_id))  # handler: realtime/access.py


async def newest_audit_entry(services: Services) -> int:
    """The id of the audit log's newest entry (0 when empty): where to read changes from."""
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.max(col(AuditEntry.id)))) or 0)


async def access_changes(services: Services, after: int, upto: int) -> set[int]:
    """The users whose tokens or roles audit entries `after` < id <= `upto` changed (also
    those made by another process, which sends no signal)."""
    async with services.db.reading() as session:
        rows = await session.execute(
            select(col(AuditEntry.target), col(AuditEntry.data)).where(
                col(AuditEntry.id) > after,
                col(AuditEntry.id) <= upto,
                col(AuditEntry.action).in_(ACCESS_ACTIONS),
            )
        )
        users = set()
        for target, data in rows.all():
            if isinstance(data, dict) and isinstance(data.get("user_id"), int):
                users.add(int(data["user_id"]))
            elif str(target).startswith("user:") and str(target)[5:].isdigit():
                users.add(int(str(target)[5:]))
        return users


async def logout(services: Services, actor: Actor) -> None:
    if actor.token_id is None:
        return
    async with services.uow() as uow:
        token = await uow.session.get(AuthToken, actor.token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
        announce_access_change(uow, actor.user_id, actor.token_id)
        await uow.commit()


async def actor_for_token(services: Services, token: str | None) -> Actor | None:
    """The caller for a token, or None when it is unknown, expired, revoked or the user inactive."""
    if not token or len(token) > 200:
        return None
    async with services.db.reading() as session:
        row = (
            await session.execute(
                select(AuthToken, User)
                .join(User, col(User.id) == col(AuthToken.user_id))
                .where(col(AuthToken.token_hash) == token_digest(token))
            )
        ).first()
        if row is None:
            return None
        auth, user = row
        if auth.revoked_at is not None or auth.expires_at < utcnow() or not user.is_active:
            return None
        return await load_actor(session, user, auth.id)


async def load_actor(session: Any, user: User, token_id: int | None = None) -> Actor:
    memberships = (
        await session.execute(select(Membership).where(col(Membership.user_id) == user.id))
    ).scalars()
    return Actor(
        user_id=pk(user),
        username=user.username,
        name=user.name,
        is_admin=user.is_admin,
        roles={m.council_id: Role(m.role) for m in memberships},
        token_id=token_id,
        temporary_password=user.temporary_password,
    )


def user_public(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
    }


async def create_user(
    services: Services,
    actor: Actor | None,
    username: str,
    name: str,
    password: str,
    *,
    is_admin: bool = False,
    email: str | None = None,
) -> User:
    """Create an account. `actor` None means the local CLI (an operator with shell access)."""
    if actor is not None:
        actor.require_admin()
    username = normalize_username(username)
    check_password_strength(password)
    if not name.strip():
        raise InvalidInput("a user needs a name", code="missing_name")
    password_hash = await hash_password(services, password)
    async with services.uow() as uow:
        exists = await uow.session.scalar(
            select(col(User.id)).where(col(User.username) == username)
        )
        if exists is not None:
            raise Conflict(f"the username {username!r} is taken", code="username_taken")
        user = User(
            username=username,
            name=name.strip()[:200],
            email=email,
            password_hash=password_hash,
            is_admin=is_admin,
        )
        uow.session.add(user)
        await uow.session.flush()
        await uow.audit(
            actor.user_id if actor else None,
            "user.create",
            f"user:{user.id}",
            {"username": username},
        )
        await uow.commit()
    return user


async def set_password(
    services: Services, actor: Actor | None, username: str, password: str
) -> None:
    """Change a password and revoke the user's tokens (every device logs in again)."""
    check_password_strength(password)
    password_hash = await hash_password(services, password)
    async with services.uow() as uow:
        user = await _user_named(uow, username)
        if actor is not None and not (actor.is_admin or actor.user_id == user.id):
            raise NotFound(f"no user {username!r}")
        user.password_hash = password_hash
        user.temporary_password = False
        await revoke_tokens(uow, pk(user))
        await uow.audit(actor.user_id if actor else None, "user.passwd", f"user:{user.id}")
        await uow.commit()


async def _user_named(uow: UnitOfWork, username: str) -> User:
    user = (
        await uow.session.execute(select(User).where(col(User.username) == username.lower()))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def revoke_tokens(uow: UnitOfWork, user_id: int, keep: int | None = None) -> None:
    """End every session of the user but the token `keep` (the caller's own, when they changed
    their password themselves); their sockets are re-authorised after the commit."""
    live = select(AuthToken).where(
        col(AuthToken.user_id) == user_id, col(AuthToken.revoked_at).is_(None)
    )
    if keep is not None:
        live = live.where(col(AuthToken.id) != keep)
    for token in (await uow.session.execute(live)).scalars():
        token.revoked_at = utcnow()
    announce_access_change(uow, user_id)


async def set_active(services: Services, actor: Actor | None, username: str, active: bool) -> None:
    """Deactivate an account (its tokens are revoked and its sockets closed at once; it keeps
    its history) or activate it again. `actor` None means the local CLI."""
    if actor is not None:
        actor.require_admin()
    async with services.uow() as uow:
        user = await _user_named(uow, username)
        user.is_active = active
        if not active:
            await revoke_tokens(uow, pk(user))
        await uow.audit(
            actor.user_id if actor else None,
            "user.activate" if active else "user.deactivate",
            f"user:{user.id}",
        )
        await uow.commit()


async def list_users(services: Services, actor: Actor | None) -> list[User]:
    if actor is not None:
        actor.require_admin()
    async with services.db.reading() as session:
        return list((await session.execute(select(User).order_by(col(User.username)))).scalars())
