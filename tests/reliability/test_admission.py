"""Admission control: limits per method and per connection, refusals that say when to retry,
health and reflection never limited, idle streams closed, and 500 clients at once."""

from __future__ import annotations

import asyncio
import collections
import statistics
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import _async as rpc_status_aio

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RUN_SUMMARY, RunningServer, make_settings
from tests.harness.load import ARTICLE, access_log, burst, retry_delay_of
from tests.harness.server import ServerProcess


async def _idle_requests(release: asyncio.Event) -> AsyncIterator[pb.SummarizeStreamRequest]:
    await release.wait()
    return
    yield  # an async generator that sends nothing until released


async def _open_idle_streams(
    target: str, count: int, channels: int
) -> tuple[
    list[grpc.aio.StreamStreamCall],
    dict[str, list[float | None]],
    asyncio.Event,
    list[grpc.aio.Channel],
]:
    """``count`` streams that send nothing, over ``channels`` connections; returns the calls,
    and, once refusals have arrived, each refusal's code -> retry delays."""
    release = asyncio.Event()
    opened = [grpc.aio.insecure_channel(target) for _ in range(channels)]
    stubs = [pb_grpc.SummarizerServiceStub(c) for c in opened]
    calls = [stubs[i % channels].SummarizeStream(_idle_requests(release)) for i in range(count)]
    for call in calls:
        await call.initial_metadata()  # every call has reached the server
    await asyncio.sleep(0.5)  # refusals are immediate; admitted streams stay open
    refused: dict[str, list[float | None]] = collections.defaultdict(list)
    for call in calls:
        if call.done():
            status = await rpc_status_aio.from_call(call)
            refused[(await call.code()).name].append(retry_delay_of(status))
    return calls, refused, release, opened


async def _close(
    calls: list[grpc.aio.StreamStreamCall], release: asyncio.Event, opened: list[grpc.aio.Channel]
) -> None:
    release.set()
    for call in calls:
        call.cancel()
    await asyncio.gather(*(c.close() for c in opened))


def test_health_answers_while_one_client_holds_256_idle_streams() -> None:
    with RunningServer() as server:  # default limits

        async def scenario() -> None:
            calls, refused, release, opened = await _open_idle_streams(server.target, 256, 1)
            try:
                per_connection = server.settings.admission.streams_per_connection
                open_now = sum(1 for c in calls if not c.done())
                assert open_now == per_connection
                assert set(refused) == {"RESOURCE_EXHAUSTED"}
                assert len(refused["RESOURCE_EXHAUSTED"]) == 256 - per_connection
                assert all(d is not None and d > 0 for d in refused["RESOURCE_EXHAUSTED"])
                # health on the same connection and briefs on another still answer
                health = health_pb2_grpc.HealthStub(opened[0])
                for _ in range(20):
                    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    assert response.status == health_pb2.HealthCheckResponse.SERVING
                async with grpc.aio.insecure_channel(server.target) as other:
                    stub = pb_grpc.SummarizerServiceStub(other)
                    brief = await stub.Summarize(pb.SummarizeRequest(text=ARTICLE), timeout=30)
                    assert brief.brief.summary
            finally:
                await _close(calls, release, opened)

        asyncio.run(scenario())


def test_method_limit_refuses_with_retry_info_and_frees_slots() -> None:
    settings = make_settings(admission={"summarize_stream": 3, "retry_after_s": 2.5})
    with RunningServer(settings) as server:

        async def scenario() -> None:
            calls, refused, release, opened = await _open_idle_streams(server.target, 5, 5)
            try:
                assert sum(1 for c in calls if not c.done()) == 3
                assert dict(refused) == {"RESOURCE_EXHAUSTED": [2.5, 2.5]}
            finally:
                await _close(calls, release, opened)
            # the slots are given back once the streams end
            for _ in range(100):
                if not server.app.admission.in_flight:
                    break
                await asyncio.sleep(0.05)
            assert not server.app.admission.in_flight
            calls, refused, release, opened = await _open_idle_streams(server.target, 3, 3)
            try:
                assert not refused
            finally:
                await _close(calls, release, opened)

        asyncio.run(scenario())


def test_an_idle_stream_is_closed_and_its_slot_freed() -> None:
    settings = make_settings(admission={"stream_idle_timeout_s": 0.3})
    with RunningServer(settings) as server:

        async def scenario() -> None:
            async with grpc.aio.insecure_channel(server.target) as channel:
                stub = pb_grpc.SummarizerServiceStub(channel)
                release = asyncio.Event()
                # the client's own deadline, far past the idle timeout: a broken idle timer
                # fails the test (DEADLINE_EXCEEDED without the setting's name) instead of
                # hanging it, and the idle timeout must fire while the client has a deadline
                call = stub.SummarizeStream(_idle_requests(release), timeout=20)
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    async for _ in call:
                        pass
                assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                assert "stream_idle_timeout_s" in (info.value.details() or "")
                release.set()

                # a stream that keeps sending is not idle, however long it lasts
                async def slow() -> AsyncIterator[pb.SummarizeStreamRequest]:
                    for _ in range(3):
                        yield pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text=ARTICLE))
                        await asyncio.sleep(0.2)

                answers = [item async for item in stub.SummarizeStream(slow())]
                assert [a.status.code for a in answers] == [0, 0, 0]
            assert not server.app.admission.in_flight

        asyncio.run(scenario())


@pytest.fixture(scope="module")
def loaded() -> Iterator[ServerProcess]:
    with ServerProcess(NEWSBRIEF_LOGGING__ACCESS_LOG="true") as running:
        yield running


def test_500_concurrent_unary_clients_get_a_brief_or_a_retry_delay(loaded: ServerProcess) -> None:
    outcomes = asyncio.run(burst(loaded.target, ARTICLE, calls=500, channels=50))
    codes = collections.Counter(o.code for o in outcomes)
    assert set(codes) <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    assert codes["OK"] > 0
    for o in outcomes:
        if o.code == "RESOURCE_EXHAUSTED":
            assert o.retry_delay_s is not None and o.retry_delay_s > 0
    # the server logged every call with the client's outcome and the latency the client saw
    logged = {}
    for _ in range(50):
        logged = access_log(loaded.log)
        if all(o.request_id in logged for o in outcomes):
            break
        asyncio.run(asyncio.sleep(0.1))
    assert all(logged[o.request_id][0] == o.code for o in outcomes)
    # how close the server's time for a call is to the time its client waited is a figure, not
    # a claim a shared machine can hold: reported only
    ratios = [logged[o.request_id][1] / o.client_ms for o in outcomes if o.client_ms > 50]
    if ratios:
        RUN_SUMMARY.append(
            f"500 unary calls: server/client latency median ratio {statistics.median(ratios):.2f}"
        )
    assert loaded.health() == "SERVING"
