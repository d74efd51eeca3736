"""The result cache never tells one API key what another submitted: key B sending key A's article
gets a fresh brief (``cached`` false) over gRPC and over HTTP, while each key's own repeats are
cached; with ``cache.shared_across_keys`` the keys share entries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import grpc
import httpx
import pytest

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RunningServer, make_settings

KEY_A, KEY_B = "tenant-a-key", "tenant-b-key"
HASHES = [hashlib.sha256(k.encode()).hexdigest() for k in (KEY_A, KEY_B)]
TEXT = (
    "The harbour authority confirmed on Monday that the old grain terminal will close next year. "
    "About 300 workers will move to the new container quay, the authority said. Unions asked for "
    "talks before the end of the month."
)
SERVICE = "/newsbrief.v1.SummarizerService"


def grpc_cached(server: RunningServer, key: str, text: str) -> bool:
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        reply = stub.Summarize(
            pb.SummarizeRequest(text=text), metadata=(("x-api-key", key),), timeout=30
        )
    return bool(reply.cached)


def http_cached(server: RunningServer, key: str, text: str) -> bool:
    reply = httpx.post(
        f"{server.http_url}{SERVICE}/Summarize",
        json={"text": text},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return bool(reply.json().get("cached", False))


def keyed(shared: bool) -> RunningServer:
    return RunningServer(
        make_settings(
            http_port=-1,
            auth={"api_key_hashes": HASHES},
            cache={"shared_across_keys": shared},
        )
    )


@pytest.fixture(scope="module")
def separate() -> Iterator[RunningServer]:
    with keyed(shared=False) as running:
        yield running


def test_another_key_is_not_told_an_article_was_cached(separate: RunningServer) -> None:
    text = TEXT + " (grpc)"
    assert not grpc_cached(separate, KEY_A, text)
    assert not grpc_cached(separate, KEY_B, text)  # A's entry is A's alone
    assert grpc_cached(separate, KEY_A, text)
    assert grpc_cached(separate, KEY_B, text)  # B's own entry now
    assert http_cached(separate, KEY_B, text)  # one tenant across both doors


def test_the_same_holds_on_the_http_door(separate: RunningServer) -> None:
    text = TEXT + " (http)"
    assert not http_cached(separate, KEY_A, text)
    assert not http_cached(separate, KEY_B, text)
    assert http_cached(separate, KEY_A, text)
    assert grpc_cached(separate, KEY_B, text)


def test_shared_across_keys_lets_another_key_hit() -> None:
    with keyed(shared=True) as shared:
        assert not grpc_cached(shared, KEY_A, TEXT)
        assert grpc_cached(shared, KEY_B, TEXT)
        assert http_cached(shared, KEY_B, TEXT)
