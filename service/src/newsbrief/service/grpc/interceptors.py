"""Server interceptors: request ids + access log + errors -> status (outermost), and API keys.

Each interceptor wraps the behaviour of the method handler, so it sees exceptions raised by the
servicer (and by the interceptors inside it) for unary and streaming RPCs alike.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from newsbrief.service.access import ApiKeys
from newsbrief.service.access import request_id as new_request_id
from newsbrief.service.errors import NewsbriefError
from newsbrief.service.grpc.status import code_for, to_status
from newsbrief.service.observability import request_id_var

log = logging.getLogger(__name__)
access_log = logging.getLogger("newsbrief.access")

REQUEST_ID_KEY = "x-request-id"
API_KEY_KEY = "x-api-key"
# Probes and tooling need no key: health checks and reflection.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in details.invocation_metadata or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out


def _wrap(
    handler: grpc.RpcMethodHandler,
    before: Callable[[Any], Awaitable[None]],
    on_error: Callable[[BaseException, Any], Awaitable[None]] | None = None,
    after: Callable[[Any, BaseException | None], None] | None = None,
) -> grpc.RpcMethodHandler:
    """Wrap every behaviour of ``handler``: ``before(context)``, then the behaviour; exceptions go
    to ``on_error(exc, context)`` (which may abort with a status) and are re-raised otherwise;
    ``after(context, exc)`` runs always."""

    def wrap_one(behaviour: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isasyncgenfunction(behaviour):

            async def gen(request: Any, context: Any) -> AsyncIterator[Any]:
                error: BaseException | None = None
                try:
                    await before(context)
                    async for item in behaviour(request, context):
                        yield item
                except BaseException as exc:
                    error = exc
                    if on_error is not None:
                        await on_error(exc, context)
                    raise
                finally:
                    if after is not None:
                        after(context, error)

            return gen

        async def call(request: Any, context: Any) -> Any:
            error: BaseException | None = None
            try:
                await before(context)
                return await behaviour(request, context)
            except BaseException as exc:
                error = exc
                if on_error is not None:
                    await on_error(exc, context)
                raise
            finally:
                if after is not None:
                    after(context, error)

        return call

    fields = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
    replaced = {f: wrap_one(getattr(handler, f)) for f in fields if getattr(handler, f)}
    return handler._replace(**replaced)


class RequestInterceptor(grpc.aio.ServerInterceptor):
    """Outermost: a request id (the caller's ``x-request-id`` or a new one) in a context variable
    and in the response metadata; domain errors -> status with details; unknown errors ->
    INTERNAL with a fixed text (full error in the log); one access-log line per RPC."""

    def __init__(self, *, access_log_enabled: bool = True) -> None:
        self._access = access_log_enabled

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        request_id = new_request_id(_metadata(details).get(REQUEST_ID_KEY, ""))
        started = time.monotonic()

        async def before(context: Any) -> None:
            request_id_var.set(request_id)
            try:
                await context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
            except Exception:  # initial metadata already sent (not expected)
                log.debug("could not send initial metadata", exc_info=True)

        async def on_error(exc: BaseException, context: Any) -> None:
            if isinstance(exc, grpc.aio.AbortError) or not isinstance(exc, Exception):
                raise exc  # an abort in progress, or cancellation: let grpc finish it
            if not isinstance(exc, NewsbriefError):
                log.error("%s failed (request id %s)", method, request_id, exc_info=exc)
            status = rpc_status.to_status(to_status(exc, request_id))
            trailing = (*status.trailing_metadata, (REQUEST_ID_KEY, request_id))
            await context.abort_with_status(status._replace(trailing_metadata=trailing))

        def after(context: Any, error: BaseException | None) -> None:
            if not self._access:
                return
            if error is None or isinstance(error, grpc.aio.AbortError):
                code = context.code() if hasattr(context, "code") else None
                name = getattr(code, "name", None) or "OK"
            elif isinstance(error, Exception):
                name = code_for(error).name
            else:
                name = "CANCELLED"
            latency_ms = round((time.monotonic() - started) * 1000, 1)
            peer = context.peer() if hasattr(context, "peer") else "-"
            access_log.info(
                "%s %s %.1fms peer=%s request_id=%s",
                method,
                name,
                latency_ms,
                peer,
                request_id,
                extra={
                    "fields": {
                        "method": method,
                        "code": name,
                        "latency_ms": latency_ms,
                        "peer": peer,
                        "request_id": request_id,
                    }
                },
            )

        return _wrap(handler, before, on_error, after)


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    """Requires an ``x-api-key`` whose SHA-256 is configured, except for health and reflection.
    Keys are stored hashed; comparison is constant-time. A missing key is UNAUTHENTICATED, an
    unknown one PERMISSION_DENIED, a key over its quota RESOURCE_EXHAUSTED (QuotaFailure)."""

    def __init__(self, key_hashes: list[str], *, requests_per_minute: int = 0) -> None:
        self._keys = ApiKeys(key_hashes, requests_per_minute=requests_per_minute)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICES):
            return handler
        key = _metadata(details).get(API_KEY_KEY, "")

        async def before(context: Any) -> None:
            self._keys.check(key, how_to_send="in the 'x-api-key' metadata")

        return _wrap(handler, before)
