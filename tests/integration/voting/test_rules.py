"""Refusals with clear codes, exactly-once retries, quorum, the automatic close, and polls when
the sitting closes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

from realtime.client import CommandFailed
from tests.integration.voting.conftest import Sitting, cast, refused


async def test_refusals_have_clear_codes(sitting: Sitting) -> None:
    server, d = sitting.server, sitting.delegates
    mid = sitting.meeting_id
    body = {"meeting_id": mid, "kind": "motion", "title": "M", "secret": False}
    assert await refused(d[0].command("poll.create", body)) == "forbidden"
    poll_id = await sitting.create()
    assert await refused(d[0].command("poll.open", {"poll_id": poll_id})) == "forbidden"
    assert await refused(cast(d[0], poll_id, "yes")) == "poll_not_open"  # still a draft
    await sitting.chair.command("poll.open", {"poll_id": poll_id})
    assert await refused(sitting.chair.command("poll.open", {"poll_id": poll_id})) == (
        "illegal_transition"
    )
    secretary = await server.client("secretary")
    display = await server.client("display")
    assert await refused(cast(secretary, poll_id, "yes")) == "not_voting_member"
    assert await refused(cast(display, poll_id, "yes")) == "not_voting_member"
    assert await refused(cast(d[5], poll_id, "yes")) == "not_present"  # never checked in
    assert await refused(cast(d[0], poll_id, "maybe")) == "unknown_option"
    assert await refused(cast(d[0], poll_id, ["yes"])) == "invalid_choice"
    assert await refused(cast(d[0], 999_999, "yes")) == "not_found"
    assert await refused(d[0].call("ballot.cast", {"poll_id": poll_id})) == "validation"
    await cast(d[0], poll_id, "yes")
    assert await refused(cast(d[0], poll_id, "no")) == "ballot_already_cast"
    assert await refused(sitting.chair.command("poll.cancel", {"poll_id": poll_id})) == (
        "reason_required"
    )
    await sitting.chair.command("poll.close", {"poll_id": poll_id})
    assert await refused(cast(d[1], poll_id, "yes")) == "poll_not_open"
    cancelled = await sitting.chair.command(
        "poll.cancel", {"poll_id": poll_id, "reason": "wrong text on the screen"}
    )
    assert cancelled["poll"]["status"] == "cancelled"
    assert await refused(sitting.chair.command("poll.publish", {"poll_id": poll_id})) == (
        "illegal_transition"
    )
    secret = {
        "meeting_id": mid,
        "kind": "motion",
        "title": "S",
        "secret": True,
        "show_running": True,
    }
    assert await refused(sitting.chair.command("poll.create", secret)) == "secret_running_tally"
    # the cancellation and its reason are in the audit log
    from sqlalchemy import select

    from meetings.storage.tables import AuditEntry

    async with server.services.db.reading() as session:
        rows = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "poll.cancel")))
            .scalars()
            .all()
        )
    assert [r.data["reason"] for r in rows] == ["wrong text on the screen"]


async def test_retries_with_the_same_key_count_once(sitting: Sitting) -> None:
    d = sitting.delegates
    poll_id = await sitting.open()
    key = uuid.uuid4().hex
    body = {"poll_id": poll_id, "choice": "yes", "idempotency_key": key}
    first, *again = await asyncio.gather(*(d[0].call("ballot.cast", body) for _ in range(4)))
    later = await d[0].call("ballot.cast", body)
    assert sum(1 for a in [first, *again, later] if not a.get("replayed")) == 1
    assert all(a["choice"] == "yes" for a in [first, *again, later])
    # secret: the replay derives the same receipt from the seed, nothing stored links them
    secret_id = await sitting.open(secret=True)
    seed = uuid.uuid4().hex
    body = {
        "poll_id": secret_id,
        "choice": "no",
        "idempotency_key": key + "s",
        "receipt_seed": seed,
    }
    one = await d[1].call("ballot.cast", body)
    two = await d[1].call("ballot.cast", body)
    assert two["replayed"] is True and one["receipt"] == two["receipt"]
    for pid in (poll_id, secret_id):
        result = (await sitting.chair.command("poll.close", {"poll_id": pid}))["poll"]["result"]
        assert result["ballots"] == 1


async def test_chair_commands_retried_with_the_same_key_apply_once(sitting: Sitting) -> None:
    """A chair's command is not looked up before it runs: a retry runs again and either is
    refused by the state it finds or loses the race for the key at its commit; both answer
    with the first result. The answer is stored with the key, and a refusal stores nothing."""
    from sqlalchemy import func, select

    from meetings.storage.tables import CommandResult, MeetingEvent
    from meetings.storage.tables_voting import Poll

    chair, mid = sitting.chair, sitting.meeting_id
    create = {
        "meeting_id": mid,
        "kind": "motion",
        "title": "Retried",
        "secret": False,
        "idempotency_key": uuid.uuid4().hex,
    }
    acks = await asyncio.gather(*(chair.call("poll.create", create) for _ in range(3)))
    acks.append(await chair.call("poll.create", create))
    assert sum(1 for a in acks if not a.get("replayed")) == 1
    poll_id = int(acks[0]["poll_id"])
    assert {int(a["poll_id"]) for a in acks} == {poll_id}

    opening = {"poll_id": poll_id, "idempotency_key": uuid.uuid4().hex}
    first = await chair.call("poll.open", opening)
    again = await asyncio.gather(*(chair.call("poll.open", opening) for _ in range(2)))
    assert [a.get("replayed") for a in again] == [True, True]  # not "illegal_transition"
    assert all(a["poll"] == first["poll"] for a in again)

    # refused while the poll is open: the key is not kept, so it works once the poll is closed
    publishing = {"poll_id": poll_id, "idempotency_key": uuid.uuid4().hex}
    assert await refused(chair.call("poll.publish", publishing)) == "illegal_transition"
    await chair.command("poll.close", {"poll_id": poll_id})
    published = await chair.call("poll.publish", publishing)
    assert not published.get("replayed") and published["poll"]["status"] == "published"

    async with sitting.server.services.db.reading() as session:
        polls = await session.scalar(
            select(func.count()).select_from(Poll).where(Poll.title == "Retried")
        )
        opened = await session.scalar(
            select(func.count())
            .select_from(MeetingEvent)
            .where(MeetingEvent.meeting_id == mid, MeetingEvent.type == "poll_opened")
        )
        stored = (
            await session.execute(
                select(CommandResult.result).where(CommandResult.key == opening["idempotency_key"])
            )
        ).scalar_one()
    assert polls == 1 and opened == 1
    assert stored == {k: v for k, v in first.items() if k != "ok"}


async def test_quorum_is_needed_to_open(sitting: Sitting) -> None:
    server = sitting.server
    poll_id = await sitting.create()
    # 5 of 7 present; record three as absent → 2 of 7, no quorum (more than half needed)
    users = {}
    async with server.services.db.reading() as session:
        from sqlalchemy import select

        from meetings.storage.tables import User

        for u in (await session.execute(select(User))).scalars():
            users[u.username] = u.id
    for name in ("delegate001", "delegate002", "delegate003"):
        await sitting.chair.command(
            "attendance.record",
            {"meeting_id": sitting.meeting_id, "user_id": users[name], "attendance": "absent"},
        )
    assert await refused(sitting.chair.command("poll.open", {"poll_id": poll_id})) == "no_quorum"


async def test_automatic_close_and_late_ballot(sitting: Sitting) -> None:
    d = sitting.delegates
    view = sitting.chair.meetings[sitting.meeting_id]
    poll_id = await sitting.open(duration_s=1)
    await cast(d[0], poll_id, "yes")
    async with asyncio.timeout(5):
        while not any(  # noqa: ASYNC110
            e["type"] == "poll_closed" and e["data"]["poll"]["id"] == poll_id for e in view.applied
        ):
            await asyncio.sleep(0.05)
    closed = [e for e in view.applied if e["type"] == "poll_closed"][-1]
    assert closed["data"]["automatic"] is True and closed["data"]["voted"] == 1
    assert await refused(cast(d[1], poll_id, "yes")) == "poll_not_open"


async def _meeting_status(sitting: Sitting) -> str:
    from meetings.storage.tables import Meeting

    async with sitting.server.services.db.reading() as session:
        meeting = await session.get(Meeting, sitting.meeting_id)
        assert meeting is not None
        return meeting.status


async def _poll_status(sitting: Sitting, poll_id: int) -> str:
    from meetings.storage.tables_voting import Poll

    async with sitting.server.services.db.reading() as session:
        poll = await session.get(Poll, poll_id)
        assert poll is not None
        return poll.status


async def _transition(sitting: Sitting, who: str, action: str) -> tuple[int, str]:
    server = sitting.server
    status, body, _ = await server.http(
        "POST",
        f"/api/meetings/{sitting.meeting_id}/transition",
        token=await server.token(who),
        json={"action": action},
    )
    return status, body.get("status") or body["error"]["code"]


async def test_the_sitting_closes_only_without_an_open_poll(sitting: Sitting) -> None:
    """`meeting.close` is refused while a poll is open (the chair closes or cancels it first);
    once the sitting is closed its polls stay as they were until it is reopened."""
    chair, d, mid = sitting.chair, sitting.delegates, sitting.meeting_id
    poll_id = await sitting.open()
    await cast(d[0], poll_id, "yes")
    with pytest.raises(CommandFailed) as info:
        await chair.command("meeting.close", {"meeting_id": mid})
    assert info.value.code == "poll_open"
    assert info.value.error["details"] == {"poll_ids": [poll_id]}
    assert await _meeting_status(sitting) == "open"
    await cast(d[1], poll_id, "no")  # the vote goes on
    await chair.command("poll.close", {"poll_id": poll_id})
    draft = await sitting.create(title="Prepared")
    await chair.command("meeting.close", {"meeting_id": mid})  # a draft or a count do not block
    assert await _meeting_status(sitting) == "closed"
    assert await refused(chair.command("poll.publish", {"poll_id": poll_id})) == (
        "meeting_not_open"
    )
    assert await refused(chair.command("poll.open", {"poll_id": draft})) == "meeting_not_open"
    reason = {"reason": "not needed"}
    assert await refused(chair.command("poll.cancel", {"poll_id": draft} | reason)) == (
        "meeting_locked"
    )
    reopened = await _transition(sitting, "chair", "reopen")  # reopened, the chair goes on
    assert reopened == (200, "open")
    published = await chair.command("poll.publish", {"poll_id": poll_id})
    counts = {c["option"]: c["value"] for c in published["poll"]["result"]["counts"]}
    assert (counts["yes"], counts["no"]) == (1, 1)


async def test_a_closed_or_archived_sittings_open_poll_takes_no_ballot(sitting: Sitting) -> None:
    """Polls left open in a sitting closed or archived before the rule (made here in the
    database): no ballot, no close (by hand or by the timer), no cancel, the record stays. A
    closed sitting is not archived while one is open; reopened, the chair ends them."""
    from sqlalchemy import text

    from meetings.services.voting import polls
    from meetings.storage.tables_voting import Poll

    server, chair, d = sitting.server, sitting.chair, sitting.delegates

    async def set_status(meeting_status: str, due_poll: int) -> None:
        async with server.services.db.writer() as session, session.begin():
            await session.execute(
                text("UPDATE meetings SET status = :s WHERE id = :m"),
                {"s": meeting_status, "m": sitting.meeting_id},
            )
            await session.execute(
                text("UPDATE polls SET closes_at = :t WHERE id = :p"),
                {"t": datetime(2000, 1, 1), "p": due_poll},
            )

    async def frozen(*poll_ids: int) -> None:
        for poll_id in poll_ids:
            assert await refused(cast(d[1], poll_id, "no")) == "meeting_not_open"
            assert await refused(chair.command("poll.close", {"poll_id": poll_id})) == (
                "meeting_not_open"
            )
            assert (
                await refused(chair.command("poll.cancel", {"poll_id": poll_id, "reason": "late"}))
                == "meeting_locked"
            )
        assert await polls.close_due(server.services) == []  # the timer leaves them too
        async with server.services.db.reading() as session:
            for poll_id in poll_ids:
                poll = await session.get(Poll, poll_id)
                assert poll is not None and (poll.status, poll.result) == ("open", None)
        token = await server.token("chair")
        ballot = {"poll_id": poll_ids[-1], "choice": "no"}
        status, body, _ = await server.http(
            "POST", f"/api/polls/{poll_ids[-1]}/ballots", token=token, json=ballot
        )
        assert (status, body["error"]["code"]) == (409, "meeting_not_open")

    secret_id = await sitting.open(secret=True)
    open_id = await sitting.open()
    await cast(d[0], open_id, "yes")
    await set_status("closed", open_id)
    await frozen(secret_id, open_id)
    assert await _transition(sitting, "secretary", "archive") == (409, "poll_open")
    assert await _transition(sitting, "chair", "reopen") == (200, "open")
    await chair.command("poll.cancel", {"poll_id": secret_id, "reason": "left open"})
    async with asyncio.timeout(5):  # and the timer, running again, closes the one due
        while await _poll_status(sitting, open_id) != "closed":  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    late_id = await sitting.open()
    await cast(d[0], late_id, "yes")
    await set_status("archived", late_id)
    await frozen(late_id)
