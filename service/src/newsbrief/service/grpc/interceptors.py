"""Server interceptors: request ids + access log + errors -> status (outermost), API keys and
per-key quotas, and admission control (in-flight limits, draining, idle streams).

Each interceptor wraps the behaviour of the method handler, so it sees exceptions raised by the
servicer (and by the interceptors inside it) for unary and streaming RPCs alike.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_status import rpc_status

from newsbrief.service.errors import (
    DeadlineExceeded,
    MessageTooLarge,
    NewsbriefError,
    QuotaExceeded,
)
from newsbrief.service.observability import request_id_var
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.access import request_id as new_request_id
from newsbrief.service.serving.admission import Admission, Ticket
from newsbrief.service.serving.status import Code, code_for, to_status

log = logging.getLogger(__name__)
access_log = logging.getLogger("newsbrief.access")

REQUEST_ID_KEY = "x-request-id"
API_KEY_KEY = "x-api-key"
# When the client sent the call (Unix time in ms), sent by newsbrief clients.
SENT_AT_KEY = "x-client-sent-ms"
MAX_CLIENT_WAIT_S = 3600.0  # a larger wait means skewed clocks: not believed
# Probes and tooling need no key and are never limited: health checks and reflection.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in details.invocation_metadata or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out


@dataclass
class Hooks:
    """What an interceptor adds around each behaviour of a method handler.

    ``before(context)`` runs first; ``check(request)`` sees a unary request before the
    behaviour does; ``requests(iterator)`` may wrap a request stream;
    ``on_response()`` runs for each streamed response; ``end()`` runs after the behaviour
    finished normally and may raise (an error kept for the end of a stream); exceptions go to
    ``on_error(exc, context)`` (which may abort with a status) and are re-raised otherwise;
    ``after(error)`` runs always. ``after`` gets no context on purpose: it may run after the call
    has ended (a client that left a stream), when reading the context crashes cygrpc.
    """

    before: Callable[[Any], Awaitable[None]]
    check: Callable[[Any], None] | None = None
    requests: Callable[[AsyncIterator[Any]], AsyncIterator[Any]] | None = None
    on_response: Callable[[], None] | None = None
    end: Callable[[], None] | None = None
    on_error: Callable[[BaseException, Any], Awaitable[None]] | None = None
    after: Callable[[BaseException | None], None] | None = None


def _wrap(handler: grpc.RpcMethodHandler, hooks: Hooks) -> grpc.RpcMethodHandler:
    """Wrap every behaviour of ``handler`` with ``hooks``."""
    streaming_requests = bool(handler.request_streaming)

    def requests_of(request: Any) -> Any:
        if streaming_requests and hooks.requests is not None:
            return hooks.requests(request)
        return request

    async def failed(exc: BaseException, context: Any) -> None:
        if hooks.on_error is not None:
            await hooks.on_error(exc, context)

    def wrap_one(behaviour: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isasyncgenfunction(behaviour):

            async def gen(request: Any, context: Any) -> AsyncIterator[Any]:
                error: BaseException | None = None
                try:
                    await hooks.before(context)
                    async for item in behaviour(requests_of(request), context):
                        if hooks.on_response is not None:
                            hooks.on_response()
                        yield item
                    if hooks.end is not None:
                        hooks.end()
                except BaseException as exc:
                    error = exc
                    await failed(exc, context)
                    raise
                finally:
                    if hooks.after is not None:
                        hooks.after(error)

            return gen

        async def call(request: Any, context: Any) -> Any:
            error: BaseException | None = None
            try:
                await hooks.before(context)
                if hooks.check is not None and not streaming_requests:
                    hooks.check(request)
                result = await behaviour(requests_of(request), context)
                if hooks.end is not None:
                    hooks.end()
                return result
            except BaseException as exc:
                error = exc
                await failed(exc, context)
                raise
            finally:
                if hooks.after is not None:
                    hooks.after(error)

        return call

    fields = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
    replaced = {f: wrap_one(getattr(handler, f)) for f in fields if getattr(handler, f)}
    return handler._replace(**replaced)


def _client_wait_s(metadata: dict[str, str]) -> float:
    """How long ago the client says it sent the call: time spent in the network and queued in
    grpc before this server's code saw it (0 when not told, or not believable). Wall clock on
    purpose: it is compared with the client's clock."""
    try:
        sent = int(metadata.get(SENT_AT_KEY, "")) / 1000
    except ValueError:
        return 0.0
    wait = time.time() - sent
    return wait if 0 < wait < MAX_CLIENT_WAIT_S else 0.0


