"""Polls: create, open, close, publish, cancel; results and snapshots (docs/features/voting.md).

Each function follows the command path: authorise, load, ask `meetings.domain.voting`, change,
emit, commit. Casting ballots is in `services.voting.ballot_box` (group commit). Results are
computed once, at the close, from the stored ballots, and stored on the poll.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import Conflict, NotFound
from meetings.domain.events import iso
from meetings.domain.majority import quorum_status
from meetings.domain.model import EDITABLE_MEETING, Attendance, MeetingStatus
from meetings.domain.voting import (
    NormalizedChoice,
    PollAction,
    PollMeta,
    PollSpec,
    PollStatus,
    check_can_open,
    spec_from_dict,
    tally,
    to_vote_event,
    transition,
    validate_choice,
)
from meetings.services.context import Actor, Services
from meetings.services.loading import get_in_meeting, get_item, get_meeting, may_see_meeting
from meetings.services.quorum import meeting_rule, quorum_of
from meetings.services.voting import ballot_scrub
from meetings.services.voting.commands import CancelPoll, CreatePoll, spec_of
from meetings.services.voting.events import (
    PollCancelled,
    PollClosed,
    PollCreated,
    PollOpened,
    PollPublished,
)
from meetings.storage import prepared
from meetings.storage.lists import in_list
from meetings.storage.tables import Meeting, Participant, User, pk, utcnow
from meetings.storage.tables_voting import Poll, PollBallot, PollParticipation, PollVote


def poll_public(poll: Poll, *, with_result: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": poll.id,
        "meeting_id": poll.meeting_id,
        "agenda_item_id": poll.agenda_item_id,
        "title": poll.title,
        "description": poll.description,
        "kind": poll.kind,
        "secret": poll.secret,
        "spec": poll.spec,
        "show_running": poll.show_running,
        "duration_s": poll.duration_s,
        "status": poll.status,
        "opened_at": iso(poll.opened_at),
        "closes_at": iso(poll.closes_at),
        "closed_at": iso(poll.closed_at),
        "published_at": iso(poll.published_at),
        "cancelled_at": iso(poll.cancelled_at),
        "cancel_reason": poll.cancel_reason,
    }
    if with_result and poll.result is not None:
        out["result"] = poll.result
    return out


def may_see_result(actor: Actor, meeting: Meeting, poll: Poll) -> bool:
    """Everyone once published; the chair and secretariat from the close (to check it)."""
    if poll.status == PollStatus.PUBLISHED:
        return True
    return poll.status == PollStatus.CLOSED and actor.is_staff(meeting.council_id)


def require_sitting_open(meeting: Meeting) -> None:
    """Opening a poll, closing it by hand and publishing it need the sitting open: a closed
    sitting's polls stay as they were (reopen it to go on), an archived one's for good. The
    caller holds the sitting's row (`load_poll_for_change`) until its commit, so
    `meeting.close`, which refuses while a poll is open, cannot pass in between."""
    if meeting.status != MeetingStatus.open:
        raise Conflict(
            f"the sitting is {meeting.status}: its polls change only while it is open",
            code="meeting_not_open",
        )


async def load_poll(session: AsyncSession, actor: Actor, poll_id: int) -> tuple[Poll, Meeting]:
    """A poll and its meeting to read (to change one: `load_poll_for_change`)."""
    return await get_in_meeting(session, actor, Poll, poll_id, "poll")


@functools.cache
def _poll_for_change() -> Any:
    """Built once: building a statement costs the event loop more than SQLite takes to run it."""
    return (
        select(Poll, Meeting)
        .join(Meeting, col(Meeting.id) == col(Poll.meeting_id))
        .where(col(Poll.id) == bindparam("poll_id"))
        .with_for_update()
    )


@functools.cache
def _choices_of(secret: bool) -> Any:
    table: Any = PollBallot if secret else PollVote
    return select(table.choice).where(table.poll_id == bindparam("poll_id"))


async def load_poll_for_change(
    session: AsyncSession, actor: Actor | None, poll_id: int
) -> tuple[Poll, Meeting]:
    """A poll and its sitting in one statement, both rows locked until the commit (PostgreSQL;
    SQLite has one writer): the poll against the ballot box and a second chair's command, the
    sitting against `meeting.close`. Every command that changes a poll also stores a meeting
    event, which updates the sitting's row, so locking it here costs no concurrency.
    `actor=None`: the timer, which sees every poll."""
    found = (await session.execute(_poll_for_change(), {"poll_id": poll_id})).one_or_none()
    if found is None or (actor is not None and not may_see_meeting(actor, found[1])):
        raise NotFound(f"no poll {poll_id}")
    return found[0], found[1]


async def open_votes(session: AsyncSession, poll_id: int) -> list[dict[str, Any]]:
    """An open poll's ballots with the voters' names, by name."""
    return (await _open_votes_of(session, [poll_id]))[poll_id]


async def _choices(session: AsyncSession, poll: Poll, spec: PollSpec) -> list[NormalizedChoice]:
    found = await prepared.rows(session, _choices_of(poll.secret), {"poll_id": poll.id})
    return [validate_choice(spec, choice) for (choice,) in found]


async def voted_count(session: AsyncSession, poll: Poll) -> int:
    table: Any = PollParticipation if poll.secret else PollVote
    rows = await session.execute(select(table.user_id).where(table.poll_id == poll.id))
    return len(rows.all())


# --- lifecycle --------------------------------------------------------------------------------


async def create_poll(services: Services, actor: Actor, cmd: CreatePoll) -> dict[str, Any]:
    spec = spec_of(cmd)
    if spec.secret and cmd.show_running:
        raise Conflict(
            "a secret poll never shows a running tally (it could re-link voters to choices)",
            code="secret_running_tally",
        )
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, cmd.meeting_id)
        actor.require_staff(meeting.council_id)
        if meeting.status not in (MeetingStatus.draft, MeetingStatus.published, MeetingStatus.open):
            raise Conflict(f"the meeting is {meeting.status}", code="meeting_locked")
        if cmd.agenda_item_id is not None:
            await get_item(uow.session, meeting, cmd.agenda_item_id)
        poll = Poll(
            meeting_id=cmd.meeting_id,
            agenda_item_id=cmd.agenda_item_id,
            title=cmd.title,
            description=cmd.description,
            kind=spec.kind.value,
            secret=spec.secret,
            spec=spec.to_dict(),
            show_running=cmd.show_running,
            duration_s=cmd.duration_s,
            created_by=actor.user_id,
        )
        uow.session.add(poll)
        await uow.session.flush()
        out = poll_public(poll, with_result=False)
        await uow.emit(cmd.meeting_id, PollCreated.model_validate({"poll": out}))
        await uow.audit(actor.user_id, "poll.create", f"poll:{poll.id}", {"title": poll.title})
        answer = {"poll_id": poll.id, "poll": out}
        await uow.commit(answer=answer)
        return answer


async def open_poll(services: Services, actor: Actor, poll_id: int) -> dict[str, Any]:
    async with services.uow() as uow:
        poll, meeting = await load_poll_for_change(uow.session, actor, poll_id)
        actor.require_chair(meeting.council_id)
        require_sitting_open(meeting)
        q = await quorum_of(uow.session, meeting)
        status = quorum_status(q["present"], q["total"], meeting_rule(meeting))
        poll.status = check_can_open(poll.status, status).value
        now = utcnow()
        poll.opened_at = now
        if poll.duration_s:
            poll.closes_at = now + timedelta(seconds=poll.duration_s)
        out = poll_public(poll, with_result=False)
        await uow.emit(
            pk(meeting),
            PollOpened.model_validate({"poll": out, "quorum": q, "server_time": iso(now)}),
        )
        await uow.audit(actor.user_id, "poll.open", f"poll:{poll_id}", {"quorum": q})
        answer = {"poll": out}
        await uow.commit(answer=answer)
        return answer


async def close_poll(
    services: Services, actor: Actor | None, poll_id: int, *, auto: bool = False
) -> dict[str, Any]:
    """Close and count. `actor=None` is the timer (automatic close); it is idempotent."""
    async with services.uow() as uow:
        poll, meeting = await load_poll_for_change(uow.session, actor, poll_id)
        if actor is not None:
            actor.require_chair(meeting.council_id)
            require_sitting_open(meeting)
        else:
            if poll.status != PollStatus.OPEN or meeting.status != MeetingStatus.open:
                return {"poll": poll_public(poll, with_result=False), "unchanged": True}
        status = transition(poll.status, PollAction.CLOSE).value
        spec = spec_from_dict(poll.spec)
        # read before changing the poll: one UPDATE at the commit, not an autoflush per read
        q = await quorum_of(uow.session, meeting)
        result = tally(spec, await _choices(uow.session, poll, spec), q["present"], q["total"])
        poll.status, poll.closed_at, poll.result = status, utcnow(), result.to_dict()
        xid = await ballot_scrub.rewrite(uow, poll_id) if poll.secret else None
        out = poll_public(poll, with_result=False)
        await uow.emit(
            pk(meeting),
            PollClosed.model_validate({"poll": out, "voted": result.ballots, "automatic": auto}),
        )
        await uow.audit(
            actor.user_id if actor else None,
            "poll.close",
            f"poll:{poll_id}",
            {"automatic": auto, "ballots": result.ballots, "outcome": result.outcome.value},
        )
        answer = {"poll": out | {"result": poll.result}}
        await uow.commit(answer=answer)
    if poll.secret:
        await ballot_scrub.scrub(services, xid)
    return answer


async def publish_poll(services: Services, actor: Actor, poll_id: int) -> dict[str, Any]:
    async with services.uow() as uow:
        poll, meeting = await load_poll_for_change(uow.session, actor, poll_id)
        actor.require_chair(meeting.council_id)
        require_sitting_open(meeting)
        status = transition(poll.status, PollAction.PUBLISH).value
        votes = None if poll.secret else await open_votes(uow.session, poll_id)
        poll.status, poll.published_at = status, utcnow()
        out = poll_public(poll, with_result=True)
        if votes is not None:
            out["votes"] = votes
        await uow.emit(pk(meeting), PollPublished.model_validate({"poll": out}))
        await uow.audit(actor.user_id, "poll.publish", f"poll:{poll_id}")
        answer = {"poll": out}
        await uow.commit(answer=answer)
        return answer


async def cancel_poll(services: Services, actor: Actor, cmd: CancelPoll) -> dict[str, Any]:
    async with services.uow() as uow:
        poll, meeting = await load_poll_for_change(uow.session, actor, cmd.poll_id)
        actor.require_chair(meeting.council_id)
        if meeting.status not in EDITABLE_MEETING:  # a draft may go before the sitting opens
            raise Conflict(
                f"the sitting is {meeting.status}: its polls stay as they were",
                code="meeting_locked",
            )
        poll.status = transition(poll.status, PollAction.CANCEL, reason=cmd.reason).value
        poll.cancelled_at = utcnow()
        poll.cancel_reason = cmd.reason.strip()
        poll.result = None
        # never counted: a secret poll's ballots go, so no end state keeps them linkable
        xid = await ballot_scrub.discard(uow, cmd.poll_id) if poll.secret else None
        out = poll_public(poll, with_result=False)
        await uow.emit(pk(meeting), PollCancelled.model_validate({"poll": out}))
        await uow.audit(
            actor.user_id, "poll.cancel", f"poll:{cmd.poll_id}", {"reason": poll.cancel_reason}
        )
        answer = {"poll": out}
        await uow.commit(answer=answer)
    if poll.secret:
        await ballot_scrub.scrub(services, xid)
    return answer


async def close_due(services: Services) -> list[int]:
    """Close every open poll whose time is up (the sweeper and the cast path call this)."""
    async with services.db.reading() as session:
        due = (
            (
                await session.execute(
                    select(col(Poll.id))
                    .join(Meeting, col(Meeting.id) == col(Poll.meeting_id))
                    .where(
                        col(Poll.status) == PollStatus.OPEN,
                        col(Poll.closes_at).is_not(None),
                        col(Poll.closes_at) <= utcnow(),
                        col(Meeting.status) == MeetingStatus.open,
                    )
                )
            )
            .scalars()
            .all()
        )
    closed = []
    for poll_id in (p for p in due if p is not None):
        out = await close_poll(services, None, poll_id, auto=True)
        if not out.get("unchanged"):
            closed.append(poll_id)
    return closed


# --- reading ----------------------------------------------------------------------------------


async def list_polls(services: Services, actor: Actor, meeting_id: int) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        meeting = await get_meeting(session, actor, meeting_id)
        return (await polls_snapshot(session, actor, meeting))["polls"]  # type: ignore[no-any-return]


async def get_poll(services: Services, actor: Actor, poll_id: int) -> dict[str, Any]:
    async with services.db.reading() as session:
        poll, meeting = await load_poll(session, actor, poll_id)
        out = poll_public(poll, with_result=may_see_result(actor, meeting, poll))
        out["voted"] = await voted_count(session, poll)
        if "result" in out and not poll.secret:
            out["votes"] = await open_votes(session, poll_id)
        return out


async def anonymous_ballots(services: Services, actor: Actor, poll_id: int) -> dict[str, Any]:
    """A published secret poll's ballots, sorted by receipt, for every voter to check theirs."""
    async with services.db.reading() as session:
        poll, _meeting = await load_poll(session, actor, poll_id)
        if not poll.secret:
            raise Conflict("an open poll lists its votes by name", code="not_secret")
        if poll.status != PollStatus.PUBLISHED:
            raise Conflict(
                "the ballots are listed once the result is published", code="not_published"
            )
        rows = (
            await session.execute(
                select(col(PollBallot.receipt), col(PollBallot.choice))
                .where(col(PollBallot.poll_id) == poll_id)
                .order_by(col(PollBallot.receipt))
            )
        ).all()
        return {"poll_id": poll_id, "ballots": [{"receipt": r, "choice": c} for r, c in rows]}


