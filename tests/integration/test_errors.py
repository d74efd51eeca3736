"""Every row of the error table (README, "API"), its status and details, over the wire; the server
keeps serving after each."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from newsbrief.client import Client, errors
from newsbrief.service.domain import Article
from tests.conftest import RunningServer, make_settings
from tests.fakes import HookedPipeline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target, retries=0) as c:
        yield c


def _fields(err: errors.InvalidArgumentError) -> list[str]:
    return [field for field, _ in err.field_violations]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t "}, "text"),
        ({"text": "x" * 100_001}, "text"),
        ({"html": ""}, "html"),
        ({"text": ARTICLE, "source_language": "xx"}, "source_language"),
        ({"text": ARTICLE, "source_language": "english"}, "source_language"),
        ({"text": ARTICLE, "target_languages": ["zz"]}, "target_languages[0]"),
        ({"text": ARTICLE, "target_languages": ["ko", "ko"]}, "target_languages[1]"),
        ({"text": ARTICLE, "target_languages": ["ko", "ms", "en", "id", "ko"]}, "target_languages"),
        ({"text": ARTICLE, "length": "short", "max_sentences": 2}, "length"),
        ({"text": ARTICLE, "max_sentences": 500}, "max_sentences"),
        ({"text": ARTICLE, "max_words": 100_000}, "max_words"),
        ({"text": ARTICLE, "max_key_points": 99}, "max_key_points"),
        ({"text": ARTICLE, "title": "t" * 1001}, "title"),
        ({"text": ARTICLE, "client_reference": "r" * 300}, "client_reference"),
        ({"text": "\u200b\u200b\ufeff"}, "text"),
    ],
)
def test_bad_input_is_invalid_argument_with_a_field_violation(
    client: Client, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(errors.InvalidArgumentError) as info:
        client.summarize(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in _fields(info.value), info.value.field_violations
    assert info.value.request_id
    assert client.summarize(ARTICLE).brief.summary  # still serving


def test_all_bad_fields_are_reported_at_once(client: Client) -> None:
    with pytest.raises(errors.InvalidArgumentError) as info:
        client.summarize("", source_language="xx", target_languages=["qq"])
    assert {"text", "source_language", "target_languages[0]"} <= set(_fields(info.value))


def test_translation_without_a_translator_is_failed_precondition(client: Client) -> None:
    with pytest.raises(errors.FailedPreconditionError) as info:
        client.summarize(ARTICLE, target_languages=["ko", "ms"])
    assert "translat" in info.value.message
    assert info.value.precondition_violations
    assert info.value.precondition_violations[0][1] == "translate"
    with pytest.raises(errors.FailedPreconditionError):
        client.translate(["Hello there."], ["ko"])


def test_abstractive_without_a_model_is_failed_precondition(client: Client) -> None:
    with pytest.raises(errors.FailedPreconditionError) as info:
        client.summarize(ARTICLE, method="abstractive")
    assert "abstractive" in info.value.message


def test_translate_validates_before_it_looks_for_a_model(client: Client) -> None:
    with pytest.raises(errors.InvalidArgumentError) as info:
        client.translate([], ["xx"])
    assert {"texts", "target_languages[0]"} <= set(_fields(info.value))


class _ScriptedPipeline(HookedPipeline):
    """The real pipeline with a gate on warm-up and hooks to make a brief slow or fail."""

    def __init__(self) -> None:
        super().__init__(make_settings())
        self.warm = threading.Event()
        self.fail_with: Exception | None = None
        self.delay = 0.0

    async def start(self) -> None:
        await asyncio.to_thread(self.warm.wait, 60)
        await super().start()

    async def before_brief(self, article: Article, deadline: float | None) -> None:
        if self.ready and self.delay:
            await self.wait(self.delay)
        if self.ready and self.fail_with is not None:
            raise self.fail_with


@pytest.fixture()
def scripted() -> Iterator[tuple[RunningServer, _ScriptedPipeline]]:
    """A server of its own, still warming up (NOT_SERVING until ``pipeline.warm`` is set)."""
    pipeline = _ScriptedPipeline()
    running = RunningServer(pipeline.settings, pipeline=pipeline, wait_ready=False)
    try:
        yield running, pipeline
    finally:
        pipeline.warm.set()
        running.stop()


@pytest.fixture(scope="module")
def _warm_scripted() -> Iterator[tuple[RunningServer, _ScriptedPipeline]]:
    pipeline = _ScriptedPipeline()
    pipeline.warm.set()
    running = RunningServer(pipeline.settings, pipeline=pipeline)
    try:
        yield running, pipeline
    finally:
        running.stop()


@pytest.fixture()
def warm(
    _warm_scripted: tuple[RunningServer, _ScriptedPipeline],
) -> Iterator[tuple[RunningServer, _ScriptedPipeline]]:
    """One SERVING scripted server for the module; its hooks are reset around each test."""
    running, pipeline = _warm_scripted
    pipeline.delay, pipeline.fail_with = 0.0, None
    pipeline.cancelled.clear()
    yield running, pipeline
    pipeline.delay, pipeline.fail_with = 0.0, None


def test_not_ready_is_unavailable_with_retry_info_then_serving(scripted) -> None:  # type: ignore[no-untyped-def]
    running, pipeline = scripted
    with Client(running.target, retries=0) as c:
        assert c.health() == "NOT_SERVING"
        with pytest.raises(errors.UnavailableError) as info:
            c.summarize(ARTICLE)
        assert info.value.retry_delay is not None and info.value.retry_delay > 0
        pipeline.warm.set()
        for _ in range(500):
            if c.health() == "SERVING":
                break
            threading.Event().wait(0.02)
        assert c.health() == "SERVING"
        assert c.summarize(ARTICLE).brief.summary


def test_deadline_is_deadline_exceeded_and_the_work_is_cancelled(warm) -> None:  # type: ignore[no-untyped-def]
    running, pipeline = warm
    pipeline.delay = 30.0
    with Client(running.target, retries=0) as c:
        with pytest.raises(errors.DeadlineExceededError):
            c.summarize(ARTICLE, timeout=0.3)
        assert pipeline.cancelled.wait(10), "the brief kept running for nobody"
        pipeline.delay = 0.0
        assert c.summarize(ARTICLE).brief.summary


def test_unexpected_error_is_internal_with_a_fixed_text(warm, caplog) -> None:  # type: ignore[no-untyped-def]
    running, pipeline = warm
    pipeline.fail_with = RuntimeError("secret stack detail /etc/passwd")
    with Client(running.target, retries=0) as c:
        with pytest.raises(errors.InternalError) as info:
            c.summarize(ARTICLE)
        assert info.value.code == grpc.StatusCode.INTERNAL
        assert "secret" not in info.value.message
        assert info.value.request_id and info.value.request_id in info.value.message
        assert any("secret stack detail" in str(r.exc_info) for r in caplog.records if r.exc_info)
        pipeline.fail_with = None
        assert c.summarize(ARTICLE).brief.summary


def test_concurrency_limit_is_resource_exhausted(scripted) -> None:  # type: ignore[no-untyped-def]
    # a server of its own: the second server on its pipeline closes the pipeline as it stops
    running, pipeline = scripted
    pipeline.warm.set()
    running.call(running.app.wait_ready())
    pipeline.delay = 2.0
    limited = RunningServer(make_settings(max_concurrent_rpcs=1), pipeline=pipeline)
    try:
        from concurrent.futures import ThreadPoolExecutor

        with Client(limited.target, retries=0) as c, ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(c.summarize, ARTICLE) for _ in range(4)]
            raised = [f.exception(30) for f in futures]
        assert any(isinstance(e, errors.ResourceExhaustedError) for e in raised), raised
        assert any(e is None for e in raised)
    finally:
        pipeline.delay = 0.0
        limited.stop()


@pytest.fixture(scope="module")
def keyed() -> Iterator[RunningServer]:
    digest = hashlib.sha256(b"s3cret-key").hexdigest()
    running = RunningServer(
        make_settings(auth={"api_key_hashes": [digest], "requests_per_minute": 3})
    )
    try:
        yield running
    finally:
        running.stop()


def test_missing_api_key_is_unauthenticated(keyed: RunningServer) -> None:
    with Client(keyed.target, retries=0) as c:
        with pytest.raises(errors.AuthenticationError) as info:
            c.summarize(ARTICLE)
        assert info.value.code == grpc.StatusCode.UNAUTHENTICATED
        assert c.health() == "SERVING"  # probes need no key


def test_wrong_api_key_is_permission_denied(keyed: RunningServer) -> None:
    with (
        Client(keyed.target, api_key="guess", retries=0) as c,
        pytest.raises(errors.PermissionDeniedError),
    ):
        c.summarize(ARTICLE)


def test_quota_per_key_is_resource_exhausted_with_quota_failure(keyed: RunningServer) -> None:
    with Client(keyed.target, api_key="s3cret-key", retries=0) as c:
        for _ in range(3):
            assert c.summarize(ARTICLE).brief.summary
        with pytest.raises(errors.ResourceExhaustedError) as info:
            c.summarize(ARTICLE)
        assert info.value.quota_violations
        assert "quota" in info.value.message
