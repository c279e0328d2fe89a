"""`quorum loadtest`: rehearse a sitting's load (docs/PERFORMANCE.md, "Realtime: connections
and broadcast").

N rehearsal delegates (`delegate001`… from `quorum demo --delegates N`) log in, then connect and
join the meeting all at the same moment; the chair then moves the agenda K times and we measure,
for each move, the time from the chair's command until the LAST delegate received the event.

Clients run in several processes (`--processes`, default 2): one Python process cannot drive
thousands of sockets without becoming the bottleneck itself. Processes are started and connected
before the clock starts; all times are wall-clock on this machine. The benchmarks drive the same
client code (`LoadRun`; against a bare python-socketio server, tests/bench/bare_load.py), so their
comparisons differ only in the server.
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import socketio

try:  # optional: uvicorn's standard extras bring it everywhere but on Windows and PyPy
    import uvloop
except ImportError:
    uvloop = None  # type: ignore[assignment]

from realtime.client import QuorumClient, login

T = TypeVar("T")

Progress = Callable[[str], None]
BROADCAST_PAUSE = 0.2
"""Seconds between one broadcast's arrival at the last client and the next broadcast."""


@dataclass(frozen=True)
class LoadSpec:
    url: str
    delegates: int
    password: str = ""
    meeting_id: int | None = None
    broadcasts: int = 20
    processes: int = 2
    server_pid: int | None = None
    tokens_file: Path | None = None  # reuse tokens between runs (logins are slow by design)


@dataclass
class LoadResult:
    delegates: int
    joined: int = 0
    failed: int = 0
    connect_s: float = 0.0  # until the last client was connected
    join_s: float = 0.0  # until the last client had its join ack
    rss_before_kb: int | None = None
    rss_after_kb: int | None = None
    join_cpu_s: float | None = None  # server CPU spent while everyone connected and joined
    broadcast_cpu_s: float | None = None  # server CPU per broadcast (mean)
    broadcasts_s: list[float] = field(default_factory=list)
    received: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kb_per_connection(self) -> float | None:
        if self.rss_before_kb is None or self.rss_after_kb is None or not self.joined:
            return None
        return (self.rss_after_kb - self.rss_before_kb) / self.joined

    def percentile(self, q: float) -> float:
        values = sorted(self.broadcasts_s)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    def summary(self) -> str:
        kb = self.kb_per_connection
        lines = [
            f"delegates {self.delegates}: joined {self.joined}, failed {self.failed}",
            f"  all connected in {self.connect_s:.2f} s, all joined in {self.join_s:.2f} s",
        ]
        if kb is not None:
            lines.append(f"  server memory: {self.rss_after_kb} kB RSS, {kb:.1f} kB per connection")
        if self.join_cpu_s is not None and self.broadcast_cpu_s is not None:
            lines.append(
                f"  server CPU: {self.join_cpu_s:.2f} s to connect+join everyone,"
                f" {self.broadcast_cpu_s * 1000:.0f} ms per broadcast"
            )
        if self.broadcasts_s:
            lines.append(
                f"  broadcast until the last client: p50 {self.percentile(0.5) * 1000:.0f} ms,"
                f" p99 {self.percentile(0.99) * 1000:.0f} ms,"
                f" max {max(self.broadcasts_s) * 1000:.0f} ms over {len(self.broadcasts_s)}"
                f" (every client got {min(self.received)}/{self.joined} or more)"
            )
        lines += [f"  error: {e}" for e in self.errors[:5]]
        return "\n".join(lines)


