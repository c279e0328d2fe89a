"""The province and login-burst benchmarks still run, at a size that takes seconds
(docs/PERFORMANCE.md). Their figures are not checked here (a test is no benchmark), only that
they end, count every ballot and log everyone in: `bench_province` once stopped running after
a change to the password services, and nothing noticed until its next run. The province over
one and two workers with their CPU capped (`--worker-cpu`) gives the same results, and the
caps are gone after it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.bench._server import CGROUP_V1, CGROUP_V2
from tests.conftest import need, pg_available, redis_available

ROOT = Path(__file__).resolve().parents[3]


async def bench(module: str, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"tests.bench.{module}", *args,
        cwd=ROOT, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=240)
    text = out.decode()
    assert proc.returncode == 0, text[-3000:]
    return text


async def test_the_province_benchmark_runs() -> None:
    text = await bench(
        "bench_province", "--sittings", "3", "--tablets", "4", "--window", "1",
        "--processes", "1",
    )  # fmt: skip
    quorum, bare = (json.loads(line) for line in text.splitlines() if line.startswith("{"))
    for figures in (quorum, bare):
        assert figures["acked"] == figures["counted"] == 12 and figures["errors"] == 0
        assert figures["counts_match"] == figures["published_everywhere"] == 3
    assert "CPU per ballot" in text


async def test_the_login_burst_benchmark_runs() -> None:
    text = await bench(
        "bench_login_burst", "--users", "30", "--window", "2", "--voters", "3",
        "--before", "1", "--processes", "1", "--addresses", "2",
    )  # fmt: skip
    assert "| logins succeeded | 30 of 30 |" in text, text[-3000:]
    assert "| ballot errors | 0 |" in text, text[-3000:]


async def test_the_search_benchmark_runs_and_both_statements_find_the_same_pages() -> None:
    need("PostgreSQL", *await pg_available())
    text = await bench(
        "bench_search", "--versions", "40", "--pages", "4", "--words", "40", "--runs", "1",
    )  # fmt: skip
    found: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("stack", "---"):
            found.setdefault(cells[1], {})[cells[0]] = cells[2]
    assert set(found) == {"two common words", "a word and a prefix", "a word of one version only"}
    for query, by_stack in found.items():
        assert set(by_stack) == {"SQLite (FTS5)", "PostgreSQL, before 0014", "PostgreSQL"}, text
        assert len(set(by_stack.values())) == 1, (query, by_stack)  # the same pages everywhere
    assert found["a word of one version only"]["PostgreSQL"] == "4"


def _cgroups() -> list[Path]:
    return sorted(CGROUP_V2.glob("quorum-bench-*")) + sorted(CGROUP_V1.glob("quorum-bench-*"))


async def test_the_province_over_capped_workers_runs() -> None:
    need("PostgreSQL", *await pg_available())
    need("Redis", *await redis_available())
    root = CGROUP_V2 if (CGROUP_V2 / "cgroup.controllers").exists() else CGROUP_V1
    writable = os.access(root, os.W_OK) and (root / "cgroup.procs").exists()
    need("a cgroup to cap a process's CPU (Linux, root)", writable, str(root))
    before = _cgroups()
    text = await bench(
        "bench_province", "--sittings", "3", "--tablets", "4", "--window", "1",
        "--processes", "1", "--workers", "1,2", "--no-bare", "--worker-cpu", "0.5",
    )  # fmt: skip
    one, two = (json.loads(line) for line in text.splitlines() if line.startswith("{"))
    for figures in (one, two):
        assert figures["acked"] == figures["counted"] == 12 and figures["errors"] == 0
        assert figures["counts_match"] == figures["published_everywhere"] == 3
        assert figures["worker_cpu"] == 0.5 and figures["throttled_s"] is not None
    assert "each worker capped at 0.5 cores" in text
    assert "× the ballots per second of one worker" in text
    assert _cgroups() == before  # every worker's group removed after its run
