"""A per-token limit on mutations: a token bucket for each caller, per server process.

Kept hand-written on purpose (30 lines, no I/O): the `limits` package offers fixed, moving and
sliding windows but no token bucket with a burst, and its Redis storage, which would share one
limit between server processes, costs a Redis round trip on every mutation, the agents' trigger
and fill mutations on the hedge path included. With N server processes behind a balancer a token
may make up to N times `rate_per_s`; the limit is a guard against a runaway client, not a quota.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`allow(key)` spends one token of `key`'s bucket; buckets refill at `rate_per_s` up to `burst`."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate_per_s)
            bucket.stamp = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True
