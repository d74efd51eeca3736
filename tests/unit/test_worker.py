"""The one model worker every engine runs on: loading off the event loop, readiness with the
reason, and deadlines that bound every wait for the model's thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from newsbrief.service.domain import ModelInfo
from newsbrief.service.errors import CapabilityUnavailable, DeadlineExceeded
from newsbrief.service.models.worker import ModelUnavailable, ModelWorker
from tests.fakes import failing_load

INFO = ModelInfo(role="translator", id="test/model", languages=("en", "ko"))


@pytest.mark.asyncio
async def test_the_model_loads_on_its_own_thread_and_reports_itself() -> None:
    loaded_on: list[str] = []

    def load() -> tuple[str, ModelInfo]:
        loaded_on.append(threading.current_thread().name)
        return "engine", ModelInfo(role="translator", id="test/model", revision="abc")

    worker: ModelWorker[str] = ModelWorker(INFO, load)
    assert not worker.ready and "loading" in worker.detail
    try:
        await worker.start()
        assert worker.ready and worker.engine == "engine"
        assert worker.info.ready and worker.info.revision == "abc" and worker.detail == ""
        assert loaded_on and loaded_on[0].startswith("newsbrief-translator")
        assert loaded_on[0] != threading.current_thread().name
    finally:
        worker.close()


@pytest.mark.asyncio
async def test_a_model_that_cannot_load_says_why_and_never_raises() -> None:
    absent = failing_load(
        ModelUnavailable("model x is not installed: run `newsbrief-server models download`")
    )
    broken = failing_load(OSError("disk on fire"))
    for load, said in ((absent, "is not installed"), (broken, "failed to load: disk on fire")):
        worker: ModelWorker[str] = ModelWorker(INFO, load)
        try:
            await worker.start()
            assert not worker.ready and said in worker.info.detail
            with pytest.raises(CapabilityUnavailable, match=said):
                worker.engine  # noqa: B018
        finally:
            worker.close()


@pytest.mark.asyncio
async def test_a_call_after_its_deadline_is_not_made() -> None:
    worker: ModelWorker[str] = ModelWorker(INFO, lambda: ("engine", INFO))
    calls: list[int] = []
    try:
        with pytest.raises(DeadlineExceeded):
            await worker.call(calls.append, 1, deadline=time.monotonic() - 1)
        assert calls == []
    finally:
        worker.close()


@pytest.mark.asyncio
async def test_the_caller_stops_waiting_at_its_deadline() -> None:
    """A call still running on the model's thread when the deadline passes: the caller gets
    DEADLINE_EXCEEDED, the event loop goes on, and the thread finishes on its own."""
    worker: ModelWorker[str] = ModelWorker(INFO, lambda: ("engine", INFO))
    gate = threading.Event()
    try:
        with pytest.raises(DeadlineExceeded, match="waiting for the translator"):
            await worker.call(gate.wait, 30, deadline=time.monotonic() + 0.05)
        assert await asyncio.wait_for(asyncio.sleep(0, result="loop free"), 5) == "loop free"
    finally:
        gate.set()
        worker.close()
