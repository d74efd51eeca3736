"""The HTTP/JSON door on its own port, served by Hypercorn from the App's event loop.

Routes:
  POST /newsbrief.v1.SummarizerService/<Method>   every RPC, Connect protocol (JSON or binary
                                                  protobuf; gRPC-Web too), the same
                                                  transport-free service as the gRPC door
  GET  /healthz       200 while the process serves HTTP (liveness)
  GET  /readyz        200 when the gRPC health state is SERVING, else 503 (readiness)
  GET  /openapi.json  the OpenAPI 3.1 document generated from the proto
  GET  /              the editor's page (static HTML/CSS/JS from this package)

Why Connect (``connectrpc``) rather than REST transcoding: it serves the proto's service as it
is, with no HTTP annotations to keep in step and no transcoder to hand-write (no maintained Python
library transcodes ``google.api.http``); JSON bodies are the proto3 JSON mapping, errors are JSON
with the HTTP status a CMS expects (400, 401, 429, 503...), and the same port also speaks binary
protobuf and gRPC-Web for browsers.

The port's bounds (the ones Envoy and NGINX give every listener): a cap on open connections,
kept well below the process's open-file limit and enforced where connections are accepted (one
over the cap is accepted and closed at once, and the condition is logged at most once a
minute); a keep-alive timeout that also bounds the time to send a request's headers; a read
timeout (the longest silence while a request is read or a stream is open); a body timeout
(``edge.py``). The same listener serves the Prometheus ``/metrics`` port.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from newsbrief.service.http.connect import connect_app, jobs_connect_app
from newsbrief.service.http.edge import Edge
from newsbrief.service.observability.telemetry import NO_TELEMETRY, Telemetry
from newsbrief.service.serving.jobs import JobsService
from newsbrief.service.serving.service import NewsbriefService
from newsbrief.service.settings import HttpSettings, Settings
from newsbrief.v1 import newsbrief_pb2 as pb

log = logging.getLogger(__name__)

SERVICE_PATH = "/" + pb.DESCRIPTOR.services_by_name["SummarizerService"].full_name
JOBS_PATH = "/" + pb.DESCRIPTOR.services_by_name["JobService"].full_name
STATIC = resources.files("newsbrief.service.http") / "static"
_RESERVED_FILES = 128  # files the process keeps for itself (models, logs, gRPC, workers)


def build_app(
    service: NewsbriefService,
    settings: Settings,
    serving: Callable[[], Awaitable[bool]],
    *,
    telemetry: Telemetry | None = None,
    jobs: JobsService | None = None,
) -> ASGIApp:
    """The whole HTTP front end as one ASGI app; ``serving()`` is the gRPC health state."""
    openapi = (resources.files("newsbrief.service.http") / "openapi.json").read_bytes()
    index = (STATIC / "index.html").read_bytes()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await serving()
        return JSONResponse(
            {"status": "SERVING" if ready else "NOT_SERVING"}, status_code=200 if ready else 503
        )

    async def openapi_json(request: Request) -> Response:
        return Response(openapi, media_type="application/json")

    async def page(request: Request) -> Response:
        return Response(index, media_type="text/html; charset=utf-8")

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
            Mount(SERVICE_PATH, app=connect_app(service, settings.max_message_bytes)),
            *(
                [Mount(JOBS_PATH, app=jobs_connect_app(jobs, settings.max_message_bytes))]
                if jobs is not None
                else []
            ),
        ]
    )
    return Edge(
        app,
        service_paths=(SERVICE_PATH, JOBS_PATH),
        policy=service.policy,
        settings=settings.http,
        max_body_bytes=settings.max_message_bytes,
        telemetry=telemetry or NO_TELEMETRY,
        access_log_enabled=settings.logging.access_log,
        request_id_max_chars=settings.logging.request_id_max_chars,
    )


def connection_cap(configured: int) -> int:
    """The connection cap of one listener: the setting, or (0) a quarter of the open-file
    limit left after a reserve, so that two listeners at their caps still leave the process
    half its files (the gRPC port, models, logs, worker pipes)."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, (soft - _RESERVED_FILES) // 4)