def rss_kb(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of all the machine's cores since boot (Linux /proc/stat), or
    (0, 0): how busy the whole machine was between two readings, servers, clients and databases
    together. Idle and iowait are not busy; guest time is already counted in user time."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / tick, sum(fields) / tick


def cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def io_writes(pid: int | None) -> tuple[int, int] | None:
    """Write system calls and bytes written (sockets included) by a process (Linux
    /proc/PID/io), or None: what a server sends, counted by the kernel."""
    if pid is None:
        return None
    try:
        fields = dict(
            line.split(": ", 1) for line in Path(f"/proc/{pid}/io").read_text().splitlines()
        )
        return int(fields["syscw"]), int(fields["wchar"])
    except (OSError, KeyError, ValueError):
        return None


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a load generator on uvloop where it is installed (it comes with uvicorn's standard
    extras, as the server runs): on a machine shared with the server the generator's own event
    loop is part of every figure, and the default loop's lag was the largest part of the acks
    in the vote storm (docs/performance-journal.md, "Vote storm")."""
    if uvloop is None:
        return asyncio.run(main)
    return uvloop.run(main)


def quiet_gc() -> None:
    """Tune a load generator's GC like the servers', once its clients are connected.

    The generator is the measuring instrument: with the default GC thresholds, collections over
    the clients' objects stalled its loop now and then, and 40 broadcasts to 1,000 had outliers
    of 117-151 ms beside a median of ~75 ms, which made the p99 swing between runs of the same
    build (docs/performance-journal.md, "Realtime: connections and broadcast")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# -- client processes ---------------------------------------------------------------------
def _worker(conn: Connection, url: str, tokens: list[str], meeting_id: int) -> None:
    run_loop(_worker_main(conn, url, tokens, meeting_id))


async def _worker_main(conn: Connection, url: str, tokens: list[str], meeting_id: int) -> None:
    loop = asyncio.get_running_loop()
    arrivals: dict[int, list[float]] = {}  # seq → [count, latest arrival]

    async def on_event(event: Any) -> None:
        seq = int(event.get("seq", 0)) if isinstance(event, dict) else 0
        entry = arrivals.setdefault(seq, [0, 0.0])
        entry[0] += 1
        entry[1] = time.time()

    clients = []
    for _ in tokens:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("event", on_event)
        clients.append(sio)
    joined = 0
    times: list[tuple[float, float]] = []
    errors: list[str] = []

    async def one(sio: socketio.AsyncClient, token: str) -> None:
        nonlocal joined
        try:
            await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
            connected = time.time()
            ack = await sio.call("meeting.join", {"meeting_id": meeting_id}, timeout=60)
            if not isinstance(ack, dict) or not ack.get("ok"):
                raise RuntimeError(f"join refused: {ack}")
            times.append((connected, time.time()))
            joined += 1
        except Exception as exc:  # reported, counted as failed
            errors.append(f"{type(exc).__name__}: {exc}"[:200])

    conn.send(("ready", len(tokens)))
    await loop.run_in_executor(None, conn.recv)  # "go"
    work = asyncio.gather(*(one(sio, t) for sio, t in zip(clients, tokens, strict=True)))
    while not work.done():
        await asyncio.wait([work], timeout=0.5)
        conn.send(("progress", joined + len(errors)))
    conn.send(("joined", times, errors))
    quiet_gc()
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message[0] == "wait":
            _, seq, timeout = message
            deadline = loop.time() + timeout
            # polled: one Event per seq would cost every client callback a lookup more
            while arrivals.get(seq, [0])[0] < joined and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            count, latest = arrivals.get(seq, [0, 0.0])
            conn.send(("arrived", int(count), float(latest)))
        else:
            await asyncio.gather(*(sio.disconnect() for sio in clients), return_exceptions=True)
            conn.send(("stopped",))
            return


# -- the chair ----------------------------------------------------------------------------
class Chair:
    """Triggers one broadcast and answers its seq."""

    async def start(self) -> None: ...
    async def fire(self) -> int:
        raise NotImplementedError

    async def stop(self) -> None: ...


class QuorumChair(Chair):
    def __init__(self, url: str, token: str, meeting_id: int) -> None:
        self.client = QuorumClient(url, token)
        self.meeting_id = meeting_id
        self.items: list[int] = []
        self.turn = 0

    async def start(self) -> None:
        await self.client.connect()
        view = await self.client.join(self.meeting_id)
        if view.snapshot["meeting"]["status"] != "open":
            await self.client.command("meeting.open", {"meeting_id": self.meeting_id})
        self.items = [int(i["id"]) for i in view.snapshot["agenda"]][:2]
        if view.snapshot["meeting"]["current_item_id"] == self.items[-1]:
            self.turn = 1  # the first move must change the item, or there is no event

    async def fire(self) -> int:
        view = self.client.meetings[self.meeting_id]
        before = view.seq
        self.turn += 1
        item = self.items[self.turn % len(self.items)]
        await self.client.command(
            "agenda.set_current", {"meeting_id": self.meeting_id, "item_id": item}
        )
        await self.client.wait_for_seq(self.meeting_id, before + 1)
        return next(
            int(e["seq"])
            for e in view.applied
            if e["seq"] > before and e["type"] == "current_item_changed"
        )

    async def stop(self) -> None:
        await self.client.disconnect()


# -- the run ------------------------------------------------------------------------------
async def delegate_tokens(spec: LoadSpec, progress: Progress) -> list[str]:
    cache: dict[str, list[str]] = {}
    if spec.tokens_file and spec.tokens_file.exists():
        cache = json.loads(spec.tokens_file.read_text())
    tokens = cache.get(spec.url, [])
    if len(tokens) >= spec.delegates:
        return tokens[: spec.delegates]
    progress(f"logging in {spec.delegates - len(tokens)} delegates …")
    semaphore = asyncio.Semaphore(8)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> str:
            async with semaphore:
                return await login(session, spec.url, f"delegate{i:03d}", spec.password)

        more = await asyncio.gather(*(one(i) for i in range(len(tokens) + 1, spec.delegates + 1)))
    tokens = tokens + list(more)
    if spec.tokens_file:
        cache[spec.url] = tokens
        spec.tokens_file.write_text(json.dumps(cache))
    return tokens


async def find_meeting(spec: LoadSpec, token: str) -> int:
    async with aiohttp.ClientSession() as session:
        headers = {"authorization": f"Bearer {token}"}
        async with session.get(f"{spec.url}/api/meetings", headers=headers) as response:
            meetings = await response.json()
    for meeting in meetings:
        if meeting["status"] in ("published", "open"):
            return int(meeting["id"])
    raise RuntimeError("no published or open meeting: pass --meeting")


async def _recv(conn: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


class LoadRun:
    """N delegates joined from client processes, and the chair: `async with LoadRun(spec) as
    run: await run.join(result)`, then `await run.broadcast()` as often as wanted (the chair's
    move, timed until the last client has it). `run_loadtest` and the benchmarks use it."""

    chair: Chair
    chair_token: str
    meeting_id: int

    def __init__(self, spec: LoadSpec, progress: Progress = print) -> None:
        self.spec = spec
        self.progress = progress
        self.pipes: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []

    async def prepare(self) -> list[str]:
        """Log the chair in, find the meeting and answer the delegates' tokens; a separate step
        so that the benchmark against a bare server (tests/bench/bare_load.py) brings its own."""
        spec = self.spec
        async with aiohttp.ClientSession() as session:
            self.chair_token = await login(session, spec.url, "chair", spec.password)
        self.meeting_id = spec.meeting_id or await find_meeting(spec, self.chair_token)
        self.chair = QuorumChair(spec.url, self.chair_token, self.meeting_id)
        return await delegate_tokens(spec, self.progress)

    async def __aenter__(self) -> LoadRun:
        spec = self.spec
        tokens = await self.prepare()
        await self.chair.start()
        processes = max(1, min(spec.processes, spec.delegates))
        mp = multiprocessing.get_context("spawn")
        for k in range(processes):
            parent, child = mp.Pipe()
            share = tokens[k::processes]
            proc = mp.Process(
                target=_worker, args=(child, spec.url, share, self.meeting_id), daemon=True
            )
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        try:
            for pipe in self.pipes:
                await _recv(pipe)  # ready
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def join(self, result: LoadResult) -> None:
        """Every delegate connects and joins at the same moment; fills the join figures."""
        spec, pipes = self.spec, self.pipes
        result.rss_before_kb = rss_kb(spec.server_pid)
        cpu_before = cpu_s(spec.server_pid)
        self.progress(
            f"{spec.delegates} delegates connect and join meeting {self.meeting_id} at once …"
        )
        started = time.time()
        for pipe in pipes:
            pipe.send(("go",))
        done = [0] * len(pipes)

        async def follow(k: int) -> tuple[list[tuple[float, float]], list[str]]:
            while True:
                message = await _recv(pipes[k])
                if message[0] == "joined":
                    return message[1], message[2]
                done[k] = message[1]

        async def report() -> None:
            while True:
                await asyncio.sleep(1.0)
                self.progress(
                    f"  {sum(done)}/{spec.delegates} answered after {time.time() - started:.1f} s"
                )

        reporter = asyncio.get_running_loop().create_task(report())
        outcomes = await asyncio.gather(*(follow(k) for k in range(len(pipes))))
        reporter.cancel()
        times = [t for o in outcomes for t in o[0]]
        result.errors = [e for o in outcomes for e in o[1]]
        result.joined, result.failed = len(times), len(result.errors)
        if times:
            result.connect_s = max(c for c, _ in times) - started
            result.join_s = max(j for _, j in times) - started
        cpu_joined = cpu_s(spec.server_pid)
        if cpu_before is not None and cpu_joined is not None:
            result.join_cpu_s = cpu_joined - cpu_before

    async def broadcast(self) -> tuple[float, int]:
        """The chair moves the agenda; answers (seconds until the last client had the event,
        how many clients had it)."""
        fired = time.time()
        seq = await self.chair.fire()
        latest, count = fired, 0
        for pipe in self.pipes:
            pipe.send(("wait", seq, 10.0))
        for pipe in self.pipes:
            _, got, at = await _recv(pipe)
            count += got
            latest = max(latest, at)
        return latest - fired, count

    async def __aexit__(self, *exc: object) -> None:
        for pipe in self.pipes:
            pipe.send(("stop",))
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            try:
                if await asyncio.wait_for(_recv(pipe), 30):
                    pass
            except (TimeoutError, EOFError):
                pass
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        await self.chair.stop()


async def run_loadtest(spec: LoadSpec, progress: Progress = print) -> LoadResult:
    async with LoadRun(spec, progress) as run:
        return await measure(run)


async def measure(run: LoadRun) -> LoadResult:
    """Everyone joins at once, then the chair's broadcasts, each timed until the last client."""
    spec, progress = run.spec, run.progress
    result = LoadResult(spec.delegates)
    await run.join(result)
    await asyncio.sleep(1.0)  # let the server settle (presence flush, GC) before measuring
    result.rss_after_kb = rss_kb(spec.server_pid)
    cpu_start = cpu_s(spec.server_pid)
    progress(f"joined {result.joined} in {result.join_s:.2f} s; {spec.broadcasts} broadcasts …")
    for _ in range(spec.broadcasts):
        took, count = await run.broadcast()
        result.broadcasts_s.append(took)
        result.received.append(count)
        await asyncio.sleep(BROADCAST_PAUSE)
    cpu_end = cpu_s(spec.server_pid)
    if cpu_start is not None and cpu_end is not None and spec.broadcasts:
        result.broadcast_cpu_s = (cpu_end - cpu_start) / spec.broadcasts  # incl. timers
    return result
