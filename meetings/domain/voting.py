"""Polls: ballot validation, tally, lifecycle and export (docs/DOMAIN.md, "Voting").

Pure functions over frozen dataclasses; all arithmetic on counts is exact (`int`, `Fraction`).
The service layer stores a `PollSpec` (`to_dict` / `spec_from_dict`), validates each ballot with
`validate_choice`, guards with `check_can_open`, `check_can_cast` and `transition`, and calls
`tally` on close. The majority and quorum rules live in `majority.py` and are re-exported here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final

from meetings.domain.errors import Conflict, InvalidInput
from meetings.domain.majority import (
    ABSOLUTE_MAJORITY,
    COUNCIL_SESSION_QUORUM,
    DEFAULT_QUORUM,
    SIMPLE_MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    TWO_THIRDS_OF_MEMBERS,
    Base,
    Comparison,
    MajorityRule,
    QuorumRule,
    QuorumStatus,
    check_counts,
    needed_count,
    quorum_status,
)

__all__ = [
    "ABSOLUTE_MAJORITY", "ABSTAIN", "CONFIDENCE_LEVELS", "COUNCIL_SESSION_QUORUM",
    "DEFAULT_QUORUM", "HIGH", "LOW", "MEDIUM", "MOTION_OPTIONS", "NO", "SIMPLE_MAJORITY",
    "THREE_QUARTERS", "TWO_THIRDS", "TWO_THIRDS_OF_MEMBERS", "YES", "Base", "Comparison",
    "ConfidenceChoice", "ElectionChoice", "MajorityRule", "MotionChoice", "NormalizedChoice",
    "OfficeholderTally", "Outcome", "PollAction", "PollKind", "PollMeta", "PollResult", "PollSpec",
    "PollStatus", "QuorumRule", "QuorumStatus", "RawChoice", "Secrecy", "base_size",
    "check_can_cast", "check_can_open", "check_counts", "create_confidence_spec",
    "create_election_spec", "create_motion_spec", "needed_count", "quorum_status",
    "spec_from_dict", "tally",
    "to_vote_event", "transition", "validate_choice",
]


class PollKind(StrEnum):
    MOTION = "motion"
    """Yes / no / abstain on a proposal (biểu quyết)."""
    ELECTION = "election"
    """Choose up to `max_choices` of the candidates for `seats` seats (bầu cử)."""
    CONFIDENCE = "confidence"
    """Rate every officeholder high / medium / low (lấy phiếu tín nhiệm)."""


class Secrecy(StrEnum):
    OPEN = "open"
    """Each delegate's choice is recorded and may be shown and exported."""
    SECRET = "secret"
    """Only the totals are ever shown (bỏ phiếu kín)."""


YES: Final = "yes"
NO: Final = "no"
ABSTAIN: Final = "abstain"
MOTION_OPTIONS: Final = (YES, NO, ABSTAIN)
HIGH: Final = "high"
MEDIUM: Final = "medium"
LOW: Final = "low"
CONFIDENCE_LEVELS: Final = (HIGH, MEDIUM, LOW)
"""Tín nhiệm cao / tín nhiệm / tín nhiệm thấp."""

# --- poll specification -----------------------------------------------------------------------


