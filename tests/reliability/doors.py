"""Helpers for testing both doors of the real server: a :class:`ServerProcess` that also serves
HTTP (and optionally /metrics) on free ports, a raw full-duplex Connect stream over HTTP/1.1
(httpx sends a whole request body before it reads the answer, so it cannot hold a stream open
while reading), a gRPC health prober that records latencies, and small raw-socket helpers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import resource
import selectors
import socket
import statistics
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import h11
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.harness.server import ServerProcess, free_port

SERVICE = "/newsbrief.v1.SummarizerService"


class DoorServer(ServerProcess):
    """The real server as a process with its HTTP door on a free port (and /metrics on one when
    ``metrics=True``)."""

    def __init__(self, *, metrics: bool = False, **env: str) -> None:
        env = {"NEWSBRIEF_HTTP_PORT": "-1", **env}
        if metrics:
            env.setdefault("NEWSBRIEF_METRICS_PORT", str(free_port()))
            env.setdefault("NEWSBRIEF_METRICS_HOST", "127.0.0.1")
        super().__init__(env=env)
        self.http_port = self.wait_for(r"HTTP/JSON on \S+:(\d+)", time.monotonic() + 30)
        self.metrics_port = int(env["NEWSBRIEF_METRICS_PORT"]) if metrics else 0
        self.base = f"http://127.0.0.1:{self.http_port}"

    def url(self, method: str) -> str:
        return f"{self.base}{SERVICE}/{method}"

    def __enter__(self) -> DoorServer:
        return self


@contextlib.contextmanager
def open_file_limit(soft: int) -> Iterator[None]:
    """This process's soft open-file limit lowered to ``soft`` inside the block (a server
    process started inside inherits it), then given back."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


def retry_delay(details: list[dict[str, Any]]) -> float | None:
    """The RetryInfo delay among Connect JSON error details (base64 ``value``), or None."""
    for detail in details:
        if detail.get("type") == "google.rpc.RetryInfo":
            raw = detail["value"]
            info = error_details_pb2.RetryInfo.FromString(
                base64.b64decode(raw + "=" * (-len(raw) % 4))
            )
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


def count_detail(details: list[dict[str, Any]], type_name: str) -> int:
    return sum(1 for d in details if d.get("type") == type_name)


# --- gRPC health under load -------------------------------------------------------------------


@dataclass
class HealthProbe:
    """gRPC Health.Check in a loop from a thread (a fresh call every ``gap_s``): every
    latency, and the calls that failed or took longer than their timeout."""

    target: str
    gap_s: float = 0.05
    timeout_s: float = 5.0  # a health call not answered in 5 s: a stall (a failure)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            stub.Check(health_pb2.HealthCheckRequest(), timeout=self.timeout_s)  # connected
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=self.timeout_s)
                except grpc.RpcError as exc:
                    self.failures.append(exc.code().name)
                self.latencies.append(time.monotonic() - started)
                self._stop.wait(self.gap_s)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout_s + 5)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def max(self) -> float:
        return max(self.latencies) if self.latencies else float("inf")

    def summary(self) -> str:
        return (
            f"{len(self.latencies)} health calls, p50 {self.p50 * 1000:.1f} ms, "
            f"max {self.max * 1000:.1f} ms, failures {self.failures[:5]}"
        )


# --- raw HTTP ---------------------------------------------------------------------------------


def head(method: str, port: int, headers: dict[str, str], *, host: str = "") -> bytes:
    """A POST request's head for ``method`` (no body)."""
    lines = [f"POST {SERVICE}/{method} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read from ``sock`` within ``timeout`` (status 0: closed first)."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))  # our side: sent
    conn.send(h11.EndOfMessage())
    deadline = time.monotonic() + timeout
    status, headers, body = 0, {}, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response within {timeout} s")
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            conn.receive_data(data)
            if not data and status == 0:
                return 0, {}, b""
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return status, headers, body