async def vote_event(services: Services, actor: Actor, poll_id: int) -> dict[str, Any]:
    """The Popolo / Open Civic Data vote event of a published poll."""
    async with services.db.reading() as session:
        poll, meeting = await load_poll(session, actor, poll_id)
        if poll.status != PollStatus.PUBLISHED or poll.result is None:
            raise Conflict("only a published poll is exported", code="not_published")
        return await export_vote_event(session, poll, meeting.council_id)


async def export_vote_event(session: AsyncSession, poll: Poll, council_id: int) -> dict[str, Any]:
    """A counted poll (`poll.result` set) as a Popolo / Open Civic Data vote event: re-tallied
    from its stored ballots; each voter's name only for an open poll. The caller decides who
    may see it (members: `vote_event`; anyone: the public archive, docs/features/archive.md)."""
    assert poll.result is not None
    spec = spec_from_dict(poll.spec)
    q = poll.result
    result = tally(spec, await _choices(session, poll, spec), q["present"], q["members"])
    votes = None
    if not poll.secret:
        votes = [
            (f"user:{v['user_id']}", v["name"], validate_choice(spec, v["choice"]))
            for v in await open_votes(session, pk(poll))
        ]
    meta = PollMeta(
        id=f"quorum:poll:{poll.id}",
        title=poll.title,
        spec=spec,
        organization_id=f"quorum:council:{council_id}",
        start_date=poll.opened_at,
        end_date=poll.closed_at,
        legislative_session_id=f"quorum:meeting:{poll.meeting_id}",
    )
    return to_vote_event(meta, result, votes)


