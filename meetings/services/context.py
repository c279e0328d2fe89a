"""The service container and the caller (docs/ARCHITECTURE.md, "The command path, step by step").

`Services` is built once by `services.assembly.create_services` and kept in lifespan state.
`Actor` is who is calling: built from a token by `services.accounts.auth.actor_for_token`, for
HTTP and Socket.IO alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from meetings.config import Settings
from meetings.domain.errors import DomainError, Forbidden
from meetings.domain.model import STAFF_ROLES, VOTING_ROLES, Role
from meetings.storage.after_commit import AfterCommit
from meetings.storage.blobs import BlobStore
from meetings.storage.db import Database
from meetings.storage.ports import EventPublisher, NullPublisher
from meetings.storage.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    name: str
    is_admin: bool = False
    roles: Mapping[int, Role] = field(default_factory=dict)  # council id → role
    token_id: int | None = None
    temporary_password: bool = False  # set by the secretariat, not yet changed by the user

    def role_in(self, council_id: int) -> Role | None:
        return self.roles.get(council_id)

    def is_staff(self, council_id: int) -> bool:
        return self.is_admin or self.roles.get(council_id) in STAFF_ROLES

    def is_secretary(self, council_id: int) -> bool:
        return self.is_admin or self.roles.get(council_id) == Role.secretary

    def is_chair(self, council_id: int) -> bool:
        return self.roles.get(council_id) == Role.chair

    def is_voting_member(self, council_id: int) -> bool:
        return self.roles.get(council_id) in VOTING_ROLES

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only an administrator may do this")

    def require_staff(self, council_id: int) -> None:
        if not self.is_staff(council_id):
            raise Forbidden("only the council's secretariat or chair may do this")

    def require_secretary(self, council_id: int) -> None:
        if not self.is_secretary(council_id):
            raise Forbidden("only the council's secretariat may do this")

    def require_chair(self, council_id: int) -> None:
        """Running the sitting: the chair; an administrator may stand in."""
        if not (self.is_admin or self.is_chair(council_id)):
            raise Forbidden("only the chair may do this")

    def public(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "name": self.name,
            "is_admin": self.is_admin,
            "roles": {str(council): role.value for council, role in self.roles.items()},
            "temporary_password": self.temporary_password,
        }


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: BlobStore
    publisher: EventPublisher = field(default_factory=NullPublisher)
    subsystems: dict[str, object] = field(default_factory=dict)
    """Per-app objects a subsystem creates in its start hook (e.g. the signing pool)."""
    after_commit: AfterCommit = field(default_factory=AfterCommit)
    """What follows a commit, registered by the composition root (`services.assembly`)."""

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.publisher, self.after_commit)

    def shared(self, name: str, kind: type[T], make: Callable[[], T]) -> T:
        """This app's `name` object (a gate, a pool), made on first use."""
        found = self.subsystems.get(name)
        if isinstance(found, kind):
            return found
        made = make()
        self.subsystems[name] = made
        return made


def settle(future: asyncio.Future[Any], outcome: Any) -> None:
    """Answer a caller waiting on a group-committed write (the ballot box, the annotation
    writer): a `DomainError` is raised to it, anything else returned; a caller already answered
    is left alone."""
    if future.done():
        return
    if isinstance(outcome, DomainError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
