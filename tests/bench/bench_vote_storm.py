"""Vote storm: N delegates cast within one second (docs/PERFORMANCE.md, "Vote storm").

Quorum: a rehearsal council seeded with `quorum demo --delegates N --no-serve`, one `quorum
serve` worker (SQLite, WAL) in a subprocess; N QuorumClients joined and checked in; an open
motion that shows its running tally. Each client casts once at a random moment within
`--spread` seconds. Measured: every ack (p50/p99/max from emit to ack) and the time from the
last ballot sent until every client holds an update counting all N ballots.
Bare: `tests/bench/bare_vote_server.py` (python-socketio, in-memory count, the same 50 ms
coalescing), the same storm from the same number of clients, in the same run.

Run: `uv run python -m tests.bench.bench_vote_storm --delegates 500`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import socketio

from realtime.client import QuorumClient
from realtime.loadtest import cpu_s, quiet_gc, run_loop
from tests.bench._server import bare_server
from tests.integration.voting.rig import (
    QuorumProcess,
    connect_all,
    each,
    first_meeting,
    log_in,
    mint_tokens,
)

PASSWORD = "bench-vote-storm-1"


@dataclass
class Storm:
    n: int
    sent: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    final_at: dict[int, float] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    server_cpu_s: float | None = None
    updates: int = 0  # progress updates received by all clients during the measured window

    def figures(self) -> dict[str, Any]:
        acks = sorted(self.acks)
        last = max(self.sent)
        everyone = max(self.final_at.values()) if len(self.final_at) == self.n else None
        return {
            "acked": len(acks),
            "failed": len(self.failed),
            "ack_p50_ms": 1000 * statistics.median(acks) if acks else None,
            "ack_p99_ms": 1000 * acks[min(len(acks) - 1, int(0.99 * len(acks)))] if acks else None,
            "ack_max_ms": 1000 * acks[-1] if acks else None,
            "final_after_last_ms": 1000 * (everyone - last) if everyone else None,
            "clients_with_final": len(self.final_at),
            "client_loop_lag_p99_ms": 1000 * sorted(self.lags)[int(0.99 * len(self.lags))]
            if self.lags
            else None,
            "updates_per_client": self.updates / self.n,
            "server_cpu_ms_per_ballot": 1000 * self.server_cpu_s / self.n
            if self.server_cpu_s is not None
            else None,
        }


def watch_final(storm: Storm, clients: list[QuorumClient], poll_id: int) -> None:
    """Count each client's progress updates and note when it first holds one counting all
    `storm.n` ballots."""
    for index, client in enumerate(clients):

        def seen(update: dict[str, Any], index: int = index) -> None:
            data = update.get("data", {})
            storm.updates += update.get("type") == "poll_progress"
            if (
                update.get("type") == "poll_progress"
                and data.get("poll_id") == poll_id
                and data.get("voted") == storm.n
                and index not in storm.final_at
            ):
                storm.final_at[index] = time.perf_counter()

        client.on_update = seen


async def open_motion(chair: QuorumClient, meeting_id: int, title: str) -> int:
    """An open motion showing its running tally; answers its id."""
    poll = await chair.command(
        "poll.create",
        {
            "meeting_id": meeting_id,
            "kind": "motion",
            "title": title,
            "secret": False,
            "show_running": True,
        },
    )
    poll_id = int(poll["poll_id"])
    await chair.command("poll.open", {"poll_id": poll_id})
    return poll_id


def quorum_caster(client: QuorumClient, choice: str, *, poll_id: int) -> Any:
    """An async callable that casts `choice` once and answers an error code or None."""

    async def cast() -> str | None:
        body = {"poll_id": poll_id, "choice": choice, "idempotency_key": uuid.uuid4().hex}
        ack = await client.sio.call("ballot.cast", body, timeout=30)
        return None if ack.get("ok") else str(ack.get("error", {}).get("code"))

    return cast


async def _measured(storm: Storm, pid: int | None, run: Any) -> None:
    """Run the storm and wait for the final tally, counting the server's CPU meanwhile."""
    before = cpu_s(pid)
    await run
    await _await_final(storm)
    after = cpu_s(pid)
    if before is not None and after is not None:
        storm.server_cpu_s = after - before