@dataclass(frozen=True)
class PollSpec:
    """What a poll asks and how it is decided. Build one with the `create_*_spec` factories."""

    kind: PollKind
    majority: MajorityRule = SIMPLE_MAJORITY
    """Motion: what adopts it. Election: what each elected candidate needs. Confidence: the
    share of "low" that raises the first flag (its base is also the base of the 2/3 flag)."""
    secrecy: Secrecy = Secrecy.OPEN
    allow_change: bool = False
    """Whether a delegate may replace their ballot while the poll is open."""
    allow_abstain: bool = True
    """Motion and election only; a confidence ballot must rate everyone."""
    candidates: tuple[str, ...] = ()
    """Election: candidate ids, in ballot order."""
    seats: int = 1
    """Election: how many candidates are to be elected."""
    max_choices: int = 1
    """Election: how many candidates one ballot may select."""
    officeholders: tuple[str, ...] = ()
    """Confidence: the officeholders rated, in ballot order."""

    def __post_init__(self) -> None:
        if self.kind is PollKind.ELECTION:
            _check_ids(self.candidates, "candidate")
            if not 1 <= self.seats <= len(self.candidates):
                raise InvalidInput(
                    f"seats must be between 1 and {len(self.candidates)}", code="invalid_spec"
                )
            if not 1 <= self.max_choices <= len(self.candidates):
                raise InvalidInput(
                    f"max_choices must be between 1 and {len(self.candidates)}", code="invalid_spec"
                )
        elif self.candidates:
            raise InvalidInput("only an election has candidates", code="invalid_spec")
        if self.kind is PollKind.CONFIDENCE:
            _check_ids(self.officeholders, "officeholder")
            if self.allow_abstain:
                raise InvalidInput("a confidence ballot rates everyone", code="invalid_spec")
        elif self.officeholders:
            raise InvalidInput("only a confidence vote has officeholders", code="invalid_spec")

    @property
    def secret(self) -> bool:
        return self.secrecy is Secrecy.SECRET

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "majority": self.majority.to_dict(),
            "secrecy": self.secrecy.value,
            "allow_change": self.allow_change,
            "allow_abstain": self.allow_abstain,
            "candidates": list(self.candidates),
            "seats": self.seats,
            "max_choices": self.max_choices,
            "officeholders": list(self.officeholders),
        }


def _check_ids(ids: tuple[str, ...], what: str) -> None:
    if not ids:
        raise InvalidInput(f"at least one {what} is needed", code="invalid_spec")
    if any(not isinstance(i, str) or not i or i == ABSTAIN for i in ids):
        raise InvalidInput(
            f"{what} ids must be non-empty strings other than 'abstain'", code="invalid_spec"
        )
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"duplicate {what} id", code="invalid_spec")


def spec_from_dict(data: Mapping[str, Any]) -> PollSpec:
    """The inverse of `PollSpec.to_dict`, raising `InvalidInput` for anything malformed."""
    try:
        return PollSpec(
            kind=PollKind(data["kind"]),
            majority=MajorityRule.from_dict(data["majority"]),
            secrecy=Secrecy(data.get("secrecy", Secrecy.OPEN)),
            allow_change=bool(data.get("allow_change", False)),
            allow_abstain=bool(data.get("allow_abstain", data["kind"] != PollKind.CONFIDENCE)),
            candidates=tuple(data.get("candidates", ())),
            seats=int(data.get("seats", 1)),
            max_choices=int(data.get("max_choices", 1)),
            officeholders=tuple(data.get("officeholders", ())),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"invalid poll spec: {exc}", code="invalid_spec") from exc


def create_motion_spec(
    *,
    majority: MajorityRule = SIMPLE_MAJORITY,
    secrecy: Secrecy = Secrecy.OPEN,
    allow_change: bool = False,
    allow_abstain: bool = True,
) -> PollSpec:
    return PollSpec(PollKind.MOTION, majority, secrecy, allow_change, allow_abstain)


def create_election_spec(
    candidates: Sequence[str],
    *,
    seats: int = 1,
    max_choices: int | None = None,
    majority: MajorityRule = SIMPLE_MAJORITY,
    secrecy: Secrecy = Secrecy.SECRET,
    allow_change: bool = False,
    allow_abstain: bool = True,
) -> PollSpec:
    """An election; a ballot selects up to `max_choices` (default: `seats`) candidates."""
    return PollSpec(
        PollKind.ELECTION,
        majority,
        secrecy,
        allow_change,
        allow_abstain,
        candidates=tuple(candidates),
        seats=seats,
        max_choices=seats if max_choices is None else max_choices,
    )


def create_confidence_spec(
    officeholders: Sequence[str],
    *,
    majority: MajorityRule = ABSOLUTE_MAJORITY,
    secrecy: Secrecy = Secrecy.SECRET,
    allow_change: bool = False,
) -> PollSpec:
    """A confidence vote; by default "low" is flagged against all members (the law's base)."""
    return PollSpec(
        PollKind.CONFIDENCE,
        majority,
        secrecy,
        allow_change,
        allow_abstain=False,
        officeholders=tuple(officeholders),
    )


# --- ballots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MotionChoice:
    option: str
    """"yes", "no" or "abstain"."""

    @property
    def abstain(self) -> bool:
        return self.option == ABSTAIN

    def to_wire(self) -> str:
        return self.option


