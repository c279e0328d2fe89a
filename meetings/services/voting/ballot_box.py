"""Casting ballots exactly once, in group-committed, shuffled batches (docs/features/voting.md,
"Exactly once").

`cast` queues a ballot; one writer task per process takes everything queued and stores it in
ONE transaction: the ballots, the "has voted" rows and the idempotency keys, then commits and
only then answers every caller. This keeps SQLite's single writer fast under a vote storm
(one commit for many ballots) and, for secret polls, writes the anonymous ballots of a batch in
random order, so neither order nor the writing transaction tells one voter's ballot from the
others' of the same batch (the close re-writes them all and a cancel deletes them: `ballot_scrub`).

If a batch hits a unique constraint (a duplicate from another worker), it is rolled back whole
and every ballot in it is retried alone; a retry of the same idempotency key gets the first
answer, a second ballot without one is refused.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import functools
import hashlib
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col

from meetings.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from meetings.domain.model import Attendance, MeetingStatus
from meetings.domain.signals import BallotsCounted
from meetings.domain.voting import PollSpec, check_can_cast, spec_from_dict, validate_choice
from meetings.services.context import Actor, Services, settle
from meetings.services.idempotency import remembered
from meetings.services.loading import may_see_meeting
from meetings.services.voting.commands import CastBallot
from meetings.services.voting.polls import close_due
from meetings.storage.lists import in_list
from meetings.storage.prepared import rows
from meetings.storage.tables import CommandResult, Meeting, Participant, utcnow
from meetings.storage.tables_voting import Poll, PollBallot, PollParticipation, PollVote
from meetings.storage.uow import UnitOfWork
from meetings.storage.writes import Rows, core_table, insert_into

log = logging.getLogger(__name__)

MAX_BATCH = 1000
# A batch starts at most this long after the previous one started: under load the ballots of
# these 10 ms share one transaction instead of a transaction each; the first ballot after a
# quiet spell is written at once (docs/features/voting.md, "Exactly once")
GATHER_S = 0.010
COMMAND = "ballot.cast"


def receipt_for(poll_id: int, seed: str) -> str:
    """A receipt code derived from the client's seed: 20 base32 characters in groups of four."""
    digest = hashlib.sha256(f"quorum-receipt:{poll_id}:{seed}".encode()).digest()
    code = base64.b32encode(digest).decode()[:20]
    return "-".join(code[i : i + 4] for i in range(0, 20, 4))


@dataclass
class _Cast:
    actor: Actor
    cmd: CastBallot
    seed: str | None  # the client's, or made for a secret poll's receipt when it is cast
    future: asyncio.Future[dict[str, Any]]


@dataclass
class _Replay:
    """The key was used before: answer with the stored result."""


@dataclass(frozen=True, slots=True)
class _Poll:
    """What the checks read of a poll (a row, not an ORM object: a batch loads them often)."""

    id: int
    meeting_id: int
    status: str
    closes_at: datetime | None
    spec: dict[str, Any]
    secret: bool


@dataclass(frozen=True, slots=True)
class _Meeting:
    id: int
    council_id: int
    status: str


@dataclass
class _Batch:
    polls: dict[int, _Poll]
    meetings: dict[int, _Meeting]
    # (meeting id, user id) → (attendance, voting)
    participants: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)
    votes: set[tuple[int, int]] = field(default_factory=set)  # stored open-poll votes
    voted_secret: set[tuple[int, int]] = field(default_factory=set)
    keys: set[tuple[int, str]] = field(default_factory=set)
    specs: dict[int, PollSpec] = field(default_factory=dict)
    # rows written with one multi-row INSERT per table (no ORM objects: building and flushing
    # 1,000 of them was a third of the worker's time in a 500-ballot storm)
    new_votes: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    changed_votes: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    ballots: list[dict[str, Any]] = field(default_factory=list)
    participation: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    expired: set[int] = field(default_factory=set)
    dirty: set[int] = field(default_factory=set)
    # one time for the whole batch: the stored rows say who voted in it, not in which order
    now: datetime = field(default_factory=utcnow)