def _pct(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return str(value)


async def _storm(casters: list[Any], spread: float, storm: Storm) -> None:
    """casters: async callables; each casts once and returns an error code or None."""
    rng = random.Random(7)
    t0 = time.perf_counter() + 0.2

    async def one(cast: Any) -> None:
        await asyncio.sleep(max(0.0, t0 + rng.uniform(0, spread) - time.perf_counter()))
        start = time.perf_counter()
        storm.sent.append(start)
        error = await cast()
        if error:
            storm.failed.append(error)
        else:
            storm.acks.append(time.perf_counter() - start)

    async def lag() -> None:  # how late the clients' own event loop runs during the storm
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            storm.lags.append(time.perf_counter() - before - 0.01)

    probe = asyncio.create_task(lag())
    await asyncio.gather(*(one(c) for c in casters))
    probe.cancel()


async def _await_final(storm: Storm, limit_s: float = 15.0) -> None:
    end = time.perf_counter() + limit_s
    while len(storm.final_at) < storm.n and time.perf_counter() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def run_quorum(n: int, spread: float, data_dir: Path) -> dict[str, Any]:
    server = QuorumProcess(data_dir)
    print(f"seeding {n} delegates …", flush=True)
    server.seed(n, PASSWORD)
    names = [f"delegate{i:03d}" for i in range(1, n + 1)]
    tokens = await mint_tokens(data_dir, names)
    await server.start()
    clients: dict[str, QuorumClient] = {}
    try:
        chair_token = (await log_in(server.base_url, ["chair"], PASSWORD))["chair"]
        chair = QuorumClient(server.base_url, chair_token)
        await chair.connect()
        meeting_id = await first_meeting(server.base_url, chair_token)
        await chair.join(meeting_id)
        await chair.command("meeting.open", {"meeting_id": meeting_id})
        print(f"connecting {n} clients …", flush=True)
        clients = await connect_all(server.base_url, tokens)
        delegates = list(clients.values())
        await each(delegates, "attendance.check_in", {"meeting_id": meeting_id}, concurrency=20)
        gate = asyncio.Semaphore(20)

        async def join(c: QuorumClient) -> None:
            async with gate:
                await c.call("meeting.join", {"meeting_id": meeting_id}, timeout=60)

        await asyncio.gather(*(join(c) for c in delegates))
        poll_id = await open_motion(chair, meeting_id, "Storm")
        storm = Storm(n)
        watch_final(storm, delegates, poll_id)
        caster = partial(quorum_caster, poll_id=poll_id)

        await asyncio.sleep(1.0)
        quiet_gc()
        rng = random.Random(3)
        print("storm …", flush=True)
        casters = [caster(c, rng.choice(["yes", "no", "abstain"])) for c in delegates]
        pid = server.proc.pid if server.proc else None
        await _measured(storm, pid, _storm(casters, spread, storm))
        closed = await chair.command("poll.close", {"poll_id": poll_id})
        figures = storm.figures()
        figures["counted"] = closed["poll"]["result"]["ballots"]
        await chair.disconnect()
        return figures
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients.values()), return_exceptions=True)
        server.stop()


async def run_bare(n: int, spread: float) -> dict[str, Any]:
    clients: list[socketio.AsyncClient] = []
    argv = [sys.executable, "-m", "tests.bench.bare_vote_server"]
    async with bare_server(argv) as (url, pid):
        try:
            storm = Storm(n)
            gate = asyncio.Semaphore(50)

            async def connect(index: int) -> socketio.AsyncClient:
                client = socketio.AsyncClient()

                async def update(body: dict[str, Any]) -> None:
                    storm.updates += 1
                    if body["data"]["voted"] == n and index not in storm.final_at:
                        storm.final_at[index] = time.perf_counter()

                client.on("update", update)
                async with gate:
                    await client.connect(url, transports=["websocket"], wait_timeout=30)
                return client

            clients = list(await asyncio.gather(*(connect(i) for i in range(n))))

            def caster(client: socketio.AsyncClient, choice: str) -> Any:
                async def cast() -> str | None:
                    ack = await client.call("ballot.cast", {"choice": choice}, timeout=30)
                    return None if ack.get("ok") else "error"

                return cast

            await asyncio.sleep(1.0)
            quiet_gc()
            rng = random.Random(3)
            casters = [caster(c, rng.choice(["yes", "no", "abstain"])) for c in clients]
            await _measured(storm, pid, _storm(casters, spread, storm))
            figures = storm.figures()
            figures["counted"] = n
            return figures
        finally:
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--spread", type=float, default=1.0, help="seconds the storm lasts")
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="storms per stack, Quorum and bare taking turns; the table shows medians",
    )  # fmt: skip
    args = parser.parse_args()
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(await run_quorum(args.delegates, args.spread, Path(tmp)))
        print(f"round {round_} Quorum: {ours[-1]}", flush=True)
        theirs.append(await run_bare(args.delegates, args.spread))
        print(f"round {round_} bare: {theirs[-1]}", flush=True)
    print(
        f"\nVote storm: {args.delegates} delegates within {args.spread:.1f} s, "
        f"{args.rounds} rounds (median, then each round); "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    rows = [
        ("ballots acknowledged", "acked"),
        ("errors", "failed"),
        ("counted", "counted"),
        ("ack p50 ms", "ack_p50_ms"),
        ("ack p99 ms", "ack_p99_ms"),
        ("ack max ms", "ack_max_ms"),
        ("final tally on every client, ms after the last ballot", "final_after_last_ms"),
        ("clients holding the final tally", "clients_with_final"),
        ("client event-loop lag p99 ms (the load generator itself)", "client_loop_lag_p99_ms"),
        ("progress updates received per client", "updates_per_client"),
        ("server CPU ms per ballot (storm until final tally)", "server_cpu_ms_per_ballot"),
    ]
    print("| figure | Quorum (SQLite, 1 worker) | bare python-socketio |")
    print("|---|---|---|")
    for label, key in rows:
        print(f"| {label} | {_summary(ours, key)} | {_summary(theirs, key)} |")


def _summary(runs: list[dict[str, Any]], key: str) -> str:
    """The median of the rounds, then each round: "208 (299, 208, 180)"."""
    values = [run[key] for run in runs]
    if len(values) == 1 or any(v is None for v in values):
        return " / ".join(_pct(v) for v in values)
    return f"{_pct(statistics.median(values))} ({', '.join(_pct(v) for v in values)})"


if __name__ == "__main__":
    run_loop(main())
