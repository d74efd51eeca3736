"""The gRPC door of SummarizerService: read the caller's key, connection and deadline, begin the
call through the shared :class:`CallPolicy`, await the transport-free service. Errors are turned
into statuses by :class:`~newsbrief.service.grpc.interceptors.RequestInterceptor` (the one table
in ``serving/status.py``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.serving.context import Undecodable
from newsbrief.service.serving.jobs import JobsService
from newsbrief.service.serving.policy import Call, CallPolicy
from newsbrief.service.serving.service import NewsbriefService, decoded
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc

R = TypeVar("R")

log = logging.getLogger(__name__)

API_KEY_KEY = "x-api-key"
HOW_TO_SEND_KEY = "in the 'x-api-key' metadata"


def begin_call(policy: CallPolicy, method: str, context: Any) -> Call:
    """Begin one call of ``method`` through the shared policy, from what its metadata carries."""
    key = ""
    for name, value in context.invocation_metadata() or ():
        if name.lower() == API_KEY_KEY and isinstance(value, str):
            key = value
    return policy.begin(
        method,
        transport="grpc",
        key=key,
        how_to_send=HOW_TO_SEND_KEY,
        peer=peer_of(context),
        request_id=request_id_var.get(),
        timeout_s=context.time_remaining(),
    )


class SummarizerServicer(pb_grpc.SummarizerServiceServicer):
    def __init__(self, service: NewsbriefService) -> None:
        self._service = service
        self._policy = service.policy

    def _begin(self, method: str, context: Any) -> Call:
        return begin_call(self._policy, method, context)

    async def Summarize(self, request: pb.SummarizeRequest, context: Any) -> pb.SummarizeResponse:
        with self._begin("Summarize", context) as call:
            return await self._service.summarize(request, call.context)

    async def Translate(self, request: pb.TranslateRequest, context: Any) -> pb.TranslateResponse:
        with self._begin("Translate", context) as call:
            return await self._service.translate(request, call.context)

    async def DetectLanguage(
        self, request: pb.DetectLanguageRequest, context: Any
    ) -> pb.DetectLanguageResponse:
        with self._begin("DetectLanguage", context) as call:
            return await self._service.detect_language(request, call.context)

    async def GetServerInfo(
        self, request: pb.GetServerInfoRequest, context: Any
    ) -> pb.GetServerInfoResponse:
        with self._begin("GetServerInfo", context) as call:
            return await self._service.get_server_info(request, call.context)

    async def SummarizeStream(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[pb.SummarizeStreamResponse]:
        with self._begin("SummarizeStream", context) as call:
            async for out in self._service.summarize_stream(request_iterator, call.context):
                yield out


class JobServicer:
    """JobService over gRPC: each call begun through the shared policy (key, quota, admission),
    then the transport-free :class:`JobsService` with the caller's tenant."""

    def __init__(self, jobs: JobsService, policy: CallPolicy) -> None:
        self._jobs = jobs
        self._policy = policy

    async def _call(
        self, method: str, run: Callable[[Any, str], Awaitable[R]], request: Any, context: Any
    ) -> R:
        with begin_call(self._policy, method, context) as call:
            return await run(decoded(request), call.context.tenant)

    async def CreateJob(self, request: Any, context: Any) -> pb.CreateJobResponse:
        return await self._call("CreateJob", self._jobs.create_job, request, context)

    async def GetJob(self, request: Any, context: Any) -> pb.GetJobResponse:
        return await self._call("GetJob", self._jobs.get_job, request, context)

    async def ListJobs(self, request: Any, context: Any) -> pb.ListJobsResponse:
        return await self._call("ListJobs", self._jobs.list_jobs, request, context)

    async def CancelJob(self, request: Any, context: Any) -> pb.CancelJobResponse:
        return await self._call("CancelJob", self._jobs.cancel_job, request, context)


def peer_of(context: Any) -> str:
    """The client connection (``ipv4:127.0.0.1:50312``); read only while the call is live."""
    try:
        return str(context.peer())
    except Exception:  # a call torn down under us: no peer to report
        return "-"


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