def _peer(context: Any) -> str:
    """The client connection (``ipv4:127.0.0.1:50312``); read only while the call is live."""
    try:
        return str(context.peer())
    except Exception:  # a call torn down under us: no peer to report
        return "-"


class RequestInterceptor(grpc.aio.ServerInterceptor):
    """Outermost: a request id (the caller's ``x-request-id`` or a new one) in a context variable
    and in the response metadata; domain errors -> status with details; unknown errors ->
    INTERNAL with a fixed text (full error in the log); one access-log line per RPC with its
    code, its total time and the part of it spent before the handler ran (``queue``). When the
    client says when it sent the call (``x-client-sent-ms``, as newsbrief clients do), both
    include the wait before this server's code saw the call (in the network and in grpc's own
    queue), so the logged latency is the one the client sees."""

    def __init__(self, *, access_log_enabled: bool = True, max_message_bytes: int = 0) -> None:
        self._access = access_log_enabled
        self._max_bytes = max_message_bytes

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        started = time.monotonic()
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        metadata = _metadata(details)
        started -= _client_wait_s(metadata)
        request_id = new_request_id(metadata.get(REQUEST_ID_KEY, ""))
        # What the access log needs is captured while the call is live, never read after it.
        peer = ["-"]
        handler_at: list[float] = []
        code: list[Code] = []

        async def before(context: Any) -> None:
            handler_at.append(time.monotonic())
            request_id_var.set(request_id)
            peer[0] = _peer(context)
            try:
                await context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
            except Exception:  # initial metadata already sent (not expected)
                log.debug("could not send initial metadata", exc_info=True)

        async def on_error(exc: BaseException, context: Any) -> None:
            if isinstance(exc, grpc.aio.AbortError) or not isinstance(exc, Exception):
                raise exc  # an abort in progress, or cancellation: let grpc finish it
            if not isinstance(exc, NewsbriefError):
                log.error("%s failed (request id %s)", method, request_id, exc_info=exc)
            code.append(code_for(exc))
            status = rpc_status.to_status(to_status(exc, request_id))
            trailing = (*status.trailing_metadata, (REQUEST_ID_KEY, request_id))
            await context.abort_with_status(status._replace(trailing_metadata=trailing))

        def check(request: Any) -> None:
            # grpc itself refuses only messages past twice the limit (see App.start): between
            # the two the refusal comes from here, with the request id and a log line.
            measure = getattr(request, "ByteSize", None)  # absent: bytes that did not parse
            size = measure() if self._max_bytes and callable(measure) else 0
            if size > self._max_bytes:
                raise MessageTooLarge(
                    f"request message of {size} bytes is larger than the server's "
                    f"max_message_bytes ({self._max_bytes})"
                )

        async def requests(iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for item in iterator:
                check(item)
                yield item

        def after(error: BaseException | None) -> None:
            if not self._access:
                return
            if code:
                name = code[0].name
            elif error is None:
                name = "OK"
            elif isinstance(error, Exception):
                name = code_for(error).name
            else:  # CancelledError / GeneratorExit: the client left or its deadline passed
                name = "CANCELLED"
            now = time.monotonic()
            latency_ms = round((now - started) * 1000, 1)
            queue_ms = round(((handler_at[0] if handler_at else now) - started) * 1000, 1)
            access_log.info(
                "%s %s %.1fms queue=%.1fms peer=%s request_id=%s",
                method,
                name,
                latency_ms,
                queue_ms,
                peer[0],
                request_id,
                extra={
                    "fields": {
                        "method": method,
                        "code": name,
                        "latency_ms": latency_ms,
                        "queue_ms": queue_ms,
                        "peer": peer[0],
                        "request_id": request_id,
                    }
                },
            )

        hooks = Hooks(before, check=check, requests=requests, on_error=on_error, after=after)
        return _wrap(handler, hooks)


def _method_name(full: str) -> str:
    """``/newsbrief.v1.SummarizerService/Summarize`` -> ``Summarize``."""
    return full.rsplit("/", 1)[-1]


@dataclass
class _StreamWatch:
    """The request side of one admitted stream: articles in flight, when the last one arrived or
    was answered, and why the stream was ended here ("idle", "closing"; "" when it was not)."""

    last: float
    in_flight: int = 0
    ended: str = ""

    def idle_left(self, idle_s: float) -> float:
        """Seconds until the stream counts as idle; with articles in flight it cannot be (the
        clock restarts at their answers), so a full period."""
        return idle_s if self.in_flight else self.last + idle_s - time.monotonic()


class AdmissionInterceptor(grpc.aio.ServerInterceptor):
    """In-flight limits of the API methods (health and reflection pass untouched), the closed
    door while draining, and the end of request streams: one with no article in flight that
    sends none for ``stream_idle_timeout_s`` is ended with DEADLINE_EXCEEDED; when the server
    drains, each open stream takes no more articles, answers those in flight and ends with
    UNAVAILABLE and a retry delay (its client reconnects, elsewhere, and resumes)."""

    def __init__(self, admission: Admission, *, stream_idle_timeout_s: float) -> None:
        self.admission = admission
        self.idle_s = stream_idle_timeout_s

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICES):
            return handler
        method = _method_name(details.method)
        ticket: list[Ticket] = []
        watch = _StreamWatch(last=time.monotonic())

        async def before(context: Any) -> None:
            ticket.append(self.admission.admit(method, _peer(context)))

        async def requests(iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
            source = aiter(iterator)
            closing = asyncio.ensure_future(self.admission.closing.wait())
            try:
                while True:
                    pending = asyncio.ensure_future(anext(source))
                    try:
                        while not pending.done():
                            await asyncio.wait(
                                {pending, closing},
                                timeout=max(0.01, watch.idle_left(self.idle_s)),
                                return_when=asyncio.FIRST_COMPLETED,
                            )
                            if closing.done() and not pending.done():
                                watch.ended = "closing"  # shutting down: take no more articles
                                return
                            if not pending.done() and watch.idle_left(self.idle_s) <= 0:
                                watch.ended = "idle"
                                return
                        item = pending.result()
                    except StopAsyncIteration:
                        return
                    finally:
                        pending.cancel()
                    watch.in_flight += 1
                    watch.last = time.monotonic()
                    yield item
            finally:
                closing.cancel()

        def on_response() -> None:
            watch.in_flight = max(0, watch.in_flight - 1)
            watch.last = time.monotonic()

        def end() -> None:
            if watch.ended == "idle":
                raise DeadlineExceeded(
                    f"no article sent for {self.idle_s:g} s with none in flight: stream closed "
                    "(admission.stream_idle_timeout_s)"
                )
            if watch.ended == "closing":
                raise self.admission.closed_stream()

        def after(error: BaseException | None) -> None:
            if ticket:
                ticket[0].release()

        return _wrap(
            handler, Hooks(before, requests=requests, on_response=on_response, end=end, after=after)
        )


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    """Requires an ``x-api-key`` whose SHA-256 is configured, except for health and reflection.
    Keys are stored hashed; comparison is constant-time. A missing key is UNAUTHENTICATED, an
    unknown one PERMISSION_DENIED, a key over its quota RESOURCE_EXHAUSTED (QuotaFailure and
    RetryInfo). A unary call counts one against the quota, each article of a stream one."""

    def __init__(
        self,
        key_hashes: list[str],
        *,
        requests_per_minute: int = 0,
        window_s: float = 60.0,
        keys: ApiKeys | None = None,
    ) -> None:
        # ``keys``: counters shared with the job runner (a job's articles count on its key)
        self._keys = keys or ApiKeys(
            key_hashes, requests_per_minute=requests_per_minute, window_s=window_s
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICES):
            return handler
        key = _metadata(details).get(API_KEY_KEY, "")
        streaming = bool(handler.request_streaming)
        digest: list[str] = []
        spent: list[QuotaExceeded] = []

        async def before(context: Any) -> None:
            digest.append(self._keys.authenticate(key, how_to_send="in the 'x-api-key' metadata"))
            if not streaming:
                self._keys.take(digest[0])

        async def requests(iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
            # When the quota is spent the stream takes no more articles, finishes those in
            # flight, and ends with the quota error (end()); the client resumes after the delay.
            async for item in iterator:
                try:
                    self._keys.take(digest[0])
                except QuotaExceeded as exc:
                    spent.append(exc)
                    return
                yield item

        def end() -> None:
            if spent:
                raise spent[0]

        return _wrap(handler, Hooks(before, requests=requests, end=end))
