"""A bounded closed-loop load generator: ``concurrency`` clients, a fixed number of requests, a
wall-clock cap. Each client sends its next request when its previous one has answered."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class LoadResult:
    """What one load run measured (latencies in milliseconds)."""

    concurrency: int
    requested: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    skipped: int = 0  # requests never sent because the time cap was reached

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Successful requests per second over the run's wall time."""
        return self.completed / self.wall_s if self.wall_s > 0 else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requested": self.requested,
            "completed": self.completed,
            "errors": len(self.errors),
            "error_samples": self.errors[:3],
            "skipped": self.skipped,
            "wall_s": round(self.wall_s, 3),
            "throughput_rps": _r(self.throughput),
            "p50_ms": _r(self.p(50)),
            "p95_ms": _r(self.p(95)),
            "max_ms": _r(max(self.latencies_ms) if self.latencies_ms else math.nan),
        }


def _r(x: float, digits: int = 3) -> float | None:
    return None if math.isnan(x) else round(x, digits)


async def run_load(
    call: Callable[[int], Awaitable[Any]],
    *,
    requests: int,
    concurrency: int,
    max_seconds: float,
    call_timeout_s: float,
) -> LoadResult:
    """Send ``requests`` calls (``call(i)`` for i = 0..requests-1) from ``concurrency`` clients.

    No new request starts after ``max_seconds``; each call is cut at ``call_timeout_s``.
    A failed call is counted as an error (its latency is not in the percentiles).
    """
    if requests < 1 or concurrency < 1:
        raise ValueError("requests and concurrency must be at least 1")
    result = LoadResult(concurrency=concurrency, requested=requests)
    next_index = 0
    started = time.monotonic()
    stop_at = started + max_seconds

    async def client() -> None:
        nonlocal next_index
        while next_index < requests:
            if time.monotonic() >= stop_at:
                return
            index = next_index
            next_index += 1
            t0 = time.monotonic()
            try:
                await asyncio.wait_for(call(index), timeout=call_timeout_s)
            except Exception as exc:  # recorded, never raised: one failure ends no run
                result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                result.latencies_ms.append((time.monotonic() - t0) * 1000.0)

    await asyncio.gather(*(client() for _ in range(min(concurrency, requests))))
    result.wall_s = time.monotonic() - started
    result.skipped = requests - next_index
    return result