class BallotBox:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._queue: list[_Cast] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (for tests and diagnostics)
        self.gather_s = GATHER_S
        self._started = float("-inf")  # the loop's time when the last batch began

    async def submit(self, actor: Actor, cmd: CastBallot, seed: str | None) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Cast(actor, cmd, seed, future))
        if self._task is None or self._task.done():
            # a clean context: the writer must not inherit a caller's pending idempotency key
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=contextvars.Context()
            )
        return await future

    async def _run(self) -> None:
        """Drain the queue, a batch per transaction; end when it is empty (no idle task:
        between the emptiness check and the return nothing can run, `submit` restarts it).
        A batch begins no sooner than `gather_s` after the one before began, unless a whole
        batch is waiting: each transaction costs the same whatever it holds."""
        loop = asyncio.get_running_loop()
        while self._queue:
            wait = self._started + self.gather_s - loop.time()
            if wait > 0 and len(self._queue) < MAX_BATCH:
                await asyncio.sleep(wait)
            self._started = loop.time()
            self.batches += 1
            await self._write()

    def _take(self) -> list[_Cast]:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        return batch

    async def _write(self) -> None:
        batch: list[_Cast] = []
        try:
            try:
                try:
                    outcomes = await self._apply(None, batch)
                except DBAPIError as exc:
                    if not _transient(exc) or not batch:
                        raise
                    # PostgreSQL gave the batch up to another worker's transaction (a deadlock,
                    # a serialisation failure): rolled back whole, so it is stored again
                    log.info("a ballot batch was rolled back by the database; trying again")
                    outcomes = await self._apply(batch)
            except IntegrityError:
                outcomes = []
                for cast in batch:
                    try:
                        outcomes += await self._apply([cast])
                    except IntegrityError:
                        outcomes.append((cast, _Replay()))
            for cast, outcome in outcomes:
                await self._answer(cast, outcome)
        except Exception as exc:  # never leave a caller waiting; the namespace logs it
            for cast in batch or self._take():  # failed before taking its batch: the next ones
                if not cast.future.done():
                    cast.future.set_exception(exc)

    async def _answer(self, cast: _Cast, outcome: dict[str, Any] | DomainError | _Replay) -> None:
        if cast.future.done():
            return
        if isinstance(outcome, _Replay):
            key = cast.cmd.idempotency_key
            first = None
            if key is not None:
                async with self.services.db.reading() as session:
                    first = await remembered(session, cast.actor.user_id, key)
            if first is None:
                cast.future.set_exception(
                    Conflict("a ballot was already cast in this poll", code="ballot_already_cast")
                )
                return
            outcome = with_receipt(first | {"replayed": True}, cast.cmd)
        settle(cast.future, outcome)

    async def _apply(
        self, batch: list[_Cast] | None, taken: list[_Cast] | None = None
    ) -> list[tuple[_Cast, dict[str, Any] | DomainError | _Replay]]:
        """Store `batch`, or (None) what is queued once the writer connection is this
        transaction's, listed into `taken`: the ballots that came while it waited for SQLite's
        one writer join this commit instead of waiting for the next one."""
        async with self.services.uow() as uow:
            if batch is None:
                await uow.session.connection()  # SQLite: BEGIN IMMEDIATE, the writer is ours
                batch = self._take()
                if taken is not None:
                    taken.extend(batch)
                if not batch:
                    return []
            b = await _load(uow, batch)
            outcomes: list[tuple[_Cast, dict[str, Any] | DomainError | _Replay]] = []
            for cast in batch:
                try:
                    outcomes.append((cast, await _one(uow, b, cast)))
                except DomainError as exc:
                    outcomes.append((cast, exc))
            _write_rows(uow, b)
            if b.dirty:
                uow.signal(BallotsCounted(tuple(b.dirty)))  # live progress (realtime/tally.py)
            await uow.commit()
            # answered at once: closing the session costs another round trip (the pool's reset
            # of the connection), which a busy event loop makes as slow as a query
            for cast, outcome in outcomes:
                if not isinstance(outcome, _Replay):
                    settle(cast.future, outcome)
        if b.expired:
            asyncio.get_running_loop().create_task(close_due(self.services))
        return outcomes


