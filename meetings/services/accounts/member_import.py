"""Importing a council's member list (docs/features/accounts.md, "Importing a member list").

Two steps over the same file: a preview reports what each row would do and EVERY problem
(row number, column, code, reason), saving nothing; a confirmation checks everything again and
saves the whole list in one transaction, or nothing when any row is refused. A row whose
username is new creates an account with a temporary password (in the answer, once); a row
whose username exists with the same person's name adds that account to the council; the same
username with another name is someone else's (`username_taken`).
"""

from __future__ import annotations

import anyio
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from meetings.domain.errors import Conflict, InvalidInput
from meetings.domain.model import Role
from meetings.services.accounts.auth import (
    announce_access_change,
    hash_password,
    normalize_username,
)
from meetings.services.accounts.member_list import ListRow, fold, read_member_list
from meetings.services.accounts.members import check_email, new_password
from meetings.services.context import Actor, Services
from meetings.services.loading import get_council
from meetings.storage.tables import Membership, User, pk
from meetings.storage.uow import UnitOfWork

_ROLE_WORDS = {
    "secretary": Role.secretary,
    "thu ky": Role.secretary,
    "van phong": Role.secretary,
    "chair": Role.chair,
    "chu toa": Role.chair,
    "chu tich": Role.chair,
    "delegate": Role.delegate,
    "dai bieu": Role.delegate,
    "display": Role.display,
    "man hinh": Role.display,
}
HASHERS = 2
"""Passwords hashed at once (argon2 is deliberately slow; the machine has few cores)."""


class Problem(BaseModel):
    row: int
    column: str
    code: str
    message: str


class PlannedRow(BaseModel):
    row: int
    name: str
    username: str
    role: str
    title: str
    email: str | None
    action: str
    """`create` a new account, or `add` the existing account of that username"""


class NewAccount(BaseModel):
    row: int
    name: str
    username: str
    password: str


class ImportReport(BaseModel):
    saved: bool
    rows: list[PlannedRow]
    problems: list[Problem]
    created: int = 0
    added: int = 0
    accounts: list[NewAccount] = []


def _role(text: str) -> Role | None:
    return _ROLE_WORDS.get(fold(text))


def _check_rows(rows: list[ListRow]) -> tuple[list[PlannedRow], list[Problem]]:
    """What each row asks, and the problems that need no database."""
    planned: list[PlannedRow] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}

    def problem(row: ListRow, column: str, code: str, message: str) -> None:
        problems.append(Problem(row=row.number, column=column, code=code, message=message))

    for row in rows:
        v = row.values
        name = " ".join(v["name"].split())
        if not name:
            problem(row, "name", "missing_name", "the name is missing")
        elif len(name) > 200:
            problem(row, "name", "too_long", "the name is longer than 200 characters")
        username = ""
        if not v["username"]:
            problem(row, "username", "missing_username", "the username is missing")
        else:
            try:
                username = normalize_username(v["username"])
            except InvalidInput as exc:
                problem(row, "username", "bad_username", exc.message)
        if username:
            if username in first_row:
                problem(
                    row,
                    "username",
                    "duplicate_username",
                    f"the username {username!r} is also on row {first_row[username]}",
                )
            else:
                first_row[username] = row.number
        role = _role(v["role"])
        if role is None:
            problem(
                row,
                "role",
                "bad_role" if v["role"] else "missing_role",
                f"{v['role']!r} is not a role: secretary, chair, delegate or display"
                if v["role"]
                else "the role is missing",
            )
        title = v["title"]
        if len(title) > 200:
            problem(row, "title", "too_long", "the title is longer than 200 characters")
        email: str | None = None
        try:
            email = check_email(v["email"])
        except InvalidInput as exc:
            problem(row, "email", "bad_email", exc.message)
        planned.append(
            PlannedRow(
                row=row.number,
                name=name,
                username=username,
                role=role.value if role else v["role"],
                title=title[:200],
                email=email,
                action="create",
            )
        )
    return planned, problems


