"""Login burst: a province's delegates all log in at 8:00 (docs/PERFORMANCE.md, "Login burst").

A rehearsal council of `--users` + `--voters` delegates seeded with `quorum demo --delegates N
--no-serve` (one argon2 hash shared by every account: seeding stays fast; with `--old-hashes`
every account gets the old 64 MiB / t=3 / p=4 hash instead, to measure the upgrade storm),
one `quorum serve` worker (SQLite, WAL) in a subprocess. `--voters` delegates, already logged
in (tokens written into the database before the start), join the meeting and keep casting
ballots in an open motion that allows changes, each every `--ballot-every` seconds; their ack
latencies are recorded for `--before` seconds of quiet (before the client processes start),
then during the burst. The burst:
`--users` logins spread uniformly over `--window` seconds (0: all at the same moment) from
`--processes` client processes, over `--addresses` loopback source addresses (tablets behind a
few access points); a login answered `503 busy` or `429` waits as `Retry-After` says and tries
again, as the web app and a well-behaved tablet app do.

Reported: logins that succeeded, time from the burst's start to the last success, login latency
(first attempt to success, retries included) p50/p99, answers 503/429, ballot ack p50/p99/max
before and during the burst, the server's CPU during the burst.

Run: `uv run python -m tests.bench.bench_login_burst --users 2000 --window 60`
(small: `--users 200 --window 10`; all at once: `--window 0`).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from argon2 import PasswordHasher
from sqlalchemy import update

from meetings.config import Settings
from meetings.services.assembly import create_services
from meetings.storage.tables import Participant, User, utcnow
from realtime.client import QuorumClient
from realtime.loadtest import cpu_s, quiet_gc, run_loop
from tests.integration.voting.rig import (
    QuorumProcess,
    connect_all,
    each,
    first_meeting,
    log_in,
    mint_tokens,
)

PASSWORD = "bench-login-burst-1"
OLD = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
"""argon2-cffi's defaults, which Quorum used before 19 MiB / t=2 / p=1."""


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the login clients (each in its own process) ---------------------------------------------


@dataclass
class Outcome:
    name: str
    first_at: float = 0.0  # wall clock (time.time) of the first attempt
    done_at: float | None = None  # of the success
    attempts: int = 0
    busy: int = 0
    limited: int = 0
    error: str | None = None


def _client_process(
    pipe: Connection, url: str, names: list[str], offsets: list[float], addresses: list[str]
) -> None:
    """Say "ready" once started, receive the burst's start (wall clock), log everyone in."""
    outcomes = asyncio.run(_log_in_all(pipe, url, names, offsets, addresses))
    pipe.send([o.__dict__ for o in outcomes])
    pipe.close()


async def _log_in_all(
    pipe: Connection, url: str, names: list[str], offsets: list[float], addresses: list[str]
) -> list[Outcome]:
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0, force_close=True),
            timeout=aiohttp.ClientTimeout(total=600),
        )
        for address in addresses
    ]
    pipe.send("ready")
    burst_at = float(await asyncio.to_thread(pipe.recv))
    try:
        return list(
            await asyncio.gather(
                *(
                    _one(sessions[i % len(sessions)], url, name, burst_at + offset)
                    for i, (name, offset) in enumerate(zip(names, offsets, strict=True))
                )
            )
        )
    finally:
        for session in sessions:
            await session.close()


async def _one(http: aiohttp.ClientSession, url: str, name: str, start: float) -> Outcome:
    outcome = Outcome(name)
    await asyncio.sleep(max(0.0, start - time.time()))
    outcome.first_at = time.time()
    body = {"username": name, "password": PASSWORD}
    while outcome.attempts < 100:
        outcome.attempts += 1
        try:
            async with http.post(url + "/api/auth/login", json=body) as response:
                status = response.status
                retry = float(response.headers.get("retry-after", "1") or 1)
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcome.error = type(exc).__name__
            await asyncio.sleep(1.0)
            continue
        if status == 200:
            outcome.done_at = time.time()
            outcome.error = None
            return outcome
        if status in (429, 503):
            outcome.busy += status == 503
            outcome.limited += status == 429
            await asyncio.sleep(retry + random.uniform(0, 0.5))
            continue
        outcome.error = f"http {status}"
        return outcome
    return outcome


# --- the voters (in this process) ------------------------------------------------------------


@dataclass
class Ballots:
    acks: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    errors: list[str] = field(default_factory=list)


