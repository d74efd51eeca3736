"""The micro-batcher behind the real server: the gRPC deadline reaches it (a request whose
deadline passes while the model is busy fails with DEADLINE_EXCEEDED and its texts never reach
the model), a full queue is RESOURCE_EXHAUSTED with a retry delay, and concurrent requests share
model calls. The model is a fake blocking engine held by a gate: no timing assertions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from newsbrief.client import Client, DeadlineExceededError, ResourceExhaustedError
from newsbrief.service.domain import Article, ModelInfo
from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.models.protocols import Translated
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import BatchingSettings, Settings
from tests.conftest import RunningServer, make_settings
from tests.fakes import HookedPipeline, begin_call

TEXT = (
    "The council approved a new park on Tuesday. It will cost 45 million dollars, said mayor "
    "Lee. Residents welcomed the plan, which includes trees, paths and a playground."
)


class GatedEngine:
    """A blocking translation engine; while ``hold`` is set, each call waits for ``gate``."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []
        self.hold = threading.Event()
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.lock = threading.Lock()

    max_input_tokens = 1000

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        with self.lock:
            self.calls.append((list(texts), target))
        if self.hold.is_set():
            self.entered.set()
            assert self.gate.wait(30), "gate never opened"
        return Translated([f"[{target}] {t}" for t in texts])

    def seen(self) -> list[str]:
        return [t for texts, _ in self.calls for t in texts]


HELD = "Held story. "


class _HeldBriefs(HookedPipeline):
    """The real pipeline whose briefs of articles starting with ``HELD``, once counted as calls
    in progress, wait for ``release``."""

    def __init__(self, settings: Settings, **parts: Any) -> None:
        super().__init__(settings, **parts)
        self.held = threading.Event()
        self.release = threading.Event()

    async def before_brief(self, article: Article, deadline: float | None) -> None:
        if (article.text or "").startswith(HELD):
            self.held.set()
            assert await asyncio.to_thread(self.release.wait, 30), "never released"


def _server(
    engine: GatedEngine, pipeline: type[Pipeline] = Pipeline, **batching: Any
) -> RunningServer:
    # both caches off: repeated briefs reach the batcher (what these tests are about); both
    # doors open
    settings = make_settings(
        cache={"enabled": False, "translations": {"enabled": False}}, http_port=-1
    )
    info = ModelInfo(role="translator", id="gated", languages=("en", "ko", "ms"))
    translator = BatchedTranslator(
        ModelWorker(info, lambda: (engine, info)),
        BatchingSettings(**({"max_wait_ms": 20} | batching)),
        workers=1,
    )
    return RunningServer(settings, pipeline=pipeline(settings, translator=translator))


def _wait(event: threading.Event) -> None:
    assert event.wait(30), "the engine was never entered"


