"""Majority and quorum rules: exact thresholds over a base (docs/DOMAIN.md, "Majorities").

A rule is a share (a `Fraction`) and a comparison ("more than" or "at least"); `needed_count` turns
it into the exact number of votes or members needed. No floats anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final

from meetings.domain.errors import InvalidInput


class Base(StrEnum):
    """What a majority is counted against."""

    VOTES_CAST = "votes_cast"
    """Every ballot cast, abstentions included (yes + no + abstain)."""
    VALID_VOTES = "valid_votes"
    """Ballots that are not abstentions (yes + no)."""
    PRESENT = "present"
    """Members present when the poll is tallied."""
    MEMBERS = "members"
    """All members of the council (tổng số đại biểu), present or not."""


class Comparison(StrEnum):
    MORE_THAN = "gt"
    """count / base > fraction ("quá nửa": more than half)."""
    AT_LEAST = "ge"
    """count / base >= fraction ("ít nhất hai phần ba": at least two thirds)."""

_BASE_WORDS: Final = {
    Base.VOTES_CAST: "votes cast",
    Base.VALID_VOTES: "valid votes (abstentions excluded)",
    Base.PRESENT: "members present",
    Base.MEMBERS: "all members",
}


def needed_count(fraction: Fraction, comparison: Comparison, size: int) -> int:
    """The smallest count n with n/size > fraction (or >=), never less than 1.

    Nothing is ever carried by zero votes, so the result is at least 1 even when the base is
    empty or the fraction is 0; it may exceed `size`, in which case the rule cannot be met.
    """
    product = fraction * size
    n = math.floor(product) + 1 if comparison is Comparison.MORE_THAN else math.ceil(product)
    return max(1, n)


def _check_share(fraction: Fraction, comparison: Comparison) -> None:
    if not isinstance(fraction, Fraction) or not 0 <= fraction <= 1:
        raise InvalidInput(f"fraction must be between 0 and 1, got {fraction}", code="invalid_rule")
    if comparison is Comparison.MORE_THAN and fraction == 1:
        raise InvalidInput("more than the whole can never be reached", code="invalid_rule")


def _fraction(numerator: int, denominator: int) -> Fraction:
    if denominator <= 0:
        raise InvalidInput("the denominator must be positive", code="invalid_rule")
    return Fraction(numerator, denominator)


def _comparison(strict: bool) -> Comparison:
    return Comparison.MORE_THAN if strict else Comparison.AT_LEAST


def _share_words(fraction: Fraction, comparison: Comparison) -> str:
    word = "more than" if comparison is Comparison.MORE_THAN else "at least"
    share = "half" if fraction == Fraction(1, 2) else str(fraction)
    return f"{word} {share}"


def _parse_share(data: Mapping[str, Any]) -> tuple[Fraction, Comparison]:
    try:
        return Fraction(str(data["fraction"])), Comparison(data["comparison"])
    except (KeyError, ValueError, ZeroDivisionError) as exc:
        raise InvalidInput(f"invalid rule {dict(data)!r}", code="invalid_rule") from exc


@dataclass(frozen=True)
class MajorityRule:
    """What carries a motion or elects a candidate: more than / at least a share of a base."""

    fraction: Fraction = Fraction(1, 2)
    """The share of the base, 0 <= fraction <= 1 (and < 1 with `MORE_THAN`)."""
    comparison: Comparison = Comparison.MORE_THAN
    """Strict (`MORE_THAN`) or not (`AT_LEAST`)."""
    base: Base = Base.VOTES_CAST
    """What the share is taken of."""

    def __post_init__(self) -> None:
        _check_share(self.fraction, self.comparison)

    @classmethod
    def of(
        cls, numerator: int, denominator: int, *, strict: bool = True,
        base: Base = Base.VOTES_CAST,
    ) -> MajorityRule:
        """E.g. `MajorityRule.of(2, 3, strict=False, base=Base.MEMBERS)`: at least 2/3 of all."""
        return cls(_fraction(numerator, denominator), _comparison(strict), base)

    def needed(self, base_size: int) -> int:
        """The exact number of votes needed out of a base of `base_size`."""
        return needed_count(self.fraction, self.comparison, base_size)

    def is_met(self, count: int, base_size: int) -> bool:
        return count >= self.needed(base_size)

    def describe(self) -> str:
        """E.g. "more than half of all members"."""
        return f"{_share_words(self.fraction, self.comparison)} of {_BASE_WORDS[self.base]}"

    def to_dict(self) -> dict[str, str]:
        return {
            "fraction": str(self.fraction),
            "comparison": self.comparison.value,
            "base": self.base.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MajorityRule:
        fraction, comparison = _parse_share(data)
        try:
            base = Base(data["base"])
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"invalid base in {dict(data)!r}", code="invalid_rule") from exc
        return cls(fraction, comparison, base)


SIMPLE_MAJORITY: Final = MajorityRule()
"""More than half of the votes cast: the default for a motion (docs/PROTOCOL.md, "Stable names")."""
ABSOLUTE_MAJORITY: Final = MajorityRule(Fraction(1, 2), Comparison.MORE_THAN, Base.MEMBERS)
"""More than half of all members: what a People's Council resolution needs."""
TWO_THIRDS_OF_MEMBERS: Final = MajorityRule(Fraction(2, 3), Comparison.AT_LEAST, Base.MEMBERS)
TWO_THIRDS: Final = MajorityRule(Fraction(2, 3), Comparison.AT_LEAST, Base.VOTES_CAST)
THREE_QUARTERS: Final = MajorityRule(Fraction(3, 4), Comparison.AT_LEAST, Base.VOTES_CAST)


