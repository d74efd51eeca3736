"""Server interceptors: request ids + access log + errors -> status (outermost). The call policy
(API keys, quotas, admission, streams) is not here: the servicer begins each call through the
serving layer's :class:`~newsbrief.service.serving.policy.CallPolicy`, shared with the HTTP door.

Each interceptor wraps the behaviour of the method handler, so it sees exceptions raised by the
servicer (and by the interceptors inside it) for unary and streaming RPCs alike.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_status import rpc_status

from newsbrief.service.errors import MessageTooLarge, NewsbriefError
from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.serving.access import REQUEST_ID_MAX_CHARS
from newsbrief.service.serving.access import request_id as new_request_id
from newsbrief.service.serving.status import Code, code_for, to_status

log = logging.getLogger(__name__)
access_log = logging.getLogger("newsbrief.access")

REQUEST_ID_KEY = "x-request-id"
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

    @contextlib.asynccontextmanager
    async def hooked(context: Any) -> AsyncIterator[None]:
        """``before``, then the behaviour (the body), then ``end``; ``on_error`` on an
        exception (re-raised), ``after`` always."""
        error: BaseException | None = None
        try:
            await hooks.before(context)
            yield
            if hooks.end is not None:
                hooks.end()
        except BaseException as exc:
            error = exc
            if hooks.on_error is not None:
                await hooks.on_error(exc, context)
            raise
        finally:
            if hooks.after is not None:
                hooks.after(error)

    def wrap_one(behaviour: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isasyncgenfunction(behaviour):

            async def gen(request: Any, context: Any) -> AsyncIterator[Any]:
                async with hooked(context):
                    async for item in behaviour(requests_of(request), context):
                        if hooks.on_response is not None:
                            hooks.on_response()
                        yield item

            return gen

        async def call(request: Any, context: Any) -> Any:
            async with hooked(context):
                if hooks.check is not None and not streaming_requests:
                    hooks.check(request)
                return await behaviour(requests_of(request), context)

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


class HookedInterceptor(grpc.aio.ServerInterceptor):
    """An interceptor that wraps the handler of every call it sees with the :class:`Hooks` its
    :meth:`hooks` makes for that call (a call to an unknown method, with no handler, passes)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        started = time.monotonic()
        handler = await continuation(details)
        if handler is None:
            return None
        return _wrap(handler, self.hooks(details, started))

    def hooks(self, details: grpc.HandlerCallDetails, started: float) -> Hooks:
        """The hooks around one call of ``details.method``, which this interceptor first saw
        at ``started`` (``time.monotonic()``)."""
        raise NotImplementedError


class RequestInterceptor(HookedInterceptor):
    """Outermost: a request id (the caller's ``x-request-id`` or a new one) in a context variable
    and in the response metadata; domain errors -> status with details; unknown errors ->
    INTERNAL with a fixed text (full error in the log); one access-log line per RPC with its
    code, its total time and the part of it spent before the handler ran (``queue``). When the
    client says when it sent the call (``x-client-sent-ms``, as newsbrief clients do), both
    include the wait before this server's code saw the call (in the network and in grpc's own
    queue), so the logged latency is the one the client sees."""

    def __init__(
        self,
        *,
        access_log_enabled: bool = True,
        max_message_bytes: int = 0,
        request_id_max_chars: int = REQUEST_ID_MAX_CHARS,
    ) -> None:
        self._access = access_log_enabled
        self._max_bytes = max_message_bytes
        self._id_chars = request_id_max_chars

    def hooks(self, details: grpc.HandlerCallDetails, started: float) -> Hooks:
        method = details.method
        metadata = _metadata(details)
        started -= _client_wait_s(metadata)
        request_id = new_request_id(metadata.get(REQUEST_ID_KEY, ""), max_chars=self._id_chars)
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

        return Hooks(before, check=check, requests=requests, on_error=on_error, after=after)
