"""`quorum serve` as an operator runs it: a child process on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.integration.platform.test_migrations import _free_port
from tests.integration.platform.test_scaleout import wait_ready


@asynccontextmanager
async def serving(
    data_dir: Path, env: dict[str, str]
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """Run `quorum serve` until the block ends; yields an HTTP session and the base URL."""
    port = _free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once; the block awaits it
        [sys.executable, "-m", "meetings.cli", "serve", "--port", str(port)],
        env=os.environ | {"QUORUM_DATA_DIR": str(data_dir)} | env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, proc)
        async with aiohttp.ClientSession() as http:
            yield http, base
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
