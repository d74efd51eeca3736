"""The HTTP/JSON front end on its own port, served by Hypercorn from the App's event loop.

Routes:
  POST /newsbrief.v1.SummarizerService/<Method>   every RPC, Connect protocol (JSON or binary
                                                  protobuf; gRPC-Web too), same servicer as gRPC
  GET  /healthz       200 while the process serves HTTP (liveness)
  GET  /readyz        200 when the gRPC health state is SERVING, else 503 (readiness)
  GET  /openapi.json  the OpenAPI 3.1 document generated from the proto
  GET  /              the editor's page (static HTML/CSS/JS from this package)

Why Connect (``connectrpc``) rather than REST transcoding: it serves the proto's service as it
is, with no HTTP annotations to keep in step and no transcoder to hand-write (no maintained Python
library transcodes ``google.api.http``); JSON bodies are the proto3 JSON mapping, errors are JSON
with the HTTP status a CMS expects (400, 401, 429, 503...), and the same port also speaks binary
protobuf and gRPC-Web for browsers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from importlib import resources
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from connectrpc.request import RequestContext
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from hypercorn.asyncio import serve
from hypercorn.config import Config
from protobuf.wkt import Any as WireAny
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsbrief.service.errors import NewsbriefError, Overloaded, QuotaExceeded
from newsbrief.service.grpc.servicer import SummarizerServicer
from newsbrief.service.observability import request_id_var
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.access import request_id as new_request_id
from newsbrief.service.serving.jobs import JobsService, tenant_of
from newsbrief.service.serving.status import code_for, to_status
from newsbrief.service.settings import Settings
from newsbrief.service.telemetry import NO_TELEMETRY, Telemetry
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1.newsbrief_connect import (
    JobServiceASGIApplication,
    SummarizerServiceASGIApplication,
)

log = logging.getLogger(__name__)
access_log = logging.getLogger("newsbrief.access")

REQUEST_ID_HEADER = "x-request-id"
API_KEY_HEADER = "x-api-key"
HOW_TO_SEND_KEY = "as 'Authorization: Bearer KEY' or in the 'x-api-key' header"
SERVICE_PATH = "/" + pb.DESCRIPTOR.services_by_name["SummarizerService"].full_name
JOBS_PATH = "/" + pb.DESCRIPTOR.services_by_name["JobService"].full_name
STATIC = resources.files("newsbrief.service.http") / "static"
# grpc.StatusCode names -> Connect codes (same numbering; Connect spells one of them differently).
_CONNECT_CODE = {code.name: code for code in Code} | {"CANCELLED": Code.CANCELED}


def connect_error(exc: BaseException, request_id: str) -> ConnectError:
    """A domain error (or any other) as a Connect error through the one error table: the same
    code, message and google.rpc details (BadRequest, RetryInfo, QuotaFailure,
    PreconditionFailure) as the gRPC status."""
    status = to_status(exc, request_id)
    details = [ErrorDetail(WireAny(type_url=d.type_url, value=d.value)) for d in status.details]
    return ConnectError(_CONNECT_CODE[code_for(exc).name], status.message, details=details)


def with_debug_details(body: bytes) -> bytes:
    """A Connect JSON error with each google.rpc detail also spelt out as JSON (``debug``:
    ``fieldViolations``, ``retryDelay``...), as the Connect protocol allows. connectrpc only does
    this for messages of its own protobuf runtime; the error details here are google.protobuf's.
    """
    try:
        error = json.loads(body)
    except ValueError:
        return body
    if not isinstance(error, dict) or not isinstance(error.get("details"), list):
        return body
    for detail in error["details"]:
        cls = _DETAIL_TYPES.get(detail.get("type", "")) if isinstance(detail, dict) else None
        if cls is None or "debug" in detail:
            continue
        try:
            raw = base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
            detail["debug"] = json_format.MessageToDict(cls.FromString(raw))
        except (KeyError, TypeError, ValueError, DecodeError):
            continue
    return json.dumps(error, ensure_ascii=False).encode("utf-8")


_DETAIL_TYPES: dict[str, Any] = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        error_details_pb2.BadRequest,
        error_details_pb2.RetryInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.PreconditionFailure,
    )
}


def bearer_or_api_key(headers: Any) -> str:
    """The API key of a request: ``Authorization: Bearer KEY`` or ``x-api-key: KEY``."""
    auth = headers.get("authorization", "") or ""
    scheme, _, token = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return str(token.strip())
    return str(headers.get(API_KEY_HEADER, "") or "")


class _Deadline:
    """The caller's Connect timeout (``connect-timeout-ms``) as the servicer's context."""

    def __init__(self, ctx: RequestContext[Any, Any]) -> None:
        self._ctx = ctx

    def time_remaining(self) -> float | None:
        ms = self._ctx.timeout_ms
        return None if ms is None else ms / 1000.0


class _ConnectService:
    """The generated Connect service protocol (snake_case methods) over the gRPC servicer."""

    def __init__(self, servicer: SummarizerServicer) -> None:
        self._servicer = servicer

    async def summarize(
        self, request: pb.SummarizeRequest, ctx: RequestContext[Any, Any]
    ) -> pb.SummarizeResponse:
        return await self._servicer.Summarize(request, _Deadline(ctx))

    async def translate(
        self, request: pb.TranslateRequest, ctx: RequestContext[Any, Any]
    ) -> pb.TranslateResponse:
        return await self._servicer.Translate(request, _Deadline(ctx))

    async def get_server_info(
        self, request: pb.GetServerInfoRequest, ctx: RequestContext[Any, Any]
    ) -> pb.GetServerInfoResponse:
        return await self._servicer.GetServerInfo(request, _Deadline(ctx))

    async def detect_language(
        self, request: pb.DetectLanguageRequest, ctx: RequestContext[Any, Any]
    ) -> pb.DetectLanguageResponse:
        return await self._servicer.DetectLanguage(request, _Deadline(ctx))

    def summarize_stream(
        self, request: AsyncIterator[pb.SummarizeStreamRequest], ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[pb.SummarizeStreamResponse]:
        return self._servicer.SummarizeStream(request, _Deadline(ctx))


class _ConnectJobs:
    """JobService over Connect: the caller's tenant from its key (checked by :class:`_Gate`),
    then the transport-free :class:`JobsService`."""

    def __init__(self, jobs: JobsService, *, keys_enabled: bool) -> None:
        self._jobs = jobs
        self._keys_enabled = keys_enabled

    def _tenant(self, ctx: RequestContext[Any, Any]) -> str:
        return tenant_of(bearer_or_api_key(ctx.request_headers), self._keys_enabled)

    async def create_job(
        self, request: pb.CreateJobRequest, ctx: RequestContext[Any, Any]
    ) -> pb.CreateJobResponse:
        return await self._jobs.create_job(request, self._tenant(ctx))

    async def get_job(
        self, request: pb.GetJobRequest, ctx: RequestContext[Any, Any]
    ) -> pb.GetJobResponse:
        return await self._jobs.get_job(request, self._tenant(ctx))

    async def list_jobs(
        self, request: pb.ListJobsRequest, ctx: RequestContext[Any, Any]
    ) -> pb.ListJobsResponse:
        return await self._jobs.list_jobs(request, self._tenant(ctx))

    async def cancel_job(
        self, request: pb.CancelJobRequest, ctx: RequestContext[Any, Any]
    ) -> pb.CancelJobResponse:
        return await self._jobs.cancel_job(request, self._tenant(ctx))


class _Gate:
    """Connect interceptor: API key and quota, a bound on requests in flight, errors through
    the one table (with ``Retry-After`` where the error carries a retry delay), one access-log
    line per call. The request id is set by :class:`_RequestIds` around the whole app."""

    def __init__(
        self,
        keys: ApiKeys,
        max_in_flight: int,
        access_log_enabled: bool,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._keys = keys
        self._telemetry = telemetry
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._access = access_log_enabled

    def _enter(self, ctx: RequestContext[Any, Any]) -> None:
        if self._keys.enabled:
            self._keys.check(bearer_or_api_key(ctx.request_headers), how_to_send=HOW_TO_SEND_KEY)
        if self._in_flight >= self._max_in_flight:
            raise Overloaded(f"more than {self._max_in_flight} HTTP requests in flight")
        self._in_flight += 1

    def _fail(self, exc: Exception, ctx: RequestContext[Any, Any]) -> ConnectError:
        request_id = request_id_var.get()
        if isinstance(exc, ConnectError):
            return exc
        if not isinstance(exc, NewsbriefError):
            log.error("%s failed (request id %s)", _method(ctx), request_id, exc_info=exc)
        retry = getattr(exc, "retry_after_s", None)
        if isinstance(retry, int | float):
            ctx.response_headers["retry-after"] = str(max(1, math.ceil(retry)))
        return connect_error(exc, request_id)

    def _log(
        self, ctx: RequestContext[Any, Any], started: float, exc: BaseException | None
    ) -> None:
        if not self._access:
            return
        name = _code_name(exc)
        access_log.info(
            "HTTP %s %s %.1fms peer=%s request_id=%s",
            _method(ctx),
            name,
            (time.monotonic() - started) * 1000,
            ctx.client_address or "-",
            request_id_var.get(),
        )

    @contextlib.contextmanager
    def _call(self, ctx: RequestContext[Any, Any]) -> Iterator[None]:
        """Around one call: admit it, map its error, count it out and log it."""
        started = time.monotonic()
        error: BaseException | None = None
        entered = False
        headers = {k.lower(): v for k, v in ctx.request_headers.items()}
        call = self._telemetry.request("http", _method(ctx), headers).__enter__()
        try:
            self._enter(ctx)
            entered = True
            yield
        except Exception as exc:
            error = exc
            raise self._fail(exc, ctx) from None
        except BaseException as exc:
            error = exc
            raise
        finally:
            if entered:
                self._in_flight -= 1
            call.code = _code_name(error)
            if isinstance(error, QuotaExceeded):
                self._telemetry.quota_rejected("http")
            call.__exit__(None, None, None)
            self._log(ctx, started, error)

    async def intercept_unary(
        self,
        call_next: Callable[[Any, RequestContext[Any, Any]], Awaitable[Any]],
        request: Any,
        ctx: RequestContext[Any, Any],
    ) -> Any:
        with self._call(ctx):
            return await call_next(request, ctx)

    async def intercept_bidi_stream(
        self,
        call_next: Callable[[AsyncIterator[Any], RequestContext[Any, Any]], AsyncIterator[Any]],
        request: AsyncIterator[Any],
        ctx: RequestContext[Any, Any],
    ) -> AsyncIterator[Any]:
        with self._call(ctx):
            async for item in call_next(request, ctx):
                yield item


def _code_name(exc: BaseException | None) -> str:
    """The status code name a call that ended with ``exc`` gets (the one error table)."""
    if exc is None:
        return "OK"
    if isinstance(exc, ConnectError):
        return exc.code.name
    if isinstance(exc, Exception):
        return code_for(exc).name
    return "CANCELLED"


def _method(ctx: RequestContext[Any, Any]) -> str:
    method = ctx.method
    return f"/{method.service_name}/{method.name}"


class _Edge:
    """ASGI middleware: the caller's ``x-request-id`` (or a new one) in the logging context
    variable and in every response's headers, whatever route answers; JSON error bodies get
    their details spelt out (:func:`with_debug_details`)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self._app = app
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = ""
        for key, value in scope.get("headers", ()):
            if key.lower() == REQUEST_ID_HEADER.encode():
                given = value.decode("latin-1")
        request_id = new_request_id(given)
        request_id_var.set(request_id)
        if _declared_length(scope) > self._max_body:
            # Refused before reading: 413 says "smaller", where Connect's own check after
            # reading says resource_exhausted (429), which a client would retry.
            await _too_large(send, request_id, self._max_body)
            return

        held: list[Message] = []  # the start of a JSON error response, until its body

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode("latin-1")))
                message = {**message, "headers": headers}
                if message["status"] >= 400 and (b"content-type", b"application/json") in headers:
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body" and not message.get("more_body"):
                start = held.pop()
                body = with_debug_details(message.get("body", b""))
                start["headers"] = [
                    (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
                ] + [(b"content-length", str(len(body)).encode())]
                await send(start)
                message = {**message, "body": body}
            await send(message)

        await self._app(scope, receive, send_with_id)


def build_app(
    servicer: SummarizerServicer,
    settings: Settings,
    serving: Callable[[], Awaitable[bool]],
    *,
    telemetry: Telemetry | None = None,
    jobs: JobsService | None = None,
) -> ASGIApp:
    """The whole HTTP front end as one ASGI app; ``serving()`` is the gRPC health state."""
    keys = ApiKeys(
        settings.auth.api_key_hashes,
        requests_per_minute=settings.auth.replica_requests_per_minute,
        window_s=settings.auth.quota_window_s,
    )
    gate = _Gate(
        keys,
        settings.max_concurrent_rpcs,
        settings.logging.access_log,
        telemetry or NO_TELEMETRY,
    )
    connect = SummarizerServiceASGIApplication(
        _ConnectService(servicer),
        interceptors=[gate],
        read_max_bytes=settings.max_message_bytes,
    )
    jobs_routes = []
    if jobs is not None:
        jobs_app = JobServiceASGIApplication(
            _ConnectJobs(jobs, keys_enabled=keys.enabled),
            interceptors=[gate],
            read_max_bytes=settings.max_message_bytes,
        )
        jobs_routes = [Mount(JOBS_PATH, app=jobs_app)]
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
            Mount(SERVICE_PATH, app=connect),
            *jobs_routes,
        ]
    )
    return _Edge(app, settings.max_message_bytes)


