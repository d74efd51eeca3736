"""Deadlines and cancellation reach the work: the RPC deadline is the pipeline's, a late request
stops at the next stage boundary, stream items stop when the client leaves, one failing item
does not end its stream, and the async client sends its default deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from newsbrief.client import AsyncClient, Client
from newsbrief.service.domain import Article, BriefOptions
from newsbrief.service.errors import DeadlineExceeded
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RunningServer, make_settings
from tests.fakes import HookedPipeline

ARTICLE = (Path(__file__).resolve().parent.parent / "fixtures" / "en_article.txt").read_text(
    encoding="utf-8"
)
HOLD = "hold"  # client_reference of an article whose brief waits until it is cancelled
FAIL = "fail"  # client_reference of an article whose brief raises an unexpected error


class _WatchedPipeline(HookedPipeline):
    """The real pipeline, recording the deadline of each brief; ``hold`` articles wait until
    cancelled (and say so), ``fail`` articles raise an error no handler expects."""

    def __init__(self) -> None:
        super().__init__(make_settings(cache={"enabled": False}))
        self.deadlines: list[tuple[float | None, float]] = []
        self.holding = threading.Event()

    async def before_brief(self, article: Article, deadline: float | None) -> None:
        self.deadlines.append((deadline, time.monotonic()))
        if article.client_reference == FAIL:
            raise RuntimeError("an unexpected failure of one article")
        if article.client_reference == HOLD:
            self.holding.set()
            await self.wait(120)

    def reset(self) -> None:
        self.deadlines.clear()
        self.holding.clear()
        self.cancelled.clear()


@pytest.fixture(scope="module")
def watched() -> Iterator[tuple[RunningServer, _WatchedPipeline]]:
    pipeline = _WatchedPipeline()
    running = RunningServer(pipeline.settings, pipeline=pipeline)
    try:
        yield running, pipeline
    finally:
        running.stop()


def _remaining(pipeline: _WatchedPipeline) -> float:
    ((deadline, seen),) = pipeline.deadlines
    assert deadline is not None, "the pipeline got no deadline"
    return deadline - seen


def test_summarize_gives_the_pipeline_the_rpc_deadline(
    watched: tuple[RunningServer, _WatchedPipeline],
) -> None:
    running, pipeline = watched
    pipeline.reset()
    with Client(running.target, retries=0) as c:
        c.summarize(ARTICLE, timeout=25)
    assert 0 < _remaining(pipeline) <= 25


def test_the_async_client_sends_its_default_deadline(
    watched: tuple[RunningServer, _WatchedPipeline],
) -> None:
    running, pipeline = watched
    pipeline.reset()

    async def call() -> None:
        async with AsyncClient(running.target, timeout=17, retries=0) as c:
            await c.summarize(ARTICLE)

    asyncio.run(call())
    # 17 s, read through grpc's clock: it can run a little ahead of time.monotonic under load
    assert 0 < _remaining(pipeline) <= 17.5


def _stream(
    running: RunningServer,
    references: list[str],
    timeout: float | None,
    open_until: threading.Event | None = None,
) -> grpc.Future:
    """A SummarizeStream call; with ``open_until``, the request stream stays open (the client
    has more to send) until that event is set."""
    channel = grpc.insecure_channel(running.target)
    stub = pb_grpc.SummarizerServiceStub(channel)

    def items() -> Iterator[pb.SummarizeStreamRequest]:
        for r in references:
            yield pb.SummarizeStreamRequest(
                request=pb.SummarizeRequest(text=ARTICLE, client_reference=r)
            )
        if open_until is not None:
            open_until.wait(60)

    return stub.SummarizeStream(items(), timeout=timeout)


@pytest.mark.parametrize("still_sending", [True, False], ids=["sending", "half-closed"])
@pytest.mark.parametrize("leaves_by", ["cancel", "deadline"])
def test_stream_items_stop_when_the_client_leaves(
    watched: tuple[RunningServer, _WatchedPipeline], leaves_by: str, still_sending: bool
) -> None:
    """The client cancels, or its deadline passes, while an item is being briefed: whether or
    not it has finished sending, that item's work is cancelled."""
    running, pipeline = watched
    pipeline.reset()
    more = threading.Event()
    timeout = 2.0 if leaves_by == "deadline" else None
    call = _stream(running, [HOLD], timeout=timeout, open_until=more if still_sending else None)
    try:
        if leaves_by == "cancel":
            assert pipeline.holding.wait(30)
            call.cancel()
        else:
            with pytest.raises(grpc.RpcError) as info:
                list(call)
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert pipeline.cancelled.wait(30), f"the item kept running after the {leaves_by}"
    finally:
        more.set()


def test_an_unexpected_error_in_one_item_does_not_end_the_stream(
    watched: tuple[RunningServer, _WatchedPipeline],
) -> None:
    running, pipeline = watched
    pipeline.reset()
    answers = list(_stream(running, ["a", FAIL, "b"], timeout=60))
    codes = {a.client_reference: a.status.code for a in answers}
    assert codes == {"a": 0, FAIL: grpc.StatusCode.INTERNAL.value[0], "b": 0}
    failed = next(a for a in answers if a.client_reference == FAIL)
    assert "unexpected failure" not in failed.status.message  # the detail stays in the log


class _CountingPipeline(Pipeline):
    """Counts the stages run (every stage goes through ``_run``)."""

    def __init__(self) -> None:
        super().__init__(make_settings(cache={"enabled": False}))
        self.stages = 0

    async def _run(self, fn, *args, deadline):  # type: ignore[no-untyped-def]
        self.stages += 1
        return await super()._run(fn, *args, deadline=deadline)


@pytest.mark.asyncio
async def test_a_late_request_stops_at_the_next_stage_boundary() -> None:
    pipeline = _CountingPipeline()
    await pipeline.start()
    try:
        warm = pipeline.stages
        with pytest.raises(DeadlineExceeded):
            await pipeline.brief(
                Article(text=ARTICLE), BriefOptions(), deadline=time.monotonic() - 0.001
            )
        assert pipeline.stages == warm, "a stage ran after the deadline had passed"
        result = await pipeline.brief(
            Article(text=ARTICLE), BriefOptions(), deadline=time.monotonic() + 60
        )
        assert result.brief.summary and pipeline.stages == warm + 1  # intake, brief, guard in one
    finally:
        pipeline.close()