_COUNTED = (PollStatus.OPEN, PollStatus.CLOSED, PollStatus.PUBLISHED)


@dataclass
class MeetingPolls:
    """A meeting's polls read once for a whole batch of joins (`state.Joiner`): the polls, how
    many voted in each, the per-delegate lists of open polls with a result, and the ballots of
    the batch's callers. Each caller's view (`view_for`) is then built in memory: a join costs
    no query of its own, however many polls the sitting has had."""

    polls: list[Poll]
    voted: dict[int, int]
    votes: dict[int, list[dict[str, Any]]]
    choices: dict[tuple[int, int], str]  # (poll id, user id) → choice, open polls
    secret_voted: set[tuple[int, int]]

    def view_for(self, actor: Actor, meeting: Meeting) -> dict[str, Any]:
        """The polls as this member sees them, with the caller's own ballots: the choice for
        open polls, only `{"voted": true}` for secret ones (the receipt stays on the device)."""
        out, mine = [], dict[str, dict[str, Any]]()
        for poll in self.polls:
            pid = int(poll.id)  # type: ignore[arg-type]
            item = poll_public(poll, with_result=may_see_result(actor, meeting, poll))
            if poll.status in _COUNTED:
                item["voted"] = self.voted.get(pid, 0)
            if "result" in item and not poll.secret:
                item["votes"] = self.votes.get(pid, [])
            out.append(item)
            if poll.secret:
                if (pid, actor.user_id) in self.secret_voted:
                    mine[str(pid)] = {"voted": True}
            elif (choice := self.choices.get((pid, actor.user_id))) is not None:
                mine[str(pid)] = {"voted": True, "choice": choice}
        return {"polls": out, "my_ballots": mine}


