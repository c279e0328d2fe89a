"""Password hashing: its cost, its threads and its queue (docs/SECURITY.md, "Accounts and
passwords", "The login queue").

- **Cost.** argon2id with `QUORUM_PASSWORD_MEMORY_KIB` (19456, i.e. 19 MiB) and
  `QUORUM_PASSWORD_TIME_COST` (2), one lane: OWASP's minimum for argon2id, which is also the
  floor the settings enforce (`meetings.config.check_password_cost`). argon2-cffi's default
  (64 MiB, t=3, four lanes) took about 170 ms of CPU per check here: 2,000 delegates logging in
  at 8:00 kept a 2-core server busy for minutes. The minimum takes about 20 ms: the same 2,000
  fit in well under a minute of both cores. A stored hash made with other parameters is made
  again with these ones at its owner's next successful login (`Check.rehashed`).
- **Threads.** Every argon2 computation runs in this pool's threads (argon2-cffi releases the
  GIL), at most `QUORUM_PASSWORD_WORKERS` (default: one per core) at once, never on the event
  loop; the threads run at a lower priority (nice +10), so that when ballots and a login storm
  compete for the CPU the event loop, which acknowledges the ballots, goes first.
- **Queue.** A login waits for a thread in FIFO order. One that would wait longer than
  `QUORUM_LOGIN_WAIT_S` (estimated from the recent hashing time), or that finds
  `QUORUM_LOGIN_QUEUE` logins already waiting, is answered at once `503 busy` with a
  `Retry-After` that grows with the backlog, so retries spread out instead of piling up.
- **One spelling.** A password is hashed and checked in Unicode NFC (`canonical`). Vietnamese
  letters come from keyboards in two forms: "ệ" as one code point, or as "e" followed by two
  combining marks (Unikey's "Unicode tổ hợp", some laptop layouts); the same password typed on a
  tablet and on a laptop must be the same password. A hash made before this from a decomposed
  password still matches what was typed, and is made again from the canonical form at that
  login (`Check.rehashed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from meetings.config import Settings, check_password_cost
from meetings.domain.errors import Unavailable
from meetings.services.context import Services

T = TypeVar("T")

THREAD_NICE = 10
"""Niceness added to the hashing threads' (Linux: per thread). Under CFS a thread weighs about
ten times one 10 steps nicer, so the event loop gets ~90 % of a core whenever it has work
while hashes take every cycle it leaves."""
FIRST_ESTIMATE_S = 0.05
"""Seconds one hash is assumed to take before any was measured (the start hook measures one)."""
SMOOTHING = 0.1
"""Weight of the newest duration in the running mean of hashing times."""
MAX_RETRY_S = 60


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def hasher_for(settings: Settings) -> PasswordHasher:
    """argon2id with the configured cost (refused below OWASP's minimum), one lane."""
    check_password_cost(settings)
    return PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_kib,
        parallelism=1,
        type=Type.ID,
    )


def canonical(password: str) -> str:
    """The form a password is hashed in: NFC ("One spelling" above)."""
    return unicodedata.normalize("NFC", password)


@dataclass(frozen=True)
class Check:
    ok: bool
    rehashed: str | None = None
    """A new hash of the password with the current parameters, when `ok` and the stored hash
    was made with others; the caller stores it in the login's transaction."""


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):
        try:  # on Linux a thread is a task: this sets this thread's niceness only
            tid = threading.get_native_id()
            nice = os.getpriority(os.PRIO_PROCESS, tid)  # relative: a niced server stays behind
            os.setpriority(os.PRIO_PROCESS, tid, min(19, nice + THREAD_NICE))
        except OSError:
            pass


