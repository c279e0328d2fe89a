"""Two workers behind Redis against one (docs/PERFORMANCE.md, "Scale-out": same
results, tally consistent, throughput >= 1.6 x one worker).

Both configurations run the scale-out stack: PostgreSQL (a fresh database seeded with `quorum
demo --delegates N --no-serve`) and Redis (`QUORUM_REDIS_URL`), with one or two `quorum serve`
processes on their own ports, so each process's CPU can be read and clients pinned to a worker.

1. Throughput: `--pairs` delegates each hold a tablet and a laptop; the tablets send ink strokes
   (`annotation.upsert`, 40 points) in a closed loop for `--seconds` after a one-second warm-up,
   and every stroke must reach the same user's laptop (`annotation_changed`). With two workers
   a delegate's tablet and laptop sit on different workers, so every relay crosses Redis.
   Measured: strokes acknowledged per second, ack p50/p99, relays received against strokes
   acknowledged (same results), the workers' CPU per stroke and the whole machine's CPU use
   (/proc/stat: PostgreSQL, Redis and the load generator share the cores with the workers).
2. Tally: a vote storm of `--storm` delegates spread over the workers (each casts once within a
   second); every client on every worker must end with an update counting all ballots, and the
   closed poll must count exactly the acknowledged ballots.

Client processes run on uvloop with the servers' GC tuning (`realtime.loadtest`). The per-client
command rate limit is raised for the run (`QUORUM_COMMAND_RATE`): it guards a real sitting from
one flooding tablet, while this measures what the workers can carry.

    uv run python -m tests.bench.bench_scaleout [--pairs 200] [--seconds 10] [--storm 500]
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
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import QuorumClient, login
from realtime.loadtest import cpu_s, machine_busy_s, quiet_gc, run_loop
from tests.bench.bench_annotations import _stroke
from tests.bench.bench_vote_storm import (
    Storm,
    _await_final,
    _pct,
    _storm,
    open_motion,
    quorum_caster,
    watch_final,
)
from tests.conftest import REDIS_URL, pg_admin, pg_url
from tests.integration.voting.rig import QuorumProcess, each, mint_tokens, quorum_cmd

PASSWORD = "bench-scaleout-1"
WARMUP_S = 1.0


# -- client processes: tablets drawing, laptops receiving -----------------------------------
def _drawer(conn: Connection, pairs: list[tuple[str, str, str]], version_id: int) -> None:
    run_loop(_drawer_main(conn, pairs, version_id))


async def _drawer_main(
    conn: Connection, pairs: list[tuple[str, str, str]], version_id: int
) -> None:
    loop = asyncio.get_running_loop()
    relays = 0

    async def on_user_event(event: dict[str, Any]) -> None:
        nonlocal relays
        if event.get("type") == "annotation_changed":
            relays += 1

    tablets, laptops = [], []
    for token, tablet_url, laptop_url in pairs:
        tablet = socketio.AsyncClient(reconnection=False)
        laptop = socketio.AsyncClient(reconnection=False)
        laptop.on("user_event", on_user_event)
        await tablet.connect(tablet_url, auth={"token": token}, transports=["websocket"])
        await laptop.connect(laptop_url, auth={"token": token}, transports=["websocket"])
        tablets.append(tablet)
        laptops.append(laptop)
    quiet_gc()
    conn.send(("ready",))
    _, seconds = await loop.run_in_executor(None, conn.recv)
    start = time.perf_counter()
    window = (start + WARMUP_S, start + WARMUP_S + seconds)
    acks: list[float] = []  # latency of each ack completed inside the window
    total, errors = 0, []

    async def draw(tablet: socketio.AsyncClient, k: int) -> None:
        nonlocal total
        i = k * 100_000
        while time.perf_counter() < window[1]:
            sent = time.perf_counter()
            ack = await tablet.call("annotation.upsert", _stroke(version_id, i), timeout=30)
            done = time.perf_counter()
            i += 1
            if not ack.get("ok"):
                errors.append(str(ack.get("error", {}).get("code")))
                continue
            total += 1
            if window[0] <= done < window[1]:
                acks.append(done - sent)

    await asyncio.gather(*(draw(t, k) for k, t in enumerate(tablets)))
    deadline = time.perf_counter() + 10
    while relays < total and time.perf_counter() < deadline:  # noqa: ASYNC110 - polled
        await asyncio.sleep(0.05)
    conn.send(("done", acks, total, relays, errors[:5], len(errors)))
    await asyncio.gather(*(s.disconnect() for s in tablets + laptops), return_exceptions=True)


async def throughput(
    urls: list[str], pids: list[int], tokens: list[str], version_id: int, seconds: float
) -> dict[str, Any]:
    """Tablet of pair i on worker i mod k, its laptop on the next worker (the same one when
    there is only one)."""
    k = len(urls)
    pairs = [(t, urls[i % k], urls[(i + 1) % k]) for i, t in enumerate(tokens)]
    mp = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    for part in range(2):
        parent, child = mp.Pipe()
        proc = mp.Process(target=_drawer, args=(child, pairs[part::2], version_id), daemon=True)
        proc.start()
        procs.append(proc)
        pipes.append(parent)
    for pipe in pipes:
        await asyncio.to_thread(pipe.recv)
    for pipe in pipes:
        pipe.send(("go", seconds))
    await asyncio.sleep(WARMUP_S)
    cpu0 = [cpu_s(p) or 0.0 for p in pids]
    busy0, all0 = machine_busy_s()
    await asyncio.sleep(seconds)
    cpu1 = [cpu_s(p) or 0.0 for p in pids]
    busy1, all1 = machine_busy_s()
    acks: list[float] = []
    total = relays = failed = 0
    samples: list[str] = []
    for pipe in pipes:
        _, part_acks, part_total, part_relays, part_errors, part_failed = await asyncio.to_thread(
            pipe.recv
        )
        acks += part_acks
        total += part_total
        relays += part_relays
        failed += part_failed
        samples += part_errors
    for proc in procs:
        proc.join(15)
    acks.sort()
    strokes = len(acks)
    worker_cpu = sum(b - a for a, b in zip(cpu0, cpu1, strict=True))
    return {
        "workers": k,
        "strokes_per_s": strokes / seconds,
        "ack_p50_ms": 1000 * statistics.median(acks) if acks else None,
        "ack_p99_ms": 1000 * acks[min(len(acks) - 1, int(0.99 * len(acks)))] if acks else None,
        "acked_total": total,
        "relayed_total": relays,
        "errors": failed,
        "error_samples": samples,
        "worker_cpu_ms_per_stroke": 1000 * worker_cpu / strokes if strokes else None,
        "worker_cpu_share": [round((b - a) / seconds, 2) for a, b in zip(cpu0, cpu1, strict=True)],
        "machine_busy": (busy1 - busy0) / (all1 - all0) if all1 > all0 else None,
    }


# -- the vote storm over the workers ----------------------------------------------------------
async def storm_over(
    urls: list[str], chair_token: str, meeting_id: int, tokens: list[str]
) -> dict[str, Any]:
    n = len(tokens)
    chair = QuorumClient(urls[0], chair_token)
    await chair.connect()
    await chair.join(meeting_id)
    clients = [QuorumClient(urls[i % len(urls)], t) for i, t in enumerate(tokens)]
    gate = asyncio.Semaphore(25)

    async def enter(client: QuorumClient) -> None:
        async with gate:
            await client.connect()
            await client.call("meeting.join", {"meeting_id": meeting_id}, timeout=60)

    try:
        await asyncio.gather(*(enter(c) for c in clients))
        poll_id = await open_motion(
            chair, meeting_id, f"Scale-out storm over {len(urls)} worker(s)"
        )
        storm = Storm(n)
        watch_final(storm, clients, poll_id)
        rng = random.Random(11)
        choices = [rng.choice(["yes", "no", "abstain"]) for _ in clients]
        await asyncio.sleep(1.0)
        quiet_gc()
        casters = [
            quorum_caster(c, x, poll_id=poll_id) for c, x in zip(clients, choices, strict=True)
        ]
        await _storm(casters, 1.0, storm)
        await _await_final(storm)
        closed = await chair.command("poll.close", {"poll_id": poll_id})
        result = closed["poll"]["result"]
        figures = storm.figures()
        figures["counted"] = result["ballots"]
        figures["counts_match_choices"] = _counts(result) == {
            x: choices.count(x) for x in set(choices)
        }
        return figures
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        await chair.disconnect()


def _counts(result: dict[str, Any]) -> dict[str, int]:
    """{option: count} from a closed motion's result (abstentions are counted apart)."""
    counts = {str(c["option"]): int(c["value"]) for c in result["counts"] if int(c["value"])}
    if "abstain" not in counts and result.get("abstentions"):
        counts["abstain"] = int(result["abstentions"])
    return counts


