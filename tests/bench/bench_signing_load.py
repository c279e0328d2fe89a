"""Benchmark: broadcasts while the server signs resolutions (docs/PERFORMANCE.md,
"Signing"; target: broadcasts during signing within 1.2 × their usual time).

    uv run python -m tests.bench.bench_signing_load [--delegates 500] [--resolutions 40]
                                                    [--broadcasts 30]

1. Seeds a fresh data folder with `quorum demo --delegates N --no-serve` (rehearsal council),
   then, before the server starts, writes the demo PKI there (chair certificate in the
   rehearsal chair's name, the council's seal) and takes K resolutions through the real
   services to "generated" in a sitting of their own (`meetings.demo_archive`: adopted
   published motion, draft PDF, `resolutions.generate`).
2. Starts a loopback TSA/OCSP/CRL (the test PKI's, in a process of its own) and one
   `quorum serve` worker with QUORUM_TSA_URL pointing there; its signing pool has its default
   size. N delegates connect and join the rehearsal sitting (`realtime.loadtest.LoadRun`, the
   client code of bench_broadcast).
3. Times B broadcasts (the chair's `agenda.set_current`, until the last client has it) idle,
   then, at the same pace, every broadcast that starts while the chair's account signs all K
   resolutions (`POST /api/resolutions/{id}/sign`, all at once, from a process of its own like
   a console): from the first request until the last answer, so the server's own part of
   signing (reading and storing the PDFs, checking the signatures, the database) falls
   inside; a warning says when that was fewer than B. The resolutions belong to another
   sitting than the one joined, so their `resolution_signed` events reach no one here.
   Then B idle broadcasts again: on a shared machine, a row that differs much from the
   first idle one says the machine's other load changed during the run. Then checks every
   signed PDF with `verify_pdf_bytes`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from meetings.cli import _run as run_with_services
from meetings.config import load_settings
from meetings.demo import REHEARSAL_COUNCIL
from meetings.demo_archive import (
    council_members,
    create_demo_keys,
    create_generated_resolution,
    create_past_sitting,
)
from meetings.documents.signing.validate import verify_pdf_bytes
from meetings.services.archive.signing_keys import demo_pki
from meetings.services.context import Services
from meetings.storage.tables import Council
from realtime.loadtest import BROADCAST_PAUSE, LoadResult, LoadRun, LoadSpec, cpu_s
from tests.bench.bench_broadcast import free_port, ready, start
from tests.support.pki import TestPki
from tests.support.pki_services import start_test_services

PASSWORD = "rehearse-bench"


def _print(message: str) -> None:
    print(message, flush=True)


# -- preparing the data folder ----------------------------------------------------------------
async def _prepare(services: Services, count: int) -> list[int]:
    """The demo keys and `count` generated resolutions of the rehearsal council."""
    from sqlalchemy import select
    from sqlmodel import col

    async with services.db.reading() as session:
        council_id = await session.scalar(
            select(col(Council.id)).where(col(Council.name) == REHEARSAL_COUNCIL)
        )
    assert council_id is not None, "no rehearsal council: run `quorum demo --delegates N`"
    chair = await create_demo_keys(services, council_id)
    _print(f"  demo PKI written; the chair's certificate is in the name of {chair}")
    when = datetime.now(UTC).replace(microsecond=0)
    meeting_id = await create_past_sitting(services, council_id, when)
    members = await council_members(services, council_id)
    made = []
    for k in range(count):
        made.append(await create_generated_resolution(services, meeting_id, members, when, seed=k))
        if (k + 1) % 10 == 0 or k + 1 == count:
            _print(f"  {k + 1}/{count} resolutions generated (sitting {meeting_id})")
    return made


def _tsa(conn: Connection, folder: str) -> None:
    """Child process: the test PKI's TSA, OCSP responder and CRLs until told to stop."""
    with start_test_services(Path(folder)) as services:
        conn.send(services.pki)
        conn.recv()
        conn.send(dict(services.counts))


