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
