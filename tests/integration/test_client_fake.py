"""Client and AsyncClient against a fake servicer on 127.0.0.1:0, over the wire."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from newsbrief.client import AsyncClient, Client, errors
from tests.integration.fake_server import REQUEST_ID, FakeServer


def test_summarize_text_and_html(fake: FakeServer) -> None:
    with Client(fake.target) as client:
        result = client.summarize(
            "Seoul announced a new plan on Monday for the city",
            title="Plan",
            target_languages=["ko", "ms"],
            length="short",
            client_reference="r1",
        )
        html = client.summarize(html="<html><body><p>Kuala Lumpur news today</p></body></html>")
    assert result.brief.headline == "Plan"
    assert [t.language for t in result.translations] == ["ko", "ms"]
    assert result.client_reference == "r1"
    assert html.brief.summary == "Kuala Lumpur news today"
    sent = fake.servicer.requests
    assert sent[0].WhichOneof("content") == "text" and sent[0].length == 1
    assert sent[1].WhichOneof("content") == "html"


def test_api_key_metadata_arrives(fake: FakeServer) -> None:
    fake.servicer.required_api_key = "s3cret"
    with Client(fake.target, api_key="s3cret") as client:
        client.summarize("one two three")
        client.server_info()
    assert all(m.get("x-api-key") == "s3cret" for m in fake.servicer.metadata)
    with Client(fake.target) as client, pytest.raises(errors.AuthenticationError):
        client.summarize("one two three")


def test_deadline_is_propagated(fake: FakeServer) -> None:
    with Client(fake.target, timeout=20.0) as client:
        client.summarize("one two three")
        client.summarize("one two three", timeout=7.0)
        with pytest.raises(errors.DeadlineExceededError) as info:
            client.summarize("slow", timeout=0.2)
    default, per_call, slow = fake.servicer.time_remaining[:3]
    # the server sees the deadline each call carried: never more than it (clocks are rounded),
    # and the three in their order (no bound on how fast a call arrives: a shared machine)
    assert default is not None and per_call is not None and slow is not None
    assert default <= 21.0 and per_call <= 8.0 and slow <= 1.0
    assert slow < per_call < default, (slow, per_call, default)
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED


def test_unavailable_is_retried_by_the_service_config(fake: FakeServer) -> None:
    fake.servicer.fail_unavailable = 2
    with Client(fake.target, retries=3) as client:
        result = client.summarize("one two three")
    assert result.brief.summary == "one two three"
    assert fake.servicer.attempts == 3


def test_without_retries_unavailable_is_raised(fake: FakeServer) -> None:
    fake.servicer.fail_unavailable = 1
    with Client(fake.target, retries=0) as client, pytest.raises(errors.UnavailableError) as info:
        client.summarize("one two three")
    assert fake.servicer.attempts == 1
    assert info.value.message == "warming up"
    assert isinstance(info.value.__cause__, grpc.RpcError)


def test_error_mapping_with_details(fake: FakeServer) -> None:
    with Client(fake.target) as client:
        with pytest.raises(errors.InvalidArgumentError) as bad:
            client.summarize("invalid")
        with pytest.raises(errors.ResourceExhaustedError) as busy:
            client.summarize("overload")
        with pytest.raises(errors.FailedPreconditionError) as missing:
            client.summarize("missing")
        with pytest.raises(errors.InternalError):
            client.summarize("crash")
    assert bad.value.field_violations == [
        ("text", "must not be empty"),
        ("target_languages[0]", "unknown language 'xx'"),
    ]
    assert bad.value.request_id == REQUEST_ID
    assert busy.value.retry_delay == pytest.approx(1.5)
    assert busy.value.quota_violations == [("key:abc", "100 requests/minute")]
    assert missing.value.precondition_violations == [("MODEL", "m2m100-418m", "run make models")]


def test_summarize_many_over_the_stream(fake: FakeServer) -> None:
    requests: list[dict[str, Any]] = [
        {"text": "first article here", "client_reference": "a"},
        {"text": "bad", "client_reference": "b"},
        {"html": "<p>third one</p>", "client_reference": "c", "target_languages": ["ko"]},
    ]
    with Client(fake.target) as client:
        items = sorted(client.summarize_many(requests, max_in_flight=2), key=lambda i: i.index)
    assert [i.index for i in items] == [0, 1, 2]
    assert [i.client_reference for i in items] == ["a", "b", "c"]
    assert items[0].result is not None and items[0].result.brief.summary == "first article here"
    assert isinstance(items[1].error, errors.InvalidArgumentError)
    assert items[1].error.field_violations == [("text", "bad")]
    assert items[2].result is not None and items[2].result.translations[0].language == "ko"


def test_summarize_many_raises_a_bad_request(fake: FakeServer) -> None:
    with Client(fake.target) as client, pytest.raises(ValueError, match="exactly one"):
        list(client.summarize_many([{"text": "ok"}, {"title": "no content"}]))


def test_translate_info_health(fake: FakeServer) -> None:
    with Client(fake.target) as client:
        translated = client.translate(["hello"], ["ko", "ms"])
        info = client.server_info()
        assert client.health() == "SERVING"
        assert client.health("newsbrief.v1.SummarizerService") == "NOT_SERVING"
        with pytest.raises(errors.NotFoundError):
            client.health("no.such.Service")
    assert translated.translations == {"ko": ("[ko] hello",), "ms": ("[ms] hello",)}
    assert info.version == "fake-1.0" and info.models[1].licence == "MIT"


def test_unreachable_server_is_unavailable() -> None:
    with (
        Client("127.0.0.1:1", retries=0, timeout=5.0) as client,
        pytest.raises(errors.UnavailableError),
    ):
        client.health()


@pytest.mark.asyncio
async def test_async_client(fake: FakeServer) -> None:
    fake.servicer.fail_unavailable = 1
    async with AsyncClient(fake.target, api_key="k", timeout=10.0) as client:
        result = await client.summarize("async article text", target_languages=["ms"])
        assert result.translations[0].language == "ms"
        assert fake.servicer.attempts == 2
        with pytest.raises(errors.InvalidArgumentError) as bad:
            await client.summarize("invalid")
        assert bad.value.field_violations[0] == ("text", "must not be empty")
        with pytest.raises(errors.DeadlineExceededError):
            await client.summarize("slow", timeout=0.2)

        async def requests():  # type: ignore[no-untyped-def]
            for text in ("one", "bad", "three"):
                yield {"text": text}

        items = [item async for item in client.summarize_many(requests(), max_in_flight=1)]
        assert sorted((i.index, i.ok) for i in items) == [(0, True), (1, False), (2, True)]
        assert (await client.translate(["x"], ["ko"])).translations["ko"] == ("[ko] x",)
        assert (await client.server_info()).version == "fake-1.0"
        assert await client.health() == "SERVING"
    assert fake.servicer.metadata[0]["x-api-key"] == "k"