async def keep_voting(
    clients: list[QuorumClient], poll_id: int, every: float, stop: asyncio.Event, out: Ballots
) -> None:
    async def voter(index: int, client: QuorumClient) -> None:
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, every))
        choice = index % 2
        while not stop.is_set():
            choice = 1 - choice
            body = {
                "poll_id": poll_id,
                "choice": ("yes", "no")[choice],
                "idempotency_key": uuid.uuid4().hex,
            }
            sent = time.time()
            try:
                ack = await client.sio.call("ballot.cast", body, timeout=60)
            except TimeoutError:
                out.errors.append("timeout")
                continue
            if ack.get("ok"):
                out.acks.append((sent, time.time() - sent))
            else:
                out.errors.append(str(ack.get("error", {}).get("code")))
            await asyncio.sleep(max(0.0, every + rng.uniform(-0.1, 0.1) * every))

    await asyncio.gather(*(voter(i, c) for i, c in enumerate(clients)))


# --- the run ---------------------------------------------------------------------------------


async def prepare_database(data_dir: Path, old_hashes: bool) -> None:
    """Everyone present (the desk recorded the hall: the motion needs a quorum to open, and
    the delegates logging in are not checked in yet); with `old_hashes`, every account gets the
    old 64 MiB / t=3 / p=4 hash (one hash, shared)."""
    services = create_services(Settings(data_dir=data_dir).prepare())
    try:
        async with services.uow() as uow:
            await uow.session.execute(
                update(Participant).values(
                    attendance="present", checked_in_at=utcnow(), recorded_how="desk"
                )
            )
            if old_hashes:
                old = await asyncio.to_thread(OLD.hash, PASSWORD)
                await uow.session.execute(update(User).values(password_hash=old))
            await uow.commit()
    finally:
        await services.db.dispose()


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    server = QuorumProcess(data_dir)
    total = args.users + args.voters
    print(f"seeding {total} delegates …", flush=True)
    server.seed(total, PASSWORD)
    await prepare_database(data_dir, args.old_hashes)
    voters = [f"delegate{i:03d}" for i in range(1, args.voters + 1)]
    users = [f"delegate{i:03d}" for i in range(args.voters + 1, total + 1)]
    tokens = await mint_tokens(data_dir, voters)
    await server.start(limit_s=300)  # a loaded machine starts slowly
    clients: dict[str, QuorumClient] = {}
    pid = server.proc.pid if server.proc else None
    try:
        chair_token = (await log_in(server.base_url, ["chair"], PASSWORD))["chair"]
        chair = QuorumClient(server.base_url, chair_token)
        await chair.connect()
        meeting_id = await first_meeting(server.base_url, chair_token)
        await chair.join(meeting_id)
        await chair.command("meeting.open", {"meeting_id": meeting_id})
        clients = await connect_all(server.base_url, tokens)
        delegates = list(clients.values())
        await each(delegates, "attendance.check_in", {"meeting_id": meeting_id}, concurrency=20)
        gate = asyncio.Semaphore(20)

        async def join(client: QuorumClient) -> None:
            async with gate:
                await client.join(meeting_id)

        await asyncio.gather(*(join(c) for c in delegates))
        poll = await chair.command(
            "poll.create",
            {
                "meeting_id": meeting_id,
                "kind": "motion",
                "title": "Burst",
                "secret": False,
                "allow_change": True,
            },
        )
        poll_id = int(poll["poll_id"])
        await chair.command("poll.open", {"poll_id": poll_id})
        quiet_gc()

        ballots = Ballots()
        stop = asyncio.Event()
        voting = asyncio.create_task(
            keep_voting(delegates, poll_id, args.ballot_every, stop, ballots)
        )
        print(f"ballots for {args.before:.0f} s before the burst …", flush=True)
        quiet_from = time.time()
        await asyncio.sleep(args.before)
        quiet_to = time.time()

        processes = max(1, min(args.processes, len(users)))
        addresses = [f"127.0.{1 + k // 250}.{1 + k % 250}" for k in range(args.addresses)]
        rng = random.Random(11)
        offsets = [rng.uniform(0, args.window) if args.window else 0.0 for _ in users]
        mp = multiprocessing.get_context("spawn")
        pipes, procs = [], []
        for k in range(processes):
            parent, child = mp.Pipe()
            proc = mp.Process(
                target=_client_process,
                args=(
                    child,
                    server.base_url,
                    users[k::processes],
                    offsets[k::processes],
                    addresses[k::processes] or addresses,
                ),
                daemon=True,
            )
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        print(
            f"burst: {len(users)} logins "
            + (f"within {args.window:.0f} s" if args.window else "all at once")
            + f" from {processes} processes …",
            flush=True,
        )
        for pipe in pipes:
            assert await asyncio.to_thread(pipe.recv) == "ready"
        burst_at = time.time() + 0.5
        for pipe in pipes:
            pipe.send(burst_at)
        cpu_before = cpu_s(pid)
        await asyncio.sleep(max(0.0, burst_at - time.time()))
        outcomes: list[dict[str, Any]] = []
        for pipe in pipes:
            outcomes += await asyncio.to_thread(pipe.recv)
        cpu_after = cpu_s(pid)
        burst_end = time.time()
        for proc in procs:
            proc.join(10)
        stop.set()
        await voting
        await chair.command("poll.close", {"poll_id": poll_id})
        await chair.disconnect()
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients.values()), return_exceptions=True)
        server.stop()

    done = [o for o in outcomes if o["done_at"] is not None]
    latencies = [o["done_at"] - o["first_at"] for o in done]
    before = [s for at, s in ballots.acks if quiet_from <= at <= quiet_to]
    during = [s for at, s in ballots.acks if burst_at <= at <= burst_end]
    burst_s = burst_end - burst_at
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    errors: dict[str, int] = {}
    for o in outcomes:
        if o["done_at"] is None:
            errors[str(o["error"])] = errors.get(str(o["error"]), 0) + 1
    return {
        "users": len(users),
        "succeeded": len(done),
        "failed": errors,
        "last_success_s": max(o["done_at"] for o in done) - burst_at if done else None,
        "login_p50_s": statistics.median(latencies) if latencies else None,
        "login_p99_s": pct(latencies, 0.99),
        "login_max_s": max(latencies) if latencies else None,
        "answers_503": sum(o["busy"] for o in outcomes),
        "answers_429": sum(o["limited"] for o in outcomes),
        "ballots_before": len(before),
        "ballot_p50_before_ms": 1000 * statistics.median(before) if before else None,
        "ballot_p99_before_ms": 1000 * p if (p := pct(before, 0.99)) is not None else None,
        "ballots_during": len(during),
        "ballot_p50_during_ms": 1000 * statistics.median(during) if during else None,
        "ballot_p99_during_ms": 1000 * p if (p := pct(during, 0.99)) is not None else None,
        "ballot_max_during_ms": 1000 * max(during) if during else None,
        "ballot_errors": len(ballots.errors),
        "burst_s": burst_s,
        "server_cpu_s": cpu,
        "server_cores_busy": cpu / burst_s if cpu is not None and burst_s > 0 else None,
    }


