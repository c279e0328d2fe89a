"""Poll rules: majority, quorum, ballot validation, tally, lifecycle and export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.domain.errors import Conflict, InvalidInput
from meetings.domain.voting import (
    ABSOLUTE_MAJORITY,
    COUNCIL_SESSION_QUORUM,
    DEFAULT_QUORUM,
    SIMPLE_MAJORITY,
    TWO_THIRDS,
    Base,
    Comparison,
    ConfidenceChoice,
    ElectionChoice,
    MajorityRule,
    MotionChoice,
    Outcome,
    PollAction,
    PollMeta,
    PollStatus,
    QuorumRule,
    Secrecy,
    check_can_cast,
    check_can_open,
    create_confidence_spec,
    create_election_spec,
    create_motion_spec,
    needed_count,
    quorum_status,
    spec_from_dict,
    tally,
    to_vote_event,
    transition,
    validate_choice,
)

fast = settings(max_examples=150, deadline=None)

MOTION = create_motion_spec()


def motion_ballots(yes: int, no: int, abstain: int) -> list[MotionChoice]:
    counts = {"yes": yes, "no": no, "abstain": abstain}
    return [MotionChoice(option) for option, n in counts.items() for _ in range(n)]


# --- thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "comparison", "size", "needed"),
    [
        (Fraction(1, 2), Comparison.MORE_THAN, 20, 11),
        (Fraction(1, 2), Comparison.MORE_THAN, 21, 11),
        (Fraction(1, 2), Comparison.AT_LEAST, 20, 10),
        (Fraction(2, 3), Comparison.AT_LEAST, 30, 20),
        (Fraction(2, 3), Comparison.MORE_THAN, 30, 21),
        (Fraction(2, 3), Comparison.AT_LEAST, 31, 21),
        (Fraction(3, 4), Comparison.AT_LEAST, 50, 38),
        (Fraction(1, 2), Comparison.MORE_THAN, 0, 1),
        (Fraction(0), Comparison.AT_LEAST, 10, 1),
    ],
)
def test_needed_count(fraction: Fraction, comparison: Comparison, size: int, needed: int) -> None:
    assert needed_count(fraction, comparison, size) == needed


def test_half_of_twenty_is_not_more_than_half() -> None:
    assert not tally(MOTION, motion_ballots(10, 10, 0), present=20, members=20).adopted
    assert tally(MOTION, motion_ballots(11, 9, 0), present=20, members=20).adopted


def test_two_thirds_of_thirty_needs_twenty() -> None:
    spec = create_motion_spec(majority=TWO_THIRDS)
    assert tally(spec, motion_ballots(20, 10, 0), 30, 30).adopted
    assert not tally(spec, motion_ballots(19, 11, 0), 30, 30).adopted


@fast
@given(
    num=st.integers(0, 10), den=st.integers(1, 10), strict=st.booleans(),
    size=st.integers(1, 500), count=st.integers(1, 500),
)
def test_needed_count_agrees_with_exact_comparison(
    num: int, den: int, strict: bool, size: int, count: int
) -> None:
    fraction = Fraction(min(num, den), den)
    if strict and fraction == 1:
        return
    rule = MajorityRule.of(fraction.numerator, fraction.denominator, strict=strict)
    share = Fraction(count, size)
    assert rule.is_met(count, size) == (share > fraction if strict else share >= fraction)


def test_invalid_rules_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        MajorityRule(Fraction(1), Comparison.MORE_THAN)
    assert err.value.code == "invalid_rule"
    with pytest.raises(InvalidInput):
        MajorityRule(Fraction(3, 2))
    with pytest.raises(InvalidInput):
        QuorumRule.of(1, 0)


def test_rule_round_trip_and_description() -> None:
    assert MajorityRule.from_dict(ABSOLUTE_MAJORITY.to_dict()) == ABSOLUTE_MAJORITY
    assert ABSOLUTE_MAJORITY.describe() == "more than half of all members"
    assert TWO_THIRDS.describe() == "at least 2/3 of votes cast"
    with pytest.raises(InvalidInput):
        MajorityRule.from_dict({"fraction": "x", "comparison": "gt", "base": "members"})


# --- bases ----------------------------------------------------------------------------------


def test_each_base_counts_against_its_own_denominator() -> None:
    ballots = motion_ballots(9, 4, 3)  # 16 ballots, 13 valid, 18 present, 30 members
    sizes = {
        Base.VOTES_CAST: (16, 9, True),
        Base.VALID_VOTES: (13, 7, True),
        Base.PRESENT: (18, 10, False),
        Base.MEMBERS: (30, 16, False),
    }
    for base, (size, needed, adopted) in sizes.items():
        spec = create_motion_spec(majority=MajorityRule(base=base))
        result = tally(spec, ballots, present=18, members=30)
        assert (result.base_size, result.threshold, result.adopted) == (size, needed, adopted)
        assert result.counts == (("yes", 9), ("no", 4), ("abstain", 3))


@fast
@given(
    yes=st.integers(0, 40), no=st.integers(0, 40), abstain=st.integers(0, 40),
    extra_present=st.integers(0, 20), extra_members=st.integers(0, 20),
    base_a=st.sampled_from(list(Base)), base_b=st.sampled_from(list(Base)),
)
def test_base_choice_changes_only_the_denominator(
    yes: int, no: int, abstain: int, extra_present: int, extra_members: int,
    base_a: Base, base_b: Base,
) -> None:
    present = yes + no + abstain + extra_present
    members = present + extra_members
    ballots = motion_ballots(yes, no, abstain)
    a = tally(create_motion_spec(majority=MajorityRule(base=base_a)), ballots, present, members)
    b = tally(create_motion_spec(majority=MajorityRule(base=base_b)), ballots, present, members)
    assert a.counts == b.counts and a.ballots == b.ballots and a.abstentions == b.abstentions
    assert a.threshold == needed_count(Fraction(1, 2), Comparison.MORE_THAN, a.base_size)
    assert a.adopted == (yes >= a.threshold)
    if a.base_size == b.base_size:
        assert a.outcome == b.outcome


# --- motions --------------------------------------------------------------------------------


@fast
@given(
    options=st.lists(st.sampled_from(["yes", "no", "abstain"]), max_size=60),
    absent=st.integers(0, 10),
    base=st.sampled_from(list(Base)),
)
def test_motion_counts_sum_to_ballots(options: list[str], absent: int, base: Base) -> None:
    spec = create_motion_spec(majority=MajorityRule(base=base))
    ballots = [validate_choice(spec, o) for o in options]
    result = tally(spec, ballots, present=len(options), members=len(options) + absent)
    assert sum(v for _, v in result.counts) == result.ballots == len(options)
    assert result.abstentions == result.count("abstain")


@fast
@given(
    yes=st.integers(0, 30), no=st.integers(0, 30), abstain=st.integers(0, 30),
    spare=st.integers(1, 10), base=st.sampled_from(list(Base)),
    rule=st.sampled_from([SIMPLE_MAJORITY, TWO_THIRDS, ABSOLUTE_MAJORITY]),
)
def test_adding_a_yes_never_rejects_an_adopted_motion(
    yes: int, no: int, abstain: int, spare: int, base: Base, rule: MajorityRule
) -> None:
    spec = create_motion_spec(majority=MajorityRule(rule.fraction, rule.comparison, base))
    present = yes + no + abstain + spare  # the extra voter was present all along
    before = tally(spec, motion_ballots(yes, no, abstain), present, present)
    after = tally(spec, motion_ballots(yes + 1, no, abstain), present, present)
    if before.adopted:
        assert after.adopted


def test_no_votes_adopt_nothing() -> None:
    assert tally(MOTION, [], present=10, members=10).outcome is Outcome.REJECTED
    only_abstain = create_motion_spec(majority=MajorityRule(base=Base.VALID_VOTES))
    assert not tally(only_abstain, motion_ballots(0, 0, 5), 5, 5).adopted


def test_council_resolution_needs_more_than_half_of_all_delegates() -> None:
    spec = create_motion_spec(majority=ABSOLUTE_MAJORITY)
    # 50 delegates, 40 present: 25 yes of 40 is a majority of votes cast but not of all
    assert not tally(spec, motion_ballots(25, 10, 5), 40, 50).adopted
    assert tally(spec, motion_ballots(26, 9, 5), 40, 50).adopted


@pytest.mark.parametrize(
    ("choice", "code"),
    [("maybe", "unknown_option"), (["yes"], "invalid_choice"), ({"yes": "no"}, "invalid_choice")],
)
def test_motion_ballot_errors(choice: object, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_choice(MOTION, choice)  # type: ignore[arg-type]
    assert err.value.code == code


def test_abstaining_can_be_forbidden() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_choice(create_motion_spec(allow_abstain=False), "abstain")
    assert err.value.code == "abstain_not_allowed"


def test_tally_refuses_impossible_figures() -> None:
    with pytest.raises(InvalidInput):
        tally(MOTION, motion_ballots(3, 0, 0), present=2, members=2)
    with pytest.raises(InvalidInput):
        tally(MOTION, [], present=5, members=4)
    with pytest.raises(InvalidInput):
        tally(MOTION, [ElectionChoice(("a",))], present=5, members=5)


# --- elections ------------------------------------------------------------------------------

ELECTION = create_election_spec(["an", "binh", "chau", "dung"], seats=2)


def test_election_ballots_are_normalised_to_ballot_order() -> None:
    assert validate_choice(ELECTION, ["chau", "an"]) == ElectionChoice(("an", "chau"))
    assert validate_choice(ELECTION, "abstain").abstain
    assert validate_choice(ELECTION, []).abstain
    assert validate_choice(ELECTION, ["binh"]).to_wire() == ["binh"]


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        (["an", "an"], "duplicate_choice"),
        (["an", "binh", "chau"], "too_many_choices"),
        (["an", "zed"], "unknown_option"),
        ("an", "invalid_choice"),
        ({"an": "yes"}, "invalid_choice"),
        ([1], "invalid_choice"),
    ],
)
def test_election_ballot_errors(choice: object, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_choice(ELECTION, choice)  # type: ignore[arg-type]
    assert err.value.code == code


def election(*ballots: list[str] | str, seats: int = 2, members: int = 20) -> Outcome:
    spec = create_election_spec(["an", "binh", "chau", "dung"], seats=seats)
    return tally(spec, [validate_choice(spec, b) for b in ballots], members, members).outcome


def test_election_elects_top_candidates_meeting_the_majority() -> None:
    spec = ELECTION
    raw = [["an", "binh"]] * 6 + [["an", "chau"]] * 3 + [["binh"]] * 1 + ["abstain"] * 2
    result = tally(spec, [validate_choice(spec, b) for b in raw], 12, 15)
    assert result.count("an") == 9 and result.count("binh") == 7 and result.count("chau") == 3
    assert result.count("abstain") == 2
    assert result.threshold == 7  # more than half of 12 ballots
    assert result.elected == ("an", "binh") and result.outcome is Outcome.ELECTED


def test_a_tie_at_the_seat_boundary_elects_none_of_the_tied() -> None:
    spec = ELECTION
    raw = [["an", "binh"]] * 3 + [["an", "chau"]] * 3 + [["binh", "chau"]] * 2
    result = tally(spec, [validate_choice(spec, b) for b in raw], 8, 10)
    assert (result.count("an"), result.count("binh"), result.count("chau")) == (6, 5, 5)
    assert result.threshold == 5 and result.elected == ("an",)
    assert result.tied == ("binh", "chau") and result.tie and result.outcome is Outcome.TIE


def test_candidates_below_the_majority_leave_seats_unfilled() -> None:
    spec = ELECTION
    raw = [["an"]] * 6 + [["binh"]] * 4
    result = tally(spec, [validate_choice(spec, b) for b in raw], 10, 10)
    assert result.elected == ("an",) and not result.tie and result.outcome is Outcome.PARTIAL


@fast
@given(
    data=st.data(),
    n_candidates=st.integers(1, 6),
    n_ballots=st.integers(0, 40),
    base=st.sampled_from(list(Base)),
)
def test_election_never_elects_more_than_seats(
    data: st.DataObject, n_candidates: int, n_ballots: int, base: Base
) -> None:
    candidates = [f"c{i}" for i in range(n_candidates)]
    seats = data.draw(st.integers(1, n_candidates))
    max_choices = data.draw(st.integers(1, n_candidates))
    spec = create_election_spec(
        candidates, seats=seats, max_choices=max_choices, majority=MajorityRule(base=base)
    )
    raw = data.draw(
        st.lists(st.lists(st.sampled_from(candidates), unique=True, max_size=max_choices),
                 min_size=n_ballots, max_size=n_ballots)
    )
    result = tally(spec, [validate_choice(spec, b) for b in raw], n_ballots, n_ballots + 3)
    assert len(result.elected) <= seats
    if result.tie:
        assert len(result.elected) < seats < len(result.elected) + len(result.tied)
    assert not set(result.elected) & set(result.tied)
    assert all(result.count(c) >= result.threshold for c in result.elected + result.tied)
    assert sum(result.count(c) for c in candidates) == sum(len(b) for b in raw)
    assert result.count("abstain") == sum(1 for b in raw if not b)
    losers = [c for c in candidates if c not in result.elected]
    for winner in result.elected:
        assert all(result.count(winner) > result.count(c) for c in losers)


# --- confidence votes -----------------------------------------------------------------------

CONFIDENCE = create_confidence_spec(["chair", "vice"])


def test_confidence_ballot_must_rate_everyone() -> None:
    choice = validate_choice(CONFIDENCE, {"vice": "low", "chair": "high"})
    assert choice == ConfidenceChoice((("chair", "high"), ("vice", "low")))
    cases = [
        ({"chair": "high"}, "incomplete_choice"),
        ({"chair": "high", "vice": "none"}, "unknown_option"),
        ({"chair": "high", "vice": "low", "x": "low"}, "unknown_option"),
        ("abstain", "abstain_not_allowed"),
        (["chair"], "invalid_choice"),
    ]
    for raw, code in cases:
        with pytest.raises(InvalidInput) as err:
            validate_choice(CONFIDENCE, raw)  # type: ignore[arg-type]
        assert err.value.code == code


def test_confidence_flags_against_all_delegates() -> None:
    # 30 delegates, 27 ballots; 15 "low" is half, not more than half; 16 is; 20 is two thirds
    def low_votes(low: int) -> list[ConfidenceChoice]:
        return [ConfidenceChoice((("chair", "low"), ("vice", "high")))] * low + [
            ConfidenceChoice((("chair", "medium"), ("vice", "high")))
        ] * (27 - low)

    for low, majority, two_thirds in [(15, False, False), (16, True, False), (20, True, True)]:
        result = tally(CONFIDENCE, low_votes(low), present=27, members=30)
        chair = result.confidence[0]
        assert (chair.low, chair.low_majority, chair.low_two_thirds) == (low, majority, two_thirds)
        assert chair.low_share == Fraction(low, 30)
        assert result.outcome is Outcome.RECORDED and result.base_size == 30


@fast
@given(st.lists(st.tuples(st.sampled_from(["high", "medium", "low"]),
                          st.sampled_from(["high", "medium", "low"])), max_size=40))
def test_confidence_counts_per_officeholder_sum_to_ballots(pairs: list[tuple[str, str]]) -> None:
    ballots = [validate_choice(CONFIDENCE, {"chair": a, "vice": b}) for a, b in pairs]
    result = tally(CONFIDENCE, ballots, present=len(pairs), members=len(pairs) + 1)
    for person in result.confidence:
        assert person.high + person.medium + person.low == result.ballots == len(pairs)
        assert person.low_two_thirds <= person.low_majority  # 2/3 implies more than half


# --- quorum ---------------------------------------------------------------------------------


def test_quorum_boundaries() -> None:
    assert not quorum_status(10, 20).met and quorum_status(11, 20).met
    assert quorum_status(10, 20).missing == 1
    hdnd = COUNCIL_SESSION_QUORUM
    assert quorum_status(20, 30, hdnd).needed == 20 and quorum_status(20, 30, hdnd).met
    assert not quorum_status(19, 30, hdnd).met
    assert quorum_status(0, 0).needed == 1 and not quorum_status(0, 0).met
    with pytest.raises(InvalidInput):
        quorum_status(5, 4)


@fast
@given(total=st.integers(0, 300), present=st.integers(0, 300), strict=st.booleans(),
       num=st.integers(1, 3), den=st.integers(4, 5))
def test_quorum_is_met_exactly_from_needed_on(
    total: int, present: int, strict: bool, num: int, den: int
) -> None:
    present = min(present, total)
    rule = QuorumRule.of(num, den, strict=strict)
    status = quorum_status(present, total, rule)
    assert status.met == (present >= status.needed)
    if total:
        share = Fraction(present, total)
        assert status.met == (share > rule.fraction if strict else share >= rule.fraction)
    if status.met and present < total:
        assert quorum_status(present + 1, total, rule).met
    assert DEFAULT_QUORUM == QuorumRule.of(1, 2)


# --- lifecycle ------------------------------------------------------------------------------


def test_lifecycle_happy_path() -> None:
    status = PollStatus.DRAFT
    for action, expected in [("open", "open"), ("close", "closed"), ("publish", "published")]:
        status = transition(status, action)
        assert status == expected


@pytest.mark.parametrize("status", ["draft", "open", "closed"])
def test_cancel_needs_a_reason(status: str) -> None:
    with pytest.raises(InvalidInput) as err:
        transition(status, PollAction.CANCEL, reason="  ")
    assert err.value.code == "reason_required"
    assert transition(status, "cancel", reason="wrong text") is PollStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "action"),
    [("draft", "close"), ("open", "publish"), ("published", "cancel"), ("cancelled", "open"),
     ("closed", "open"), ("open", "explode")],
)
def test_illegal_transitions_conflict(status: str, action: str) -> None:
    with pytest.raises(Conflict) as err:
        transition(status, action, reason="x")
    assert err.value.code == "illegal_transition"
    assert status in err.value.message


def test_opening_needs_a_quorum() -> None:
    assert check_can_open("draft", quorum_status(11, 20)) is PollStatus.OPEN
    with pytest.raises(Conflict) as err:
        check_can_open("draft", quorum_status(10, 20))
    assert err.value.code == "no_quorum"


def test_changing_a_ballot() -> None:
    fixed, changeable = create_motion_spec(), create_motion_spec(allow_change=True)
    check_can_cast(fixed, "open", already_voted=False)
    check_can_cast(changeable, "open", already_voted=True)
    with pytest.raises(Conflict) as err:
        check_can_cast(fixed, "open", already_voted=True)
    assert err.value.code == "ballot_already_cast"
    for status in ["draft", "closed", "published", "cancelled"]:
        with pytest.raises(Conflict) as err:
            check_can_cast(changeable, status, already_voted=True)
        assert err.value.code == "poll_not_open"


# --- specs and export -----------------------------------------------------------------------


def test_spec_round_trip_and_validation() -> None:
    for spec in [MOTION, ELECTION, CONFIDENCE]:
        assert spec_from_dict(spec.to_dict()) == spec
    assert CONFIDENCE.secrecy is Secrecy.SECRET and MOTION.secrecy is Secrecy.OPEN
    bad: list[Callable[[], object]] = [
        lambda: create_election_spec([]),
        lambda: create_election_spec(["a", "a"]),
        lambda: create_election_spec(["a"], seats=2),
        lambda: create_confidence_spec([]),
        lambda: spec_from_dict({"kind": "referendum"}),
    ]
    for make in bad:
        with pytest.raises(InvalidInput):
            make()


def test_vote_event_for_an_open_motion() -> None:
    spec = create_motion_spec()
    ballots = motion_ballots(2, 1, 0)
    result = tally(spec, ballots, 3, 5)
    meta = PollMeta("p1", "Thông qua Nghị quyết về ngân sách", spec, organization_id="hdnd",
                    start_date=datetime(2025, 7, 1, 9, tzinfo=UTC))
    votes: list[tuple[str, str, MotionChoice | str]] = [
        ("u1", "Nguyễn Văn A", ballots[0]), ("u2", "Trần Thị B", ballots[1]),
             ("u3", "Lê C", "no")]
    event = to_vote_event(meta, result, votes)
    assert event["result"] == "pass"
    assert event["motion_text"] == meta.title and event["start_date"].startswith("2025-07-01")
    assert event["counts"] == [{"option": "yes", "value": 2}, {"option": "no", "value": 1},
                               {"option": "abstain", "value": 0}]
    assert event["votes"][0] == {"voter_id": "u1", "voter_name": "Nguyễn Văn A", "option": "yes"}


def test_vote_event_never_carries_secret_ballots() -> None:
    spec = create_motion_spec(secrecy=Secrecy.SECRET)
    result = tally(spec, motion_ballots(1, 2, 0), 3, 3)
    meta = PollMeta("p2", "Kín", spec)
    event = to_vote_event(meta, result)
    assert "votes" not in event and event["result"] == "fail" and event["secret"]
    with pytest.raises(InvalidInput) as err:
        to_vote_event(meta, result, [("u1", "A", "yes")])
    assert err.value.code == "secret_poll"


def test_vote_event_for_election_and_confidence() -> None:
    raw = [["an", "binh"]] * 3
    result = tally(ELECTION, [validate_choice(ELECTION, b) for b in raw], 3, 3)
    event = to_vote_event(PollMeta("e", "Bầu Phó Chủ tịch", ELECTION), result)
    assert event["result"] == "pass" and event["extras"]["elected"] == ["an", "binh"]
    conf = tally(CONFIDENCE, [validate_choice(CONFIDENCE, {"chair": "low", "vice": "high"})],
                 1, 1)
    event = to_vote_event(PollMeta("c", "Lấy phiếu tín nhiệm", CONFIDENCE), conf)
    assert {"option": "low", "value": 1, "officeholder_id": "chair"} in event["counts"]
    assert "result" not in event
    assert conf.to_dict()["confidence"][0]["low_share"] == "1"