def _transient(exc: DBAPIError) -> bool:
    """A failure that says "try again": a deadlock or a serialisation failure (PostgreSQL)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


@functools.cache
def _vote_update() -> Any:
    votes = core_table(PollVote)
    return (
        update(votes)
        .where(votes.c.poll_id == bindparam("b_poll"), votes.c.user_id == bindparam("b_user"))
        .values(choice=bindparam("b_choice"), cast_at=bindparam("b_at"))
    )


def _write_rows(uow: UnitOfWork, b: _Batch) -> None:
    """The batch's rows, written with its commit (in the commit's one trip on SQLite); a
    secret poll's anonymous ballots in random order, its "has voted" rows by user id, so the
    order of neither follows the order of casting."""
    random.shuffle(b.ballots)
    b.participation.sort(key=itemgetter("user_id"))
    uow.write_at_commit(
        Rows(
            _vote_update(),  # a stored vote changed: an executemany UPDATE by (poll, user)
            [
                {"b_poll": r["poll_id"], "b_user": r["user_id"], "b_choice": r["choice"],
                 "b_at": r["cast_at"]}
                for r in b.changed_votes.values()
            ],
        )
    )  # fmt: skip
    for table, new_rows in (
        (PollVote, list(b.new_votes.values())),
        (PollParticipation, b.participation),
        (PollBallot, b.ballots),
        (CommandResult, b.results),
    ):
        uow.write_at_commit(Rows(insert_into(core_table(table)), new_rows))


@functools.cache
def _load_statements(dialect: str) -> tuple[Any, Any, Any]:
    """The batch's two reads, built once per database with list parameters of one SQL text
    whatever their length (`in_list`; building a union of four selects cost more of the event
    loop than the database took to run it): the polls with their meetings, and the union
    without and with the idempotency keys."""

    def _in(column: Any, name: str, item: Any = Integer) -> Any:
        return in_list(column, name, dialect, item)

    p, m = core_table(Poll), core_table(Meeting)
    polls = (
        select(
            p.c.id, p.c.meeting_id, p.c.status, p.c.closes_at, p.c.spec, p.c.secret,
            m.c.council_id, m.c.status,
        )
        .join(m, m.c.id == p.c.meeting_id)
        .where(_in(p.c.id, "poll_ids"))
        # FOR SHARE: batches of several workers store ballots in the same polls side by side;
        # a close (FOR UPDATE) waits for those in flight, and those after it find it closed
        .order_by(p.c.id)
        .with_for_update(of=p, read=True)
    )  # fmt: skip
    no_int, no_str = literal(None, Integer), literal(None, String)
    pa, v, sp, k = (
        core_table(Participant),
        core_table(PollVote),
        core_table(PollParticipation),
        core_table(CommandResult),
    )
    parts = [
        select(
            literal("p"), pa.c.meeting_id, pa.c.user_id, pa.c.attendance,
            sql_cast(pa.c.voting, Integer),
        ).where(_in(pa.c.meeting_id, "meeting_ids"), _in(pa.c.user_id, "user_ids")),
        select(literal("v"), v.c.poll_id, v.c.user_id, no_str, no_int).where(
            _in(v.c.poll_id, "poll_ids"), _in(v.c.user_id, "user_ids")
        ),
        select(literal("s"), sp.c.poll_id, sp.c.user_id, no_str, no_int).where(
            _in(sp.c.poll_id, "poll_ids"), _in(sp.c.user_id, "user_ids")
        ),
    ]  # fmt: skip
    keys = select(literal("k"), k.c.user_id, no_int, k.c.key, no_int).where(
        _in(k.c.user_id, "user_ids"), _in(k.c.key, "keys", String)
    )
    return polls, union_all(*parts), union_all(*parts, keys)


async def _load(uow: UnitOfWork, batch: list[_Cast]) -> _Batch:
    """Everything the batch's checks need, in two queries (each query is a round trip that
    waits for the busy event loop during a storm; six of them were most of a batch's time):
    the polls with their meetings (the polls locked), then one UNION ALL of the callers'
    participation in those meetings, their stored votes, their secret "has voted" rows and
    their idempotency keys already used."""
    s = uow.session
    polls_read, without_keys, with_keys = _load_statements(s.get_bind().dialect.name)
    poll_ids = sorted({c.cmd.poll_id for c in batch})
    users = sorted({c.actor.user_id for c in batch})
    polls: dict[int, _Poll] = {}
    meetings: dict[int, _Meeting] = {}
    found = await rows(s, polls_read, {"poll_ids": poll_ids})
    for pid, mid, status, closes_at, spec, secret, council_id, meeting_status in found:
        polls[pid] = _Poll(pid, mid, status, closes_at, spec, bool(secret))
        meetings[mid] = _Meeting(mid, council_id, meeting_status)
    b = _Batch(polls, meetings)
    wanted = sorted({c.cmd.idempotency_key for c in batch if c.cmd.idempotency_key})
    params: dict[str, Any] = {
        "meeting_ids": sorted(meetings), "user_ids": users, "poll_ids": sorted(polls)
    }
    if wanted:
        params["keys"] = wanted
    for tag, a, user_id, text, flag in await rows(s, with_keys if wanted else without_keys, params):
        if tag == "p":
            b.participants[(int(a), int(user_id))] = (str(text), bool(flag))
        elif tag == "v":
            b.votes.add((int(a), int(user_id)))
        elif tag == "s":
            b.voted_secret.add((int(a), int(user_id)))
        else:
            b.keys.add((int(a), str(text)))
    return b


async def _one(uow: UnitOfWork, b: _Batch, cast: _Cast) -> dict[str, Any] | _Replay:
    actor, cmd = cast.actor, cast.cmd
    uid = actor.user_id
    if cmd.idempotency_key is not None:
        if (uid, cmd.idempotency_key) in b.keys:
            return _Replay()
        b.keys.add((uid, cmd.idempotency_key))
    poll = b.polls.get(cmd.poll_id)
    meeting = b.meetings.get(poll.meeting_id) if poll else None
    if poll is None or meeting is None or not may_see_meeting(actor, meeting):
        raise NotFound(f"no poll {cmd.poll_id}")
    if meeting.status != MeetingStatus.open:
        raise Conflict(f"the sitting is {meeting.status}", code="meeting_not_open")
    pid = cmd.poll_id
    if poll.status == "open" and poll.closes_at is not None and utcnow() >= poll.closes_at:
        b.expired.add(pid)
        raise Conflict("the voting time is over", code="poll_not_open")
    spec = b.specs.get(pid) or spec_from_dict(poll.spec)
    b.specs[pid] = spec
    if not actor.is_voting_member(meeting.council_id):
        raise Forbidden("only voting members may vote", code="not_voting_member")
    attendance, voting = b.participants.get((meeting.id, uid), ("", False))
    if not voting:
        raise Forbidden("only voting participants of this sitting may vote", code="not_participant")
    if attendance != Attendance.present:
        raise Conflict("check in before voting", code="not_present")
    choice = validate_choice(spec, cmd.choice)
    already = (pid, uid) in b.votes or (pid, uid) in b.new_votes or (pid, uid) in b.voted_secret
    check_can_cast(spec, poll.status, already_voted=already)
    result: dict[str, Any]
    now = b.now
    if not poll.secret:
        if cmd.replaces is not None:
            raise InvalidInput("an open poll has no receipts", code="not_secret")
        row = {"poll_id": pid, "user_id": uid, "choice": choice.to_wire(), "cast_at": now}
        # a stored vote changed, or a new one (perhaps changed again within this batch)
        (b.changed_votes if (pid, uid) in b.votes else b.new_votes)[(pid, uid)] = row
        result = {"poll_id": pid, "secret": False, "choice": choice.to_wire(), "changed": already}
    else:
        if already:
            if cmd.replaces is None:
                raise InvalidInput(
                    "to change a secret ballot, send the receipt of the one it replaces",
                    code="receipt_required",
                )
            await _replace(uow, b, pid, cmd.replaces)
        elif cmd.replaces is not None:
            raise Conflict("there is no ballot of yours to replace", code="nothing_to_replace")
        else:
            b.participation.append({"poll_id": pid, "user_id": uid})
            b.voted_secret.add((pid, uid))
        if cast.seed is None:  # made only here: an open poll's ballot has no receipt
            cast.seed = secrets.token_urlsafe(24)
        b.ballots.append(
            {
                "id": secrets.token_hex(16),
                "poll_id": pid,
                "receipt": receipt_for(pid, cast.seed),
                "choice": choice.to_wire(),
            }
        )
        result = {"poll_id": pid, "secret": True, "changed": already}
    if cmd.idempotency_key is not None:
        b.results.append(
            {
                "user_id": uid,
                "key": cmd.idempotency_key,
                "command": COMMAND,
                "result": result,
                "created_at": now,
            }
        )
    b.dirty.add(pid)
    return with_receipt(result, cmd, cast.seed)


async def _replace(uow: UnitOfWork, b: _Batch, poll_id: int, receipt: str) -> None:
    """Remove the secret ballot that a changed one replaces: stored, or cast in this batch."""
    for index, pending in enumerate(b.ballots):
        if pending["poll_id"] == poll_id and pending["receipt"] == receipt:
            del b.ballots[index]
            return
    gone = await uow.session.execute(
        delete(PollBallot).where(
            col(PollBallot.poll_id) == poll_id, col(PollBallot.receipt) == receipt
        )
    )
    if getattr(gone, "rowcount", 0) != 1:
        raise NotFound("no ballot with that receipt in this poll", code="unknown_receipt")


def with_receipt(
    result: dict[str, Any], cmd: CastBallot, seed: str | None = None
) -> dict[str, Any]:
    """The stored result never holds a secret ballot's receipt; it is derived again here."""
    seed = seed or cmd.receipt_seed
    if result.get("secret"):
        return result | {"receipt": receipt_for(int(result["poll_id"]), seed) if seed else None}
    return result


def ballot_box(services: Services) -> BallotBox:
    """The app's box (one writer task per process), kept in `services.subsystems`."""
    box = services.subsystems.get("ballot_box")
    if not isinstance(box, BallotBox):
        box = services.subsystems["ballot_box"] = BallotBox(services)
    return box


async def cast(services: Services, actor: Actor, cmd: CastBallot) -> dict[str, Any]:
    """Cast (or change) a ballot; answered after commit. Retrying a key replays the answer
    (the batch finds the key among the stored ones; no extra read per ballot)."""
    return await ballot_box(services).submit(actor, cmd, cmd.receipt_seed)
