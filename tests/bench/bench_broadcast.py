"""Benchmark: N delegates connect, join and receive broadcasts; Quorum beside bare python-socketio
(docs/PERFORMANCE.md, "Realtime: connections and broadcast").

Runs one `quorum serve` worker (SQLite, rehearsal council seeded with `quorum demo --delegates`)
and `tests/bench/bare_sio_server.py` as subprocesses, and drives both with the same client code
(`realtime.loadtest.LoadRun`, clients split over `--processes` processes; against the bare
server, `tests/bench/bare_load.py`).

    uv run python -m tests.bench.bench_broadcast [--sizes 100,500,1000,2000] [--broadcasts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from realtime.loadtest import LoadResult, LoadRun, LoadSpec, measure
from tests.bench.bare_load import BareLoadRun
from tests.integration.voting.rig import mint_tokens

PASSWORD = "rehearse-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status in (200, 404):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)


def row(name: str, r: LoadResult) -> str:
    def f(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
        return "?" if value is None else f"{value * scale:.{digits}f}"

    return (
        f"| {r.delegates} | {name} | {r.joined} | {r.connect_s:.2f} | {r.join_s:.2f} |"
        f" {f(r.join_cpu_s, digits=2)} | {f(r.kb_per_connection)} |"
        f" {r.percentile(0.5) * 1000:.0f} | {r.percentile(0.99) * 1000:.0f} |"
        f" {f(r.broadcast_cpu_s, 1000)} |"
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,500,1000,2000")
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--data-dir", help="kept between runs; default /tmp/quorum-bench-broadcast-<largest N>"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = Path(args.data_dir or f"/tmp/quorum-bench-broadcast-{max(sizes)}")
    env = dict(os.environ, QUORUM_DATA_DIR=str(data), QUORUM_LOG_LEVEL="warning")
    if not (data / "quorum.sqlite3").exists():
        print(f"seeding {max(sizes)} delegates in {data} …", flush=True)
        await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "meetings.cli",
                "demo",
                "--delegates",
                str(max(sizes)),
                "--password",
                PASSWORD,
                "--no-serve",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    qport, bport = free_port(), free_port()
    # session tokens minted straight into the database: thousands of argon2 logins would take
    # many minutes on 2 cores, and logging in is not what this measures (the chair logs in)
    names = [f"delegate{i:03d}" for i in range(1, max(sizes) + 1)]
    minted = await mint_tokens(data, names)
    (data / "tokens.json").write_text(
        json.dumps({f"http://127.0.0.1:{qport}": [minted[name] for name in names]})
    )
    quorum = start([sys.executable, "-m", "meetings.cli", "serve", "--port", str(qport)], env)
    bare = start([sys.executable, "-m", "tests.bench.bare_sio_server", str(bport)], env)
    qurl, burl = f"http://127.0.0.1:{qport}", f"http://127.0.0.1:{bport}"
    lines = []
    try:
        await asyncio.gather(ready(qurl), ready(burl))
        for n in sizes:
            runs: tuple[tuple[str, type[LoadRun], LoadSpec], ...] = (
                (
                    "bare",
                    BareLoadRun,
                    LoadSpec(
                        burl,
                        n,
                        broadcasts=args.broadcasts,
                        processes=args.processes,
                        server_pid=bare.pid,
                    ),
                ),
                (
                    "quorum",
                    LoadRun,
                    LoadSpec(
                        qurl,
                        n,
                        PASSWORD,
                        broadcasts=args.broadcasts,
                        processes=args.processes,
                        server_pid=quorum.pid,
                        tokens_file=data / "tokens.json",
                    ),
                ),
            )
            for name, run_class, spec in runs:
                async with run_class(spec, progress=lambda m: print(m, flush=True)) as run:
                    result = await measure(run)
                print(result.summary(), flush=True)
                lines.append(row(name, result))
                await asyncio.sleep(2)
    finally:
        for proc in (quorum, bare):
            proc.terminate()
            proc.wait(15)
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        "| N | server | joined | all connected s | all joined s | server CPU to join s |"
        " kB/conn | broadcast p50 ms | p99 ms | server CPU/broadcast ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
