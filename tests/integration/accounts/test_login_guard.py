"""Login guessing and floods (docs/SECURITY.md, "Login throttling"): progressive delays per name
and address instead of a lock that strangers can trigger; attempts reserved before the password
is checked, so concurrent guesses cannot overrun the limit; password hashing capped per core."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlmodel import col

from meetings.services.accounts import passwords
from meetings.storage.tables import LoginAttempt
from tests.conftest import PASSWORD, Running

Answer = tuple[int, dict[str, Any], Any]


async def login_from(
    server: Running, address: str, username: str, password: str = PASSWORD
) -> Answer:
    """Log in from another loopback address (the server listens on 127.0.0.1)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        return await _post(http, server, username, password)


async def _post(http: aiohttp.ClientSession, server: Running, username: str, password: str
                ) -> Answer:  # fmt: skip
    body = {"username": username, "password": password}
    async with http.post(server.base_url + "/api/auth/login", json=body) as response:
        return response.status, await response.json(), response.headers


async def checked_attempts(server: Running, username: str) -> int:
    async with server.services.db.reading() as session:
        count = await session.scalar(
            select(func.count()).where(col(LoginAttempt.username) == username)
        )
    return int(count or 0)


async def test_a_stranger_cannot_lock_the_chair_out(server: Running) -> None:
    limit = server.settings.login_attempts
    stranger = "127.0.0.2"
    for _ in range(limit):
        assert (await login_from(server, stranger, "chair", "a guess!"))[0] == 401
    # the stranger must now wait, even with the right password ...
    status, body, headers = await login_from(server, stranger, "chair")
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert headers["retry-after"] == "1" and body["error"]["details"]["retry_after_s"] == 1
    # ... but the chair, from the chair's own address, is not refused
    assert (await login_from(server, "127.0.0.1", "chair"))[0] == 200
    # the delays grow: 1 s, then 2 s after the next checked failure
    await asyncio.sleep(1.1)
    assert (await login_from(server, stranger, "chair", "another guess"))[0] == 401
    status, body, headers = await login_from(server, stranger, "chair", "and another")
    assert status == 429 and headers["retry-after"] == "2"
    assert await checked_attempts(server, "chair") == limit + 2  # refused ones are not written


async def test_a_hall_keeps_logging_in_while_someone_there_sprays(server: Running) -> None:
    hall = "127.0.0.4"
    assert (await login_from(server, hall, "delegate005"))[0] == 200  # logged in here before
    sprayed = server.settings.login_attempts * 5
    for i in range(sprayed):  # one guess per name: no name reaches its own limit
        assert (await login_from(server, hall, f"guess{i}", "password1"))[0] == 401
    status, body, _ = await login_from(server, hall, "another-guess", "password1")
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    # a name new to this address waits (asked at once: the first delay is one second) ...
    assert (await login_from(server, hall, "delegate006"))[0] == 429
    # ... a name that logged in here before does not, nor the new one from elsewhere
    assert (await login_from(server, hall, "delegate005"))[0] == 200
    assert (await login_from(server, "127.0.0.5", "delegate006"))[0] == 200


async def test_concurrent_guesses_cannot_overrun_the_limit(server: Running) -> None:
    """Forty guesses sent at once: only the free ones are checked, the others wait."""
    limit = server.settings.login_attempts
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.6", 0), limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        answers = await asyncio.gather(
            *(_post(http, server, "delegate004", f"guess-{i:03}") for i in range(40))
        )
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [401] * limit + [429] * (40 - limit), statuses
    assert await checked_attempts(server, "delegate004") == limit


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_concurrent_logins_hash_one_password_per_core(server: Running) -> None:
    """Each argon2 check holds its memory cost (19 MiB; 64 MiB with the old parameters):
    thirty logins at once must not hold thirty of them."""
    stop = False
    peak = base = rss()

    async def sample() -> None:
        nonlocal peak
        while not stop:
            peak = max(peak, rss())
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.7", 0), limit=0)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as http:
        answers = await asyncio.gather(
            *(_post(http, server, f"delegate00{1 + i % 6}", PASSWORD) for i in range(30))
        )
    stop = True
    await sampler
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 10, statuses
    cores = len(os.sched_getaffinity(0))
    assert passwords.pool(server.services).peak <= cores
    grown = (peak - base) / 2**20
    assert grown < 64 * (cores + 4), (
        f"+{grown:.0f} MiB for 30 logins in {time.monotonic() - started:.1f} s"
    )