def closed_by_peer(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), reading and dropping what it
    sends; None if it is still open after ``timeout``."""
    started = time.monotonic()
    while True:
        left = started + timeout - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
        except TimeoutError:
            return None


# --- a full-duplex Connect stream over HTTP/1.1 -----------------------------------------------


@dataclass
class StreamEnd:
    """How a Connect stream ended: its answers, the end-of-stream error (None = OK)."""

    answers: list[dict[str, Any]]
    code: str | None
    message: str
    details: list[dict[str, Any]]
    status: int  # the HTTP status (200 for a stream that began)

    @classmethod
    def failed(cls, answers: list[dict[str, Any]], error: dict[str, Any], status: int) -> StreamEnd:
        """The end of a stream that ``error`` (a Connect error object) ended."""
        return cls(
            answers,
            error.get("code"),
            error.get("message", ""),
            error.get("details", []),
            status,
        )


class ConnectStream:
    """``SummarizeStream`` over HTTP/1.1 with the Connect protocol (JSON), on its own
    connection; send and read independently (a client may send and never read)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = {"x-request-id": "", **(headers or {})}
        self._conn = h11.Connection(h11.CLIENT)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.sent = 0
        self.answers: list[dict[str, Any]] = []  # as they arrive (while :meth:`finish` reads)

    async def open(self, *, receive_buffer: int = 0) -> ConnectStream:
        """Connect and send the request's head; ``receive_buffer`` > 0 shrinks this side's
        socket receive buffer (so that a client that does not read soon holds the server
        back)."""
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
        self.reader, self.writer = await asyncio.open_connection(sock=sock)
        headers = [
            ("Host", f"127.0.0.1:{self.port}"),
            ("Content-Type", "application/connect+json"),
            ("Connect-Protocol-Version", "1"),
            ("Transfer-Encoding", "chunked"),
        ] + [(k, v) for k, v in self.headers.items() if v]
        request = h11.Request(method="POST", target=f"{SERVICE}/SummarizeStream", headers=headers)
        self.writer.write(self._conn.send(request) or b"")
        await self.writer.drain()
        return self

    async def send(self, request: dict[str, Any]) -> None:
        """One article (a SummarizeRequest as proto3 JSON); waits while the server does not
        take the bytes (flow control)."""
        assert self.writer is not None
        payload = json.dumps({"request": request}).encode()
        envelope = struct.pack(">BI", 0, len(payload)) + payload
        self.writer.write(self._conn.send(h11.Data(data=envelope)) or b"")
        await self.writer.drain()
        self.sent += 1

    async def close_send(self) -> None:
        assert self.writer is not None
        with contextlib.suppress(h11.LocalProtocolError):
            self.writer.write(self._conn.send(h11.EndOfMessage()) or b"")
            await self.writer.drain()

    async def finish(self, within: float) -> StreamEnd:
        """Read the answers until the stream ends (within ``within`` s, else TimeoutError)."""
        async with asyncio.timeout(within):
            return await self._read_all()

    async def _read_all(self) -> StreamEnd:
        assert self.reader is not None
        status, buffer = 0, b""
        answers = self.answers
        unary_body = b""
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                self._conn.receive_data(data)
                if not data and status == 0:
                    return StreamEnd(answers, "closed", "connection closed", [], 0)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                continue
            if isinstance(event, h11.Data):
                if status != 200:
                    unary_body += bytes(event.data)
                    continue
                buffer += bytes(event.data)
                while len(buffer) >= 5:
                    flags, size = struct.unpack(">BI", buffer[:5])
                    if len(buffer) < 5 + size:
                        break
                    message = json.loads(buffer[5 : 5 + size] or b"{}")
                    buffer = buffer[5 + size :]
                    if flags & 0x02:  # end of stream
                        error = message.get("error")
                        if error is None:
                            return StreamEnd(answers, None, "", [], status)
                        return StreamEnd.failed(answers, error, status)
                    answers.append(message)
                continue
            if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                if status != 200:
                    return StreamEnd.failed(answers, json.loads(unary_body or b"{}"), status)
                return StreamEnd(answers, "closed", "no end-of-stream message", [], status)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def text_of(path: Any) -> str:
    return str(path.read_text(errors="replace"))


def count_lines(text: str, pattern: str) -> int:
    return len(re.findall(pattern, text))


# --- slow-body connections --------------------------------------------------------------------


@dataclass
class SlowBodyFigures:
    opened: int
    refused_at_once: int  # closed by the server within ``at_once_s`` of connecting
    closed: int  # closed by the server by the end
    last_closed_s: float  # seconds from the first connection to the last server-side close
    statuses: Counter[int]
    health: HealthProbe

    def summary(self) -> str:
        return (
            f"{self.opened} slow-body connections: {self.refused_at_once} closed at once (cap), "
            f"{self.closed} closed by the server, the last after {self.last_closed_s:.1f} s, "
            f"answers {dict(self.statuses)}; gRPC {self.health.summary()}"
        )


def slow_body_attack(
    server: DoorServer,
    count: int,
    *,
    wait_s: float,
    trickle_gap_s: float = 1.0,
    at_once_s: float = 1.0,
) -> SlowBodyFigures:
    """``count`` connections that each send a unary call's headers (a 100,000-byte body
    announced) and then one body byte per ``trickle_gap_s``, while gRPC health is probed; waits
    up to ``wait_s`` for the server to close every one of them. A connection closed within
    ``at_once_s`` of connecting counts as refused at once."""
    port = server.http_port
    request = head(
        "Summarize",
        port,
        {"Content-Type": "application/json", "Content-Length": "100000"},
    )
    socks: list[socket.socket] = []
    opened_at: dict[int, float] = {}
    closed_at: dict[int, float] = {}
    answers: dict[int, bytes] = {}
    selector = selectors.DefaultSelector()
    start = time.monotonic()
    with HealthProbe(server.target, timeout_s=5.0) as probe:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            try:
                sock.sendall(request + b"{")
            except OSError:
                closed_at[sock.fileno()] = time.monotonic()
            sock.setblocking(False)
            opened_at[sock.fileno()] = time.monotonic()
            socks.append(sock)
            if sock.fileno() not in closed_at:
                selector.register(sock, selectors.EVENT_READ)
        next_trickle = time.monotonic() + trickle_gap_s
        deadline = start + wait_s
        while len(closed_at) < len(socks) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                sock = key.fileobj  # type: ignore[assignment]
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                except BlockingIOError:
                    continue
                if data:
                    answers[sock.fileno()] = answers.get(sock.fileno(), b"") + data
                    continue
                closed_at[sock.fileno()] = time.monotonic()
                selector.unregister(sock)
            if time.monotonic() >= next_trickle:
                next_trickle += trickle_gap_s
                for sock in socks:
                    if sock.fileno() not in closed_at:
                        with contextlib.suppress(OSError):
                            sock.send(b" ")
    statuses: Counter[int] = Counter()
    for sock in socks:
        data = answers.get(sock.fileno(), b"")
        statuses[int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0] += 1
    refused = sum(1 for fd, t in closed_at.items() if t - opened_at.get(fd, t) < at_once_s)
    last = max(closed_at.values(), default=start) - start
    for sock in socks:
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(sock)
        sock.close()
    selector.close()
    return SlowBodyFigures(len(socks), refused, len(closed_at), last, statuses, probe)
