"""Clients that leave a SummarizeStream early, every way a real one does: its process killed
(SIGKILL, 50 times), the stream cancelled or its deadline passing mid-way (50 times), and a
grpc-js style cancel (a raw HTTP/2 RST_STREAM, as @grpc/grpc-js sends on ``call.cancel()``).
The server runs as its own process with the access log on; after all that it must be alive,
SERVING and briefing."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import REPO
from tests.harness.load import ARTICLE
from tests.harness.server import ServerProcess, crashed

WAVE = 10  # client processes alive at once (the machine is small)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(NEWSBRIEF_LOGGING__ACCESS_LOG="true") as running:
        yield running


def _brief_works(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        response = stub.Summarize(pb.SummarizeRequest(text=ARTICLE), timeout=30)
    assert response.brief.summary


def test_50_client_processes_killed_mid_stream(server: ServerProcess) -> None:
    killed = 0
    for _ in range(50 // WAVE):
        clients = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.stream_client", server.target],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(WAVE)
        ]
        for client in clients:
            assert client.stdout is not None
            assert client.stdout.readline().strip() == "answered", "the stream never answered"
        for client in clients:
            client.kill()  # SIGKILL: no goodbye on the connection
            client.wait()
            killed += 1
        assert not crashed(server), crashed(server)
    assert killed == 50
    _brief_works(server)
    assert "Traceback" not in server.text()


def _articles(stop: threading.Event) -> Iterator[pb.SummarizeStreamRequest]:
    i = 0
    while not stop.is_set():
        yield pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text=ARTICLE))
        i += 1


def test_50_streams_cancelled_or_deadlined_mid_way(server: ServerProcess) -> None:
    outcomes: dict[str, int] = {}
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        for n in range(50):
            stop = threading.Event()
            deadlined = n % 2 == 1
            call = stub.SummarizeStream(_articles(stop), timeout=0.5 if deadlined else None)
            try:
                for i, _ in enumerate(call):
                    if not deadlined and i == 1:
                        call.cancel()
            except grpc.RpcError as exc:
                name = exc.code().name
                outcomes[name] = outcomes.get(name, 0) + 1
            finally:
                stop.set()
    assert outcomes == {"CANCELLED": 25, "DEADLINE_EXCEEDED": 25}
    assert not crashed(server), crashed(server)
    _brief_works(server)


def _grpc_frame(message: pb.SummarizeStreamRequest) -> bytes:
    body = message.SerializeToString()
    return b"\x00" + len(body).to_bytes(4, "big") + body


def _rst_stream_cancel(target: str) -> bool:
    """One SummarizeStream over raw HTTP/2: headers, two articles, wait for the first answer,
    then RST_STREAM(CANCEL) and close the socket, as grpc-js does. True if an answer came."""
    host, port = target.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(
        stream_id,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/newsbrief.v1.SummarizerService/SummarizeStream"),
            (":authority", target),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", "grpc-node-js/1.12.0 (raw h2 imitation)"),
        ],
    )
    item = pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text=ARTICLE))
    conn.send_data(stream_id, _grpc_frame(item) + _grpc_frame(item))
    sock.sendall(conn.data_to_send())
    answered = False
    try:
        while not answered:
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    answered = True
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            sock.sendall(conn.data_to_send())
        conn.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.CANCEL)
        sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return answered


def test_grpc_js_style_rst_stream_cancel(server: ServerProcess) -> None:
    for _ in range(10):
        assert _rst_stream_cancel(server.target)
        assert not crashed(server), crashed(server)
    _brief_works(server)