def _declared_length(scope: Scope) -> int:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _too_large(send: Send, request_id: str, limit: int) -> None:
    body = json.dumps(
        {
            "code": Code.RESOURCE_EXHAUSTED.value,
            "message": f"the request body is larger than {limit} bytes (max_message_bytes)",
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (REQUEST_ID_HEADER.encode(), request_id.encode("latin-1")),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``[::]`` = every address, IPv4 too)."""
    host = host.strip("[]")
    if host in ("", "::"):
        return socket.create_server(("::", port), family=socket.AF_INET6, dualstack_ipv6=True)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


class HttpServer:
    """Hypercorn serving ``app`` on a socket bound here, until :meth:`stop`."""

    def __init__(self, app: ASGIApp, *, grace_seconds: float) -> None:
        self._app = app
        self._grace = grace_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        sock = bind(host, port)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the socket from here
        config.accesslog = None
        config.errorlog = logging.getLogger("newsbrief.http.hypercorn")
        config.graceful_timeout = self._grace
        config.include_server_header = False
        self._task = asyncio.create_task(
            serve(self._app, config, shutdown_trigger=self._stopping.wait)  # type: ignore[arg-type]
        )
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        if self._task is None:
            return
        self._stopping.set()
        limit = (self._grace if grace is None else grace) + 5.0
        try:
            await asyncio.wait_for(self._task, limit)
        except TimeoutError:
            log.warning("HTTP server did not stop within %.1f s", limit)
        finally:
            self._task = None