@dataclass(frozen=True)
class ElectionChoice:
    candidates: tuple[str, ...]
    """The selected candidates in ballot order; empty for an abstention."""

    @property
    def abstain(self) -> bool:
        return not self.candidates

    def to_wire(self) -> str | list[str]:
        return ABSTAIN if self.abstain else list(self.candidates)


@dataclass(frozen=True)
class ConfidenceChoice:
    ratings: tuple[tuple[str, str], ...]
    """(officeholder id, level) for every officeholder, in ballot order."""

    @property
    def abstain(self) -> bool:
        return False

    def to_wire(self) -> dict[str, str]:
        return dict(self.ratings)


NormalizedChoice = MotionChoice | ElectionChoice | ConfidenceChoice
RawChoice = str | Sequence[str] | Mapping[str, str]
"""A choice as it arrives on the wire: "yes"; ["c1", "c2"] or "abstain"; {"o1": "high"}."""


def validate_choice(spec: PollSpec, choice: RawChoice) -> NormalizedChoice:
    """Check a ballot against the poll and return it in its one canonical form.

    Raises `InvalidInput` with code `invalid_choice` (wrong shape), `unknown_option`,
    `duplicate_choice`, `too_many_choices`, `incomplete_choice` or `abstain_not_allowed`.
    """
    if spec.kind is PollKind.MOTION:
        if not isinstance(choice, str):
            raise InvalidInput('a motion ballot is "yes", "no" or "abstain"', code="invalid_choice")
        if choice not in MOTION_OPTIONS:
            raise InvalidInput(
                f"unknown option {choice!r}", code="unknown_option", details={"option": choice}
            )
        if choice == ABSTAIN and not spec.allow_abstain:
            raise InvalidInput("this poll does not allow abstaining", code="abstain_not_allowed")
        return MotionChoice(choice)
    if spec.kind is PollKind.ELECTION:
        return _validate_election(spec, choice)
    return _validate_confidence(spec, choice)


def _validate_election(spec: PollSpec, choice: RawChoice) -> ElectionChoice:
    if choice == ABSTAIN:
        selected: list[str] = []
    elif isinstance(choice, Sequence) and not isinstance(choice, str):
        selected = list(choice)
    else:
        raise InvalidInput(
            'an election ballot is a list of candidate ids or "abstain"', code="invalid_choice"
        )
    if any(not isinstance(c, str) for c in selected):
        raise InvalidInput("candidate ids are strings", code="invalid_choice")
    unknown = [c for c in selected if c not in spec.candidates]
    if unknown:
        raise InvalidInput(
            f"unknown candidate {unknown[0]!r}", code="unknown_option", details={"options": unknown}
        )
    if len(set(selected)) != len(selected):
        raise InvalidInput("a candidate is selected twice", code="duplicate_choice")
    if len(selected) > spec.max_choices:
        raise InvalidInput(
            f"at most {spec.max_choices} candidates may be selected, got {len(selected)}",
            code="too_many_choices",
            details={"max_choices": spec.max_choices},
        )
    if not selected and not spec.allow_abstain:
        raise InvalidInput("this poll does not allow abstaining", code="abstain_not_allowed")
    chosen = set(selected)
    return ElectionChoice(tuple(c for c in spec.candidates if c in chosen))


def _validate_confidence(spec: PollSpec, choice: RawChoice) -> ConfidenceChoice:
    if choice == ABSTAIN:
        raise InvalidInput(
            "a confidence ballot must rate every officeholder", code="abstain_not_allowed"
        )
    if not isinstance(choice, Mapping):
        raise InvalidInput(
            'a confidence ballot maps each officeholder to "high", "medium" or "low"',
            code="invalid_choice",
        )
    unknown = [o for o in choice if o not in spec.officeholders]
    if unknown:
        raise InvalidInput(
            f"unknown officeholder {unknown[0]!r}",
            code="unknown_option",
            details={"options": unknown},
        )
    bad = {o: v for o, v in choice.items() if v not in CONFIDENCE_LEVELS}
    if bad:
        raise InvalidInput(
            f'unknown level {next(iter(bad.values()))!r}: use "high", "medium" or "low"',
            code="unknown_option",
            details={"levels": bad},
        )
    missing = [o for o in spec.officeholders if o not in choice]
    if missing:
        raise InvalidInput(
            f"no rating for {missing[0]!r}", code="incomplete_choice", details={"missing": missing}
        )
    return ConfidenceChoice(tuple((o, choice[o]) for o in spec.officeholders))


