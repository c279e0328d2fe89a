"""The secretariat's accounts of its members (docs/features/accounts.md, "Member accounts").

A council's secretariat creates its members' accounts, edits their name, username and email,
hands out a new temporary password and deactivates or reactivates an account. An account is
one person's across every council they sit on, so the secretariat may change it only when every
council the account belongs to is one it keeps (the secretariat of council A must not lock a
delegate out of council B, nor take over a chair's account of council B through a password
reset); otherwise, and always for an administrator's account, it is the administrators' work
(`forbidden`, code `other_councils` / `admin_account`). A password reset and a deactivation
revoke every token of the account and end its live sockets at once (realtime/access.py).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from meetings.services import commands as c
from meetings.services.accounts.auth import (
    announce_access_change,
    check_password_strength,
    hash_password,
    normalize_username,
    revoke_tokens,
)
from meetings.services.accounts.councils import member_public
from meetings.services.context import Actor, Services
from meetings.services.loading import get_council
from meetings.storage.tables import Membership, User, pk
from meetings.storage.uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}$")
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Temporary passwords are read aloud and typed on tablets: no 0/o, 1/l/i."""


def new_password() -> str:
    """A temporary password: 3 groups of 4 characters from 31 (about 59 bits)."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def check_email(email: str | None) -> str | None:
    """An email address, trimmed; empty means none; a malformed one is refused."""
    if email is None or not email.strip():
        return None
    value = email.strip()
    if not _EMAIL.match(value):
        raise InvalidInput(f"{value!r} is not an email address", code="bad_email")
    return value


def check_name(name: str) -> str:
    value = " ".join(name.split())
    if not value:
        raise InvalidInput("a member needs a name", code="missing_name")
    return value[:200]


async def _username_free(uow: UnitOfWork, username: str, user_id: int | None = None) -> None:
    found = await uow.session.scalar(select(col(User.id)).where(col(User.username) == username))
    if found is not None and found != user_id:
        raise Conflict(f"the username {username!r} is taken", code="username_taken")


async def create_member(
    services: Services, actor: Actor, council_id: int, cmd: c.CreateMemberAccount
) -> dict[str, Any]:
    """A new account that joins the council; its temporary password is in the answer, once."""
    username = normalize_username(cmd.username)
    name = check_name(cmd.name)
    email = check_email(cmd.email)
    password = cmd.password or new_password()
    check_password_strength(password)
    async with services.db.reading() as session:
        await get_council(session, actor, council_id)
    actor.require_secretary(council_id)
    password_hash = await hash_password(services, password)
    async with services.uow() as uow:
        await _username_free(uow, username)
        user = User(
            username=username,
            name=name,
            email=email,
            password_hash=password_hash,
            temporary_password=True,
        )
        uow.session.add(user)
        await uow.session.flush()
        member = Membership(
            council_id=council_id, user_id=pk(user), role=cmd.role.value, title=cmd.title
        )
        uow.session.add(member)
        await uow.session.flush()
        await uow.audit(actor.user_id, "user.create", f"user:{user.id}", {"username": username})
        await uow.audit(
            actor.user_id,
            "member.add",
            f"council:{council_id}",
            {"user_id": pk(user), "role": cmd.role.value},
        )
        out = member_public(member, user) | {"password": password}
        await uow.commit()
    return out


async def _member_account(
    uow: UnitOfWork, actor: Actor, council_id: int, member_id: int
) -> tuple[Membership, User]:
    """The member and their account, once the caller may change the account (see above)."""
    await get_council(uow.session, actor, council_id)
    actor.require_secretary(council_id)
    member = await uow.session.get(Membership, member_id)
    if member is None or member.council_id != council_id:
        raise NotFound(f"no member {member_id} in council {council_id}")
    user = await uow.session.get(User, member.user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no member {member_id} in council {council_id}")
    if not actor.is_admin:
        if user.is_admin:
            raise Forbidden(
                "an administrator's account is changed by an administrator", code="admin_account"
            )
        councils = (
            await uow.session.execute(
                select(col(Membership.council_id)).where(col(Membership.user_id) == user.id)
            )
        ).scalars()
        others = sorted(x for x in councils if not actor.is_secretary(x))
        if others:
            raise Forbidden(
                "this account also belongs to another council: ask an administrator",
                code="other_councils",
            )
    return member, user


async def update_account(
    services: Services, actor: Actor, council_id: int, member_id: int, cmd: c.UpdateAccount
) -> dict[str, Any]:
    """Change a member's name, username or email (the account's, in every council)."""
    changes = cmd.model_dump(exclude_unset=True)
    async with services.uow() as uow:
        member, user = await _member_account(uow, actor, council_id, member_id)
        if "name" in changes:
            user.name = check_name(changes["name"])
        if "email" in changes:
            user.email = check_email(changes["email"])
        if "username" in changes:
            username = normalize_username(changes["username"])
            await _username_free(uow, username, user.id)
            user.username = username
        await uow.audit(
            actor.user_id,
            "user.update",
            f"user:{user.id}",
            {k: str(v) for k, v in changes.items()},
        )
        out = member_public(member, user)
        await uow.commit()
    return out


async def reset_password(
    services: Services, actor: Actor, council_id: int, member_id: int, password: str | None
) -> dict[str, Any]:
    """A temporary password (the caller's, or made here) shown once; every session ends."""
    password = password or new_password()
    check_password_strength(password)
    async with services.db.reading() as session:
        await get_council(session, actor, council_id)
    actor.require_secretary(council_id)
    password_hash = await hash_password(services, password)
    async with services.uow() as uow:
        member, user = await _member_account(uow, actor, council_id, member_id)
        if user.id == actor.user_id:
            raise Conflict(
                "change your own password from your account, not the members list",
                code="own_account",
            )
        user.password_hash = password_hash
        user.temporary_password = True
        await revoke_tokens(uow, pk(user))
        await uow.audit(actor.user_id, "user.passwd", f"user:{user.id}")
        out = member_public(member, user) | {"password": password}
        await uow.commit()
    return out


async def set_member_active(
    services: Services, actor: Actor, council_id: int, member_id: int, active: bool
) -> dict[str, Any]:
    """Deactivate a member's account (tokens revoked and sockets closed at once; login
    refused; the history stays) or reactivate it."""
    async with services.uow() as uow:
        member, user = await _member_account(uow, actor, council_id, member_id)
        if user.id == actor.user_id and not active:
            raise Conflict("you cannot deactivate your own account", code="own_account")
        if user.is_active != active:
            user.is_active = active
            if not active:
                await revoke_tokens(uow, pk(user))
            else:
                announce_access_change(uow, pk(user))
            await uow.audit(
                actor.user_id,
                "user.activate" if active else "user.deactivate",
                f"user:{user.id}",
            )
        out = member_public(member, user)
        await uow.commit()
    return out
