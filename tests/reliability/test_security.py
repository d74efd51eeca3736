"""API keys on every API method (streams too), quotas per article with a retry delay, fail-closed
TLS and key settings, bounded error details, oversize messages and a taken port."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pydantic import ValidationError

from newsbrief.service.errors import QuotaExceeded
from newsbrief.service.serving import access as access_module
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.settings import Settings
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import EMPTY_HF_CACHE, REPO, RunningServer, make_settings
from tests.harness.load import ARTICLE, retry_delay_of

KEY = "reliability-key"
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()
#: a second key for the tests that call with a key but do not count its quota (a quota is per key)
ECHO_KEY = "reliability-key-echo"


@pytest.fixture(scope="module")
def keyed() -> Iterator[RunningServer]:
    """One server for the module: every test here leaves its settings alone."""
    digests = [DIGEST, hashlib.sha256(ECHO_KEY.encode()).hexdigest()]
    settings = make_settings(auth={"api_key_hashes": digests, "requests_per_minute": 3})
    with RunningServer(settings) as running:
        yield running


def _stream(
    target: str, count: int, key: str | None
) -> tuple[list[pb.SummarizeStreamResponse], grpc.RpcError | None]:
    metadata = (("x-api-key", key),) if key is not None else ()
    answers: list[pb.SummarizeStreamResponse] = []
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        requests = (
            pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text=ARTICLE))
            for _ in range(count)
        )
        try:
            for answer in stub.SummarizeStream(requests, timeout=60, metadata=metadata):
                answers.append(answer)
        except grpc.RpcError as exc:
            return answers, exc
    return answers, None


def test_summarize_stream_needs_a_valid_key(keyed: RunningServer) -> None:
    answers, error = _stream(keyed.target, 1, None)
    assert not answers and error is not None
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    answers, error = _stream(keyed.target, 1, "not-the-key")
    assert not answers and error is not None
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_stream_counts_each_article_against_the_quota(keyed: RunningServer) -> None:
    answers, error = _stream(keyed.target, 5, KEY)
    assert [a.status.code for a in answers] == [0, 0, 0]  # 3 per minute: 3 briefs
    assert error is not None
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(error)
    assert status is not None
    assert any(d.Is(error_details_pb2.QuotaFailure.DESCRIPTOR) for d in status.details)
    delay = retry_delay_of(status)
    # the window is a minute: the first unit frees up only after most of it
    assert delay is not None and 30 < delay <= 60
    with grpc.insecure_channel(keyed.target) as channel:  # unary calls share the quota
        stub = pb_grpc.SummarizerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Summarize(pb.SummarizeRequest(text=ARTICLE), metadata=(("x-api-key", KEY),))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert retry_delay_of(rpc_status.from_call(info.value)) is not None


def test_the_quota_window_is_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(access_module.time, "monotonic", lambda: now[0])
    keys = ApiKeys([DIGEST], requests_per_minute=2, window_s=Settings().auth.quota_window_s)
    keys.check(KEY, how_to_send="here")
    keys.check(KEY, how_to_send="here")
    for later in (1.5, 30.0, 59.0):
        now[0] = 1000.0 + later
        with pytest.raises(QuotaExceeded) as info:
            keys.check(KEY, how_to_send="here")
        assert info.value.retry_after_s == pytest.approx(60.0 - later)
    now[0] = 1060.5
    keys.check(KEY, how_to_send="here")


def test_half_configured_tls_refuses_to_start(tmp_path: os.PathLike[str]) -> None:
    cert = os.path.join(tmp_path, "cert.pem")
    with open(cert, "w") as fh:
        fh.write("not used")
    for tls in ({"cert_file": cert}, {"key_file": cert}, {"client_ca_file": cert}):
        with pytest.raises(ValidationError, match="refusing to serve plaintext"):
            Settings(tls=tls)
    result = _run_server({"NEWSBRIEF_TLS__CERT_FILE": cert})
    assert result.returncode == 2
    assert "refusing to serve plaintext" in result.stderr
    assert "listening" not in result.stderr


def test_api_key_hashes_are_checked_at_start_and_may_be_a_comma_list() -> None:
    with pytest.raises(ValidationError, match="not a SHA-256 hex digest"):
        Settings(auth={"api_key_hashes": ["sha256:" + DIGEST]})
    other = hashlib.sha256(b"other").hexdigest()
    env = {"NEWSBRIEF_AUTH__API_KEY_HASHES": f"{DIGEST}, {other.upper()}"}
    result = _run_server({**env, "NEWSBRIEF_AUTH__API_KEY_HASHES": "0123abc"}, "config")
    assert result.returncode == 2 and "api_key_hashes[0]" in result.stderr
    result = _run_server(env, "config")
    assert result.returncode == 0, result.stderr
    assert DIGEST in result.stdout and other in result.stdout


def test_long_echoed_values_do_not_overflow_the_trailers(keyed: RunningServer) -> None:
    with grpc.insecure_channel(keyed.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        request = pb.SummarizeRequest(
            text=ARTICLE, source_language="x" * 60_000, target_languages=["y" * 30_000] * 3
        )
        with pytest.raises(grpc.RpcError) as info:
            stub.Summarize(request, timeout=30, metadata=(("x-api-key", ECHO_KEY),))
    error = info.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    fields = {v.field for v in bad.field_violations}
    assert "source_language" in fields
    assert all(len(v.description) <= 256 for v in bad.field_violations)
    assert len(status.message) <= 1024


def test_an_oversize_message_is_refused_with_the_request_id() -> None:
    with (
        RunningServer(make_settings(max_message_bytes=100_000)) as running,
        grpc.insecure_channel(running.target) as channel,
    ):
        stub = pb_grpc.SummarizerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Summarize(
                pb.SummarizeRequest(text="word " * 30_000),
                timeout=30,
                metadata=(("x-request-id", "big-one"),),
            )
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_message_bytes" in (info.value.details() or "")
        trailers = dict(info.value.trailing_metadata() or ())
        assert trailers.get("x-request-id") == "big-one"
        assert stub.Summarize(pb.SummarizeRequest(text=ARTICLE), timeout=30).brief.summary


def test_a_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_server({"NEWSBRIEF_PORT": str(port), "NEWSBRIEF_LOGGING__LEVEL": "WARNING"})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"newsbrief-server: cannot listen on 127.0.0.1:{port}: Address already in use (choose "
        "another port with --port / NEWSBRIEF_PORT)"
    ], result.stderr


def _run_server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "NEWSBRIEF_HOST": "127.0.0.1",
        "NEWSBRIEF_PORT": "0",
        "NEWSBRIEF_MODELS__CACHE_DIR": str(EMPTY_HF_CACHE),
        "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "newsbrief.service", *args],
        env=full,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
