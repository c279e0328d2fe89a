"""Token buckets per client: Socket.IO commands per connection (docs/PROTOCOL.md, "Limits")
and REST requests per token or address (docs/SECURITY.md, "Rate limits").

A client over its limit is refused at the cost of a dictionary lookup and no database work, so
one flooding client does not slow the others. Buckets live in the worker's memory (each worker
counts its own clients); idle ones are dropped once there are many.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_KEYS = 50_000
"""Above this many buckets, those that have refilled completely are dropped (they would start
full anyway)."""


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, Bucket] = {}

    def allow(self, key: str, now: float | None = None, cost: float = 1.0) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self.sweep(now)
            bucket = self._buckets[key] = Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < cost:
            return False
        bucket.tokens -= cost
        return True

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until `cost` tokens are back for `key` (0 if they are there now)."""
        bucket = self._buckets.get(key)
        if bucket is None or self.rate <= 0:
            return 0.0
        return max(0.0, (cost - bucket.tokens) / self.rate)

    def sweep(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)
