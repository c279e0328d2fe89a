"""Token buckets (meetings/ratelimit.py): cost, refill, retry-after, dropping idle buckets."""

from __future__ import annotations

import pytest

from meetings import ratelimit
from meetings.ratelimit import RateLimiter


def test_burst_then_refill_at_the_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=4)
    assert [limiter.allow("a", now=0.0) for _ in range(5)] == [True] * 4 + [False]
    assert limiter.retry_after("a") == pytest.approx(0.5)
    assert limiter.allow("a", now=0.5)
    assert not limiter.allow("a", now=0.5)
    assert limiter.allow("b", now=0.5)  # another key has its own bucket


def test_a_costly_request_needs_all_its_tokens() -> None:
    limiter = RateLimiter(rate=1.0, burst=10)
    assert limiter.allow("a", now=0.0, cost=5)
    assert limiter.allow("a", now=0.0, cost=5)
    assert not limiter.allow("a", now=0.0, cost=5)  # refused: nothing taken
    assert limiter.retry_after("a", cost=5) == pytest.approx(5.0)
    assert limiter.allow("a", now=0.0, cost=0)
    assert limiter.allow("a", now=5.0, cost=5)


def test_idle_buckets_are_dropped_when_there_are_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 3)
    limiter = RateLimiter(rate=1.0, burst=2)
    for key in ("a", "b", "c"):
        assert limiter.allow(key, now=0.0)
    assert limiter.allow("c", now=0.0) and not limiter.allow("c", now=0.5)
    # at 1.0 s "a" and "b" have refilled; "c" has not: only the full ones go
    assert limiter.allow("d", now=1.0)
    assert set(limiter._buckets) == {"c", "d"}


def test_a_long_idle_refills_to_the_burst_and_no_further() -> None:
    """Idle for an hour, a bucket holds `burst` tokens, not an hour's worth (the cap on refill)."""
    limiter = RateLimiter(rate=10.0, burst=5)
    assert limiter.allow("a", now=0.0)
    allowed = sum(limiter.allow("a", now=3600.0) for _ in range(100))
    assert allowed == 5
    assert limiter.retry_after("a") == pytest.approx(0.1)  # and it is empty, not in credit


def test_the_rest_limit_caps_its_refill_at_the_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same over HTTP (meetings/http/ratelimit.py): after a long quiet spell a caller gets
    `http_burst` requests at once, then 429."""
    import asyncio
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from meetings.config import Settings
    from meetings.http.ratelimit import RateLimit

    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])

    async def ok(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    async def status(app: RateLimit) -> int:
        sent: list[dict[str, object]] = []

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "path": "/api/meetings",
            "method": "GET",
            "headers": [],
            "client": ("203.0.113.7", 5000),
        }
        await app(scope, None, send)  # type: ignore[arg-type]
        return int(sent[0]["status"])  # type: ignore[call-overload]

    with TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), secret_key="t", http_rate=2, http_burst=3)
        app = RateLimit(ok, settings)  # type: ignore[arg-type]
        assert asyncio.run(status(app)) == 200
        clock[0] += 24 * 3600  # a day later
        statuses = [asyncio.run(status(app)) for _ in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
