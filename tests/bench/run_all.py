"""Every benchmark of docs/PERFORMANCE.md, one after the other (`make bench`).

Each runs in its own process with the arguments listed here, and prints its own table; this only
sequences them and reports which failed. A row of docs/PERFORMANCE.md names the command of its
own figures, which may differ from these arguments. Run on an otherwise
idle machine: the figures compare Quorum with the bare stack measured in the same run, but a
busy machine makes both slower by different amounts. Pick some with `--only NAME ...`.

    uv run python -m tests.bench.run_all [--only bench_vote_storm bench_broadcast]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

PROVINCE_WORKERS = ["--workers", "1,2,4", "--window", "2", "--no-bare"]
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("bench_signing", ["--runs", "50", "--batch", "400"]),
    ("bench_signing_load", []),
    ("bench_annotations", ["--strokes", "300"]),
    ("bench_first_page", ["--runs", "5"]),
    ("bench_broadcast", ["--sizes", "500,1000,2000", "--broadcasts", "20"]),
    ("bench_vote_storm", ["--delegates", "500"]),
    ("bench_login_burst", ["--users", "2000", "--window", "60"]),
    ("bench_scaleout", []),
    ("bench_province", ["--sittings", "100", "--tablets", "30"]),
    ("bench_province", [*PROVINCE_WORKERS, "--worker-cpu", "0.4", "--rounds", "2"]),
    ("bench_webapp", []),
    ("bench_annotate_webapp", ["--strokes", "100"]),
    ("bench_reader", []),
    ("bench_search", []),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="names of the benchmarks to run")
    args = parser.parse_args()
    chosen = [(name, extra) for name, extra in BENCHMARKS if not args.only or name in args.only]
    failed = []
    for index, (name, extra) in enumerate(chosen, 1):
        command = [sys.executable, "-m", f"tests.bench.{name}", *extra]
        print(
            f"\n=== [{index}/{len(chosen)}] {' '.join(command[1:])}"
            f" (load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        started = time.monotonic()
        code = subprocess.call(command)
        print(f"=== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(
        f"\nall {len(chosen)} benchmarks ran; write the run up in docs/performance-journal.md"
        " and copy its figures into docs/PERFORMANCE.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