async def read_polls(
    session: AsyncSession, meeting: Meeting, user_ids: Collection[int]
) -> MeetingPolls:
    """Read `MeetingPolls` with a fixed number of queries (at most six), whatever the number of
    polls and callers (`user_ids`: whose own ballots to include, at most a join batch)."""
    polls = list(
        (
            await session.execute(
                select(Poll).where(col(Poll.meeting_id) == meeting.id).order_by(col(Poll.id))
            )
        ).scalars()
    )
    counted = [p for p in polls if p.status in _COUNTED]
    open_ids = [int(p.id) for p in counted if not p.secret]  # type: ignore[arg-type]
    secret_ids = [int(p.id) for p in counted if p.secret]  # type: ignore[arg-type]
    users = sorted(set(user_ids))
    voted: dict[int, int] = {}
    for column, ids in (
        (col(PollVote.poll_id), open_ids),
        (col(PollParticipation.poll_id), secret_ids),
    ):
        if ids:
            rows = await session.execute(
                select(column, func.count()).where(column.in_(ids)).group_by(column)
            )
            voted.update({int(pid): int(n) for pid, n in rows.all()})
    with_list = [
        int(p.id)  # type: ignore[arg-type]
        for p in counted
        if not p.secret and p.status in (PollStatus.CLOSED, PollStatus.PUBLISHED)
    ]
    votes = await _open_votes_of(session, with_list) if with_list else {}
    choices: dict[tuple[int, int], str] = {}
    secret_voted: set[tuple[int, int]] = set()
    if open_ids and users:
        cast_rows = await session.execute(
            select(col(PollVote.poll_id), col(PollVote.user_id), col(PollVote.choice)).where(
                col(PollVote.poll_id).in_(open_ids), col(PollVote.user_id).in_(users)
            )
        )
        choices = {(int(pid), int(uid)): choice for pid, uid, choice in cast_rows.all()}
    if secret_ids and users:
        rows = await session.execute(
            select(col(PollParticipation.poll_id), col(PollParticipation.user_id)).where(
                col(PollParticipation.poll_id).in_(secret_ids),
                col(PollParticipation.user_id).in_(users),
            )
        )
        secret_voted = {(int(pid), int(uid)) for pid, uid in rows.all()}
    return MeetingPolls(polls, voted, votes, choices, secret_voted)


