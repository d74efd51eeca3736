"""A small fake newsbrief server (sync grpc on 127.0.0.1:0) for the client and CLI tests.

Behaviour is chosen by the article text: "invalid" -> INVALID_ARGUMENT with a BadRequest,
"overload" -> RESOURCE_EXHAUSTED with RetryInfo and QuotaFailure, "missing" ->
FAILED_PRECONDITION with a PreconditionFailure, "slow" -> waits until the deadline passes,
"bad" in a stream -> an item error; anything else gets a brief made from the text.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc

REQUEST_ID = "req-fake-42"


def rich_status(code: int, message: str, *details: Any) -> status_pb2.Status:
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


def _abort(
    context: grpc.ServicerContext, code: grpc.StatusCode, message: str, *details: Any
) -> None:
    status = rich_status(code.value[0], message, *details)  # value[0]: the google.rpc code
    context.set_trailing_metadata(
        (("x-request-id", REQUEST_ID), ("grpc-status-details-bin", status.SerializeToString()))
    )
    context.abort(code, status.message)


# the article texts Summarize fails, each with its status code, message and details
FAILURES: dict[str, tuple[Any, ...]] = {
    "invalid": (
        grpc.StatusCode.INVALID_ARGUMENT,
        "bad request",
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="text", description="must not be empty"
                ),
                error_details_pb2.BadRequest.FieldViolation(
                    field="target_languages[0]", description="unknown language 'xx'"
                ),
            ]
        ),
    ),
    "overload": (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "queue full",
        error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=1, nanos=500_000_000)
        ),
        error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(
                    subject="key:abc", description="100 requests/minute"
                )
            ]
        ),
    ),
    "missing": (
        grpc.StatusCode.FAILED_PRECONDITION,
        "no translation model",
        error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="MODEL", subject="m2m100-418m", description="run make models"
                )
            ]
        ),
    ),
}


def make_response(request: pb.SummarizeRequest) -> pb.SummarizeResponse:
    content = request.text if request.WhichOneof("content") == "text" else request.html
    plain = re.sub(r"<[^>]+>", " ", content) if request.WhichOneof("content") == "html" else content
    words = plain.split()
    brief = pb.Brief(
        headline=request.title or " ".join(words[:6]),
        summary=" ".join(words[:30]),
        key_points=[" ".join(words[:3]), " ".join(words[3:6])],
    )
    return pb.SummarizeResponse(
        brief=brief,
        source_language=pb.DetectedLanguage(
            code=request.source_language or "en",
            confidence=1.0 if request.source_language else 0.9,
            given=bool(request.source_language),
        ),
        translations=[
            pb.Translation(language=lang, brief=pb.Brief(headline=f"[{lang}] {brief.headline}"))
            for lang in request.target_languages
        ],
        faithfulness=pb.Faithfulness(passed=True),
        models=[pb.ModelInfo(role="summarizer", id="extractive", ready=True, backend="builtin")],
        warnings=[pb.Warning(code="FAKE", message="made by the fake server")],
        timings=pb.Timings(stages_ms={"brief": 1.5}, total_ms=2.0),
        client_reference=request.client_reference,
        method="extractive" if request.method != pb.SUMMARY_METHOD_ABSTRACTIVE else "fake-neural",
        metadata=pb.ArticleMetadata(characters=len(plain), sentences=1, paragraphs=1),
    )


class FakeSummarizer(pb_grpc.SummarizerServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fail_unavailable = 0  # abort this many Summarize calls with UNAVAILABLE first
        self.attempts = 0
        self.required_api_key: str | None = None
        self.metadata: list[dict[str, str]] = []
        self.time_remaining: list[float | None] = []
        self.stream_requests = 0
        self.stream_delay = 0.0
        self.requests: list[pb.SummarizeRequest] = []

    def _record(self, context: grpc.ServicerContext) -> None:
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        with self.lock:
            self.metadata.append(metadata)
            self.time_remaining.append(context.time_remaining())
        if self.required_api_key is not None and metadata.get("x-api-key") != self.required_api_key:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong API key")

    def Summarize(self, request: pb.SummarizeRequest, context: grpc.ServicerContext) -> Any:
        self._record(context)
        with self.lock:
            self.attempts += 1
            self.requests.append(request)
            fail = self.attempts <= self.fail_unavailable
        if fail:
            _abort(context, grpc.StatusCode.UNAVAILABLE, "warming up")
        text = request.text
        if text in FAILURES:
            _abort(context, *FAILURES[text])
        if text == "crash":
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        if text == "slow":
            end = time.monotonic() + 5.0
            while context.is_active() and time.monotonic() < end:
                time.sleep(0.01)
        return make_response(request)

    def SummarizeStream(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        self._record(context)
        for index, item in enumerate(request_iterator):
            with self.lock:
                self.stream_requests += 1
            if self.stream_delay:
                time.sleep(self.stream_delay)
            request = item.request
            if request.text == "bad":
                yield pb.SummarizeStreamResponse(
                    client_reference=request.client_reference,
                    index=index,
                    status=pb.ItemStatus(
                        code=3,
                        message="bad article",
                        field_violations=[pb.FieldViolation(field="text", description="bad")],
                    ),
                )
                continue
            yield pb.SummarizeStreamResponse(
                client_reference=request.client_reference,
                index=index,
                status=pb.ItemStatus(code=0),
                response=make_response(request),
            )

    def Translate(self, request: pb.TranslateRequest, context: Any) -> pb.TranslateResponse:
        self._record(context)
        return pb.TranslateResponse(
            source_language=pb.DetectedLanguage(code=request.source_language or "en"),
            translations=[
                pb.TranslatedTexts(language=lang, texts=[f"[{lang}] {t}" for t in request.texts])
                for lang in request.target_languages
            ],
        )

    def GetServerInfo(self, request: Any, context: Any) -> pb.GetServerInfoResponse:
        self._record(context)
        return pb.GetServerInfoResponse(
            version="fake-1.0",
            summary_languages=["en", "ko", "ms"],
            translation_languages=["ko", "ms"],
            models=[
                pb.ModelInfo(role="summarizer", id="extractive", ready=True, backend="builtin"),
                pb.ModelInfo(
                    role="translator",
                    id="facebook/m2m100_418M",
                    licence="MIT",
                    ready=False,
                    detail="run make models",
                ),
            ],
            limits=pb.Limits(max_text_chars=100_000, max_target_languages=4),
            capabilities=[pb.Capability(name="summarize.extractive", ready=True)],
        )


class FakeServer:
    """The fake servicer + health, serving on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.servicer = FakeSummarizer()
        self.health = health.HealthServicer()
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        self.health.set(
            "newsbrief.v1.SummarizerService", health_pb2.HealthCheckResponse.NOT_SERVING
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        pb_grpc.add_SummarizerServiceServicer_to_server(self.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None).wait(5)