@dataclass(frozen=True)
class QuorumRule:
    """The share of all members that must be present for a sitting or a poll to proceed."""

    fraction: Fraction = Fraction(1, 2)
    """The share of all members, 0 <= fraction <= 1 (and < 1 with `MORE_THAN`)."""
    comparison: Comparison = Comparison.MORE_THAN
    """Strict (`MORE_THAN`) or not (`AT_LEAST`)."""

    def __post_init__(self) -> None:
        _check_share(self.fraction, self.comparison)

    @classmethod
    def of(cls, numerator: int, denominator: int, *, strict: bool = True) -> QuorumRule:
        """E.g. `QuorumRule.of(2, 3, strict=False)`: at least two thirds of all members."""
        return cls(_fraction(numerator, denominator), _comparison(strict))

    def needed(self, total: int) -> int:
        """Members that must be present out of `total`."""
        return needed_count(self.fraction, self.comparison, total)

    def describe(self) -> str:
        return f"{_share_words(self.fraction, self.comparison)} of all members present"

    def to_dict(self) -> dict[str, str]:
        return {"fraction": str(self.fraction), "comparison": self.comparison.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuorumRule:
        return cls(*_parse_share(data))


DEFAULT_QUORUM: Final = QuorumRule()
"""More than half of all members."""
COUNCIL_SESSION_QUORUM: Final = QuorumRule(Fraction(2, 3), Comparison.AT_LEAST)
"""At least two thirds of all delegates: a People's Council sitting (HĐND)."""


@dataclass(frozen=True)
class QuorumStatus:
    met: bool
    needed: int
    """Members that must be present."""
    present: int
    total: int

    @property
    def missing(self) -> int:
        """How many more members must arrive (0 when met)."""
        return max(0, self.needed - self.present)


def check_counts(present: int, total: int) -> None:
    """`InvalidInput` (code `invalid_count`) unless 0 <= present <= total."""
    if present < 0 or total < 0 or present > total:
        raise InvalidInput(
            f"present ({present}) must be between 0 and the number of members ({total})",
            code="invalid_count",
        )


def quorum_status(present: int, total: int, rule: QuorumRule = DEFAULT_QUORUM) -> QuorumStatus:
    """Whether `present` of `total` members make a quorum under `rule`."""
    check_counts(present, total)
    needed = rule.needed(total)
    return QuorumStatus(met=present >= needed, needed=needed, present=present, total=total)
