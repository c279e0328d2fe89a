"""Refusals with clear codes, exactly-once retries, quorum and the automatic close."""

from __future__ import annotations

import asyncio
import uuid

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
