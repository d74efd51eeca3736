"""The Connect adapter of the HTTP door: the generated Connect service protocol over the
transport-free :class:`NewsbriefService`. Each request message arrives unparsed (see
``codecs.py``) and is inflated and parsed in a thread; each response is serialised in a thread;
errors go through the one table in ``serving/status.py`` (same code, message and google.rpc
details as on the gRPC door, ``Retry-After`` where there is a retry delay)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from google.protobuf.message import Message

from newsbrief.service.errors import NewsbriefError
from newsbrief.service.http.codecs import JSON, PROTO, DeferredCodec, DeferredGzip, Encoded, Raw
from newsbrief.service.http.edge import HttpCall, current_call
from newsbrief.service.http.errors import connect_error, retry_after
from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.serving.context import CallContext, Undecodable
from newsbrief.service.serving.jobs import JobsService
from newsbrief.service.serving.service import NewsbriefService, decoded
from newsbrief.service.serving.status import code_for
from newsbrief.v1.newsbrief_connect import (
    JobServiceASGIApplication,
    SummarizerServiceASGIApplication,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class ConnectAdapter:
    """The generated Connect service protocol (snake_case methods) over the service."""

    def __init__(self, service: NewsbriefService, max_message_bytes: int) -> None:
        self._service = service
        self._max_bytes = max_message_bytes

    async def _parse(self, raw: Any) -> Message | Undecodable:
        return await _parse(raw, self._max_bytes)

    async def _unary(
        self,
        raw: Any,
        ctx: RequestContext[Any, Any],
        call: Callable[[Any, CallContext], Awaitable[Message]],
    ) -> Encoded:
        return await _unary(raw, ctx, self._max_bytes, call)

    async def summarize(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._unary(request, ctx, self._service.summarize)

    async def translate(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._unary(request, ctx, self._service.translate)

    async def get_server_info(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._unary(request, ctx, self._service.get_server_info)

    async def detect_language(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._unary(request, ctx, self._service.detect_language)

    async def summarize_stream(
        self, request: AsyncIterator[Any], ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[Any]:
        record = _record()
        codec = [PROTO]

        async def parsed() -> AsyncIterator[Any]:
            async for raw in request:
                codec[0] = _codec(raw)
                yield await self._parse(raw)

        try:
            async for out in self._service.summarize_stream(parsed(), _context(record)):
                yield await asyncio.to_thread(Encoded.of, out, codec[0])
        except Exception as exc:
            raise _failed(exc, ctx, record) from None
        finally:
            # the stream's slot is free once its last answer is out, not when the connection
            # is done (a client still sending after the end would hold it)
            assert record.call is not None
            record.call.end()


class ConnectJobsAdapter:
    """The generated Connect JobService protocol over :class:`JobsService` (the caller's
    tenant from the call the edge began)."""

    def __init__(self, jobs: JobsService, max_message_bytes: int) -> None:
        self._jobs = jobs
        self._max_bytes = max_message_bytes

    async def _call(
        self,
        raw: Any,
        ctx: RequestContext[Any, Any],
        call: Callable[[Any, str], Awaitable[Message]],
    ) -> Encoded:
        async def for_tenant(request: Any, context: CallContext) -> Message:
            return await call(decoded(request), context.tenant)

        return await _unary(raw, ctx, self._max_bytes, for_tenant)

    async def create_job(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._call(request, ctx, self._jobs.create_job)

    async def get_job(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._call(request, ctx, self._jobs.get_job)

    async def list_jobs(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._call(request, ctx, self._jobs.list_jobs)

    async def cancel_job(self, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await self._call(request, ctx, self._jobs.cancel_job)


async def _parse(raw: Any, max_bytes: int) -> Message | Undecodable:
    if not isinstance(raw, Raw):  # not through our codecs (not expected)
        return raw
    return await asyncio.to_thread(raw.parse, max_bytes)


async def _unary(
    raw: Any,
    ctx: RequestContext[Any, Any],
    max_bytes: int,
    call: Callable[[Any, CallContext], Awaitable[Message]],
) -> Encoded:
    """One unary call: the request parsed in a thread, ``call`` with the edge's context, the
    response serialised in a thread; an error as a Connect error."""
    record = _record()
    try:
        request = await _parse(raw, max_bytes)
        response = await call(request, _context(record))
        return await asyncio.to_thread(Encoded.of, response, _codec(raw))
    except Exception as exc:
        raise _failed(exc, ctx, record) from None


def _record() -> HttpCall:
    record = current_call.get()
    if record is None or record.call is None:  # the edge begins every call (not expected)
        raise RuntimeError("a Connect call that did not pass the HTTP edge")
    return record


def _context(record: HttpCall) -> CallContext:
    assert record.call is not None
    return record.call.context


def _codec(raw: Any) -> str:
    return raw.codec if isinstance(raw, Raw) else PROTO


def _failed(exc: Exception, ctx: RequestContext[Any, Any], record: HttpCall) -> ConnectError:
    """``exc`` as a Connect error, recorded for the access log and metrics."""
    if isinstance(exc, ConnectError):
        return exc
    request_id = request_id_var.get()
    record.error = exc
    record.code = code_for(exc)
    if not isinstance(exc, NewsbriefError):
        log.error("%s failed (request id %s)", record.method, request_id, exc_info=exc)
    if (delay := retry_after(exc)) is not None:
        ctx.response_headers["retry-after"] = delay
    return connect_error(exc, request_id)


def connect_app(service: NewsbriefService, max_message_bytes: int) -> Any:
    """The Connect ASGI application of the service: our codecs and compression (work off the
    event loop), the per-message size bound of streams."""
    return SummarizerServiceASGIApplication(
        ConnectAdapter(service, max_message_bytes),
        read_max_bytes=max_message_bytes,
        codecs=[DeferredCodec(PROTO), DeferredCodec(JSON)],
        compressions=[DeferredGzip()],
    )


def jobs_connect_app(jobs: JobsService, max_message_bytes: int) -> Any:
    """The Connect ASGI application of JobService (same codecs as :func:`connect_app`)."""
    return JobServiceASGIApplication(
        ConnectJobsAdapter(jobs, max_message_bytes),
        read_max_bytes=max_message_bytes,
        codecs=[DeferredCodec(PROTO), DeferredCodec(JSON)],
        compressions=[DeferredGzip()],
    )