class CappedSocket(socket.socket):
    """A listening socket that accepts at most ``cap`` open connections. One more is accepted
    and closed at once (the kernel would otherwise queue it, and the client would wait on a
    backlog it cannot see); asyncio's accept loop sees no connection and goes on. The refusal
    is logged at most once per ``log_interval_s``."""

    cap: int
    open_count: int
    refused: int
    name: str
    log_interval_s: float
    _logged_at: float

    def accept(self) -> tuple[socket.socket, Any]:
        while True:
            fd, address = self._accept()  # type: ignore[attr-defined]
            if self.open_count < self.cap:
                break
            self.refused += 1
            try:
                socket.socket(self.family, self.type, self.proto, fileno=fd).close()
            finally:
                now = time.monotonic()
                if now - self._logged_at >= self.log_interval_s:
                    self._logged_at = now
                    log.warning(
                        "%s: %d connections open (the cap): refusing new ones (%d so far)",
                        self.name,
                        self.cap,
                        self.refused,
                    )
        conn = _CountedConnection(self.family, self.type, self.proto, fileno=fd)
        conn.listener = self
        self.open_count += 1
        return conn, address


class _CountedConnection(socket.socket):
    """An accepted connection that gives its place back to the listener when it closes."""

    listener: CappedSocket | None

    def close(self) -> None:
        listener, self.listener = getattr(self, "listener", None), None
        if listener is not None:
            listener.open_count -= 1
        super().close()


def bind(host: str, port: int, *, cap: int, name: str, log_interval_s: float) -> CappedSocket:
    """A listening TCP socket on ``host:port`` (``[::]`` = every address, IPv4 too) that
    accepts at most ``cap`` connections at once."""
    host = host.strip("[]")
    if host in ("", "::"):
        plain = socket.create_server(("::", port), family=socket.AF_INET6, dualstack_ipv6=True)
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        plain = socket.create_server((host, port), family=family)
    sock = CappedSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
    sock.cap, sock.open_count, sock.refused = cap, 0, 0
    sock.name, sock.log_interval_s, sock._logged_at = name, log_interval_s, -1e9
    sock.setblocking(False)
    return sock


class HttpServer:
    """Hypercorn serving ``app`` on a capped socket bound here, until :meth:`stop`."""

    def __init__(
        self, app: ASGIApp, settings: HttpSettings, *, grace_seconds: float, name: str = "HTTP"
    ) -> None:
        self._app = app
        self._settings = settings
        self._grace = grace_seconds
        self._name = name
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._config: Config | None = None
        self.socket: CappedSocket | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        s = self._settings
        sock = bind(
            host,
            port,
            cap=connection_cap(s.max_connections),
            name=self._name,
            log_interval_s=s.refusal_log_interval_s,
        )
        self.socket = sock
        self.port = sock.getsockname()[1]
        config = Config()
        config.accesslog = None
        config.errorlog = logging.getLogger("newsbrief.http.hypercorn")
        config.graceful_timeout = self._grace
        config.include_server_header = False
        config.keep_alive_timeout = s.keep_alive_timeout_s
        config.read_timeout = max(1, round(s.read_timeout_s))
        config.h2_max_concurrent_streams = s.h2_max_concurrent_streams
        self._config = config
        app = wrap_app(self._app, config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
        self._task = asyncio.create_task(
            worker_serve(
                app, config, sockets=Sockets([], [sock], []), shutdown_trigger=self._stopping.wait
            )
        )
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Stop: open connections get ``grace`` seconds to finish, then Hypercorn cancels
        them; never waits much longer than that, whatever the clients do (a client that keeps
        sending to a stream that takes no more articles, or that never reads, holds its
        connection's task until it is cancelled)."""
        if self._task is None:
            return
        grace = self._grace if grace is None else grace
        if self._config is not None:
            # Hypercorn's own wait for open connections once stopped: the grace left (the
            # caller may have spent some of it already), not the whole grace again. Its own
            # cancellation at the end of that wait must come first: cancelling the server task
            # while Hypercorn waits can leave it waiting on connections that never close.
            self._config.graceful_timeout = grace
        self._stopping.set()
        task, self._task = self._task, None
        done, _ = await asyncio.wait({task}, timeout=grace + 1.0)
        if not done:
            log.warning("%s server did not stop within %.1f s: cancelling it", self._name, grace)
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
