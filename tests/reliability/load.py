"""Concurrent unary load over gRPC asyncio: each call's outcome, retry delay and latency as the
client saw it, keyed by the request id it sent (the server logs the same id)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import _async as rpc_status_aio

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc


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
    """``calls`` Summarize calls at once, spread over ``channels`` connections."""
    opened = [grpc.aio.insecure_channel(target) for _ in range(channels)]
    try:
        stubs = [pb_grpc.SummarizerServiceStub(c) for c in opened]
        return list(
            await asyncio.gather(
                *(_one(stubs[i % channels], text, deadline_s) for i in range(calls))
            )
        )
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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
