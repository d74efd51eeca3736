"""The SummarizerService servicer: convert -> await pipeline -> convert. No business rules here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

from newsbrief.service.errors import FieldViolation, InvalidArgument, NewsbriefError
from newsbrief.service.observability import request_id_var
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.serving import converters as conv
from newsbrief.service.serving.jobs import JobsService, tenant_of
from newsbrief.service.serving.status import to_status
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


class SummarizerServicer(pb_grpc.SummarizerServiceServicer):
    def __init__(self, pipeline: Pipeline, *, stream_concurrency: int = 4) -> None:
        self._pipeline = pipeline
        self._stream_concurrency = stream_concurrency

    async def Summarize(self, request: pb.SummarizeRequest, context: Any) -> pb.SummarizeResponse:
        article, options = conv.article_from_pb(decoded(request))
        result = await self._pipeline.brief(article, options, deadline=deadline_of(context))
        return conv.result_to_pb(result)

    async def Translate(self, request: pb.TranslateRequest, context: Any) -> pb.TranslateResponse:
        request = decoded(request)
        result = await self._pipeline.translate(
            list(request.texts),
            request.source_language,
            list(request.target_languages),
            deadline=deadline_of(context),
        )
        return conv.translate_to_pb(result)

    async def DetectLanguage(
        self, request: pb.DetectLanguageRequest, context: Any
    ) -> pb.DetectLanguageResponse:
        request = decoded(request)
        return conv.detect_to_pb(await self._pipeline.detect_language(request.text))

    async def GetServerInfo(
        self, request: pb.GetServerInfoRequest, context: Any
    ) -> pb.GetServerInfoResponse:
        decoded(request)
        return conv.info_to_pb(self._pipeline.info())

    async def SummarizeStream(
        self, request_iterator: AsyncIterator[pb.SummarizeStreamRequest], context: Any
    ) -> AsyncIterator[pb.SummarizeStreamResponse]:
        """Up to ``stream_concurrency`` articles are briefed at once; each result is sent as soon
        as it is done, with its own status. Reading stops being pulled while the window is full,
        so a fast producer is held back by HTTP/2 flow control rather than by server memory."""
        results: asyncio.Queue[pb.SummarizeStreamResponse | None] = asyncio.Queue()
        window = asyncio.Semaphore(self._stream_concurrency)
        tasks: set[asyncio.Task[None]] = set()

        async def one(index: int, item: pb.SummarizeStreamRequest | Undecodable) -> None:
            reference = "" if isinstance(item, Undecodable) else item.request.client_reference
            try:
                article, options = conv.article_from_pb(decoded(item).request)
                result = await self._pipeline.brief(article, options, deadline=deadline_of(context))
                out = pb.SummarizeStreamResponse(
                    client_reference=reference,
                    index=index,
                    status=pb.ItemStatus(code=0),
                    response=conv.result_to_pb(result),
                )
            except Exception as exc:
                out = item_error(index, reference, exc)
            finally:
                window.release()
            await results.put(out)

        async def reader() -> None:
            index = 0
            try:
                async for item in request_iterator:
                    await window.acquire()
                    task = asyncio.create_task(one(index, item))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    index += 1
                while tasks:
                    await asyncio.gather(*list(tasks))
            finally:
                await results.put(None)

        reading = asyncio.create_task(reader())
        try:
            while True:
                out = await results.get()
                if out is None:
                    break
                yield out
            await reading  # re-raises a failure of the request stream itself
        finally:
            reading.cancel()
            for task in list(tasks):
                task.cancel()


@dataclass(frozen=True)
class Undecodable:
    """A request message whose bytes are not a valid protobuf of its type: the handler answers
    INVALID_ARGUMENT (grpcio would answer UNKNOWN with the parser's exception text)."""

    type_name: str
    error: str


def decoded(message: Any) -> Any:
    """``message`` itself, or InvalidArgument when its bytes could not be parsed."""
    if isinstance(message, Undecodable):
        raise InvalidArgument(
            FieldViolation(
                "request",
                f"is not a valid {message.type_name} message (corrupt protobuf bytes: "
                f"{message.error[:200]})",
            )
        )
    return message


def _lenient(message_type: type[Message]) -> Callable[[bytes], Any]:
    def deserialize(raw: bytes) -> Any:
        try:
            return message_type.FromString(raw)
        except DecodeError as exc:
            return Undecodable(message_type.DESCRIPTOR.full_name, str(exc))

    return deserialize


def add_to_server(servicer: SummarizerServicer, server: Any) -> None:
    """Register ``servicer`` like the generated ``add_SummarizerServiceServicer_to_server``, with
    request parsers that turn corrupt bytes into an INVALID_ARGUMENT answer (per item in a
    stream) instead of grpcio's UNKNOWN carrying an internal exception text."""
    unary, stream = grpc.unary_unary_rpc_method_handler, grpc.stream_stream_rpc_method_handler
    methods = (
        ("Summarize", unary, pb.SummarizeRequest, pb.SummarizeResponse),
        ("SummarizeStream", stream, pb.SummarizeStreamRequest, pb.SummarizeStreamResponse),
        ("Translate", unary, pb.TranslateRequest, pb.TranslateResponse),
        ("GetServerInfo", unary, pb.GetServerInfoRequest, pb.GetServerInfoResponse),
        ("DetectLanguage", unary, pb.DetectLanguageRequest, pb.DetectLanguageResponse),
    )
    handlers = {
        method: handler(
            getattr(servicer, method),
            request_deserializer=_lenient(request),
            response_serializer=response.SerializeToString,
        )
        for method, handler, request, response in methods
    }
    name = pb.DESCRIPTOR.services_by_name["SummarizerService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)


def deadline_of(context: Any) -> float | None:
    """The RPC's deadline as a ``time.monotonic()`` time (None: the caller set none)."""
    remaining = context.time_remaining() if hasattr(context, "time_remaining") else None
    return None if remaining is None else time.monotonic() + remaining


def item_error(index: int, reference: str, exc: Exception) -> pb.SummarizeStreamResponse:
    """The per-article status of a failed stream item (same table as whole-RPC errors)."""
    request_id = request_id_var.get()
    if not isinstance(exc, NewsbriefError):
        log.error("stream item %d failed (request id %s)", index, request_id, exc_info=exc)
    status = to_status(exc, request_id)
    violations = [
        pb.FieldViolation(field=v.field, description=v.description)
        for v in (exc.violations if isinstance(exc, InvalidArgument) else ())
    ]
    return pb.SummarizeStreamResponse(
        client_reference=reference,
        index=index,
        status=pb.ItemStatus(
            code=status.code,
            message=status.message,
            field_violations=violations,
            details=list(status.details),
        ),
    )


# --- JobService (jobs): convert -> serving/jobs.py -> convert ---------------------------------


class JobServicer:
    """JobService over gRPC: the caller's tenant from its ``x-api-key`` (already checked by
    ApiKeyInterceptor), then the transport-free :class:`JobsService`."""

    def __init__(self, jobs: JobsService, *, keys_enabled: bool) -> None:
        self._jobs = jobs
        self._keys_enabled = keys_enabled

    def _tenant(self, context: Any) -> str:
        key = ""
        for name, value in context.invocation_metadata() or ():
            if name.lower() == "x-api-key" and isinstance(value, str):
                key = value
        return tenant_of(key, self._keys_enabled)

    async def CreateJob(self, request: pb.CreateJobRequest, context: Any) -> pb.CreateJobResponse:
        return await self._jobs.create_job(decoded(request), self._tenant(context))

    async def GetJob(self, request: pb.GetJobRequest, context: Any) -> pb.GetJobResponse:
        return await self._jobs.get_job(decoded(request), self._tenant(context))

    async def ListJobs(self, request: pb.ListJobsRequest, context: Any) -> pb.ListJobsResponse:
        return await self._jobs.list_jobs(decoded(request), self._tenant(context))

    async def CancelJob(self, request: pb.CancelJobRequest, context: Any) -> pb.CancelJobResponse:
        return await self._jobs.cancel_job(decoded(request), self._tenant(context))


def add_jobs_to_server(servicer: JobServicer, server: Any) -> None:
    """Register JobService (lenient request parsers, as :func:`add_to_server`)."""
    unary = grpc.unary_unary_rpc_method_handler
    methods = (
        ("CreateJob", pb.CreateJobRequest, pb.CreateJobResponse),
        ("GetJob", pb.GetJobRequest, pb.GetJobResponse),
        ("ListJobs", pb.ListJobsRequest, pb.ListJobsResponse),
        ("CancelJob", pb.CancelJobRequest, pb.CancelJobResponse),
    )
    handlers = {
        method: unary(
            getattr(servicer, method),
            request_deserializer=_lenient(request),
            response_serializer=response.SerializeToString,
        )
        for method, request, response in methods
    }
    name = pb.DESCRIPTOR.services_by_name["JobService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)