def _until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail saying ``what`` did not happen after ``seconds``."""
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.01)


def test_deadline_reaches_the_batcher_and_expired_texts_never_reach_the_model() -> None:
    engine = GatedEngine()
    with _server(engine) as server, Client(server.target, timeout=60, retries=0) as client:
        with ThreadPoolExecutor(1) as pool:
            engine.hold.set()
            busy = pool.submit(client.translate, ["Busy text."], ["ko"], source_language="en")
            _wait(engine.entered)  # the only worker is now inside the model
            with pytest.raises(DeadlineExceededError):
                client.translate(["Too late."], ["ms"], source_language="en", timeout=0.3)
            # the server's deadline comes a transit later than the client's: the model stays
            # busy until the server has given the text up too
            batcher = server.app.pipeline.translator.batcher  # type: ignore[union-attr]
            _until(lambda: batcher.queued == 0, "the expired text was never dropped")
            engine.hold.clear()
            engine.gate.set()
            assert busy.result(30).translations["ko"] == ("[ko] Busy text.",)
        assert client.translate(["After."], ["ms"], source_language="en").translations["ms"] == (
            "[ms] After.",
        )
    assert "Too late." not in engine.seen()


def test_full_queue_is_resource_exhausted_with_retry_delay() -> None:
    engine = GatedEngine()
    with (
        _server(engine, max_queue=1, retry_after_s=2.0) as server,
        Client(server.target, timeout=60, retries=0) as client,
        ThreadPoolExecutor(2) as pool,
    ):
        engine.hold.set()
        busy = pool.submit(client.translate, ["Busy."], ["ko"], source_language="en")
        _wait(engine.entered)
        queued = pool.submit(client.translate, ["Queued."], ["ko"], source_language="en")
        batcher = server.app.pipeline.translator.batcher  # type: ignore[union-attr]
        _until(lambda: batcher.queued >= 1, "the second call was never queued")
        with pytest.raises(ResourceExhaustedError) as info:
            client.translate(["One too many."], ["ko"], source_language="en")
        assert info.value.retry_delay == pytest.approx(2.0)
        engine.hold.clear()
        engine.gate.set()
        assert busy.result(30).translations["ko"] == ("[ko] Busy.",)
        assert queued.result(30).translations["ko"] == ("[ko] Queued.",)
    assert "One too many." not in engine.seen()


def test_concurrent_briefs_share_model_calls() -> None:
    engine = GatedEngine()
    with (
        _server(engine) as server,
        Client(server.target, timeout=60) as client,
        ThreadPoolExecutor(4) as pool,
    ):
        client.summarize(TEXT, target_languages=["ko"])  # how many texts one brief sends
        per_brief = len(engine.calls[-1][0])
        engine.calls.clear()
        engine.hold.set()
        first = pool.submit(client.translate, ["Hold."], ["ko"], source_language="en")
        _wait(engine.entered)
        briefs = [
            pool.submit(client.summarize, TEXT, target_languages=["ko"], client_reference=str(i))
            for i in range(3)
        ]
        batcher = server.app.pipeline.translator.batcher  # type: ignore[union-attr]
        _until(lambda: batcher.queued >= 3 * per_brief, "the briefs' texts were never queued")
        engine.hold.clear()
        engine.gate.set()
        first.result(30)
        results = [b.result(30) for b in briefs]
    assert all(r.translations and r.translations[0].language == "ko" for r in results)
    # the three briefs' texts waited behind the held call, then shared model calls
    assert len(engine.calls) < 1 + 3


def _translate_over(
    door: str, server: RunningServer, text: str, timeout: float = 20
) -> tuple[str, ...]:
    """``text`` into Korean through one door: gRPC (the client library) or HTTP (Connect JSON);
    each gives up after ``timeout`` seconds (DeadlineExceededError, httpx.TimeoutException)."""
    if door == "grpc":
        with Client(server.target, timeout=timeout, retries=0) as client:
            return client.translate([text], ["ko"], source_language="en").translations["ko"]
    reply = httpx.post(
        f"{server.http_url}/newsbrief.v1.SummarizerService/Translate",
        json={"texts": [text], "targetLanguages": ["ko"], "sourceLanguage": "en"},
        timeout=timeout,
    )
    reply.raise_for_status()
    [translation] = reply.json()["translations"]
    assert translation["language"] == "ko"
    return tuple(translation["texts"])


@pytest.mark.parametrize("door", ["grpc", "http"])
def test_a_lone_call_is_not_held_back_waiting_for_company(door: str) -> None:
    """The pipeline tells its batcher how many calls are in progress: with a batcher that would
    otherwise wait a minute for company, a lone Translate is answered at once on either door
    (each gives up after 20 s), and the count follows the calls."""
    engine = GatedEngine()
    with (
        _server(engine, max_wait_ms=60_000, max_gap_ms=60_000) as server,
        ThreadPoolExecutor(1) as pool,
    ):
        batcher = server.app.pipeline.translator.batcher  # type: ignore[union-attr]
        assert _translate_over(door, server, "Alone.") == ("[ko] Alone.",)
        engine.hold.set()
        held = pool.submit(_translate_over, door, server, "Held.")
        _wait(engine.entered)
        assert batcher.company() == 1  # the call inside the model
        engine.hold.clear()
        engine.gate.set()
        assert held.result(30) == ("[ko] Held.",)
        assert batcher.company() == 0


@pytest.mark.parametrize("door", ["grpc", "http"])
def test_a_call_that_gives_up_leaves_the_count(door: str) -> None:
    """A client that leaves while its text waits for the busy model (a gRPC deadline; an HTTP
    client that hangs up) stops counting as a call in progress: later lone calls are not held
    back waiting for it."""
    engine = GatedEngine()
    with (
        _server(engine, max_wait_ms=60_000, max_gap_ms=60_000) as server,
        ThreadPoolExecutor(1) as pool,
    ):
        batcher = server.app.pipeline.translator.batcher  # type: ignore[union-attr]
        engine.hold.set()
        held = pool.submit(_translate_over, door, server, "Held.")
        _wait(engine.entered)
        with pytest.raises((DeadlineExceededError, httpx.TimeoutException)):
            _translate_over(door, server, "Gone.", timeout=0.3)
        _until(lambda: batcher.company() == 1, "the call that gave up is still counted", 10)
        engine.hold.clear()
        engine.gate.set()
        assert held.result(30) == ("[ko] Held.",)
        assert _translate_over(door, server, "After.") == ("[ko] After.",)
    assert "Gone." not in engine.seen()


def test_the_call_policy_turns_the_callers_timeout_into_a_monotonic_deadline() -> None:
    from newsbrief.service.serving.policy import CallPolicy

    policy = CallPolicy(Settings(max_call_seconds=30.0))

    def deadline(method: str, timeout_s: float | None) -> float | None:
        with begin_call(policy, method, timeout_s, transport="grpc", how_to_send="-") as call:
            return call.context.deadline

    before = time.monotonic()
    given = deadline("Summarize", 2.0)
    assert given is not None and before + 2.0 <= given <= time.monotonic() + 2.0
    # no client deadline: the server's max_call_seconds bounds a unary call
    bounded = deadline("Summarize", None)
    assert bounded is not None and before + 30.0 <= bounded <= time.monotonic() + 30.0
    longer = deadline("Summarize", 600.0)
    assert longer is not None and longer <= time.monotonic() + 30.0
    # a stream has no overall bound of its own: each article gets max_call_seconds
    assert deadline("SummarizeStream", None) is None


def test_a_brief_counts_as_company_only_for_the_models_it_may_use() -> None:
    """An extractive brief in progress is no company for the translator: a lone Translate beside
    it is answered at once by a batcher told to wait a minute; a brief asking for Korean is."""
    engine = GatedEngine()
    with (
        _server(engine, _HeldBriefs, max_wait_ms=60_000, max_gap_ms=60_000) as server,
        Client(server.target, timeout=30, retries=0) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        pipeline = server.app.pipeline
        assert isinstance(pipeline, _HeldBriefs)
        batcher = pipeline.translator.batcher  # type: ignore[union-attr]
        extractive = pool.submit(client.summarize, HELD + TEXT)
        _wait(pipeline.held)
        assert batcher.company() == 0
        assert _translate_over("grpc", server, "Alone.") == ("[ko] Alone.",)
        pipeline.release.set()
        assert extractive.result(30).brief.summary
        pipeline.held.clear()
        pipeline.release.clear()
        translated = pool.submit(client.summarize, HELD + TEXT, target_languages=["ko"])
        _wait(pipeline.held)
        assert batcher.company() == 1
        pipeline.release.set()
        assert translated.result(30).translations[0].language == "ko"
        assert batcher.company() == 0
