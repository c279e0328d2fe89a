"""Password guessing and login floods (docs/SECURITY.md, "Login throttling").

Three guards around the password check in `services.accounts.auth.login`:

- **Progressive delays, not a lock.** Failures are counted per name *and* address over 15
  minutes. The first `QUORUM_LOGIN_ATTEMPTS` are free; after them each further attempt from that
  address for that name must wait 1 s after the last failure, then 2 s, 4 s, … up to 15 minutes.
  A stranger who guesses the chair's password from elsewhere delays only themselves: the chair's
  own address is another pair and is never refused for it.
- **Per address** (password spraying over many names from one place): past five times that many
  failures from one address, attempts from it wait the same growing delays, except for names
  that logged in successfully from that address before (the hall's tablets behind one NAT
  address keep logging in while someone in the hall sprays).
- **The attempt is reserved before the password is checked**: counting the earlier failures and
  writing this attempt (`pending`, counted as a failure of its name and address until the
  password proves right) happen in one transaction that holds a lock for the address (SQLite's
  single writer; a PostgreSQL advisory lock), so forty guesses sent at once see each other and
  only the free ones are checked. The per-address count takes ended failures only, so a hall
  whose tablets all log in at the same moment is not slowed by its own reservations.

The password check itself, its threads and its queue (`503 busy` when too many logins wait) are
`passwords.py`; a reservation whose check never ran is withdrawn (`withdraw`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import RateLimited
from meetings.services.context import Services
from meetings.storage.tables import LoginAttempt, as_utc, utcnow

WINDOW = timedelta(minutes=15)
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 15 * 60.0
ADDRESS_FACTOR = 5
"""An address may fail this many times `QUORUM_LOGIN_ATTEMPTS` (over all names) before delays."""
TRUSTED_FOR = timedelta(days=90)
"""A name that logged in from an address within this time is not delayed by that address's
failures on other names."""


def delay_s(excess: int) -> float:
    """The wait after the `excess`-th failure past the free ones (1 s, 2 s, 4 s, … 15 min)."""
    if excess <= 0:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** min(excess - 1, 32))


def wait_s(failures: int, last: datetime | None, free: int, now: datetime) -> float:
    """Seconds until another attempt may be checked, after `failures` (the latest at `last`)."""
    last = as_utc(last)
    if failures < free or last is None:
        return 0.0
    due = last + timedelta(seconds=delay_s(failures - free + 1))
    return max(0.0, (due - now).total_seconds())


async def reserve(services: Services, name: str, ip: str) -> int:
    """Record this attempt as a failure and return its id; or refuse it (`429 rate_limited`,
    with how long to wait) without writing anything."""
    free = max(1, services.settings.login_attempts)
    now = utcnow()
    since = now - WINDOW
    failed = (  # pending reservations too: guesses sent together see each other
        col(LoginAttempt.ip) == ip,
        col(LoginAttempt.at) > since,
        ~col(LoginAttempt.ok),
    )
    async with services.uow() as uow:
        session = uow.session
        if not services.db.sqlite:  # SQLite: BEGIN IMMEDIATE already serialises writers
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login\n{ip}"}
            )
        count, last = (
            await session.execute(
                select(func.count(), func.max(col(LoginAttempt.at))).where(
                    col(LoginAttempt.username) == name, *failed
                )
            )
        ).one()
        wait = wait_s(count, last, free, now)
        if wait <= 0:
            count, last = (
                await session.execute(  # ended failures only: a hall logging in at once
                    select(func.count(), func.max(col(LoginAttempt.at))).where(
                        *failed, ~col(LoginAttempt.pending)
                    )
                )
            ).one()
            by_address = wait_s(count, last, free * ADDRESS_FACTOR, now)
            if by_address > 0 and not await _trusted(session, name, ip, now):
                wait = by_address
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"too many failed logins; try again in {seconds} s",
                details={"retry_after_s": seconds},
            )
        attempt = LoginAttempt(username=name, ip=ip, at=now, ok=False, pending=True)
        session.add(attempt)
        await session.flush()
        assert attempt.id is not None
        await uow.commit()
    return attempt.id


async def _trusted(session: AsyncSession, name: str, ip: str, now: datetime) -> bool:
    found = await session.scalar(
        select(col(LoginAttempt.id))
        .where(
            col(LoginAttempt.username) == name,
            col(LoginAttempt.ip) == ip,
            col(LoginAttempt.ok),
            col(LoginAttempt.at) > now - TRUSTED_FOR,
        )
        .limit(1)
    )
    return found is not None


async def failed(services: Services, attempt_id: int) -> None:
    """The password was wrong: the delay before the next attempt runs from now, the answer,
    not from the reservation (a check may take a second on a busy server)."""
    async with services.uow() as uow:
        await uow.session.execute(
            update(LoginAttempt)
            .where(col(LoginAttempt.id) == attempt_id)
            .values(at=utcnow(), pending=False)
        )
        await uow.commit()


async def withdraw(services: Services, attempt_id: int) -> None:
    """Remove a reservation whose password was never checked."""
    async with services.uow() as uow:
        await uow.session.execute(delete(LoginAttempt).where(col(LoginAttempt.id) == attempt_id))
        await uow.commit()
