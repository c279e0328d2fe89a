"""Exactly once across a crash: 200 delegates vote while `quorum serve` is SIGKILLed and
restarted; unacknowledged ballots are retried with the same idempotency key; the final tally
equals the acknowledged ballots, none lost, none twice (docs/features/voting.md, "Exactly once")."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from realtime.client import CommandFailed, QuorumClient
from tests.conftest import need, pg_admin, pg_available, pg_url
from tests.integration.voting.rig import (
    QuorumProcess,
    connect_all,
    each,
    first_meeting,
    log_in,
    mint_tokens,
)

DELEGATES = 200
PASSWORD = "crash-test-pass"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


async def _vote(
    client: QuorumClient, poll_id: int, choice: str, delay: float, stats: Counter[str]
) -> None:
    await asyncio.sleep(delay)
    body = {"poll_id": poll_id, "choice": choice, "idempotency_key": uuid.uuid4().hex}
    tries = 0
    async with asyncio.timeout(150):
        while True:
            tries += 1
            try:
                ack = await client.call("ballot.cast", body, timeout=3)
            except CommandFailed as exc:
                if exc.code in ("internal", "no_ack"):
                    stats["error_" + exc.code] += 1
                    await asyncio.sleep(0.2)
                    continue
                raise
            except Exception:  # disconnected or timed out: the ack was lost, retry the same key
                await asyncio.sleep(0.2)
                continue
            stats["acked_first_try" if tries == 1 else "acked_after_retry"] += 1
            stats["replayed"] += bool(ack.get("replayed"))
            assert ack["choice"] == choice
            return


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    ok, why = await pg_available()
    need("PostgreSQL", ok, why)
    name = f"quorum_crash_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_sigkill_during_a_vote_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, database_url: str
) -> None:
    env = {"QUORUM_DATABASE_URL": database_url} if database_url else {}
    server = QuorumProcess(tmp_path, **env)
    server.seed(DELEGATES, PASSWORD)
    names = ["chair"] + [f"delegate{i:03d}" for i in range(1, DELEGATES + 1)]
    tokens = await mint_tokens(tmp_path, names[1:], database_url)
    await server.start()
    clients: dict[str, QuorumClient] = {}
    try:
        tokens |= await log_in(server.base_url, ["chair"], PASSWORD)
        clients = await connect_all(server.base_url, tokens)
        chair = clients["chair"]
        meeting_id = await first_meeting(server.base_url, chair.token)
        await chair.command("meeting.open", {"meeting_id": meeting_id})
        delegates = [clients[n] for n in names[1:]]
        await each(delegates, "attendance.check_in", {"meeting_id": meeting_id})
        poll = await chair.command(
            "poll.create",
            {"meeting_id": meeting_id, "kind": "motion", "title": "Crash", "secret": False},
        )
        poll_id = int(poll["poll_id"])
        await chair.command("poll.open", {"poll_id": poll_id})
        rng = random.Random(4)
        choices = {n: rng.choice(["yes", "no", "abstain"]) for n in names[1:]}
        stats: Counter[str] = Counter()
        storm = [
            asyncio.create_task(_vote(clients[n], poll_id, choices[n], rng.uniform(0, 1.5), stats))
            for n in names[1:]
        ]
        await asyncio.sleep(0.6)
        server.kill()  # mid-storm
        await server.start()
        await asyncio.gather(*storm)
        async with asyncio.timeout(20):
            while True:
                try:
                    closed = await chair.command("poll.close", {"poll_id": poll_id})
                    break
                except Exception:  # the chair's socket may still be reconnecting
                    await asyncio.sleep(0.2)
        result = closed["poll"]["result"]
        expected = Counter(choices.values())
        assert result["ballots"] == DELEGATES
        assert {c["option"]: c["value"] for c in result["counts"]} == {
            o: expected[o] for o in ("yes", "no", "abstain")
        }
        assert stats["acked_first_try"] + stats["acked_after_retry"] == DELEGATES
        assert stats["acked_after_retry"] > 0, f"the kill hit no ballot in flight: {stats}"
        await chair.command("poll.publish", {"poll_id": poll_id})
        status = await chair.call("meeting.join", {"meeting_id": meeting_id})
        (published,) = [p for p in status["snapshot"]["polls"] if p["id"] == poll_id]
        usernames = {p["user_id"]: p["username"] for p in status["snapshot"]["participants"]}
        recorded = {usernames[v["user_id"]]: v["choice"] for v in published["votes"]}
        assert recorded == choices  # every delegate once, with their own choice
        print(f"crash test: {dict(stats)}")
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients.values()), return_exceptions=True)
        server.stop()