def show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return str(value)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000, help="delegates logging in")
    parser.add_argument(
        "--window", type=float, default=60.0, help="seconds the logins are spread over; 0: at once"
    )
    parser.add_argument("--voters", type=int, default=50, help="delegates casting ballots")
    parser.add_argument("--ballot-every", type=float, default=1.0, help="seconds per voter")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of ballots first")
    parser.add_argument("--processes", type=int, default=4, help="login client processes")
    parser.add_argument("--addresses", type=int, default=20, help="loopback source addresses")
    parser.add_argument(
        "--old-hashes",
        action="store_true",
        help="every account starts with the old 64 MiB / t=3 / p=4 hash (the upgrade storm)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quorum-login-burst-") as folder:
        figures = await run(args, Path(folder))
    mode = f"within {args.window:.0f} s" if args.window else "all at once"
    print(
        f"\nLogin burst: {figures['users']} logins {mode}"
        f"{' (old hashes)' if args.old_hashes else ''}, {args.voters} voters casting every "
        f"{args.ballot_every:g} s; {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    rows = [
        ("logins succeeded", f"{figures['succeeded']} of {figures['users']}"),
        ("failed (by last error)", figures["failed"] or 0),
        ("last success, s after the burst's start", figures["last_success_s"]),
        ("login latency p50 s (first attempt → token)", figures["login_p50_s"]),
        ("login latency p99 s", figures["login_p99_s"]),
        ("login latency max s", figures["login_max_s"]),
        ("503 busy answers (retried)", figures["answers_503"]),
        ("429 answers (retried)", figures["answers_429"]),
        ("ballot acks before the burst", figures["ballots_before"]),
        ("ballot ack p50 / p99 ms before", f"{show(figures['ballot_p50_before_ms'])} / "
         f"{show(figures['ballot_p99_before_ms'])}"),
        ("ballot acks during the burst", figures["ballots_during"]),
        ("ballot ack p50 / p99 / max ms during", f"{show(figures['ballot_p50_during_ms'])} / "
         f"{show(figures['ballot_p99_during_ms'])} / {show(figures['ballot_max_during_ms'])}"),
        ("ballot errors", figures["ballot_errors"]),
        ("burst duration s (until the last login ended)", figures["burst_s"]),
        ("server CPU s during the burst", figures["server_cpu_s"]),
        ("server cores busy (CPU s / wall s)", figures["server_cores_busy"]),
    ]  # fmt: skip
    print("| figure | Quorum (SQLite, 1 worker) |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {show(value)} |")


if __name__ == "__main__":
    run_loop(main())