# -- set-up ------------------------------------------------------------------------------------
async def upload_document(base: str) -> tuple[int, str, int]:
    """(meeting id, the chair's token, the version id of a 3-page agenda document)."""
    async with aiohttp.ClientSession() as session:
        secretary = await login(session, base, "secretary", PASSWORD)
        chair = await login(session, base, "chair", PASSWORD)
        headers = {"authorization": f"Bearer {secretary}"}
        async with session.get(f"{base}/api/meetings", headers=headers) as r:
            meeting_id = int((await r.json())[0]["id"])
        pdf = generate_agenda_document("Tờ trình", vietnamese_paragraphs(30, seed=5), pages=3)
        async with session.post(
            f"{base}/api/meetings/{meeting_id}/documents?title=T",
            data=pdf,
            headers=headers | {"content-type": "application/pdf"},
        ) as r:
            version_id = int((await r.json())["current_version"]["id"])
    return meeting_id, chair, version_id


async def run(args: argparse.Namespace) -> dict[str, Any]:
    n = max(args.pairs, args.storm)
    name = f"quorum_bench_{uuid.uuid4().hex[:10]}"
    url = pg_url(name)
    await pg_admin(f'CREATE DATABASE "{name}"')
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="quorum-scaleout-") as folder:
        data = Path(folder)
        env = {
            "QUORUM_DATABASE_URL": url,
            "QUORUM_REDIS_URL": REDIS_URL,
            "QUORUM_LOG_LEVEL": "warning",
            "QUORUM_COMMAND_RATE": "1000",
            "QUORUM_COMMAND_BURST": "1000",
            "QUORUM_USER_COMMAND_RATE": "1000",
            "QUORUM_USER_COMMAND_BURST": "1000",
            "QUORUM_SECRET_KEY": "bench-scaleout",
        }
        try:
            print(f"seeding {n} delegates in PostgreSQL database {name} …", flush=True)
            await asyncio.to_thread(
                subprocess.run,
                [
                    *quorum_cmd(),
                    "demo",
                    "--delegates",
                    str(n),
                    "--password",
                    PASSWORD,
                    "--no-serve",
                ],
                env={**os.environ, "QUORUM_DATA_DIR": folder, **env},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            names = [f"delegate{i:03d}" for i in range(1, n + 1)]
            minted = await mint_tokens(data, names, database_url=url)
            tokens = [minted[x] for x in names]
            prepared = False
            for workers in args.workers:
                servers = [QuorumProcess(data, None, **env) for _ in range(workers)]
                await asyncio.gather(*(s.start() for s in servers))
                urls = [s.base_url for s in servers]
                pids = [s.proc.pid for s in servers if s.proc]
                try:
                    if not prepared:
                        meeting_id, chair, version_id = await upload_document(urls[0])
                        chair_client = QuorumClient(urls[0], chair)
                        await chair_client.connect()
                        await chair_client.command("meeting.open", {"meeting_id": meeting_id})
                        await chair_client.disconnect()
                        helpers = [QuorumClient(urls[0], t) for t in tokens]
                        await asyncio.gather(*(c.connect() for c in helpers))
                        await each(helpers, "attendance.check_in", {"meeting_id": meeting_id})
                        await asyncio.gather(*(c.disconnect() for c in helpers))
                        prepared = True
                    print(f"{workers} worker(s): {args.pairs} pairs drawing …", flush=True)
                    drawn = await throughput(
                        urls, pids, tokens[: args.pairs], version_id, args.seconds
                    )
                    print(json.dumps(drawn), flush=True)
                    await asyncio.sleep(2)
                    print(f"{workers} worker(s): vote storm of {args.storm} …", flush=True)
                    voted = await storm_over(urls, chair, meeting_id, tokens[: args.storm])
                    print(json.dumps(voted), flush=True)
                    report[f"{workers}"] = {"throughput": drawn, "storm": voted}
                finally:
                    for server in servers:
                        server.stop()
                await asyncio.sleep(2)
        finally:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return report


def table(report: dict[str, Any]) -> str:
    f = _pct
    keys = list(report)
    rows = [
        ("strokes acknowledged per second", "throughput", "strokes_per_s"),
        ("stroke ack p50 ms", "throughput", "ack_p50_ms"),
        ("stroke ack p99 ms", "throughput", "ack_p99_ms"),
        ("strokes acknowledged / relayed to the laptop", "throughput", None),
        ("stroke errors", "throughput", "errors"),
        ("workers' CPU ms per stroke", "throughput", "worker_cpu_ms_per_stroke"),
        ("each worker's CPU (cores)", "throughput", "worker_cpu_share"),
        ("whole machine busy (of 1.0)", "throughput", "machine_busy"),
        ("storm: ballots acknowledged", "storm", "acked"),
        ("storm: errors", "storm", "failed"),
        ("storm: counted at close", "storm", "counted"),
        ("storm: counts per option = the choices sent", "storm", "counts_match_choices"),
        ("storm: ack p99 ms", "storm", "ack_p99_ms"),
        ("storm: progress updates per client", "storm", "updates_per_client"),
        ("storm: clients holding the final tally", "storm", "clients_with_final"),
        (
            "storm: final tally on every client, ms after the last ballot",
            "storm",
            "final_after_last_ms",
        ),
    ]
    lines = [
        "| figure | " + " | ".join(f"{k} worker(s)" for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for label, part, key in rows:
        if key is None:
            cells = [
                f"{report[k][part]['acked_total']} / {report[k][part]['relayed_total']}"
                for k in keys
            ]
        else:
            cells = [f(report[k][part][key]) for k in keys]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if "1" in report and "2" in report:
        one = report["1"]["throughput"]["strokes_per_s"]
        two = report["2"]["throughput"]["strokes_per_s"]
        lines.append(f"\nthroughput, two workers / one: {two / one:.2f} ×")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--pairs", type=int, default=200, help="delegates drawing (tablet + laptop)"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--storm", type=int, default=500, help="delegates in the vote storm")
    parser.add_argument("--workers", default="1,2", help="configurations, e.g. 1,2")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    report = asyncio.run(run(args))
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.machine()},"
        f" {os.cpu_count()} cores,"
        f" Python {platform.python_version()}; PostgreSQL + Redis; {args.pairs} pairs drawing for"
        f" {args.seconds:g} s; storm of {args.storm}"
    )
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
