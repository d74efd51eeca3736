"""Stopping and rotating without losing work: SIGTERM with streams open (they wrap up, their
clients resume elsewhere), calls that arrive as the port closes, open health watches,
connection-age rotation under a long stream, and ``newsbrief batch`` carrying on across a
server restart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from newsbrief.client import Client, NewsbriefError
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RunningServer, make_settings
from tests.harness.load import ARTICLE, retry_delay_of
from tests.harness.server import ServerProcess, free_port
from tests.integration.test_cli import _SlowPipeline


def _paced(count: int, gap: float) -> Iterator[pb.SummarizeStreamRequest]:
    for i in range(count):
        yield pb.SummarizeStreamRequest(
            request=pb.SummarizeRequest(text=f"{ARTICLE}\n\nPart {i}.", client_reference=str(i))
        )
        time.sleep(gap)


class _Hammer:
    """A newsbrief client calling Summarize in a loop until stopped; counts the codes it sees
    (after its own retries)."""

    def __init__(self, target: str) -> None:
        self.codes: dict[str, int] = {}
        self._stop = threading.Event()
        self._client = Client(target, retries=1)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._client.summarize(ARTICLE, timeout=10)
                code = "OK"
            except NewsbriefError as exc:
                code = exc.code.name
                time.sleep(0.01)
            self.codes[code] = self.codes.get(code, 0) + 1

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(30)
        self._client.close()
        return self.codes


def test_sigterm_wraps_up_open_streams_and_refuses_new_calls_with_unavailable() -> None:
    server = ServerProcess(NEWSBRIEF_GRACE_SECONDS="30")
    try:
        answers: list[list[int]] = [[] for _ in range(3)]
        endings: list[tuple[str, float | None]] = []
        first = threading.Barrier(4, timeout=60)

        def client(k: int) -> None:
            with grpc.insecure_channel(server.target) as channel:
                stub = pb_grpc.SummarizerServiceStub(channel)
                call = stub.SummarizeStream(_paced(50, 0.1), timeout=60)
                try:
                    for n, answer in enumerate(call):
                        answers[k].append(answer.status.code)
                        if n == 0:
                            first.wait()
                    endings.append(("OK", None))
                except grpc.RpcError as exc:
                    status = rpc_status.from_call(exc)
                    endings.append((exc.code().name, retry_delay_of(status)))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        first.wait()  # every stream is open and has an answer
        hammer = _Hammer(server.target)
        time.sleep(0.2)
        server.proc.send_signal(15)
        for t in threads:
            t.join(60)
        assert server.proc.wait(60) == 0  # long before the 30 s grace: streams wrapped up
        codes = hammer.stop()
        # each stream answered what it had taken, then ended with a retryable status and a
        # delay: its client reconnects elsewhere and sends the unanswered articles again
        assert all(a and set(a) == {0} and len(a) < 50 for a in answers), answers
        assert len(endings) == 3
        assert all(code == "UNAVAILABLE" and delay for code, delay in endings), endings
        # new calls meanwhile: UNAVAILABLE (clients retry it), never CANCELLED
        assert set(codes) <= {"OK", "UNAVAILABLE"}, codes
    finally:
        server.close()


def test_calls_arriving_as_the_port_closes_are_unavailable_not_cancelled() -> None:
    totals: dict[str, int] = {}
    for _ in range(3):
        server = ServerProcess(NEWSBRIEF_GRACE_SECONDS="2")
        try:
            hammers = [_Hammer(server.target) for _ in range(4)]
            time.sleep(0.3)
            server.proc.send_signal(15)
            assert server.proc.wait(60) == 0
            time.sleep(0.2)
            for hammer in hammers:
                for code, count in hammer.stop().items():
                    totals[code] = totals.get(code, 0) + count
        finally:
            server.close()
    assert set(totals) <= {"OK", "UNAVAILABLE"}, totals
    assert totals.get("UNAVAILABLE", 0) > 10, totals


def test_open_health_watches_do_not_hold_the_stop() -> None:
    server = ServerProcess(NEWSBRIEF_GRACE_SECONDS="600")
    try:
        seen: list[str] = []
        with grpc.insecure_channel(server.target) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            statuses = iter(watch)
            seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(next(statuses).status))
            server.proc.send_signal(15)
            try:
                for update in statuses:
                    seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(update.status))
            except grpc.RpcError:
                pass  # the server went away after saying NOT_SERVING
        # far below the 600 s grace a held watch would take
        assert server.proc.wait(60) == 0
        assert seen[0] == "SERVING" and seen[-1] == "NOT_SERVING"
    finally:
        server.close()


def test_health_list_names_every_service(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        listed = health_pb2_grpc.HealthStub(channel).List(health_pb2.HealthListRequest(), timeout=5)
    statuses = {name: s.status for name, s in listed.statuses.items()}
    serving = health_pb2.HealthCheckResponse.SERVING
    assert statuses == {"": serving, "newsbrief.v1.SummarizerService": serving}


def test_a_stream_outlives_connection_age_rotation() -> None:
    settings = make_settings(max_connection_age_s=0.5, grace_seconds=0.2)
    with RunningServer(settings) as server, grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        answers = list(stub.SummarizeStream(_paced(8, 0.3), timeout=60))  # ~2.4 s: 4 ages
        assert [a.status.code for a in answers] == [0] * 8
        # new calls after the rotation go over a new connection
        assert stub.Summarize(pb.SummarizeRequest(text=ARTICLE), timeout=30).brief.summary


def test_batch_reconnects_and_resumes_across_a_server_restart(tmp_path: Path) -> None:
    n = 80
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"a{i}", "text": f"{ARTICLE}\n\nNo. {i}."}) + "\n" for i in range(n)
        ),
        encoding="utf-8",
    )
    dst = tmp_path / "out.jsonl"
    settings = make_settings(port=free_port(), stream_concurrency=2)
    first = RunningServer(settings, pipeline=_SlowPipeline(settings))
    target = first.target
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsbrief.client.cli",
            "--target",
            target,
            "batch",
            str(src),
            str(dst),
            "--concurrency",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if dst.exists() and dst.read_text(encoding="utf-8").count("\n") >= 10:
                break
            time.sleep(0.02)
        first.stop()  # the stream in progress is cut: the client sees UNAVAILABLE
        done_before = dst.read_text(encoding="utf-8").count("\n")
        assert 10 <= done_before < n, "the restart should land mid-run"
        time.sleep(0.5)
        second = RunningServer(settings, pipeline=_SlowPipeline(settings))
        try:
            _, stderr = proc.communicate(timeout=120)
        finally:
            second.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "resuming" in stderr
    ids = [json.loads(line)["id"] for line in dst.read_text(encoding="utf-8").splitlines()]
    twice = sorted(i for i in set(ids) if ids.count(i) > 1)
    assert len(ids) == len(set(ids)) == n, (twice, sorted(set(ids)), stderr)
