"""The load generator of the tests, the soak and the benchmark: ``concurrency`` clients in a
closed loop (each sends its next call when its previous one has answered), a fixed number of
calls, a wall-clock cap (:func:`run_load`); on it, a burst of Summarize calls at once over gRPC
with each call's outcome, retry delay and latency as the client saw it, keyed by the request id
it sent (the server logs the same id: :func:`access_log`)."""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import _async as rpc_status_aio

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc

#: An English news article (the fixture), the load's default text.
ARTICLE = (Path(__file__).resolve().parents[1] / "fixtures" / "en_article.txt").read_text(
    encoding="utf-8"
)


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
    #: what each successful call returned, in the order they finished
    values: list[Any] = field(default_factory=list)
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
                value = await asyncio.wait_for(call(index), timeout=call_timeout_s)
            except Exception as exc:  # recorded, never raised: one failure ends no run
                result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                result.latencies_ms.append((time.monotonic() - t0) * 1000.0)
                result.values.append(value)

    await asyncio.gather(*(client() for _ in range(min(concurrency, requests))))
    result.wall_s = time.monotonic() - started
    result.skipped = requests - next_index
    return result


# --- gRPC Summarize bursts -------------------------------------------------------------------


@dataclass
class Outcome:
    request_id: str
    code: str
    retry_delay_s: float | None
    client_ms: float


def retry_delay_of(status: status_pb2.Status | None) -> float | None:
    """The RetryInfo delay in an error's details (``rpc_status.from_call``), or None."""
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


async def _one(stub: pb_grpc.SummarizerServiceStub, text: str, deadline_s: float) -> Outcome:
    request_id = uuid.uuid4().hex
    text = f"{text}\n\nReference {request_id}."  # every call a new article: no cache hits
    started = time.monotonic()
    sent_ms = str(int(time.time() * 1000))  # as newsbrief clients send it
    call = stub.Summarize(
        pb.SummarizeRequest(text=text),
        timeout=deadline_s,
        metadata=(("x-request-id", request_id), ("x-client-sent-ms", sent_ms)),
    )
    try:
        await call
        code, delay = "OK", None
    except grpc.aio.AioRpcError as exc:
        code = exc.code().name
        delay = retry_delay_of(await rpc_status_aio.from_call(call))
    return Outcome(request_id, code, delay, (time.monotonic() - started) * 1000)


async def burst(
    target: str, text: str, *, calls: int, channels: int, deadline_s: float = 120.0
) -> list[Outcome]:
    """``calls`` Summarize calls at once (as many clients as calls), spread over ``channels``
    connections; each call's outcome, failures included."""
    opened = [grpc.aio.insecure_channel(target) for _ in range(channels)]
    try:
        stubs = [pb_grpc.SummarizerServiceStub(c) for c in opened]
        result = await run_load(
            lambda i: _one(stubs[i % channels], text, deadline_s),
            requests=calls,
            concurrency=calls,
            max_seconds=deadline_s,
            call_timeout_s=deadline_s + 30,  # the call's own deadline ends it first
        )
        assert not result.errors, result.errors[:3]  # _one returns every outcome
        return list(result.values)
    finally:
        await asyncio.gather(*(c.close() for c in opened))


ACCESS_LINE = re.compile(
    r"(?P<method>/\S+) (?P<code>[A-Z_]+) (?P<ms>[\d.]+)ms queue=(?P<queue>[\d.]+)ms "
    r"peer=\S+ request_id=(?P<id>\S+)"
)


def access_log(path: Path) -> dict[str, tuple[str, float, float]]:
    """request id -> (code, total ms, queue ms) from the server's access log."""
    out: dict[str, tuple[str, float, float]] = {}
    for match in ACCESS_LINE.finditer(path.read_text(errors="replace")):
        out[match["id"]] = (match["code"], float(match["ms"]), float(match["queue"]))
    return out