# -- measuring ----------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _children(pid: int) -> list[int]:
    """The server's signing workers (spawned children running `spawn_main`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _cpu(pids: list[int]) -> float:
    return sum(cpu_s(pid) or 0.0 for pid in pids)


@dataclass
class Phase:
    name: str
    times: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # time.time() of each broadcast
    received: list[int] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    workers_cpu_s: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def row(self) -> str:
        ms = [t * 1000 for t in self.times]
        return (
            f"| {self.name} | {len(ms)} | {_pct(ms, 0.5):.0f} | {_pct(ms, 0.99):.0f} |"
            f" {max(ms, default=0):.0f} | {self.wall_s:.1f} |"
            f" {self.server_cpu_s:.2f} ({self.server_cpu_s / max(self.wall_s, 1e-9):.0%}) |"
            f" {self.workers_cpu_s:.2f} | {self.load[0]:.2f} |"
        )


async def _phase(
    run: LoadRun,
    phase: Phase,
    count: int | None,
    server: int,
    workers: list[int],
    stop: Callable[[], bool],
) -> None:
    """Broadcasts at loadtest's pace: `count` of them, or (None) until `stop()` says so."""
    started, cpu0, wcpu0 = time.monotonic(), cpu_s(server) or 0.0, _cpu(workers)
    while not stop() and (count is None or len(phase.times) < count):
        phase.starts.append(time.time())
        took, got = await run.broadcast()
        phase.times.append(took)
        phase.received.append(got)
        await asyncio.sleep(BROADCAST_PAUSE)
    phase.wall_s = time.monotonic() - started
    phase.server_cpu_s = (cpu_s(server) or 0.0) - cpu0
    phase.workers_cpu_s = _cpu(workers) - wcpu0
    phase.load = os.getloadavg()


@dataclass
class Signed:
    resolution_id: int
    status: int
    seconds: float
    done_at: float  # time.time(): the batch runs in a process of its own
    body: Any


def _done(signed: Signed) -> float:
    return signed.done_at


async def _sign(session: aiohttp.ClientSession, url: str, token: str, rid: int) -> Signed:
    started = time.monotonic()
    async with session.post(
        f"{url}/api/resolutions/{rid}/sign",
        headers={"authorization": f"Bearer {token}"},
        json={"password": PASSWORD},
    ) as response:
        body = await response.json()
        return Signed(rid, response.status, time.monotonic() - started, time.time(), body)


def _batch(conn: Connection, url: str, token: str, ids: list[int]) -> None:
    """Child process: the chair's console, which signs every resolution at once on "go" (in
    the benchmark's own process it would share the event loop with the chair's broadcasts)."""

    async def main() -> list[Signed]:
        timeout = aiohttp.ClientTimeout(total=1800)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.to_thread(conn.recv)
            return list(await asyncio.gather(*(_sign(session, url, token, i) for i in ids)))

    conn.send(asyncio.run(main()))


async def _check(
    session: aiohttp.ClientSession, url: str, token: str, signed: list[Signed], roots: list[str]
) -> tuple[int, list[str]]:
    """How many signed PDFs verify (chair + seal, intact, trusted); the problems."""
    valid, problems = 0, []
    for s in signed:
        if s.status != 200:
            problems.append(f"resolution {s.resolution_id}: HTTP {s.status} {s.body}")
            continue
        async with session.get(
            f"{url}/api/resolutions/{s.resolution_id}/file",
            params={"which": "signed"},
            headers={"authorization": f"Bearer {token}"},
        ) as response:
            pdf = await response.read()
        report = await verify_pdf_bytes(pdf, roots[:2], extra_certs=roots[2:])
        fields = [sig.field_name for sig in report.signatures]
        stamped = all(sig.timestamp_time for sig in report.signatures)
        if report.ok and fields == ["Chair", "Seal"] and stamped:
            valid += 1
        else:
            problems.append(f"resolution {s.resolution_id}: {fields} {report.summary()}")
    return valid, problems


