"""A province on one server: many sittings voting at once (docs/PERFORMANCE.md, "A province on
one server").

S councils with a published sitting each (`tests.bench.province_seed`), P tablets per sitting
connected, joined and checked in, and each sitting's chair console, all from `--processes`
client processes started together (one Python process cannot drive thousands of sockets without
becoming the bottleneck itself). Then, within `--window` seconds, each chair opens a motion that
shows its running tally; every delegate votes at a random moment within `--spread` seconds of
receiving `poll_opened`; when the chair's console sees all P ballots counted (`poll_progress`),
it closes the poll and publishes it. Measured: every ballot's ack (emit to ack), the time from
the chair's `poll.close` until the LAST tablet of the sitting holds `poll_published`, the
server's CPU from the first motion until the last sitting is published (per ballot and per
sitting) and its memory; every sitting's published counts must equal the choices its tablets
sent.

Quorum: one `quorum serve` worker over SQLite, or `--workers 2,4` over PostgreSQL and Redis (a
sitting's tablets then spread over the workers, so its events cross Redis). Bare:
`tests/bench/bare_province_server.py` (python-socketio, rooms of P, the same commands and
events, counts in memory, the same 50 ms coalescing), the same load from the same client code,
in the same run.

How much more several workers carry is a question about the server only when each worker has
a core of its own. On a machine whose cores the client processes, PostgreSQL and Redis share
with the workers, one worker already keeps most of the machine busy, and a second one mostly
measures what is left over. `--worker-cpu C` caps every worker (and the bare server) at C
cores, each in a cgroup of its own, for the run: each worker gets the same fixed budget, as a
core would give it, and the rest of the machine is left to the clients and the databases
(`tests/bench/_server.py`, `cpu_capped`; Linux, as root).

    uv run python -m tests.bench.bench_province [--sittings 100] [--tablets 30]
        [--workers 1] [--window 10] [--rounds 1] [--no-bare] [--worker-cpu C] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import socketio

from realtime.loadtest import cpu_s, io_writes, machine_busy_s, quiet_gc, rss_kb, run_loop
from tests.bench._server import bare_server, cpu_capped, throttled_s
from tests.bench.province_seed import Sitting, migrate, seed_province
from tests.conftest import pg_admin, pg_url
from tests.integration.voting.rig import QuorumProcess

PASSWORD = "bench-province-1"
CHOICES = ("yes", "no", "abstain")
SERVER_ENV = {
    "QUORUM_LOG_LEVEL": "warning",
    "QUORUM_COMMAND_RATE": "1000",
    "QUORUM_COMMAND_BURST": "1000",
    "QUORUM_USER_COMMAND_RATE": "1000",
    "QUORUM_USER_COMMAND_BURST": "1000",
    "QUORUM_SECRET_KEY": "bench-province",
}


@dataclass(frozen=True)
class Plan:
    """One sitting as a client process drives it."""

    index: int
    meeting_id: int
    chair: tuple[str, str]  # token, server URL
    tablets: list[tuple[str, str]]
    offset: float  # seconds after the start when the chair opens the motion
    choices: list[str]


# -- client processes -------------------------------------------------------------------------
def _clients(conn: Connection, plans: list[Plan], spread: float) -> None:
    run_loop(_clients_main(conn, plans, spread))


async def _call(sio: socketio.AsyncClient, name: str, body: dict[str, Any]) -> dict[str, Any]:
    if name != "meeting.join":
        body = body | {"idempotency_key": uuid.uuid4().hex}
    ack = await sio.call(name, body, timeout=60)
    if not isinstance(ack, dict) or not ack.get("ok"):
        raise RuntimeError(f"{name}: {ack}")
    return ack


async def _clients_main(conn: Connection, plans: list[Plan], spread: float) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(20)
    acks: list[float] = []
    errors: list[str] = []
    updates = [0]
    sittings: list[dict[str, Any]] = []
    rng = random.Random(plans[0].index if plans else 0)

    async def enter(
        sio: socketio.AsyncClient, token: str, url: str, plan: Plan, chair: bool
    ) -> socketio.AsyncClient:
        async with gate:
            await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
            await _call(sio, "meeting.join", {"meeting_id": plan.meeting_id})
            if chair:
                try:
                    await _call(sio, "meeting.open", {"meeting_id": plan.meeting_id})
                except RuntimeError:
                    pass  # already open (a PostgreSQL database is reused between runs)
            else:
                try:
                    await _call(sio, "attendance.check_in", {"meeting_id": plan.meeting_id})
                except RuntimeError:
                    pass  # already checked in (as above)

    def tablet(plan: Plan, i: int, state: dict[str, Any]) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        choice = plan.choices[i]

        async def cast(poll_id: int) -> None:
            started = time.perf_counter()
            try:
                body = {"poll_id": poll_id, "choice": choice}
                await _call(sio, "ballot.cast", body)
                acks.append(time.perf_counter() - started)
            except Exception as exc:  # counted, reported
                errors.append(f"ballot.cast: {exc}"[:200])

        async def on_event(event: dict[str, Any]) -> None:
            kind = event.get("type")
            if kind == "poll_opened":
                poll_id = int(event["data"]["poll"]["id"])
                loop.call_later(rng.uniform(0, spread), lambda: loop.create_task(cast(poll_id)))
            elif kind == "poll_published":
                state["published"].append(time.time())

        async def on_update(update: dict[str, Any]) -> None:
            if update.get("type") == "poll_progress":
                updates[0] += 1

        sio.on("event", on_event)
        sio.on("update", on_update)
        return sio

    async def chair_run(
        plan: Plan, sio: socketio.AsyncClient, state: dict[str, Any], t0: float
    ) -> None:
        all_in = asyncio.Event()
        poll: dict[str, int] = {}

        async def on_update(update: dict[str, Any]) -> None:
            data = update.get("data", {})
            if (
                update.get("type") == "poll_progress"
                and data.get("poll_id") == poll.get("id")
                and data.get("voted") == len(plan.tablets)
            ):
                all_in.set()

        sio.on("update", on_update)
        await asyncio.sleep(max(0.0, t0 + plan.offset - time.time()))
        try:
            created = await _call(
                sio,
                "poll.create",
                {
                    "meeting_id": plan.meeting_id,
                    "kind": "motion",
                    "title": f"Biểu quyết {plan.index}",
                    "secret": False,
                    "show_running": True,
                },
            )
            poll["id"] = int(created["poll_id"])
            state["opened"] = time.time()
            await _call(sio, "poll.open", {"poll_id": poll["id"]})
            await asyncio.wait_for(all_in.wait(), 60)
            state["close"] = time.time()
            await _call(sio, "poll.close", {"poll_id": poll["id"]})
            state["closed_ack"] = time.time()
            published = await _call(sio, "poll.publish", {"poll_id": poll["id"]})
            state["published_ack"] = time.time()
            result = published["poll"]["result"]
            counts = {str(c["option"]): int(c["value"]) for c in result["counts"] if c["value"]}
            if "abstain" not in counts and result.get("abstentions"):
                counts["abstain"] = int(result["abstentions"])
            sent = {x: plan.choices.count(x) for x in set(plan.choices)}
            state["counted"] = int(result["ballots"])
            state["counts_match"] = counts == sent
        except Exception as exc:
            errors.append(f"sitting {plan.index}: {type(exc).__name__}: {exc}"[:200])

    chairs: list[socketio.AsyncClient] = []
    everyone: list[socketio.AsyncClient] = []
    entering = []
    for plan in plans:
        state: dict[str, Any] = {"index": plan.index, "published": []}
        sittings.append(state)
        chair = socketio.AsyncClient(reconnection=False)
        chairs.append(chair)
        everyone.append(chair)
        entering.append(enter(chair, *plan.chair, plan, True))
    for plan, state in zip(plans, sittings, strict=True):
        for i, (token, url) in enumerate(plan.tablets):
            sio = tablet(plan, i, state)
            everyone.append(sio)
            entering.append(enter(sio, token, url, plan, False))
    # the chairs first: a sitting opens before its delegates check in
    await asyncio.gather(*entering[: len(plans)])
    outcome = await asyncio.gather(*entering[len(plans) :], return_exceptions=True)
    failed = [f"{type(e).__name__}: {e}"[:200] for e in outcome if isinstance(e, BaseException)]
    quiet_gc()
    conn.send(("ready", len(everyone) - len(failed), failed[:5]))
    _, t0 = await loop.run_in_executor(None, conn.recv)
    await asyncio.gather(
        *(chair_run(p, c, s, t0) for p, c, s in zip(plans, chairs, sittings, strict=True))
    )
    await asyncio.sleep(0.5)  # the last published events
    conn.send(("done", acks, errors[:10], len(errors), updates[0], sittings))
    await loop.run_in_executor(None, conn.recv)  # "stop": not before every process is done,
    # or one process's sockets leaving would count in the others' figures
    await asyncio.gather(*(s.disconnect() for s in everyone), return_exceptions=True)


# -- one run ----------------------------------------------------------------------------------
def plans_for(seeded: list[Sitting], urls: list[str], window: float, seed: int = 5) -> list[Plan]:
    """Sitting k's chair on worker k mod W, its tablet i on worker (k + i) mod W; the same
    offsets and choices whatever the stack and the number of workers."""
    rng = random.Random(seed)
    w = len(urls)
    out = []
    for k, s in enumerate(seeded):
        out.append(
            Plan(
                index=k,
                meeting_id=s.meeting_id,
                chair=(s.chair_token, urls[k % w]),
                tablets=[(t, urls[(k + i) % w]) for i, t in enumerate(s.delegate_tokens)],
                offset=rng.uniform(0, window),
                choices=[rng.choice(CHOICES) for _ in s.delegate_tokens],
            )
        )
    return out


async def drive(
    plans: list[Plan], pids: list[int], processes: int, spread: float, profile: str | None
) -> dict[str, Any]:
    mp = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    for part in range(processes):
        parent, child = mp.Pipe()
        share = plans[part::processes]
        proc = mp.Process(target=_clients, args=(child, share, spread), daemon=True)
        proc.start()
        procs.append(proc)
        pipes.append(parent)
    joined, join_errors = 0, []
    for pipe in pipes:
        _, n, failed = await asyncio.to_thread(pipe.recv)
        joined += n
        join_errors += failed
    print(f"  {joined} sockets joined; go", flush=True)
    await asyncio.sleep(1.0)
    rss_before = sum(rss_kb(p) or 0 for p in pids)
    cpu0 = [cpu_s(p) or 0.0 for p in pids]
    clients0 = [cpu_s(p.pid) or 0.0 for p in procs]
    machine0 = machine_busy_s()
    io0 = [io_writes(p) or (0, 0) for p in pids]
    spy = None
    if profile:
        spy = subprocess.Popen(  # noqa: ASYNC220 - spawning does not block
            ["py-spy", "record", "--nonblocking", "-r", "200", "-o", profile, "-p", str(pids[0])]
            + (["--format", "speedscope"] if profile.endswith(".json") else [])
            + (["--format", "raw"] if profile.endswith(".txt") else []),
            stdout=subprocess.DEVNULL,
        )
    started = time.time()
    t0 = started + 0.5
    for pipe in pipes:
        pipe.send(("go", t0))
    acks: list[float] = []
    errors: list[str] = []
    n_errors = updates = 0
    sittings: list[dict[str, Any]] = []
    for pipe in pipes:
        _, part_acks, part_errors, part_n, part_updates, part_sittings = await asyncio.to_thread(
            pipe.recv
        )
        acks += part_acks
        errors += part_errors
        n_errors += part_n
        updates += part_updates
        sittings += part_sittings
    cpu1 = [cpu_s(p) or 0.0 for p in pids]
    clients1 = [cpu_s(p.pid) or 0.0 for p in procs]
    machine1 = machine_busy_s()
    io1 = [io_writes(p) or (0, 0) for p in pids]
    rss_after = sum(rss_kb(p) or 0 for p in pids)
    if spy is not None:
        spy.send_signal(2)
        await asyncio.to_thread(spy.wait, 60)
    for pipe in pipes:
        pipe.send(("stop",))
    for proc in procs:
        await asyncio.to_thread(proc.join, 60)
    busy = max((s.get("published_ack", 0.0) for s in sittings), default=started) - t0
    cpu = sum(b - a for a, b in zip(cpu0, cpu1, strict=True))
    clients_cpu = sum(b - a for a, b in zip(clients0, clients1, strict=True))
    machine_busy, machine_all = (b - a for a, b in zip(machine0, machine1, strict=True))
    ballots = sum(len(p.tablets) for p in plans)
    writes, written = (sum(b[i] - a[i] for a, b in zip(io0, io1, strict=True)) for i in (0, 1))
    results = sorted(
        max(s["published"]) - s["close"]
        for s in sittings
        if "close" in s and len(s["published"]) == len(plans[s["index"]].tablets)
    )
    arrivals = sorted(t - s["close"] for s in sittings if "close" in s for t in s["published"])
    acks.sort()
    done = [s for s in sittings if "published_ack" in s]
    closes = sorted(s["closed_ack"] - s["close"] for s in done)
    publishes = sorted(s["published_ack"] - s["closed_ack"] for s in done)
    return {
        "sittings": len(plans),
        "tablets": ballots,
        "joined": joined,
        "join_errors": join_errors,
        "acked": len(acks),
        "errors": n_errors,
        "error_samples": errors,
        "ack_p50_ms": 1000 * statistics.median(acks) if acks else None,
        "ack_p99_ms": 1000 * _p(acks, 0.99) if acks else None,
        "ack_max_ms": 1000 * acks[-1] if acks else None,
        "published_everywhere": len(results),
        "result_p50_ms": 1000 * statistics.median(results) if results else None,
        "result_p99_ms": 1000 * _p(results, 0.99) if results else None,
        "result_tablet_p99_ms": 1000 * _p(arrivals, 0.99) if arrivals else None,
        "close_ack_p99_ms": 1000 * _p(closes, 0.99) if closes else None,
        "publish_ack_p99_ms": 1000 * _p(publishes, 0.99) if publishes else None,
        "counts_match": sum(bool(s.get("counts_match")) for s in sittings),
        "counted": sum(int(s.get("counted", 0)) for s in sittings),
        "updates_per_tablet": updates / ballots if ballots else None,
        "run_s": busy,
        "server_cpu_s": cpu,
        "cpu_ms_per_ballot": 1000 * cpu / ballots if ballots else None,
        "cpu_ms_per_sitting": 1000 * cpu / len(plans) if plans else None,
        "server_writes_per_ballot": writes / ballots if ballots else None,
        "server_kb_per_ballot": written / 1024 / ballots if ballots else None,
        "clients_cpu_s": clients_cpu,
        # everything else the machine did meanwhile: PostgreSQL, Redis, this driver, the kernel
        "other_cpu_s": machine_busy - cpu - clients_cpu,
        "machine_busy": machine_busy / machine_all if machine_all else None,
        "ballots_per_s": ballots / busy if busy > 0 else None,
        "rss_mb": rss_after / 1024,
        "rss_before_mb": rss_before / 1024,
    }


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


async def drive_capped(
    args: argparse.Namespace, plans: list[Plan], pids: list[int], profile: str | None
) -> dict[str, Any]:
    """`drive`, with each of the servers `pids` capped at `--worker-cpu` cores if given."""
    with cpu_capped(pids, args.worker_cpu):
        figures = await drive(plans, pids, args.processes, args.spread, profile)
        held = [throttled_s(p) for p in pids]
    figures["worker_cpu"] = args.worker_cpu
    figures["throttled_s"] = sum(h or 0.0 for h in held) if args.worker_cpu else None
    return figures


async def run_bare(args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, "-m", "tests.bench.bare_province_server"]
    async with bare_server(argv) as (url, pid):
        fake = [
            Sitting(k, k + 1, f"chair-{k}", [f"t{k}-{i}" for i in range(args.tablets)])
            for k in range(args.sittings)
        ]
        plans = plans_for(fake, [url], args.window)
        profile = None
        if args.profile:  # beside Quorum's: FILE-bare.EXT
            profile = str(Path(args.profile).with_stem(Path(args.profile).stem + "-bare"))
        return await drive_capped(args, plans, [pid], profile)


async def run_quorum(
    args: argparse.Namespace, workers: int, folder: Path, seeded: list[Sitting], url: str
) -> dict[str, Any]:
    env = dict(SERVER_ENV)
    if url:
        env |= {"QUORUM_DATABASE_URL": url, "QUORUM_REDIS_URL": args.redis}
    servers = [QuorumProcess(folder, None, **env) for _ in range(workers)]
    await asyncio.gather(*(s.start(limit_s=300) for s in servers))  # a loaded machine is slow
    try:
        plans = plans_for(seeded, [s.base_url for s in servers], args.window)
        pids = [s.proc.pid for s in servers if s.proc]
        return await drive_capped(args, plans, pids, args.profile)
    finally:
        for server in servers:
            server.stop()


async def seed(folder: Path, args: argparse.Namespace, url: str) -> list[Sitting]:
    print(f"seeding {args.sittings} councils × {args.tablets} delegates …", flush=True)
    await asyncio.to_thread(migrate, folder, url)
    return await seed_province(folder, args.sittings, args.tablets, PASSWORD, url)


async def run(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    report: dict[str, list[dict[str, Any]]] = {}
    for round_ in range(1, args.rounds + 1):
        for workers in args.workers:
            key = f"Quorum, {workers} worker(s)" + (" (PostgreSQL + Redis)" if args.pg else "")
            with tempfile.TemporaryDirectory(prefix="quorum-province-") as tmp:
                folder = Path(tmp)
                url = ""
                name = ""
                if args.pg:
                    name = f"quorum_province_{uuid.uuid4().hex[:10]}"
                    url = pg_url(name)
                    await pg_admin(f'CREATE DATABASE "{name}"')
                try:
                    seeded = await seed(folder, args, url)
                    print(f"round {round_}: {key} …", flush=True)
                    figures = await run_quorum(args, workers, folder, seeded, url)
                finally:
                    if name:
                        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(json.dumps(figures), flush=True)
            report.setdefault(key, []).append(figures)
        if not args.no_bare:
            print(f"round {round_}: bare python-socketio …", flush=True)
            figures = await run_bare(args)
            print(json.dumps(figures), flush=True)
            report.setdefault("bare python-socketio", []).append(figures)
    return report


ROWS = [
    ("sockets joined (tablets + chairs)", "joined"),
    ("ballots acknowledged", "acked"),
    ("errors", "errors"),
    ("counted at the close", "counted"),
    ("sittings whose published counts = the choices sent", "counts_match"),
    ("sittings published on every tablet", "published_everywhere"),
    ("ack p50 ms", "ack_p50_ms"),
    ("ack p99 ms", "ack_p99_ms"),
    ("ack max ms", "ack_max_ms"),
    ("close → published on every tablet of the sitting, p50 ms", "result_p50_ms"),
    ("close → published on every tablet of the sitting, p99 ms", "result_p99_ms"),
    ("close → published, p99 over tablets, ms", "result_tablet_p99_ms"),
    ("the chair's poll.close → its ack, p99 ms", "close_ack_p99_ms"),
    ("the chair's poll.publish → its ack, p99 ms", "publish_ack_p99_ms"),
    ("progress updates per tablet", "updates_per_tablet"),
    ("first motion → last sitting published, s", "run_s"),
    ("ballots per second", "ballots_per_s"),
    ("server CPU s", "server_cpu_s"),
    ("server CPU ms per ballot", "cpu_ms_per_ballot"),
    ("server CPU ms per sitting", "cpu_ms_per_sitting"),
    ("the server's write system calls per ballot (sockets and files)", "server_writes_per_ballot"),
    ("kB the server wrote per ballot", "server_kb_per_ballot"),
    ("the client processes' CPU s", "clients_cpu_s"),
    ("the rest of the machine's CPU s (PostgreSQL, Redis, the driver, the kernel)", "other_cpu_s"),
    ("machine busy (share of all cores, first motion → last answer)", "machine_busy"),
    ("server memory MB (RSS, all workers, at the end)", "rss_mb"),
    ("each worker's CPU cap, cores (--worker-cpu)", "worker_cpu"),
    ("s the workers were held back by their caps (sum, whole run)", "throttled_s"),
]


def _cell(runs: list[dict[str, Any]], key: str) -> str:
    values = [r.get(key) for r in runs]
    if len(values) == 1 or any(v is None for v in values):
        return " / ".join(_fmt(v) for v in values)
    return f"{_fmt(statistics.median(values))} ({', '.join(_fmt(v) for v in values)})"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return str(value)


def table(report: dict[str, list[dict[str, Any]]]) -> str:
    keys = list(report)
    lines = ["| figure | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for label, key in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(report[k], key) for k in keys) + " |")
    one = next((k for k in keys if k.startswith("Quorum, 1 worker")), None)
    for k in keys:
        if one and k != one and k.startswith("Quorum"):
            ratio = statistics.median(r["ballots_per_s"] or 0 for r in report[k]) / max(
                1e-9, statistics.median(r["ballots_per_s"] or 0 for r in report[one])
            )
            lines.append(f"\n{k}: {ratio:.2f} × the ballots per second of one worker")
    bare = report.get("bare python-socketio")
    if bare:
        base = statistics.median(r["cpu_ms_per_ballot"] for r in bare)
        for k in keys:
            if k != "bare python-socketio":
                ours = statistics.median(r["cpu_ms_per_ballot"] for r in report[k])
                lines.append(f"\n{k}: CPU per ballot {ours / base:.2f} × the bare stack's")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sittings", type=int, default=100)
    parser.add_argument("--tablets", type=int, default=30, help="delegates per sitting")
    parser.add_argument("--window", type=float, default=10.0, help="s to open every motion")
    parser.add_argument("--spread", type=float, default=1.0, help="s each delegate votes within")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--workers", default="1", help="Quorum configurations, e.g. 1 or 2,4")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-bare", action="store_true")
    parser.add_argument(
        "--worker-cpu",
        type=float,
        help="cap each Quorum worker at this many cores (a cgroup each; Linux, root), so that"
        " the clients and the database sharing the machine do not decide how many workers help",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("QUORUM_TEST_REDIS", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--profile",
        help="record the first worker with py-spy into this file (.txt: collapsed stacks, .json:"
        " speedscope, else SVG), and the bare server into FILE-bare",
    )
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    args.pg = any(w > 1 for w in args.workers) or os.environ.get("QUORUM_BENCH_PG") == "1"
    report = asyncio.run(run(args))
    print(
        f"\nA province: {args.sittings} sittings × {args.tablets} tablets, motions opened within"
        f" {args.window:g} s, each delegate voting within {args.spread:g} s;"
        f" {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.1f}"
        + (f"; each worker capped at {args.worker_cpu:g} cores" if args.worker_cpu else "")
    )
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
