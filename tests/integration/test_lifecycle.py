"""Health before and after readiness and during drain, reflection, and the real process: start,
serve, SIGTERM, drain, exit."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from newsbrief.client import Client
from tests.conftest import RunningServer, make_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")


def test_reflection_lists_the_service(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
        names = {s.name for s in response.list_services_response.service}
        assert "newsbrief.v1.SummarizerService" in names
        assert "grpc.health.v1.Health" in names
        request = reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="newsbrief.v1.SummarizerService"
        )
        (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
        assert response.file_descriptor_response.file_descriptor_proto


def test_health_is_serving_for_the_server_and_the_service(server: RunningServer) -> None:
    with Client(server.target) as c:
        assert c.health() == "SERVING"
        assert c.health("newsbrief.v1.SummarizerService") == "SERVING"


def test_drain_says_not_serving_while_in_flight_work_finishes() -> None:
    running = RunningServer(make_settings(drain_seconds=1.5, grace_seconds=5))
    with Client(running.target, retries=0) as c:
        assert c.health() == "SERVING"
        stopping = asyncio.run_coroutine_threadsafe(running.app.stop(), running.loop)
        deadline = time.monotonic() + 5
        status = "SERVING"
        while time.monotonic() < deadline and status == "SERVING":
            status = c.health()
        assert status == "NOT_SERVING"
        # the port is still open during the drain window: calls in flight get their answer
        assert c.summarize(ARTICLE).brief.summary
        stopping.result(15)
    running.loop.call_soon_threadsafe(running.loop.stop)


def _start_process(env_extra: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    env = dict(
        os.environ,
        NEWSBRIEF_HOST="127.0.0.1",
        NEWSBRIEF_PORT="0",
        NEWSBRIEF_HTTP_PORT="-1",
        **env_extra,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsbrief.service"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r"listening on \S+:(\d+)", line)
        if match:
            return proc, int(match.group(1))
    proc.kill()
    pytest.fail("the server did not report its port")


def test_the_server_process_serves_and_drains_on_sigterm() -> None:
    proc, port = _start_process({"NEWSBRIEF_DRAIN_SECONDS": "1"})
    try:
        with Client(f"127.0.0.1:{port}", retries=0) as c:
            deadline = time.monotonic() + 60
            while c.health() != "SERVING" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert c.summarize(ARTICLE).brief.summary
            proc.send_signal(signal.SIGTERM)
            seen = set()
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    seen.add(c.health(timeout=1))
                except Exception:
                    break
                time.sleep(0.05)
            assert "NOT_SERVING" in seen
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_settings_exit_with_a_clear_message() -> None:
    env = dict(os.environ, NEWSBRIEF_PORT="not-a-port")
    out = subprocess.run(
        [sys.executable, "-m", "newsbrief.service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "port" in out.stderr


def test_a_stop_during_warm_up_is_a_clean_stop() -> None:
    """SIGTERM while models load: ``wait`` returns instead of raising the cancelled warm-up."""
    from newsbrief.service.app import App
    from newsbrief.service.pipeline.core import Pipeline

    class SlowStart(Pipeline):
        async def start(self) -> None:
            await asyncio.sleep(30)

    async def scenario() -> None:
        settings = make_settings()
        app = App(settings, pipeline=SlowStart(settings))
        await app.start(wait_ready=False)
        waiting = asyncio.create_task(app.wait())
        await asyncio.sleep(0.1)
        await app.stop(grace=0)
        await asyncio.wait_for(waiting, 10)  # no CancelledError, no hang

    asyncio.run(scenario())
