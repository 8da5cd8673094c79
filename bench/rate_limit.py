"""Benchmark of the mutation rate limit: our token bucket against `limits`; prints one JSON line.

Every mutation spends one call of the limiter, the agents' fills and trigger actions included.
Measured per call (microseconds, median and p99 over `--calls` calls on one key): our in-process
`RateLimiter` (hedge.api.ratelimit), `limits`' moving window in memory, and `limits`' async
moving window and sliding-window counter on a Redis server (a throwaway redis-server on
loopback), the storage that would share one limit between server processes.

    uv run python bench/rate_limit.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.aio.strategies import SlidingWindowCounterRateLimiter as AsyncSlidingCounter
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hedge.api.ratelimit import RateLimiter
from hedge.localservices import start_redis

RATE = RateLimitItemPerSecond(1_000_000)  # never refuses: the bench times the bookkeeping only


def summary(laps_us: list[float]) -> dict[str, float]:
    laps_us.sort()
    return {
        "p50_us": round(statistics.median(laps_us), 2),
        "p99_us": round(laps_us[int(len(laps_us) * 0.99) - 1], 2),
    }


def timed_sync(call: Callable[[], bool], calls: int) -> dict[str, float]:
    laps = []
    for _ in range(calls):
        started = time.perf_counter()
        if not call():
            raise RuntimeError("the limiter refused a call the bench never meant to exceed")
        laps.append((time.perf_counter() - started) * 1e6)
    return summary(laps)


async def timed_async(call: Callable[[], Awaitable[bool]], calls: int) -> dict[str, float]:
    laps = []
    for _ in range(calls):
        started = time.perf_counter()
        if not await call():
            raise RuntimeError("the limiter refused a call the bench never meant to exceed")
        laps.append((time.perf_counter() - started) * 1e6)
    return summary(laps)


async def main(calls: int) -> dict[str, object]:
    ours = RateLimiter(rate_per_s=1_000_000, burst=1_000_000)
    memory = MovingWindowRateLimiter(MemoryStorage())
    results: dict[str, object] = {
        "bench": "rate_limit",
        "calls": calls,
        "ours_token_bucket": timed_sync(lambda: ours.allow("token"), calls),
        "limits_moving_window_memory": timed_sync(lambda: memory.hit(RATE, "token"), calls),
    }
    redis = start_redis()
    try:
        storage = AsyncRedisStorage(f"async+{redis.url}", implementation="redispy")  # our redis client
        moving, counter = AsyncMovingWindow(storage), AsyncSlidingCounter(storage)
        await moving.hit(RATE, "warm-up")
        results["limits_moving_window_redis"] = await timed_async(lambda: moving.hit(RATE, "token"), calls)
        results["limits_sliding_counter_redis"] = await timed_async(lambda: counter.hit(RATE, "t2"), calls)
    finally:
        redis.stop()
    ours_p50 = results["ours_token_bucket"]["p50_us"]  # type: ignore[index]
    results["redis_moving_window_p50_vs_ours"] = round(
        results["limits_moving_window_redis"]["p50_us"] / ours_p50,  # type: ignore[index]
        1,
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    print(json.dumps(asyncio.run(main(parser.parse_args().calls))))
