"""One call policy behind both doors, against the real server as a process: the key checked
before any body is read or inflated (gRPC health unaffected by unauthenticated bombs), the
per-key quota counted once across gRPC and HTTP and once per streamed article, admission of
HTTP streams, the small HTTP items of issue 17 (413 not 429, per-message stream limits, refused
calls logged and counted, security headers, the Host check, RetryInfo once)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RUN_SUMMARY
from tests.harness.load import ARTICLE, retry_delay_of
from tests.harness.server import metric, metrics
from tests.reliability.doors import (
    ConnectStream,
    DoorServer,
    HealthProbe,
    count_detail,
    head,
    read_response,
    retry_delay,
)

KEYS = ["door-key-a", "door-key-b", "door-key-c"]
QUOTA = 10
#: 1.1 million one-letter strings: 4.4 MB of JSON, about 4 KB gzipped.
BOMB_JSON = json.dumps(
    {"texts": ["a"] * 1_100_000, "targetLanguages": ["ko"]}, separators=(",", ":")
)
BOMB = gzip.compress(BOMB_JSON.encode(), compresslevel=9)
OPEN_MAX_BYTES = 500_000
IDLE_S = 5.0  # the open server's stream idle timeout


@pytest.fixture(scope="module")
def keyed() -> Iterator[DoorServer]:
    digests = ",".join(hashlib.sha256(k.encode()).hexdigest() for k in KEYS)
    with DoorServer(
        metrics=True,
        NEWSBRIEF_AUTH__API_KEY_HASHES=digests,
        NEWSBRIEF_AUTH__REQUESTS_PER_MINUTE=str(QUOTA),
        NEWSBRIEF_WORKERS="1",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def open_server() -> Iterator[DoorServer]:
    """No keys; a small message limit; three streams at once, two per connection."""
    with DoorServer(
        metrics=True,
        NEWSBRIEF_MAX_MESSAGE_BYTES=str(OPEN_MAX_BYTES),
        NEWSBRIEF_ADMISSION__SUMMARIZE_STREAM="3",
        NEWSBRIEF_ADMISSION__STREAMS_PER_CONNECTION="2",
        NEWSBRIEF_ADMISSION__STREAM_IDLE_TIMEOUT_S=str(IDLE_S),
        NEWSBRIEF_WORKERS="1",
    ) as running:
        yield running


def _metric(port: int, name: str, **labels: str) -> float:
    return metric(metrics(port), name, **labels)


def _access_code(server: DoorServer, request_id: str, timeout: float = 5.0) -> str:
    """The code the access log gave the call with ``request_id`` ('' if it has no line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.text().splitlines():
            if "newsbrief.access" in line and f"request_id={request_id}" in line:
                return line.split("/")[-1].split()[1]
        time.sleep(0.05)
    return ""


# --- 1. the key before the body ---------------------------------------------------------------


def test_a_wrong_key_is_refused_before_a_body_that_never_comes(keyed: DoorServer) -> None:
    with socket.create_connection(("127.0.0.1", keyed.http_port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(
            head(
                "Translate",
                keyed.http_port,
                {
                    "Content-Type": "application/json",
                    "Content-Length": "4000000",
                    "x-api-key": "not-a-key",
                },
            )
        )
        status, _, body = read_response(sock, timeout=3.0)  # the body is never sent
        took = time.monotonic() - started
    assert status == 403, body
    assert json.loads(body)["code"] == "permission_denied"
    assert took < 3.0
    RUN_SUMMARY.append(f"wrong key, 4 MB body never sent: 403 in {took * 1000:.0f} ms")


def _bombard(port: int, key: str | None, seconds: float, senders: int) -> Counter[int]:
    """``senders`` threads posting the gzip bomb as Translate for ``seconds``: HTTP statuses."""
    statuses: Counter[int] = Counter()
    stop = time.monotonic() + seconds

    def one() -> None:
        while time.monotonic() < stop:
            headers = {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Connect-Protocol-Version": "1",
                "Content-Length": str(len(BOMB)),
            }
            if key is not None:
                headers["x-api-key"] = key
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                    sock.sendall(head("Translate", port, headers) + BOMB)
                    status, _, _ = read_response(sock, timeout=10.0)
            except OSError:
                status = -1
            statuses[status] += 1

    threads = [threading.Thread(target=one) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    return statuses


def test_unauthenticated_gzip_bombs_do_not_stall_grpc_health(keyed: DoorServer) -> None:
    assert len(BOMB) < 6000 and len(BOMB_JSON) > 4_194_304
    with HealthProbe(keyed.target) as probe:
        statuses = _bombard(keyed.http_port, "not-a-key", seconds=4.0, senders=3)
    RUN_SUMMARY.append(f"3 senders of wrong-key gzip bombs for 4 s ({statuses}): {probe.summary()}")
    assert set(statuses) == {403}, statuses
    assert statuses[403] >= 3
    assert not probe.failures
    assert len(probe.latencies) > 10
    assert probe.max < probe.timeout_s, probe.summary()  # latencies: reported, not claimed


def test_a_gzip_body_inflating_past_the_limit_is_413_and_health_keeps_answering(
    open_server: DoorServer,
) -> None:
    with HealthProbe(open_server.target) as probe:
        statuses = _bombard(open_server.http_port, None, seconds=4.0, senders=3)
    RUN_SUMMARY.append(
        f"3 senders of keyless gzip bombs (-> 413) for 4 s ({statuses}): {probe.summary()}"
    )
    assert set(statuses) == {413}, statuses
    assert not probe.failures
    assert probe.max < probe.timeout_s, probe.summary()  # latencies: reported, not claimed


# --- 2. one quota across the doors ------------------------------------------------------------


def _grpc_info(target: str, key: str | None) -> grpc.RpcError | None:
    metadata = (("x-api-key", key),) if key else ()
    with grpc.insecure_channel(target) as channel:
        try:
            pb_grpc.SummarizerServiceStub(channel).GetServerInfo(
                pb.GetServerInfoRequest(), timeout=10, metadata=metadata
            )
        except grpc.RpcError as exc:
            return exc
    return None


def _http_info(server: DoorServer, key: str | None) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    return httpx.post(server.url("GetServerInfo"), json={}, headers=headers, timeout=10)


def test_a_call_without_a_key_is_refused_on_both_doors(keyed: DoorServer) -> None:
    error = _grpc_info(keyed.target, None)
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    error = _grpc_info(keyed.target, "guess")
    assert error is not None and error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _http_info(keyed, None).status_code == 401
    assert _http_info(keyed, "guess").status_code == 403


def test_the_quota_counts_once_across_doors_from_the_oldest_call(keyed: DoorServer) -> None:
    key = KEYS[0]
    served, refused_grpc, refused_http = 0, [], []
    first = time.monotonic()
    for i in range(16):
        if i % 2 == 0:
            error = _grpc_info(keyed.target, key)
            if error is None:
                served += 1
            else:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
                status = rpc_status.from_call(error)
                assert status is not None
                retry_infos = [
                    d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)
                ]
                assert len(retry_infos) == 1, status.details  # RetryInfo exactly once
                refused_grpc.append(retry_delay_of(status))
        else:
            reply = _http_info(keyed, key)
            if reply.status_code == 200:
                served += 1
            else:
                assert reply.status_code == 429, reply.text
                details = reply.json()["details"]
                assert count_detail(details, "google.rpc.RetryInfo") == 1, details
                refused_http.append((int(reply.headers["retry-after"]), retry_delay(details)))
        if i == 0:
            time.sleep(2.0)  # the oldest call in the window is 2 s older than the others
    elapsed = time.monotonic() - first
    assert served == QUOTA, (served, refused_grpc, refused_http)
    assert len(refused_grpc) == len(refused_http) == 3
    # the delay is counted from the oldest call in the window: 60 s minus its age
    for delay in refused_grpc:
        assert delay is not None and 60 - elapsed - 1 < delay < 58.5, (delay, elapsed)
    for header, delay in refused_http:
        assert delay is not None and 60 - elapsed - 1 < delay < 58.5, (delay, elapsed)
        assert abs(header - delay) <= 1, (header, delay)
    # another key's quota is its own, on both doors
    assert _grpc_info(keyed.target, KEYS[2]) is None
    assert _http_info(keyed, KEYS[2]).status_code == 200


def test_an_http_stream_pays_per_article(keyed: DoorServer) -> None:
    async def scenario() -> Any:
        stream = await ConnectStream(keyed.http_port, {"x-api-key": KEYS[1]}).open()
        try:

            async def send() -> None:
                for i in range(25):
                    await stream.send({"text": f"{ARTICLE}\n\nNo. {i}.", "clientReference": str(i)})
                await stream.close_send()

            sending = asyncio.create_task(send())
            end = await stream.finish(within=60)
            sending.cancel()
            return end
        finally:
            stream.close()

    end = asyncio.run(scenario())
    codes = [a.get("status", {}).get("code", 0) for a in end.answers]
    assert codes == [0] * QUOTA, (codes, end.message)
    assert end.code == "resource_exhausted", end
    delay = retry_delay(end.details)
    assert delay is not None and 30 < delay <= 60, end.details
    assert count_detail(end.details, "google.rpc.RetryInfo") == 1


# --- 4. admission of HTTP streams -------------------------------------------------------------


async def _idle_grpc(target: str, release: asyncio.Event) -> tuple[Any, grpc.aio.Channel]:
    async def nothing() -> AsyncIterator[pb.SummarizeStreamRequest]:
        await release.wait()
        return
        yield

    channel = grpc.aio.insecure_channel(target)
    call = pb_grpc.SummarizerServiceStub(channel).SummarizeStream(nothing(), timeout=30)
    await call.initial_metadata()
    return call, channel


def test_http_streams_count_in_the_stream_limit_with_grpc_ones(open_server: DoorServer) -> None:
    async def scenario() -> None:
        # the module's server is shared: streams of earlier tests (their connections closed a
        # moment ago) free their slots when their handlers end, which takes longer on a busy
        # machine: count once the server handles no stream on either door (its /metrics)
        stream = "/newsbrief.v1.SummarizerService/SummarizeStream"
        deadline = time.monotonic() + 30
        port = open_server.metrics_port
        while await asyncio.to_thread(_metric, port, "newsbrief_requests_in_flight", method=stream):
            assert time.monotonic() < deadline, "the earlier tests' streams never ended"
            await asyncio.sleep(0.1)
        release = asyncio.Event()
        opened = [await _idle_grpc(open_server.target, release) for _ in range(2)]
        http_streams = [await ConnectStream(open_server.http_port).open() for _ in range(2)]
        try:
            await asyncio.sleep(0.3)
            done = [await call.code() for call, _ in opened if call.done()]
            assert not done, done
            # 2 gRPC + 1 HTTP are open: the limit is 3; the next HTTP stream is refused
            refused = await http_streams[1].finish(within=5)
            assert refused.status == 429 and refused.code == "resource_exhausted", refused
            # and so is a gRPC one
            call, channel = await _idle_grpc(open_server.target, release)
            opened.append((call, channel))
            assert await asyncio.wait_for(call.code(), 5) == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            release.set()
            for s in http_streams:
                s.close()
            for call, channel in opened:
                call.cancel()
                await channel.close()

    asyncio.run(scenario())


def test_an_idle_http_stream_ends_even_under_a_longer_client_deadline(
    open_server: DoorServer,
) -> None:
    async def scenario() -> Any:
        stream = await ConnectStream(open_server.http_port, {"connect-timeout-ms": "60000"}).open()
        try:
            await stream.send({"text": ARTICLE})
            return await stream.finish(within=IDLE_S + 15)
        finally:
            stream.close()

    started = time.monotonic()
    end = asyncio.run(scenario())
    took = time.monotonic() - started
    assert [a.get("status", {}).get("code", 0) for a in end.answers] == [0]
    assert end.code == "deadline_exceeded", end
    assert "stream_idle_timeout_s" in end.message
    assert IDLE_S - 0.5 < took < IDLE_S + 10, took


# --- 7. small items ---------------------------------------------------------------------------


def test_an_oversize_chunked_body_is_413(open_server: DoorServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(OPEN_MAX_BYTES // 50_000 + 2):
            yield b"a" * 50_000
        yield b'"}'

    reply = httpx.post(
        open_server.url("Summarize"),
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 413, reply.text
    assert "retry-after" not in reply.headers


def test_a_long_stream_of_small_articles_is_served(open_server: DoorServer) -> None:
    count = 600
    assert count * len(ARTICLE) > OPEN_MAX_BYTES

    async def scenario() -> Any:
        stream = await ConnectStream(open_server.http_port).open()
        try:

            async def send() -> None:
                for i in range(count):
                    await stream.send({"text": ARTICLE, "clientReference": str(i)})
                await stream.close_send()

            sending = asyncio.create_task(send())
            end = await stream.finish(within=120)
            await sending
            return end
        finally:
            stream.close()

    end = asyncio.run(scenario())
    assert end.code is None, end
    assert len(end.answers) == count
    assert {a.get("status", {}).get("code", 0) for a in end.answers} == {0}


def test_a_whole_stream_body_over_the_message_limit_is_served(open_server: DoorServer) -> None:
    """The same 600 articles as one body with a Content-Length (a client that sends the whole
    stream at once): the limit applies to each message, not to the body."""
    count = 600
    body = b""
    for i in range(count):
        payload = json.dumps({"request": {"text": ARTICLE, "clientReference": str(i)}}).encode()
        body += struct.pack(">BI", 0, len(payload)) + payload
    assert len(body) > OPEN_MAX_BYTES
    reply = httpx.post(
        open_server.url("SummarizeStream"),
        content=body,
        headers={"content-type": "application/connect+json"},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text[:500]
    frames, data = [], reply.content
    while data:
        flags, size = struct.unpack(">BI", data[:5])
        frames.append((flags, json.loads(data[5 : 5 + size])))
        data = data[5 + size :]
    assert frames[-1] == (2, {}), frames[-1]  # ended OK
    assert len(frames) == count + 1
    assert {f.get("status", {}).get("code", 0) for _, f in frames[:-1]} == {0}


def test_calls_refused_before_the_handler_are_logged_and_counted(
    open_server: DoorServer, keyed: DoorServer
) -> None:
    summarize = "/newsbrief.v1.SummarizerService/Summarize"
    cases = [
        (open_server, b'{"text": ', "application/json", {}, 400, "INVALID_ARGUMENT"),
        (open_server, b"text=hi", "text/plain", {}, 415, "INVALID_ARGUMENT"),
        (
            open_server,
            b'{"text": "' + b"a" * OPEN_MAX_BYTES + b'"}',
            "application/json",
            {},
            413,
            "RESOURCE_EXHAUSTED",
        ),
        (keyed, b"{}", "application/json", {"x-api-key": "guess"}, 403, "PERMISSION_DENIED"),
    ]
    for server, body, content_type, extra, status, code in cases:
        before = _metric(
            server.metrics_port, "newsbrief_requests_total", method=summarize, code=code
        )
        request_id = uuid.uuid4().hex
        reply = httpx.post(
            server.url("Summarize"),
            content=body,
            headers={"content-type": content_type, "x-request-id": request_id, **extra},
            timeout=30,
        )
        assert reply.status_code == status, (status, reply.text)
        assert _access_code(server, request_id) == code, (status, server.text()[-2000:])
        after = _metric(
            server.metrics_port, "newsbrief_requests_total", method=summarize, code=code
        )
        assert after == before + 1, (status, code, before, after)


def test_security_headers_on_the_page_and_the_api(open_server: DoorServer) -> None:
    replies = [
        httpx.get(f"{open_server.base}/", timeout=10),
        httpx.post(open_server.url("Summarize"), json={"text": ARTICLE}, timeout=30),
        httpx.post(open_server.url("Summarize"), json={"text": ""}, timeout=30),
    ]
    for reply in replies:
        assert reply.status_code in (200, 400)
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["x-content-type-options"] == "nosniff"


def test_a_keyless_server_answers_only_for_its_own_host(open_server: DoorServer) -> None:
    port = open_server.http_port
    for host, status in [("evil.example", 400), (f"127.0.0.1:{port}", 200), ("localhost", 200)]:
        reply = httpx.post(
            open_server.url("GetServerInfo"), json={}, headers={"host": host}, timeout=10
        )
        assert reply.status_code == status, (host, reply.text)
        page = httpx.get(f"{open_server.base}/", headers={"host": host}, timeout=10)
        assert page.status_code == status, host