async def _check_accounts(
    uow: UnitOfWork, council_id: int, planned: list[PlannedRow], problems: list[Problem]
) -> dict[str, User]:
    """Rows whose username exists: the same person joins, someone else's name is refused."""
    names = [p.username for p in planned if p.username]
    existing = {
        u.username: u
        for u in (
            await uow.session.execute(select(User).where(col(User.username).in_(names)))
        ).scalars()
    }
    members = set(
        (
            await uow.session.execute(
                select(col(Membership.user_id)).where(col(Membership.council_id) == council_id)
            )
        ).scalars()
    )
    for p in planned:
        user = existing.get(p.username)
        if user is None:
            continue
        p.action = "add"
        if user.id in members:
            problems.append(
                Problem(
                    row=p.row,
                    column="username",
                    code="already_member",
                    message=f"{user.name} ({p.username}) is already a member of this council",
                )
            )
        elif p.name and fold(user.name) != fold(p.name):
            problems.append(
                Problem(
                    row=p.row,
                    column="username",
                    code="username_taken",
                    message=f"the username {p.username!r} belongs to another person ({user.name})",
                )
            )
    return existing


async def check_caller(services: Services, actor: Actor, council_id: int) -> None:
    """Refuse a caller who may not import before their file is read."""
    async with services.db.reading() as session:
        await get_council(session, actor, council_id)
    actor.require_secretary(council_id)


async def import_members(
    services: Services, actor: Actor, council_id: int, data: bytes, *, confirm: bool
) -> ImportReport:
    """Preview (`confirm` false) or save the member list `data` (CSV or XLSX)."""
    await check_caller(services, actor, council_id)
    rows = await anyio.to_thread.run_sync(read_member_list, data)
    planned, problems = _check_rows(rows)
    async with services.uow() as uow:
        await _check_accounts(uow, council_id, planned, problems)
    problems.sort(key=lambda p: (p.row, p.column))
    if problems or not confirm:
        if confirm:
            raise InvalidInput(
                f"the list was refused: {len(problems)} problem(s); nothing was saved",
                code="import_refused",
                details=[p.model_dump() for p in problems],
            )
        return ImportReport(saved=False, rows=planned, problems=problems)
    passwords = {p.username: new_password() for p in planned if p.action == "create"}
    hashes: dict[str, str] = {}
    limiter = anyio.CapacityLimiter(HASHERS)

    async def hash_one(username: str, password: str) -> None:
        async with limiter:
            hashes[username] = await hash_password(services, password)

    async with anyio.create_task_group() as group:
        for username, password in passwords.items():
            group.start_soon(hash_one, username, password)
    try:
        return await _save(services, actor, council_id, planned, passwords, hashes)
    except IntegrityError:
        raise Conflict(
            "an account or membership of this list was created meanwhile: preview it again",
            code="import_conflict",
        ) from None


async def _save(
    services: Services,
    actor: Actor,
    council_id: int,
    planned: list[PlannedRow],
    passwords: dict[str, str],
    hashes: dict[str, str],
) -> ImportReport:
    async with services.uow() as uow:
        problems: list[Problem] = []
        existing = await _check_accounts(uow, council_id, planned, problems)
        if problems or any((p.action == "create") != (p.username not in existing) for p in planned):
            raise Conflict(
                "the accounts changed since the preview: preview the list again",
                code="import_conflict",
                details=[p.model_dump() for p in problems],
            )
        accounts: list[NewAccount] = []
        for p in planned:
            user = existing.get(p.username)
            if user is None:
                user = User(
                    username=p.username,
                    name=p.name,
                    email=p.email,
                    password_hash=hashes[p.username],
                    temporary_password=True,
                )
                uow.session.add(user)
                await uow.session.flush()
                await uow.audit(
                    actor.user_id, "user.create", f"user:{user.id}", {"username": p.username}
                )
                accounts.append(
                    NewAccount(
                        row=p.row, name=p.name, username=p.username, password=passwords[p.username]
                    )
                )
            uow.session.add(
                Membership(council_id=council_id, user_id=pk(user), role=p.role, title=p.title)
            )
            await uow.audit(
                actor.user_id,
                "member.add",
                f"council:{council_id}",
                {"user_id": pk(user), "role": p.role},
            )
            announce_access_change(uow, pk(user))
        await uow.session.flush()
        await uow.audit(
            actor.user_id,
            "member.import",
            f"council:{council_id}",
            {"created": len(accounts), "added": len(planned) - len(accounts)},
        )
        await uow.commit()
    return ImportReport(
        saved=True,
        rows=planned,
        problems=[],
        created=len(accounts),
        added=len(planned) - len(accounts),
        accounts=accounts,
    )
