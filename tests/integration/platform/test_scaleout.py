"""Two `quorum serve` processes behind Redis and one PostgreSQL database (docs/PROTOCOL.md,
"Scale-out"): clients on each see the same events in the same order with the same seq."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from realtime.client import CommandFailed, QuorumClient, login
from tests.conftest import (
    DELEGATES,
    PASSWORD,
    _seed,
    need,
    pg_admin,
    pg_available,
    pg_url,
    redis_available,
    redis_url,
)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):  # a cold start imports a lot on a busy 2-core machine
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[tuple[list[str], int]]:
    ok, why = await pg_available()
    need("PostgreSQL", ok, why)
    ok, why = await redis_available()
    need("Redis", ok, why)
    name = f"quorum_so_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen[bytes]] = []
    try:
        seeded = await _seed(pg_url(name), tmp_path)
        env = dict(
            os.environ,
            QUORUM_DATABASE_URL=pg_url(name),
            QUORUM_DATA_DIR=str(tmp_path),
            QUORUM_REDIS_URL=redis_url(),
            QUORUM_SECRET_KEY="test-secret",
            QUORUM_LOG_LEVEL="warning",
        )
        urls = []
        for _ in range(2):
            port = free_port()
            procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - start-up only, returns at once
                    [sys.executable, "-m", "meetings.cli", "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        await asyncio.gather(*(wait_ready(u, p) for u, p in zip(urls, procs, strict=True)))
        yield urls, int(seeded["meeting_id"])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_two_workers_same_events_same_order(two_workers: tuple[list[str], int]) -> None:
    urls, m = two_workers
    clients: list[QuorumClient] = []
    async with aiohttp.ClientSession() as session:
        for i, username in enumerate(["chair", "delegate001", "delegate002", "secretary"]):
            url = urls[i % 2]
            clients.append(QuorumClient(url, await login(session, url, username, PASSWORD)))
    try:
        for client in clients:
            await client.connect()
            await client.join(m)
        chair, one, two, secretary = clients
        await chair.command("meeting.open", {"meeting_id": m})
        items = [i["id"] for i in chair.meetings[m].snapshot["agenda"]]
        # commands on both workers, interleaved and concurrent
        await asyncio.gather(
            one.command("attendance.check_in", {"meeting_id": m}),
            two.command("attendance.check_in", {"meeting_id": m}),
            chair.command("agenda.set_current", {"meeting_id": m, "item_id": items[1]}),
            one.command("speakers.request", {"meeting_id": m, "item_id": items[0]}),
            two.command("speakers.request", {"meeting_id": m, "item_id": items[0]}),
        )
        token = secretary.token
        async with aiohttp.ClientSession() as session:
            async with session.get(
                f"{urls[1]}/api/meetings/{m}", headers={"authorization": f"Bearer {token}"}
            ) as response:
                final = int((await response.json())["seq"])
        streams = []
        for client in clients:
            view = await client.wait_for_seq(m, final, timeout=15)
            streams.append([(e["seq"], e["type"], e["data"]) for e in view.applied])
        assert all(stream == streams[0] for stream in streams)
        seqs = [s for s, _, _ in streams[0]]
        assert seqs == list(range(seqs[0], final + 1)) and len(seqs) >= 6
        # presence counts devices on both workers
        for _ in range(60):
            latest = [u["data"] for u in chair.updates if u["type"] == "presence"]
            if latest and max(latest, key=lambda d: d["version"])["online"] >= 4:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"presence never counted both workers: {chair.updates[-2:]}")
    finally:
        for client in clients:
            await client.disconnect()


async def test_vote_progress_reaches_every_worker(two_workers: tuple[list[str], int]) -> None:
    """Each worker sends progress to its own tablets only; what tells it that a ballot was
    cast on the other worker is the signal through Redis. A ballot cast on worker A must
    reach a tablet and the chair on worker B as `poll_progress` / `poll_voters`."""
    urls, m = two_workers
    names = ["chair", *(f"delegate{i:03d}" for i in range(1, DELEGATES + 1))]
    clients: dict[str, QuorumClient] = {}
    async with aiohttp.ClientSession() as session:
        for username in names:
            url = urls[1] if username in ("chair", "delegate002") else urls[0]
            clients[username] = QuorumClient(url, await login(session, url, username, PASSWORD))
    try:
        for client in clients.values():
            await client.connect()
            await client.join(m)
        chair = clients["chair"]
        await chair.command("meeting.open", {"meeting_id": m})
        for client in clients.values():
            await client.command("attendance.check_in", {"meeting_id": m})
        poll = await chair.command(
            "poll.create",
            {"meeting_id": m, "kind": "motion", "title": "Across workers", "show_running": True},
        )
        poll_id = int(poll["poll_id"])
        await chair.command("poll.open", {"poll_id": poll_id})
        voter = clients["delegate001"]  # on worker A
        watcher = clients["delegate002"]  # on worker B, as is the chair
        await voter.command("ballot.cast", {"poll_id": poll_id, "choice": "yes"})

        def progress(client: QuorumClient, kind: str) -> list[dict[str, Any]]:
            return [
                u["data"]
                for u in client.updates
                if u["type"] == kind and u["data"].get("poll_id") == poll_id
            ]

        for _ in range(100):
            seen_b = [p for p in progress(watcher, "poll_progress") if p["voted"] == 1]
            voters_b = [p for p in progress(chair, "poll_voters") if p["user_ids"]]
            seen_a = [p for p in progress(voter, "poll_progress") if p["voted"] == 1]
            if seen_b and voters_b and seen_a:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(
                f"progress did not reach both workers: B {progress(watcher, 'poll_progress')},"
                f" chair {progress(chair, 'poll_voters')}, A {progress(voter, 'poll_progress')}"
            )
        assert seen_b[-1]["tally"] == seen_a[-1]["tally"]
        assert len(voters_b[-1]["user_ids"]) == 1
    finally:
        for client in clients.values():
            await client.disconnect()


async def test_ballots_racing_a_close_on_two_workers(two_workers: tuple[list[str], int]) -> None:
    """Both workers' ballot batches store ballots in the same polls at once (a batch holds its
    polls FOR SHARE), while the chair closes one poll in the middle (FOR UPDATE: it waits for
    the batches in flight). Every member votes in eight polls on both workers, changing their
    choice five times in each. Every ballot is acknowledged or refused because its poll had
    closed, none fails, and each poll counts exactly every member's last acknowledged choice."""
    urls, m = two_workers
    names = ["chair", *(f"delegate{i:03d}" for i in range(1, DELEGATES + 1))]
    clients: dict[str, list[QuorumClient]] = {}
    async with aiohttp.ClientSession() as session:
        for username in names:  # two tablets each, one on each worker
            token = await login(session, urls[0], username, PASSWORD)
            clients[username] = [QuorumClient(url, token) for url in urls]
    everyone = [c for pair in clients.values() for c in pair]
    try:
        for client in everyone:
            await client.connect()
            await client.join(m)
        chair = clients["chair"][0]
        await chair.command("meeting.open", {"meeting_id": m})
        for username in names:
            await clients[username][0].command("attendance.check_in", {"meeting_id": m})
        polls = []
        for k in range(8):
            made = await chair.command(
                "poll.create",
                {"meeting_id": m, "kind": "motion", "title": f"Motion {k}", "allow_change": True},
            )
            polls.append(int(made["poll_id"]))
            await chair.command("poll.open", {"poll_id": polls[-1]})
        last: dict[tuple[int, str], str] = {}  # (poll, member) → last acknowledged choice
        refused: list[str] = []
        first_round = asyncio.Event()
        rounds = 5

        async def vote(username: str, poll_id: int, n: int) -> None:
            for r in range(rounds):
                choice = ("yes", "no", "abstain")[(n + r) % 3]
                tablet = clients[username][(n + r) % 2]
                try:
                    ack = await tablet.command(
                        "ballot.cast", {"poll_id": poll_id, "choice": choice}
                    )
                except CommandFailed as exc:
                    refused.append(str(exc))
                    assert "poll_not_open" in str(exc) and poll_id == polls[0], exc
                    return
                assert ack["choice"] == choice
                last[(poll_id, username)] = choice
                if r == 0 and len(last) == len(polls) * len(names):
                    first_round.set()

        async def close_midway() -> dict[str, Any]:
            await first_round.wait()
            return await clients["chair"][1].command("poll.close", {"poll_id": polls[0]})

        votes = [
            vote(u, p, n) for n, (u, p) in enumerate((u, p) for u in names for p in polls)
        ]
        _, closed = await asyncio.gather(asyncio.gather(*votes), close_midway())
        results = {polls[0]: closed["poll"]["result"]}
        for poll_id in polls[1:]:
            results[poll_id] = (await chair.command("poll.close", {"poll_id": poll_id}))[
                "poll"
            ]["result"]
        for poll_id, result in results.items():
            expected = {option: 0 for option in ("yes", "no", "abstain")}
            for (p, _), choice in last.items():
                if p == poll_id:
                    expected[choice] += 1
            counts = {c["option"]: c["value"] for c in result["counts"]}
            assert counts == expected, (poll_id, counts, expected)
        # the close came while ballots were still arriving: some of the first poll's were late
        assert refused, "every ballot of the first poll came before its close: no race"
    finally:
        for client in everyone:
            await client.disconnect()


async def test_a_logout_on_one_worker_closes_the_socket_on_the_other(
    two_workers: tuple[list[str], int],
) -> None:
    """Revocation crosses workers through Redis (docs/PROTOCOL.md, "Revocation")."""
    urls, m = two_workers
    async with aiohttp.ClientSession() as session:
        token = await login(session, urls[1], "delegate003", PASSWORD)
    client = QuorumClient(urls[1], token)
    closed = asyncio.Event()
    client.sio.on("disconnect", lambda *_args: closed.set())
    await client.connect()
    try:
        await client.join(m)
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{urls[0]}/api/auth/logout", headers={"authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == 200
        await asyncio.wait_for(closed.wait(), timeout=3)
    finally:
        await client.disconnect()
