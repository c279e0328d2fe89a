"""Typed commands of the polls subsystem (docs/features/voting.md, "Wire format").

Parsed at the edge (Socket.IO payloads and HTTP bodies); `spec_of` turns a `CreatePoll` into the
domain's `PollSpec`, so every rule about what a poll may be stays in `meetings.domain.voting`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from meetings.domain.errors import InvalidInput
from meetings.domain.majority import Base, Comparison
from meetings.domain.voting import (
    ABSOLUTE_MAJORITY,
    SIMPLE_MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    TWO_THIRDS_OF_MEMBERS,
    MajorityRule,
    PollKind,
    PollSpec,
    Secrecy,
)
from meetings.services.commands import Command, Id, IdempotencyKey, Name, Text

OptionId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Receipt = Annotated[str, StringConstraints(min_length=1, max_length=40)]

Preset = Literal["simple", "absolute", "two_thirds", "two_thirds_members", "three_quarters"]
PRESETS: dict[str, MajorityRule] = {
    "simple": SIMPLE_MAJORITY,
    "absolute": ABSOLUTE_MAJORITY,
    "two_thirds": TWO_THIRDS,
    "two_thirds_members": TWO_THIRDS_OF_MEMBERS,
    "three_quarters": THREE_QUARTERS,
}


class Majority(Command):
    fraction: Annotated[str, StringConstraints(pattern=r"^\d{1,3}/\d{1,3}$")] = "1/2"
    comparison: Comparison = Comparison.MORE_THAN
    base: Base = Base.VOTES_CAST


class CreatePoll(Command):
    meeting_id: Id
    kind: PollKind = PollKind.MOTION
    title: Name
    description: Text = ""
    agenda_item_id: Id | None = None
    secret: bool | None = None
    """Default: motions open; elections and confidence votes secret."""
    majority: Preset | Majority | None = None
    allow_change: bool = False
    allow_abstain: bool | None = None
    candidates: Annotated[list[OptionId], Field(max_length=200)] = Field(default_factory=list)
    seats: Annotated[int, Field(ge=1, le=200)] = 1
    max_choices: Annotated[int, Field(ge=1, le=200)] | None = None
    officeholders: Annotated[list[OptionId], Field(max_length=200)] = Field(default_factory=list)
    show_running: bool = False
    """Open polls only: push the running tally while the poll is open."""
    duration_s: Annotated[int, Field(ge=1, le=86400)] | None = None
    idempotency_key: IdempotencyKey | None = None


class PollRef(Command):
    poll_id: Id
    idempotency_key: IdempotencyKey | None = None


class CancelPoll(Command):
    poll_id: Id
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""
    idempotency_key: IdempotencyKey | None = None


class CastBallot(Command):
    poll_id: Id
    choice: (
        Annotated[str, StringConstraints(max_length=200)]
        | Annotated[list[OptionId], Field(max_length=200)]
        | Annotated[
            dict[OptionId, Annotated[str, StringConstraints(max_length=20)]], Field(max_length=200)
        ]
    )
    idempotency_key: IdempotencyKey | None = None
    receipt_seed: Annotated[str, StringConstraints(min_length=16, max_length=100)] | None = None
    """Secret polls: a random string the client keeps; the receipt is derived from it, so a
    retry after a lost ack gets the same receipt back without the server storing the link."""
    replaces: Receipt | None = None
    """Secret polls that allow changes: the receipt of the ballot being replaced."""


def _rule(cmd: CreatePoll) -> MajorityRule | None:
    if cmd.majority is None:
        return None
    if isinstance(cmd.majority, str):
        return PRESETS[cmd.majority]
    return MajorityRule.from_dict(cmd.majority.model_dump(mode="json"))


def spec_of(cmd: CreatePoll) -> PollSpec:
    """The domain spec; defaults as the law has them (motions open, others secret)."""
    rule = _rule(cmd)
    secret = cmd.secret if cmd.secret is not None else cmd.kind is not PollKind.MOTION
    secrecy = Secrecy.SECRET if secret else Secrecy.OPEN
    if cmd.kind is PollKind.CONFIDENCE:
        if cmd.allow_abstain:
            raise InvalidInput("a confidence ballot rates everyone", code="invalid_spec")
        return PollSpec(
            PollKind.CONFIDENCE,
            rule or ABSOLUTE_MAJORITY,
            secrecy,
            cmd.allow_change,
            allow_abstain=False,
            officeholders=tuple(cmd.officeholders),
        )
    abstain = True if cmd.allow_abstain is None else cmd.allow_abstain
    if cmd.kind is PollKind.ELECTION:
        return PollSpec(
            PollKind.ELECTION,
            rule or SIMPLE_MAJORITY,
            secrecy,
            cmd.allow_change,
            abstain,
            candidates=tuple(cmd.candidates),
            seats=cmd.seats,
            max_choices=cmd.max_choices or cmd.seats,
        )
    if cmd.candidates or cmd.officeholders:
        raise InvalidInput("a motion has no candidates or officeholders", code="invalid_spec")
    return PollSpec(PollKind.MOTION, rule or SIMPLE_MAJORITY, secrecy, cmd.allow_change, abstain)