# --- tally ------------------------------------------------------------------------------------


class Outcome(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    ELECTED = "elected"
    """Every seat is filled."""
    PARTIAL = "partial"
    """Fewer candidates than seats met the majority rule (possibly none); no tie."""
    TIE = "tie"
    """Candidates tied for the last seat(s); they are not elected (a new round decides)."""
    RECORDED = "recorded"
    """A confidence vote: no pass or fail, the counts and flags are the result."""


@dataclass(frozen=True)
class OfficeholderTally:
    officeholder: str
    high: int
    medium: int
    low: int
    low_share: Fraction
    """low / base size (0 when the base is empty)."""
    low_majority: bool
    """"Low" meets the spec's majority rule (default: more than half of all members)."""
    low_two_thirds: bool
    """"Low" from at least two thirds of the same base."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "officeholder": self.officeholder,
            "high": self.high,
            "medium": self.medium,
            "low": self.low,
            "low_share": str(self.low_share),
            "low_majority": self.low_majority,
            "low_two_thirds": self.low_two_thirds,
        }


@dataclass(frozen=True)
class PollResult:
    kind: PollKind
    outcome: Outcome
    ballots: int
    abstentions: int
    counts: tuple[tuple[str, int], ...]
    """Motion: yes, no, abstain. Election: each candidate in ballot order, then abstain.
    Confidence: empty (see `confidence`)."""
    rule: MajorityRule
    base_size: int
    threshold: int
    """Votes needed to carry (motion), to be elected, or to raise the first "low" flag."""
    present: int
    members: int
    elected: tuple[str, ...] = ()
    """Elected candidates, most votes first."""
    tied: tuple[str, ...] = ()
    """Candidates tied at the seat boundary, none of them elected."""
    confidence: tuple[OfficeholderTally, ...] = ()

    @property
    def base(self) -> Base:
        return self.rule.base

    @property
    def adopted(self) -> bool:
        return self.outcome is Outcome.ADOPTED

    @property
    def tie(self) -> bool:
        return bool(self.tied)

    def count(self, option: str) -> int:
        return dict(self.counts).get(option, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "ballots": self.ballots,
            "abstentions": self.abstentions,
            "counts": [{"option": o, "value": v} for o, v in self.counts],
            "rule": self.rule.to_dict(),
            "rule_text": self.rule.describe(),
            "base_size": self.base_size,
            "threshold": self.threshold,
            "present": self.present,
            "members": self.members,
            "elected": list(self.elected),
            "tied": list(self.tied),
            "tie": self.tie,
            "confidence": [c.to_dict() for c in self.confidence],
        }


def base_size(
    rule: MajorityRule, *, ballots: int, abstentions: int, present: int, members: int
) -> int:
    """The size of the rule's base for these figures."""
    return {
        Base.VOTES_CAST: ballots,
        Base.VALID_VOTES: ballots - abstentions,
        Base.PRESENT: present,
        Base.MEMBERS: members,
    }[rule.base]


def tally(
    spec: PollSpec, ballots: Iterable[NormalizedChoice], present: int, members: int
) -> PollResult:
    """Count validated ballots and decide the outcome under `spec.majority`.

    `present` is the attendance when the poll closes and `members` all members of the council;
    there can never be more ballots than members.
    """
    check_counts(present, members)
    kinds = {
        PollKind.MOTION: MotionChoice,
        PollKind.ELECTION: ElectionChoice,
        PollKind.CONFIDENCE: ConfidenceChoice,
    }
    listed = list(ballots)
    if any(not isinstance(b, kinds[spec.kind]) for b in listed):
        raise InvalidInput(f"a ballot does not belong to a {spec.kind} poll", code="invalid_choice")
    if len(listed) > members:
        raise InvalidInput(
            f"{len(listed)} ballots but only {members} members", code="too_many_ballots"
        )
    abstentions = sum(1 for b in listed if b.abstain)
    size = base_size(
        spec.majority,
        ballots=len(listed),
        abstentions=abstentions,
        present=present,
        members=members,
    )
    needed = spec.majority.needed(size)

    def result(
        outcome: Outcome,
        counts: tuple[tuple[str, int], ...],
        *,
        elected: tuple[str, ...] = (),
        tied: tuple[str, ...] = (),
        confidence: tuple[OfficeholderTally, ...] = (),
    ) -> PollResult:
        return PollResult(
            kind=spec.kind,
            outcome=outcome,
            ballots=len(listed),
            abstentions=abstentions,
            counts=counts,
            rule=spec.majority,
            base_size=size,
            threshold=needed,
            present=present,
            members=members,
            elected=elected,
            tied=tied,
            confidence=confidence,
        )

    if spec.kind is PollKind.MOTION:
        counted = Counter(b.option for b in listed if isinstance(b, MotionChoice))
        outcome = Outcome.ADOPTED if counted[YES] >= needed else Outcome.REJECTED
        return result(outcome, tuple((o, counted[o]) for o in MOTION_OPTIONS))
    if spec.kind is PollKind.ELECTION:
        votes = Counter(c for b in listed if isinstance(b, ElectionChoice) for c in b.candidates)
        counts = (*((c, votes[c]) for c in spec.candidates), (ABSTAIN, abstentions))
        elected, tied = _elect(spec, votes, needed)
        if tied:
            outcome = Outcome.TIE
        else:
            outcome = Outcome.ELECTED if len(elected) == spec.seats else Outcome.PARTIAL
        return result(outcome, counts, elected=elected, tied=tied)
    rated = Counter(r for b in listed if isinstance(b, ConfidenceChoice) for r in b.ratings)
    two_thirds = needed_count(Fraction(2, 3), Comparison.AT_LEAST, size)
    per_person = tuple(
        OfficeholderTally(
            officeholder=o,
            high=rated[(o, HIGH)],
            medium=rated[(o, MEDIUM)],
            low=rated[(o, LOW)],
            low_share=Fraction(rated[(o, LOW)], size) if size else Fraction(0),
            low_majority=rated[(o, LOW)] >= needed,
            low_two_thirds=rated[(o, LOW)] >= two_thirds,
        )
        for o in spec.officeholders
    )
    return result(Outcome.RECORDED, (), confidence=per_person)


def _elect(
    spec: PollSpec, votes: Counter[str], needed: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Top candidates meeting the rule; a tie across the last seat elects none of the tied."""
    order = {c: i for i, c in enumerate(spec.candidates)}
    qualified = sorted(
        (c for c in spec.candidates if votes[c] >= needed), key=lambda c: (-votes[c], order[c])
    )
    if len(qualified) <= spec.seats:
        return tuple(qualified), ()
    boundary = votes[qualified[spec.seats - 1]]
    above = tuple(c for c in qualified if votes[c] > boundary)
    at = tuple(c for c in qualified if votes[c] == boundary)
    if len(above) + len(at) <= spec.seats:
        return above + at, ()
    return above, at


# --- lifecycle --------------------------------------------------------------------------------


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class PollAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    PUBLISH = "publish"
    CANCEL = "cancel"


_TRANSITIONS: Final[Mapping[tuple[PollStatus, PollAction], PollStatus]] = {
    (PollStatus.DRAFT, PollAction.OPEN): PollStatus.OPEN,
    (PollStatus.OPEN, PollAction.CLOSE): PollStatus.CLOSED,
    (PollStatus.CLOSED, PollAction.PUBLISH): PollStatus.PUBLISHED,
    (PollStatus.DRAFT, PollAction.CANCEL): PollStatus.CANCELLED,
    (PollStatus.OPEN, PollAction.CANCEL): PollStatus.CANCELLED,
    (PollStatus.CLOSED, PollAction.CANCEL): PollStatus.CANCELLED,
}
_ACTIONS: Final = frozenset(a.value for a in PollAction)


def transition(
    status: PollStatus | str, action: PollAction | str, *, reason: str | None = None
) -> PollStatus:
    """The status after `action`; `Conflict` (code `illegal_transition`) if `action` is unknown
    or not allowed from `status`. Cancelling needs a non-blank `reason` (`InvalidInput`, code
    `reason_required`)."""
    current = PollStatus(status)
    allowed = sorted(a.value for s, a in _TRANSITIONS if s is current)
    new = _TRANSITIONS.get((current, PollAction(action))) if action in _ACTIONS else None
    if new is None:
        raise Conflict(
            f"cannot {action} a poll that is {current.value}"
            + (f"; from {current.value} you may: {', '.join(allowed)}" if allowed else ""),
            code="illegal_transition",
            details={"status": current.value, "action": str(action), "allowed": allowed},
        )
    if action == PollAction.CANCEL and not (reason and reason.strip()):
        raise InvalidInput("cancelling a poll needs a reason", code="reason_required")
    return new


def check_can_open(status: PollStatus | str, quorum: QuorumStatus) -> PollStatus:
    """Open a poll: only from draft and only with a quorum (`Conflict`, code `no_quorum`)."""
    new = transition(status, PollAction.OPEN)
    if not quorum.met:
        raise Conflict(
            f"no quorum: {quorum.present} of {quorum.total} present, {quorum.needed} needed",
            code="no_quorum",
            details={"present": quorum.present, "needed": quorum.needed},
        )
    return new


def check_can_cast(spec: PollSpec, status: PollStatus | str, *, already_voted: bool) -> None:
    """A ballot may be cast only while open; replaced only if the spec allows changes."""
    if PollStatus(status) is not PollStatus.OPEN:
        raise Conflict(f"the poll is {status}, not open", code="poll_not_open")
    if already_voted and not spec.allow_change:
        raise Conflict("this poll does not allow changing a ballot", code="ballot_already_cast")


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollMeta:
    """What an export needs to know about a poll besides its result."""

    id: str
    title: str
    """The motion text or the election's / confidence vote's title."""
    spec: PollSpec
    organization_id: str | None = None
    """The council."""
    start_date: datetime | None = None
    end_date: datetime | None = None
    legislative_session_id: str | None = None
    """The meeting (sitting)."""


def to_vote_event(
    meta: PollMeta,
    result: PollResult,
    votes: Sequence[tuple[str, str, NormalizedChoice | str]] | None = None,
) -> dict[str, Any]:
    """A Popolo / Open Civic Data style vote event.

    `votes` are (person id, person name, choice) and appear only for open polls; passing them
    for a secret poll raises `InvalidInput` (code `secret_poll`) rather than dropping them
    silently. Motion options are Popolo's strings; an election vote's option is the list of
    candidates (or "abstain") and a confidence vote's a mapping officeholder → level.
    """
    if votes is not None and meta.spec.secret:
        raise InvalidInput("a secret poll has no individual votes to export", code="secret_poll")
    event: dict[str, Any] = {
        "id": meta.id,
        "identifier": meta.id,
        "motion": {"text": meta.title, "classification": [meta.spec.kind.value]},
        "motion_text": meta.title,
        "start_date": meta.start_date.isoformat() if meta.start_date else None,
        "end_date": meta.end_date.isoformat() if meta.end_date else None,
        "organization_id": meta.organization_id,
        "legislative_session_id": meta.legislative_session_id,
        "secret": meta.spec.secret,
        "counts": [{"option": o, "value": v} for o, v in result.counts],
        "extras": {
            "outcome": result.outcome.value,
            "rule": result.rule.describe(),
            "base": result.base.value,
            "base_size": result.base_size,
            "threshold": result.threshold,
            "ballots": result.ballots,
            "present": result.present,
            "members": result.members,
        },
    }
    if result.kind is PollKind.MOTION:
        event["result"] = "pass" if result.adopted else "fail"
    elif result.kind is PollKind.ELECTION:
        event["result"] = "pass" if result.outcome is Outcome.ELECTED else "fail"
        event["extras"].update(elected=list(result.elected), tied=list(result.tied))
    else:
        event["counts"] = [
            {"option": level, "value": getattr(t, level), "officeholder_id": t.officeholder}
            for t in result.confidence
            for level in CONFIDENCE_LEVELS
        ]
        event["extras"]["confidence"] = [t.to_dict() for t in result.confidence]
    if votes is not None:
        event["votes"] = [
            {
                "voter_id": pid,
                "voter_name": name,
                "option": option if isinstance(option, str) else option.to_wire(),
            }
            for pid, name, option in votes
        ]
    return event
