"""Typed commands: the validated shape of every request (docs/PROTOCOL.md, docs/API.md).

HTTP bodies and Socket.IO payloads are parsed into these models at the edge; services receive
only these. Unknown fields are refused, strings are length-limited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from meetings.domain.errors import InvalidInput
from meetings.domain.majority import QuorumRule
from meetings.domain.model import Attendance, Role, Visibility

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=10000)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]  # PostgreSQL integer columns are 32-bit
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patch(Command):
    """A partial update: fields not sent stay as they are; `null` is refused except for the
    fields in NULLABLE (where it clears the value), instead of failing in the database."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.NULLABLE
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave the field out instead")
        return self


class Login(Command):
    username: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=1024)]


class ChangePassword(Command):
    current_password: Annotated[str, StringConstraints(max_length=1024)]
    new_password: Annotated[str, StringConstraints(max_length=1024)]


class CreateUser(Command):
    username: Annotated[str, StringConstraints(max_length=64)]
    name: Name
    password: Annotated[str, StringConstraints(max_length=1024)]
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    is_admin: bool = False


class CreateCouncil(Command):
    name: Name
    short_name: Annotated[str, StringConstraints(max_length=50)] = ""
    quorum_num: Annotated[int, Field(ge=1, le=100)] = 1
    quorum_den: Annotated[int, Field(ge=1, le=100)] = 2
    quorum_strict: bool = True

    @model_validator(mode="after")
    def _fraction(self) -> Self:
        try:  # the rule every quorum read applies (a 3/2, or "more than" 1/1, is refused)
            QuorumRule.of(self.quorum_num, self.quorum_den, strict=self.quorum_strict)
        except InvalidInput as exc:
            raise ValueError(f"a quorum rule that cannot be used: {exc}") from None
        return self


class AddMember(Command):
    user_id: Id
    role: Role
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    term_start: date | None = None
    term_end: date | None = None


class UpdateMember(Patch):
    NULLABLE = frozenset({"term_start", "term_end"})

    role: Role | None = None
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    term_start: date | None = None
    term_end: date | None = None


class CreateMemberAccount(Command):
    """A new account that joins the council (the secretariat); no password: one is made."""

    username: Annotated[str, StringConstraints(max_length=64)]
    name: Name
    role: Role
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    password: Annotated[str, StringConstraints(max_length=1024)] | None = None


class UpdateAccount(Patch):
    NULLABLE = frozenset({"email"})

    username: Annotated[str, StringConstraints(max_length=64)] | None = None
    name: Name | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class ResetPassword(Command):
    """Without `password` the server makes a temporary one."""

    password: Annotated[str, StringConstraints(max_length=1024)] | None = None


class SetActive(Command):
    active: bool


class CreateMeeting(Command):
    council_id: Id
    title: Name
    session_name: Annotated[str, StringConstraints(max_length=300)] = ""
    location: Annotated[str, StringConstraints(max_length=300)] = ""
    starts_at: datetime | None = None


class UpdateMeeting(Patch):
    NULLABLE = frozenset({"starts_at"})

    title: Name | None = None
    session_name: Annotated[str, StringConstraints(max_length=300)] | None = None
    location: Annotated[str, StringConstraints(max_length=300)] | None = None
    starts_at: datetime | None = None
    quorum_num: Annotated[int, Field(ge=1, le=100)] | None = None
    quorum_den: Annotated[int, Field(ge=1, le=100)] | None = None
    quorum_strict: bool | None = None


class MeetingAction(Command):
    action: Literal["publish", "unpublish", "open", "close", "reopen", "archive"]


class MeetingRef(Command):
    meeting_id: Id
    idempotency_key: IdempotencyKey | None = None


class AddParticipant(Command):
    user_id: Id
    voting: bool = True


class RecordAttendance(Command):
    user_id: Id
    attendance: Attendance


class CreateItem(Command):
    title: Name
    description: Text = ""
    presenter: Annotated[str, StringConstraints(max_length=200)] = ""
    duration_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    parent_id: Id | None = None
    position: Annotated[int, Field(ge=0, le=10000)] | None = None


class UpdateItem(Patch):
    NULLABLE = frozenset({"duration_minutes"})

    title: Name | None = None
    description: Text | None = None
    presenter: Annotated[str, StringConstraints(max_length=200)] | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None


class MoveItem(Command):
    parent_id: Id | None = None
    position: Annotated[int, Field(ge=0, le=10000)]


class SetCurrentItem(Command):
    meeting_id: Id
    item_id: Id | None
    idempotency_key: IdempotencyKey | None = None


class UpdateDocument(Patch):
    NULLABLE = frozenset({"agenda_item_id"})

    title: Name | None = None
    visibility: Visibility | None = None
    agenda_item_id: Id | None = None
    allowed_user_ids: Annotated[list[Id], Field(max_length=5000)] | None = None


class SpeakerRequest(Command):
    meeting_id: Id
    item_id: Id
    idempotency_key: IdempotencyKey | None = None


class SpeakerRef(Command):
    speaker_id: Id
    idempotency_key: IdempotencyKey | None = None


class SpeakerStart(Command):
    speaker_id: Id
    time_limit_s: Annotated[int, Field(ge=10, le=3600)] | None = None
    idempotency_key: IdempotencyKey | None = None


class SpeakerReorder(Command):
    meeting_id: Id
    item_id: Id
    speaker_ids: Annotated[list[Id], Field(max_length=1000)]
    idempotency_key: IdempotencyKey | None = None


class SpeakerAdd(Command):
    """The chair puts a member on the list (a raised hand in the hall)."""

    meeting_id: Id
    item_id: Id
    user_id: Id
    idempotency_key: IdempotencyKey | None = None
