"""Councils and their members (docs/features/accounts.md, "Councils and members").

Administrators create councils; the secretariat manages members, roles and terms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.errors import Conflict, InvalidInput, NotFound
from meetings.services import commands as c
from meetings.services.accounts.auth import announce_access_change
from meetings.services.context import Actor, Services
from meetings.services.loading import get_council
from meetings.storage.tables import Council, Membership, User, pk


def council_public(council: Council) -> dict[str, Any]:
    return {
        "id": council.id,
        "name": council.name,
        "short_name": council.short_name,
        "quorum": {
            "num": council.quorum_num,
            "den": council.quorum_den,
            "strict": council.quorum_strict,
        },
    }


def member_public(m: Membership, user: User) -> dict[str, Any]:
    return {
        "id": m.id,
        "council_id": m.council_id,
        "user_id": m.user_id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "is_active": user.is_active,
        "temporary_password": user.temporary_password,
        "role": m.role,
        "title": m.title,
        "term_start": m.term_start.isoformat() if m.term_start else None,
        "term_end": m.term_end.isoformat() if m.term_end else None,
    }


def _check_term(start: Any, end: Any) -> None:
    if start and end and end < start:
        raise InvalidInput("a term cannot end before it starts", code="bad_term")


async def create_council(services: Services, actor: Actor | None, cmd: c.CreateCouncil) -> Council:
    if actor is not None:
        actor.require_admin()
    async with services.uow() as uow:
        council = Council(**cmd.model_dump())
        uow.session.add(council)
        await uow.session.flush()
        await uow.audit(
            actor.user_id if actor else None,
            "council.create",
            f"council:{council.id}",
            {"name": council.name},
        )
        await uow.commit()
    return council


def _role(actor: Actor, council_id: int) -> str | None:
    role = actor.role_in(council_id)
    return role.value if role is not None else None


async def list_councils(services: Services, actor: Actor) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        query = select(Council).order_by(col(Council.id))
        if not actor.is_admin:
            query = query.where(col(Council.id).in_(list(actor.roles)))
        councils = (await session.execute(query)).scalars()
        return [council_public(x) | {"my_role": _role(actor, pk(x))} for x in councils]


async def list_members(services: Services, actor: Actor, council_id: int) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        await get_council(session, actor, council_id)
        rows = await session.execute(
            select(Membership, User)
            .join(User, col(User.id) == col(Membership.user_id))
            .where(col(Membership.council_id) == council_id)
            .order_by(col(User.name))
        )
        return [member_public(m, u) for m, u in rows.all()]


async def add_member(
    services: Services, actor: Actor | None, council_id: int, cmd: c.AddMember
) -> dict[str, Any]:
    _check_term(cmd.term_start, cmd.term_end)
    async with services.uow() as uow:
        if actor is not None:
            await get_council(uow.session, actor, council_id)
            actor.require_secretary(council_id)
        elif await uow.session.get(Council, council_id) is None:
            raise NotFound(f"no council {council_id}")
        user = await uow.session.get(User, cmd.user_id)
        if user is None:
            raise NotFound(f"no user {cmd.user_id}")
        exists = await uow.session.scalar(
            select(col(Membership.id)).where(
                col(Membership.council_id) == council_id, col(Membership.user_id) == cmd.user_id
            )
        )
        if exists is not None:
            raise Conflict(
                f"{user.name} is already a member of this council", code="already_member"
            )
        member = Membership(council_id=council_id, **cmd.model_dump())
        uow.session.add(member)
        await uow.session.flush()
        await uow.audit(
            actor.user_id if actor else None,
            "member.add",
            f"council:{council_id}",
            {"user_id": cmd.user_id, "role": cmd.role.value},
        )
        announce_access_change(uow, cmd.user_id)
        out = member_public(member, user)
        await uow.commit()
    return out


async def update_member(
    services: Services, actor: Actor, council_id: int, member_id: int, cmd: c.UpdateMember
) -> dict[str, Any]:
    async with services.uow() as uow:
        await get_council(uow.session, actor, council_id)
        actor.require_secretary(council_id)
        member = await uow.session.get(Membership, member_id)
        if member is None or member.council_id != council_id:
            raise NotFound(f"no member {member_id} in council {council_id}")
        changes = cmd.model_dump(exclude_unset=True)
        for key, value in changes.items():
            setattr(member, key, value)
        _check_term(member.term_start, member.term_end)
        await uow.audit(
            actor.user_id,
            "member.update",
            f"member:{member_id}",
            {"user_id": member.user_id} | {k: str(v) for k, v in changes.items()},
        )
        announce_access_change(uow, member.user_id)
        user = await uow.session.get(User, member.user_id)
        assert user is not None
        out = member_public(member, user)
        await uow.commit()
    return out


async def remove_member(services: Services, actor: Actor, council_id: int, member_id: int) -> None:
    async with services.uow() as uow:
        await get_council(uow.session, actor, council_id)
        actor.require_secretary(council_id)
        member = await uow.session.get(Membership, member_id)
        if member is None or member.council_id != council_id:
            raise NotFound(f"no member {member_id} in council {council_id}")
        await uow.session.delete(member)
        await uow.audit(
            actor.user_id, "member.remove", f"council:{council_id}", {"user_id": member.user_id}
        )
        announce_access_change(uow, member.user_id)
        await uow.commit()