async def measure(args: argparse.Namespace, folder: Path, pki: TestPki) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUORUM_")}
    env.update(QUORUM_DATA_DIR=str(folder), QUORUM_LOG_LEVEL="warning")
    _print(f"seeding {args.delegates} delegates in {folder} …")
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "meetings.cli", "demo", "--delegates", str(args.delegates),
         "--password", PASSWORD, "--no-serve"],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    _print(f"preparing {args.resolutions} resolutions to sign …")
    settings = load_settings(data_dir=folder, database_url="")
    ids: list[int] = await asyncio.to_thread(
        run_with_services, settings, lambda s: _prepare(s, args.resolutions)
    )
    demo = demo_pki(folder)
    assert demo is not None
    # the TSA's certificate chains to the test PKI's root: trust both roots
    roots = [demo.root, str(pki.root_cert_path), str(pki.intermediate.cert_path)]
    env.update(QUORUM_TSA_URL=pki.tsa_url, QUORUM_TRUST_ROOTS=":".join(roots[:2]))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start([sys.executable, "-m", "meetings.cli", "serve", "--port", str(port)], env)
    try:
        await ready(url)
        workers = _children(server.pid)
        _print(f"server pid {server.pid}, signing workers {workers}")
        spec = LoadSpec(
            url, args.delegates, PASSWORD, broadcasts=args.broadcasts,
            processes=args.processes, server_pid=server.pid,
        )  # fmt: skip
        joined = LoadResult(args.delegates)
        idle, during, after = Phase("idle"), Phase("while signing"), Phase("idle again")
        async with (
            LoadRun(spec, _print) as run,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800)) as http,
        ):
            batch, child = multiprocessing.get_context("spawn").Pipe()
            console = multiprocessing.get_context("spawn").Process(
                target=_batch, args=(child, url, run.chair_token, ids), daemon=True
            )
            console.start()
            await run.join(joined)
            _print(joined.summary())
            if joined.joined < args.delegates:
                raise RuntimeError(f"only {joined.joined}/{args.delegates} joined")
            await asyncio.sleep(1.0)  # let the server settle, as loadtest does
            _print(f"phase 1: {args.broadcasts} broadcasts, idle …")
            await _phase(run, idle, args.broadcasts, server.pid, workers, lambda: False)
            await asyncio.sleep(1.0)
            _print(f"phase 2: signing {len(ids)} resolutions, broadcasts until all are signed …")
            window_start = time.time()
            batch.send("go")
            await _phase(run, during, None, server.pid, workers, batch.poll)
            window_end = time.time()
            signed: list[Signed] = await asyncio.to_thread(batch.recv)
            all_signed_s = max(s.done_at for s in signed) - window_start
            _print(f"all {len(signed)} signing requests answered in {all_signed_s:.1f} s")
            await asyncio.sleep(1.0)
            _print(f"phase 3: {args.broadcasts} broadcasts, idle again (did the machine change?) …")
            await _phase(run, after, args.broadcasts, server.pid, workers, lambda: False)
            valid, problems = await _check(http, url, run.chair_token, signed, roots)
            console.join(15)
    finally:
        server.terminate()
        server.wait(30)
    in_window = [s for s in signed if s.done_at <= window_end]
    latencies = [s.seconds * 1000 for s in signed]
    ratio50 = _pct(during.times, 0.5) / _pct(idle.times, 0.5)
    ratio99 = _pct(during.times, 0.99) / _pct(idle.times, 0.99)
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}; {args.delegates} delegates joined,"
        f" {len(ids)} resolutions, signing workers: {len(workers)}",
        "",
        "| phase | broadcasts | p50 ms | p99 ms | max ms | wall s | server CPU s (of wall) |"
        " signing workers CPU s | load avg (1 min, at end) |",
        "|---|---|---|---|---|---|---|---|---|",
        idle.row(),
        during.row(),
        after.row(),
        "",
        f"Ratio while signing / idle: p50 {ratio50:.2f} ×, p99 {ratio99:.2f} × (target ≤ 1.2 ×).",
        f"Signatures completed within the signing phase ({during.wall_s:.1f} s):"
        f" {len(in_window)}/{len(signed)}; all {len(signed)} answered {all_signed_s:.1f} s"
        f" after the requests; HTTP latency p50 {_pct(latencies, 0.5):.0f} ms,"
        f" p99 {_pct(latencies, 0.99):.0f} ms, mean {statistics.mean(latencies):.0f} ms.",
        f"Every client got every broadcast: {min(idle.received + during.received + after.received)}"
        f"/{joined.joined} or more. Signed PDFs that verify (chair + seal, time-stamped,"
        f" trusted): {valid}/{len(ids)}.",
    ]
    lines += [f"PROBLEM: {p}" for p in problems[:5]]
    if args.timeline:
        lines.append(
            "Timeline (s after the signing requests: broadcast ms): "
            + ", ".join(
                f"{at - window_start:.1f}: {t * 1000:.0f}"
                for at, t in zip(during.starts, during.times, strict=True)
            )
        )
        lines.append(
            "Signing answers (s after the requests): "
            + ", ".join(f"{s.done_at - window_start:.1f}" for s in sorted(signed, key=_done))
        )
    if len(during.times) < args.broadcasts:
        lines.append(
            f"Signing ended after {len(during.times)} broadcasts (< {args.broadcasts}):"
            " pass more --resolutions."
        )
    return lines


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--resolutions", type=int, default=40)
    parser.add_argument("--broadcasts", type=int, default=30)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--timeline", action="store_true", help="print every broadcast's time")
    args = parser.parse_args()
    _print(f"load average before: {os.getloadavg()}")
    mp = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="quorum-bench-signing-") as tmp:
        parent, child = mp.Pipe()
        tsa = mp.Process(target=_tsa, args=(child, str(Path(tmp) / "tsa")), daemon=True)
        tsa.start()
        try:
            pki: TestPki = await asyncio.to_thread(parent.recv)
            lines = await measure(args, Path(tmp) / "data", pki)
            parent.send("stop")
            counts = await asyncio.to_thread(parent.recv)
        finally:
            tsa.join(15)
            if tsa.is_alive():
                tsa.kill()
    print("\n".join(lines))
    print(f"Loopback TSA/OCSP/CRL requests: {counts}")
    return 0 if "PROBLEM" not in "\n".join(lines) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