@functools.cache
def _open_votes_read(dialect: str) -> Any:
    return (
        select(col(PollVote.poll_id), col(PollVote.user_id), col(User.name), col(PollVote.choice))
        .join(User, col(User.id) == col(PollVote.user_id))
        .where(in_list(col(PollVote.poll_id), "ids", dialect))
        .order_by(col(User.name))
    )


async def _open_votes_of(
    session: AsyncSession, poll_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """`open_votes` of several polls in one query."""
    statement = _open_votes_read(session.get_bind().dialect.name)
    found = await prepared.rows(session, statement, {"ids": sorted(poll_ids)})
    out: dict[int, list[dict[str, Any]]] = {pid: [] for pid in poll_ids}
    for pid, uid, name, choice in found:
        out[int(pid)].append({"user_id": uid, "name": name, "choice": choice})
    return out


async def polls_snapshot(session: AsyncSession, actor: Actor, meeting: Meeting) -> dict[str, Any]:
    """The meeting's polls as one caller sees them (see `MeetingPolls.view_for`)."""
    return (await read_polls(session, meeting, [actor.user_id])).view_for(actor, meeting)


async def progress(services: Services, poll_id: int) -> dict[str, Any] | None:
    """An open poll's progress as read from the database (see `progress_of`)."""
    return (await progress_of(services, [poll_id])).get(poll_id)


async def progress_of(services: Services, poll_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Open polls' progress as read from the database (so any worker's view is right): how
    many voted, who (for the chair), and the running tally if the poll shows it; never a secret
    poll's tally. Polls no longer open are left out. At most four queries however many polls:
    a province's dozens of sittings voting at once read their progress together, every 50 ms,
    and three queries per poll per update were most of the worker's time
    (docs/performance-journal.md, "A province on one server")."""
    if not poll_ids:
        return {}
    async with services.db.reading() as session:
        polls_read, votes_read, voted_read = _progress_reads(session.get_bind().dialect.name)
        found = await prepared.rows(session, polls_read, {"ids": sorted(poll_ids)})
        open_polls = {
            int(pid): (int(mid), bool(secret), bool(run), spec)
            for pid, mid, secret, run, spec in found
        }
        if not open_polls:
            return {}
        rows: dict[int, list[tuple[int, Any]]] = {pid: [] for pid in open_polls}
        named = [p for p, (_m, secret, _r, _s) in open_polls.items() if not secret]
        running = {p for p, (_m, secret, run, _s) in open_polls.items() if run and not secret}
        if named:
            for pid, user_id, choice in await prepared.rows(session, votes_read, {"ids": named}):
                rows[int(pid)].append((int(user_id), choice if int(pid) in running else None))
        secret_ids = [p for p in open_polls if p not in named]
        if secret_ids:
            for pid, user_id in await prepared.rows(session, voted_read, {"ids": secret_ids}):
                rows[int(pid)].append((int(user_id), None))
        attendance = await _attendance_of(session, {m for m, *_ in open_polls.values()})
    out: dict[int, dict[str, Any]] = {}
    for pid, (meeting_id, _secret, _run, spec_dict) in open_polls.items():
        voters = sorted(user_id for user_id, _choice in rows[pid])
        q = attendance.get(meeting_id, {"present": 0, "total": 0})
        data: dict[str, Any] = {
            "poll_id": pid,
            "voted": len(voters),
            "present": q["present"],
            "members": q["total"],
        }
        if pid in running:
            spec = spec_from_dict(spec_dict)
            known: dict[str, NormalizedChoice] = {}
            choices: list[NormalizedChoice] = []
            for _user_id, text in rows[pid]:
                if (decoded := known.get(text)) is None:
                    decoded = known[text] = validate_choice(spec, json.loads(text))
                choices.append(decoded)
            result = tally(spec, choices, q["present"], q["total"])
            data["tally"] = {
                "counts": result.to_dict()["counts"],
                "ballots": result.ballots,
                "abstentions": result.abstentions,
            }
        out[pid] = {"meeting_id": meeting_id, "data": data, "voters": voters}
    return out


@functools.cache
def _progress_reads(dialect: str) -> tuple[Any, Any, Any]:
    """`progress_of`'s reads, built once: the open polls among some, their votes (the choice as
    its stored JSON text: a running tally decodes each distinct choice once, not every ballot
    at every tick), the secret polls' "has voted" rows."""
    polls = select(
        col(Poll.id), col(Poll.meeting_id), col(Poll.secret), col(Poll.show_running), col(Poll.spec)
    ).where(in_list(col(Poll.id), "ids", dialect), col(Poll.status) == PollStatus.OPEN)
    votes = select(
        col(PollVote.poll_id), col(PollVote.user_id), cast(col(PollVote.choice), String)
    ).where(in_list(col(PollVote.poll_id), "ids", dialect))
    voted = select(col(PollParticipation.poll_id), col(PollParticipation.user_id)).where(
        in_list(col(PollParticipation.poll_id), "ids", dialect)
    )
    return polls, votes, voted


@functools.cache
def _attendance_read(dialect: str) -> Any:
    return (
        select(col(Participant.meeting_id), col(Participant.attendance), func.count())
        .where(in_list(col(Participant.meeting_id), "ids", dialect), col(Participant.voting))
        .group_by(col(Participant.meeting_id), col(Participant.attendance))
    )


async def _attendance_of(
    session: AsyncSession, meeting_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """Voting participants and those present in each of several meetings, counted in SQL in one
    query (progress runs every 50 ms while polls are open)."""
    statement = _attendance_read(session.get_bind().dialect.name)
    out: dict[int, dict[str, int]] = {}
    for meeting_id, attendance, n in await prepared.rows(
        session, statement, {"ids": sorted(meeting_ids)}
    ):
        q = out.setdefault(int(meeting_id), {"present": 0, "total": 0})
        q["total"] += int(n)
        if str(attendance) == Attendance.present:
            q["present"] += int(n)
    return out