class PasswordPool:
    """The app's password hashing: `workers` threads, a bounded wait (module docstring)."""

    def __init__(
        self,
        hasher: PasswordHasher,
        workers: int,
        max_waiting: int,
        max_wait_s: float,
    ) -> None:
        self.hasher = hasher
        self.workers = max(1, workers)
        self.max_waiting = max(1, max_waiting)
        self.max_wait_s = max_wait_s
        self.mean_s = FIRST_ESTIMATE_S
        self.admitted_now = 0
        """Logins admitted and not finished (waiting for a thread, or hashing)."""
        self.running = 0
        """argon2 computations running now (counted in the threads)."""
        self.peak = 0
        """The most that ever ran at once."""
        self.refused = 0
        self.done = 0
        """argon2 computations finished."""
        self._count_lock = threading.Lock()
        self._slots = asyncio.Semaphore(self.workers)
        self._executor = ThreadPoolExecutor(
            self.workers, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPool:
        return cls(
            hasher_for(settings),
            settings.password_workers or cores(),
            settings.login_queue,
            settings.login_wait_s,
        )

    @property
    def waiting(self) -> int:
        """Logins admitted that have no thread yet (about: some are still reading the user)."""
        return max(0, self.admitted_now - self.workers)

    def expected_wait_s(self) -> float:
        """How long one more login would wait for a thread: until as many of those ahead
        finished as keep every thread busy."""
        ahead = max(0, self.admitted_now + 1 - self.workers)
        return ahead * self.mean_s / self.workers

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """A place in the login queue, or `503 busy` at once when it is too long."""
        wait = self.expected_wait_s()
        if self.waiting >= self.max_waiting or wait > self.max_wait_s:
            self.refused += 1
            retry = min(MAX_RETRY_S, max(1, math.ceil(wait - self.max_wait_s / 2)))
            raise Unavailable(
                f"the server is busy checking passwords; try again in {retry} s",
                code="busy",
                details={"retry_after_s": retry},
            )
        self.admitted_now += 1
        try:
            yield
        finally:
            self.admitted_now -= 1

    async def run(self, work: Callable[[], T], *, limit_s: float | None = None) -> T:
        """`work` in a hashing thread, after waiting (FIFO) for one of the `workers` slots;
        `503 busy` when no slot came within `limit_s`."""
        try:
            async with asyncio.timeout(limit_s):
                await self._slots.acquire()
        except TimeoutError:
            self.refused += 1
            raise Unavailable(
                "the server is busy checking passwords; try again in 3 s",
                code="busy",
                details={"retry_after_s": 3},
            ) from None
        loop = asyncio.get_running_loop()
        try:
            job = self._executor.submit(self._timed, work)
        except BaseException:
            self._slots.release()
            raise
        # the slot is free when the thread is, even if the login waiting for it was cancelled
        job.add_done_callback(lambda _job: self._release_from(loop))
        return await asyncio.wrap_future(job)

    def _release_from(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(self._slots.release)

    def _timed(self, work: Callable[[], T]) -> T:
        with self._count_lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        started = time.perf_counter()
        try:
            return work()
        finally:
            took = time.perf_counter() - started
            with self._count_lock:
                self.running -= 1
                self.done += 1
                self.mean_s += SMOOTHING * (took - self.mean_s)

    async def hash(self, password: str) -> str:
        return await self.run(lambda: self.hasher.hash(canonical(password)))

    async def check(self, stored: str | None, password: str) -> Check:
        """Verify `password` against `stored` (None: an unknown user, checked against a dummy
        hash so that it costs the same); on success, rehash when the parameters differ or the
        hash was made from a password not in its canonical form. A password typed in another
        form than NFC is also tried as typed (whether the second check runs depends on the
        input only, not on the account)."""
        against = stored if stored is not None else await self.dummy_hash()

        def verify(candidate: str) -> bool:
            try:
                return bool(self.hasher.verify(against, candidate))
            except (VerificationError, InvalidHashError):
                return False

        def work() -> Check:
            form = canonical(password)
            ok = verify(form)
            as_typed = not ok and form != password and verify(password)
            if stored is None or not (ok or as_typed):
                return Check(False)
            if as_typed or self.hasher.check_needs_rehash(stored):
                return Check(True, self.hasher.hash(form))
            return Check(True)

        # a login waits in the queue for at most twice its admitted wait, then 503 (a safety
        # net: the estimate keeps it far shorter)
        return await self.run(work, limit_s=2 * self.max_wait_s + self.mean_s)

    async def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters, made once, in the pool."""
        if self._dummy is None:
            made = await self.hash(secrets.token_hex(16))
            self._dummy = self._dummy or made
        return self._dummy

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def pool(services: Services) -> PasswordPool:
    """This app's pool (made on first use: the CLI and the demo run no start hook)."""
    return services.shared(
        "passwords", PasswordPool, lambda: PasswordPool.from_settings(services.settings)
    )


async def start(services: Services) -> None:
    """App start hook: make the dummy hash now, which also measures what one hash costs."""
    await pool(services).dummy_hash()


async def stop(services: Services) -> None:
    found = services.subsystems.pop("passwords", None)
    if isinstance(found, PasswordPool):
        found.close()
