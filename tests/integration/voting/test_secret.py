"""Secret ballots: receipts check out, and nothing stored or logged links a delegate to a choice."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from meetings.storage.tables import User
from meetings.storage.tables_polls import PollBallot
from tests.integration.voting.conftest import Sitting, cast, refused

CANDIDATES = [f"Cand-{i}" for i in range(1, 8)]
ID_COLUMNS = ("user_id", "actor_id", "created_by", "recorded_by", "uploaded_by", "voter_id")


async def _all_rows(sitting: Sitting) -> dict[str, list[dict[str, Any]]]:
    async with sitting.server.services.db.reading() as session:
        conn = await session.connection()
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        out = {}
        for name in names:
            result = await conn.execute(text(f'SELECT * FROM "{name}"'))
            out[name] = [dict(row._mapping) for row in result]
        return out


def _links(row: dict[str, Any], uid: int, who: tuple[str, str], secrets: list[str]) -> bool:
    blob = json.dumps(row, default=str, ensure_ascii=False)
    names_voter = any(row.get(c) == uid for c in ID_COLUMNS) or any(w in blob for w in who)
    names_voter = names_voter or f'"user_id": {uid},' in blob or f'"user_id": {uid}}}' in blob
    definition = all(c in blob for c in CANDIDATES)  # the poll's own list of candidates
    return names_voter and any(s in blob for s in secrets) and not definition


async def test_secret_poll_leaves_no_link(
    sitting: Sitting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # drivers log SQL parameters at DEBUG (docs/VOTING.md)
    for ours in ("meetings", "realtime", "quorum", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=ours)
    server, voters = sitting.server, [*sitting.delegates[:5], sitting.chair]
    poll_id = await sitting.open(
        kind="election",
        title="Secret election",
        candidates=CANDIDATES,
        seats=1,
        secret=True,
        allow_change=True,
    )
    mine: dict[str, tuple[str, str]] = {}  # username → (candidate, receipt)
    usernames = [f"delegate{i:03d}" for i in range(1, 6)] + ["chair"]
    for client, username, candidate in zip(voters, usernames, CANDIDATES, strict=False):
        ack = await cast(client, poll_id, [candidate], receipt_seed=uuid.uuid4().hex)
        mine[username] = (candidate, ack["receipt"])
    # the chair changes their ballot: only with the receipt of the one replaced
    assert await refused(cast(sitting.chair, poll_id, ["Cand-7"])) == "receipt_required"
    ack = await cast(
        sitting.chair, poll_id, ["Cand-7"], replaces=mine["chair"][1], receipt_seed=uuid.uuid4().hex
    )
    old_receipt, mine["chair"] = mine["chair"][1], ("Cand-7", ack["receipt"])
    async with server.services.db.reading() as session:
        keys_at_cast = set((await session.execute(select(PollBallot.id))).scalars())
    await sitting.chair.command("poll.close", {"poll_id": poll_id})
    await sitting.chair.command("poll.publish", {"poll_id": poll_id})
    # every voter finds their receipt with their choice in the published anonymous list
    token = await server.token("delegate001")
    status, body, _ = await server.http("GET", f"/api/polls/{poll_id}/ballots", token=token)
    assert status == 200
    listed = {b["receipt"]: b["choice"] for b in body["ballots"]}
    assert len(listed) == 6 and old_receipt not in listed
    assert all(listed[receipt] == [cand] for cand, receipt in mine.values())
    # the close re-wrote the ballots under fresh keys: nothing of the cast order survives
    rows = await _all_rows(sitting)
    assert keys_at_cast.isdisjoint({b["id"] for b in rows["poll_ballots"]})
    assert set(rows["poll_ballots"][0]) == {"id", "poll_id", "receipt", "choice"}
    async with server.services.db.reading() as session:
        users = {u.username: u for u in (await session.execute(select(User))).scalars()}
        if server.backend == "postgres":  # one writing transaction for all ballots
            xmins = (await session.execute(text("SELECT xmin::text FROM poll_ballots"))).scalars()
            part = (
                await session.execute(text("SELECT xmin::text FROM poll_participation"))
            ).scalars()
            assert len(set(xmins)) == 1 and not set(xmins) & set(part)
        else:
            ddl = (
                (
                    await session.execute(
                        text(
                            "SELECT sql FROM sqlite_master"
                            " WHERE name IN ('poll_ballots', 'poll_participation')"
                        )
                    )
                )
                .scalars()
                .all()
            )
            assert all("WITHOUT ROWID" in sql for sql in ddl)
    # no row of any table names a voter together with their receipt or choice
    for username, (candidate, receipt) in mine.items():
        user = users[username]
        for table, table_rows in rows.items():
            for row in table_rows:
                assert not _links(
                    row, user.id, (username, user.name), [receipt, f'"{candidate}"']
                ), (table, row)
    # nor does any log line or any live update
    logged = "\n".join(r.getMessage() for r in caplog.records)
    updates = json.dumps([c.updates for c in voters], ensure_ascii=False)
    for candidate, receipt in mine.values():
        assert receipt not in logged and receipt not in updates
        assert candidate not in updates
    assert "Cand-" not in logged


async def test_a_secret_ballot_changed_at_once_replaces_the_first(sitting: Sitting) -> None:
    """A change queued right behind the ballot it replaces lands in the same group commit,
    before the first is stored: it still leaves exactly one ballot, the new one."""
    import asyncio

    from meetings.services import ballot_box
    from meetings.services.auth import actor_for_token
    from meetings.services.poll_commands import CastBallot

    poll_id = await sitting.open(secret=True, allow_change=True)
    services = sitting.server.services
    token = await sitting.server.token("delegate001")
    actor = await actor_for_token(services, token)
    assert actor is not None
    first_seed, second_seed = uuid.uuid4().hex, uuid.uuid4().hex
    replaced = ballot_box.receipt_for(poll_id, first_seed)
    # both are queued before the writer task runs: one batch (the service, in-process)
    batches_before = ballot_box.ballot_box(services).batches
    first, second = await asyncio.gather(
        ballot_box.cast(
            services, actor, CastBallot(poll_id=poll_id, choice="yes", receipt_seed=first_seed)
        ),
        ballot_box.cast(
            services,
            actor,
            CastBallot(poll_id=poll_id, choice="no", replaces=replaced, receipt_seed=second_seed),
        ),
    )
    assert ballot_box.ballot_box(services).batches == batches_before + 1
    assert (first["changed"], second["changed"]) == (False, True)
    await sitting.chair.command("poll.close", {"poll_id": poll_id})
    await sitting.chair.command("poll.publish", {"poll_id": poll_id})
    status, body, _ = await sitting.server.http("GET", f"/api/polls/{poll_id}/ballots", token=token)
    assert status == 200
    assert {b["receipt"]: b["choice"] for b in body["ballots"]} == {second["receipt"]: "no"}
