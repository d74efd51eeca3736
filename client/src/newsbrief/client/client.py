"""``Client`` (blocking) and ``AsyncClient`` (``grpc.aio``) for the newsbrief service.

Both share one surface: ``summarize``, ``summarize_many`` (over the bidirectional
``SummarizeStream``), ``translate``, ``server_info``, ``health`` and ``close`` / context manager.
Retries on UNAVAILABLE, per-call round-robin balancing over ``dns:///`` targets and message size
limits come from the channel's service config; every ``grpc.RpcError`` is raised as the matching
:class:`~newsbrief.client.errors.NewsbriefError` subclass.
"""

# ruff: noqa: ASYNC109 - ``timeout`` is the gRPC deadline, sent to the server; asyncio.timeout
# would only cancel locally, so the async methods keep the parameter of the sync ones.

from __future__ import annotations

import asyncio
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

import grpc
import grpc.aio

from newsbrief.client import _wire
from newsbrief.client.errors import (
    NewsbriefError,
    UnavailableError,
    from_rpc_error,
    make_error,
)
from newsbrief.client.types import (
    JOB_STATES,
    Job,
    LanguageResult,
    Length,
    Method,
    ServerInfo,
    StreamItem,
    SummarizeRequest,
    SummarizeResult,
    TranslateResult,
)
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc

SERVICE_NAME = "newsbrief.v1.SummarizerService"
JOB_SERVICE_NAME = "newsbrief.v1.JobService"
HEALTH_SERVICE_NAME = "grpc.health.v1.Health"
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
API_KEY_HEADER = "x-api-key"
# When the call was sent (Unix time in ms): the server logs the wait its handler cannot see.
SENT_AT_HEADER = "x-client-sent-ms"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
UNHANDLED_RETRY_S = 0.1  # before sending again a call a closing server never handled
MAX_ATTEMPTS_LIMIT = 5  # gRPC caps retryPolicy.maxAttempts at 5

PathOrBytes: TypeAlias = bytes | str | os.PathLike[str]
RequestLike: TypeAlias = SummarizeRequest | Mapping[str, Any] | pb.SummarizeRequest


def service_config(retries: int) -> dict[str, Any]:
    """The channel's service config: round-robin per call, and retries of UNAVAILABLE.

    ``retries`` is the number of retries after the first attempt (``maxAttempts`` is
    ``retries + 1``, at most 5 as gRPC caps it); 0 disables retries.
    """
    method_config: dict[str, Any] = {
        "name": [
            {"service": SERVICE_NAME},
            {"service": JOB_SERVICE_NAME},
            {"service": HEALTH_SERVICE_NAME},
        ],
    }
    if retries > 0:
        method_config["retryPolicy"] = {
            "maxAttempts": min(retries + 1, MAX_ATTEMPTS_LIMIT),
            "initialBackoff": "0.1s",
            "maxBackoff": "5s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": [method_config]}


def channel_options(
    retries: int, options: Sequence[tuple[str, Any]] | None = None
) -> list[tuple[str, Any]]:
    """Channel options: service config, retries, message sizes; ``options`` override them."""
    merged: dict[str, Any] = {
        "grpc.service_config": json.dumps(service_config(retries)),
        "grpc.service_config_disable_resolution": 1,
        "grpc.enable_retries": 1 if retries > 0 else 0,
        "grpc.max_send_message_length": DEFAULT_MAX_MESSAGE_BYTES,
        "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
        "grpc.keepalive_time_ms": 60_000,
    }
    for key, value in options or ():
        merged[key] = value
    return list(merged.items())


def _read(value: PathOrBytes | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    with open(value, "rb") as fh:
        return fh.read()


def channel_credentials(
    tls: bool,
    root_certificates: PathOrBytes | None = None,
    private_key: PathOrBytes | None = None,
    certificate_chain: PathOrBytes | None = None,
) -> grpc.ChannelCredentials | None:
    """TLS (or mTLS with a key and chain) credentials, or None for a plaintext channel.

    Any certificate argument implies TLS. Certificates are PEM bytes or paths of PEM files.
    """
    if not (tls or root_certificates or private_key or certificate_chain):
        return None
    if (private_key is None) != (certificate_chain is None):
        raise ValueError("mTLS needs both private_key and certificate_chain")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(root_certificates),
        private_key=_read(private_key),
        certificate_chain=_read(certificate_chain),
    )


def summarize_request(
    text: str | None = None,
    *,
    html: str | None = None,
    title: str = "",
    source_language: str = "",
    target_languages: Sequence[str] = (),
    length: Length | None = None,
    max_sentences: int = 0,
    max_words: int = 0,
    method: Method = "auto",
    client_reference: str = "",
    max_key_points: int = 0,
    include_article_text: bool = False,
) -> pb.SummarizeRequest:
    """Validate the options of one article and build its request (ValueError when wrong)."""
    return SummarizeRequest(
        text=text,
        html=html,
        title=title,
        source_language=source_language,
        target_languages=tuple(target_languages),
        length=length,
        max_sentences=max_sentences,
        max_words=max_words,
        method=method,
        client_reference=client_reference,
        max_key_points=max_key_points,
        include_article_text=include_article_text,
    ).to_pb()


def to_request_pb(request: RequestLike) -> pb.SummarizeRequest:
    """A SummarizeRequest, a dict of ``summarize`` keyword arguments, or a wire message."""
    if isinstance(request, pb.SummarizeRequest):
        return request
    if isinstance(request, SummarizeRequest):
        return request.to_pb()
    if isinstance(request, Mapping):
        return SummarizeRequest.from_mapping(request).to_pb()
    raise TypeError(f"not a summarize request: {type(request).__name__}")


def create_job_request(
    requests: Iterable[RequestLike], idempotency_key: str | None, callback_url: str
) -> pb.CreateJobRequest:
    """A CreateJob request. Without an idempotency key one is made up, so that a retry of
    this call (UNAVAILABLE) can never make a second job."""
    articles = [to_request_pb(r) for r in requests]
    return pb.CreateJobRequest(
        articles=articles,
        idempotency_key=idempotency_key or f"auto-{uuid.uuid4().hex}",
        callback_url=callback_url,
    )


def list_jobs_request(state: str | None, page_size: int, page_token: str) -> pb.ListJobsRequest:
    if state is not None and state not in JOB_STATES:
        raise ValueError(f"state must be one of {', '.join(JOB_STATES)}")
    return pb.ListJobsRequest(
        state=pb.JobState.Name(JOB_STATES[state]) if state else None,
        page_size=page_size,
        page_token=page_token,
    )


def translate_request(
    texts: Sequence[str], target_languages: Sequence[str], source_language: str = ""
) -> pb.TranslateRequest:
    if isinstance(texts, str) or isinstance(target_languages, str):
        raise ValueError("texts and target_languages must be sequences, not a str")
    return pb.TranslateRequest(
        texts=list(texts),
        target_languages=list(target_languages),
        source_language=source_language,
    )


def make_timeout(job_id: str, timeout: float | None) -> NewsbriefError:
    """The error of a wait_job that ran out of time (the job goes on)."""
    return make_error(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        f"job {job_id} not finished within {timeout:g} s (it goes on; wait again or cancel it)",
    )


class _Config:
    def __init__(
        self,
        target: str,
        api_key: str | None,
        timeout: float | None,
        tls: bool,
        root_certificates: PathOrBytes | None,
        private_key: PathOrBytes | None,
        certificate_chain: PathOrBytes | None,
        retries: int,
        options: Sequence[tuple[str, Any]] | None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.target = target
        self.timeout = timeout
        self.metadata: tuple[tuple[str, str], ...] = ((API_KEY_HEADER, api_key),) if api_key else ()
        self.credentials = channel_credentials(
            tls, root_certificates, private_key, certificate_chain
        )
        self.options = channel_options(retries, options)
        self.retries = retries

    def deadline(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def retry_unhandled(self, error: grpc.RpcError, attempt: int) -> bool:
        """Whether to send a unary call again that a closing server cancelled before handling
        it (grpc's retry policy retries UNAVAILABLE, but not this CANCELLED)."""
        return (
            attempt < self.retries
            and error.code() == grpc.StatusCode.CANCELLED
            and isinstance(from_rpc_error(error), UnavailableError)
        )

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata of one call: the API key, and when the call is sent (wall-clock ms), so
        the server's access log can show the wait before its handler ran, as the client sees it
        (wall clock on purpose: it is compared across processes)."""
        return (*self.metadata, (SENT_AT_HEADER, str(int(time.time() * 1000))))


class Client:
    """A blocking newsbrief client over one gRPC channel (thread-safe; reuse it).

    Args:
        target: ``host:port``, or ``dns:///host:port`` to balance calls over every address.
        api_key: sent as ``x-api-key`` metadata on every call.
        timeout: default deadline of each unary call, in seconds (None: no deadline).
        tls: use TLS (implied by any of the certificate arguments).
        root_certificates: PEM bytes or file path of the CA to trust (default: system roots).
        private_key, certificate_chain: PEM bytes or paths for mTLS.
        retries: retries of UNAVAILABLE after the first attempt (at most 4; 0 disables).
        options: extra gRPC channel options; they override the client's.
    """

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None = None,
        timeout: float | None = 30.0,
        tls: bool = False,
        root_certificates: PathOrBytes | None = None,
        private_key: PathOrBytes | None = None,
        certificate_chain: PathOrBytes | None = None,
        retries: int = 3,
        options: Sequence[tuple[str, Any]] | None = None,
    ) -> None:
        self._config = _Config(
            target,
            api_key,
            timeout,
            tls,
            root_certificates,
            private_key,
            certificate_chain,
            retries,
            options,
        )
        cfg = self._config
        if cfg.credentials is None:
            self._channel = grpc.insecure_channel(target, options=cfg.options)
        else:
            self._channel = grpc.secure_channel(target, cfg.credentials, options=cfg.options)
        self._stub = pb_grpc.SummarizerServiceStub(self._channel)
        self._jobs = pb_grpc.JobServiceStub(self._channel)
        self._health_check = self._channel.unary_unary(
            HEALTH_CHECK_METHOD, request_serializer=None, response_deserializer=None
        )

    @property
    def target(self) -> str:
        return self._config.target

    def create_job(
        self,
        requests: Iterable[RequestLike],
        *,
        idempotency_key: str | None = None,
        callback_url: str = "",
        timeout: float | None = None,
    ) -> Job:
        """Queue a background job of one or many articles (each a SummarizeRequest or a dict of
        ``summarize`` arguments). The same ``idempotency_key`` and the same articles return the
        job made the first time (``job.created`` False); the same key with other articles raises
        AlreadyExistsError. ``callback_url`` gets the finished job, signed (see
        :mod:`newsbrief.client.webhooks`)."""
        request = create_job_request(requests, idempotency_key, callback_url)
        response = self._unary(self._jobs.CreateJob, request, timeout)
        return Job.from_pb(response.job, created=response.created)

    def get_job(self, job_id: str, *, timeout: float | None = None) -> Job:
        """The job with each article's state and, once finished, its result or error."""
        response = self._unary(self._jobs.GetJob, pb.GetJobRequest(job_id=job_id), timeout)
        return Job.from_pb(response.job)

    def list_jobs(
        self,
        state: str | None = None,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> tuple[list[Job], str]:
        """One page of this key's jobs, newest first (without articles), and the next page's
        token ("" on the last page)."""
        request = list_jobs_request(state, page_size, page_token)
        response = self._unary(self._jobs.ListJobs, request, timeout)
        return [Job.from_pb(j) for j in response.jobs], response.next_page_token

    def cancel_job(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Cancel a queued or running job (a finished job is returned unchanged)."""
        response = self._unary(self._jobs.CancelJob, pb.CancelJobRequest(job_id=job_id), timeout)
        return Job.from_pb(response.job)

    def wait_job(self, job_id: str, *, poll_s: float = 1.0, timeout: float | None = None) -> Job:
        """Poll the job until it is finished (or ``timeout`` seconds pass: DeadlineExceeded)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job.done:
                return job
            if deadline is not None and time.monotonic() + poll_s > deadline:
                raise make_timeout(job_id, timeout)
            time.sleep(poll_s)

    def _unary(self, method: Any, request: Any, timeout: float | None) -> Any:
        for attempt in itertools.count():
            try:
                return method(
                    request,
                    timeout=self._config.deadline(timeout),
                    metadata=self._config.call_metadata(),
                )
            except grpc.RpcError as exc:
                error = from_rpc_error(exc)
                if not self._config.retry_unhandled(exc, attempt):
                    raise error from exc
            time.sleep(UNHANDLED_RETRY_S)

    def summarize(
        self,
        text: str | None = None,
        *,
        html: str | None = None,
        title: str = "",
        source_language: str = "",
        target_languages: Sequence[str] = (),
        length: Length | None = None,
        max_sentences: int = 0,
        max_words: int = 0,
        method: Method = "auto",
        client_reference: str = "",
        max_key_points: int = 0,
        include_article_text: bool = False,
        timeout: float | None = None,
    ) -> SummarizeResult:
        """Brief one article given as ``text`` or as ``html`` (exactly one of them);
        ``include_article_text`` returns the cleaned main text in ``article_text``."""
        request = summarize_request(
            text,
            html=html,
            title=title,
            source_language=source_language,
            target_languages=target_languages,
            length=length,
            max_sentences=max_sentences,
            max_words=max_words,
            method=method,
            client_reference=client_reference,
            max_key_points=max_key_points,
            include_article_text=include_article_text,
        )
        return SummarizeResult.from_pb(self._unary(self._stub.Summarize, request, timeout))

    def summarize_many(
        self,
        requests: Iterable[RequestLike],
        *,
        timeout: float | None = None,
        max_in_flight: int | None = None,
    ) -> Iterator[StreamItem]:
        """Brief many articles over one ``SummarizeStream``; yield one StreamItem per article.

        Items come in completion order; ``item.index`` is the article's position in
        ``requests``. A failed article is an item with ``error`` set; a failure of the whole
        stream raises. ``requests`` is consumed lazily; with ``max_in_flight`` at most that
        many articles are sent and unanswered at a time. ``timeout`` is the deadline of the
        whole stream (None: no deadline). A bad request (ValueError/TypeError) ends the stream
        and is raised here.
        """
        gate = threading.Semaphore(max_in_flight) if max_in_flight else None
        stop = threading.Event()
        failure: list[BaseException] = []

        def outgoing() -> Iterator[pb.SummarizeStreamRequest]:
            try:
                for request in requests:
                    message = to_request_pb(request)
                    if gate is not None:
                        while not gate.acquire(timeout=0.1):
                            if stop.is_set():
                                return
                    if stop.is_set():
                        return
                    yield pb.SummarizeStreamRequest(request=message)
            except Exception as exc:
                failure.append(exc)
                call.cancel()

        call = self._stub.SummarizeStream(
            outgoing(), timeout=timeout, metadata=self._config.call_metadata()
        )
        try:
            for response in call:
                if gate is not None:
                    gate.release()
                yield StreamItem.from_pb(response)
        except grpc.RpcError as exc:
            if failure:
                raise failure[0] from exc
            raise from_rpc_error(exc) from exc
        finally:
            stop.set()
            call.cancel()
        if failure:
            raise failure[0]

    def translate(
        self,
        texts: Sequence[str],
        target_languages: Sequence[str],
        source_language: str = "",
        *,
        timeout: float | None = None,
    ) -> TranslateResult:
        """Translate editor-written ``texts`` into each of ``target_languages``."""
        request = translate_request(texts, target_languages, source_language)
        return TranslateResult.from_pb(self._unary(self._stub.Translate, request, timeout))

    def detect_language(self, text: str, *, timeout: float | None = None) -> LanguageResult:
        """The language of ``text`` with the detector's confidence ("und" when it cannot tell)."""
        request = pb.DetectLanguageRequest(text=text)
        return LanguageResult.from_pb(self._unary(self._stub.DetectLanguage, request, timeout))

    def server_info(self, *, timeout: float | None = None) -> ServerInfo:
        """Languages, models, limits and capabilities of the server."""
        request = pb.GetServerInfoRequest()
        return ServerInfo.from_pb(self._unary(self._stub.GetServerInfo, request, timeout))

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """``grpc.health.v1`` status: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN".

        ``service`` "" asks about the whole server. An unknown service raises NotFoundError.
        """
        raw = self._unary(self._health_check, _wire.encode_health_check_request(service), timeout)
        return _wire.decode_health_check_response(raw)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def _aiter_requests(
    requests: Iterable[RequestLike] | AsyncIterable[RequestLike],
) -> AsyncIterator[RequestLike]:
    if isinstance(requests, AsyncIterable):
        async for request in requests:
            yield request
    else:
        for request in requests:
            yield request


class AsyncClient:
    """The ``grpc.aio`` twin of :class:`Client` (same arguments; methods are coroutines).

    Create it inside a running event loop; ``summarize_many`` is an async iterator and also
    accepts an async iterable of requests.
    """

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None = None,
        timeout: float | None = 30.0,
        tls: bool = False,
        root_certificates: PathOrBytes | None = None,
        private_key: PathOrBytes | None = None,
        certificate_chain: PathOrBytes | None = None,
        retries: int = 3,
        options: Sequence[tuple[str, Any]] | None = None,
    ) -> None:
        self._config = _Config(
            target,
            api_key,
            timeout,
            tls,
            root_certificates,
            private_key,
            certificate_chain,
            retries,
            options,
        )
        cfg = self._config
        if cfg.credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=cfg.options)
        else:
            self._channel = grpc.aio.secure_channel(target, cfg.credentials, options=cfg.options)
        self._stub = pb_grpc.SummarizerServiceStub(self._channel)
        self._jobs = pb_grpc.JobServiceStub(self._channel)
        self._health_check = self._channel.unary_unary(
            HEALTH_CHECK_METHOD, request_serializer=None, response_deserializer=None
        )

    @property
    def target(self) -> str:
        return self._config.target

    async def create_job(
        self,
        requests: Iterable[RequestLike],
        *,
        idempotency_key: str | None = None,
        callback_url: str = "",
        timeout: float | None = None,
    ) -> Job:
        """Async twin of :meth:`Client.create_job`."""
        request = create_job_request(requests, idempotency_key, callback_url)
        response = await self._unary(self._jobs.CreateJob, request, timeout)
        return Job.from_pb(response.job, created=response.created)

    async def get_job(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Async twin of :meth:`Client.get_job`."""
        request = pb.GetJobRequest(job_id=job_id)
        return Job.from_pb((await self._unary(self._jobs.GetJob, request, timeout)).job)

    async def list_jobs(
        self,
        state: str | None = None,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> tuple[list[Job], str]:
        """Async twin of :meth:`Client.list_jobs`."""
        request = list_jobs_request(state, page_size, page_token)
        response = await self._unary(self._jobs.ListJobs, request, timeout)
        return [Job.from_pb(j) for j in response.jobs], response.next_page_token

    async def cancel_job(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Async twin of :meth:`Client.cancel_job`."""
        request = pb.CancelJobRequest(job_id=job_id)
        return Job.from_pb((await self._unary(self._jobs.CancelJob, request, timeout)).job)

    async def wait_job(
        self, job_id: str, *, poll_s: float = 1.0, timeout: float | None = None
    ) -> Job:
        """Async twin of :meth:`Client.wait_job`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = await self.get_job(job_id)
            if job.done:
                return job
            if deadline is not None and time.monotonic() + poll_s > deadline:
                raise make_timeout(job_id, timeout)
            await asyncio.sleep(poll_s)

    async def _unary(self, method: Any, request: Any, timeout: float | None) -> Any:
        for attempt in itertools.count():
            try:
                return await method(
                    request,
                    timeout=self._config.deadline(timeout),
                    metadata=self._config.call_metadata(),
                )
            except grpc.RpcError as exc:
                error = from_rpc_error(exc)
                if not self._config.retry_unhandled(exc, attempt):
                    raise error from exc
            await asyncio.sleep(UNHANDLED_RETRY_S)

    async def summarize(
        self,
        text: str | None = None,
        *,
        html: str | None = None,
        title: str = "",
        source_language: str = "",
        target_languages: Sequence[str] = (),
        length: Length | None = None,
        max_sentences: int = 0,
        max_words: int = 0,
        method: Method = "auto",
        client_reference: str = "",
        max_key_points: int = 0,
        include_article_text: bool = False,
        timeout: float | None = None,
    ) -> SummarizeResult:
        """Brief one article given as ``text`` or as ``html`` (exactly one of them);
        ``include_article_text`` returns the cleaned main text in ``article_text``."""
        request = summarize_request(
            text,
            html=html,
            title=title,
            source_language=source_language,
            target_languages=target_languages,
            length=length,
            max_sentences=max_sentences,
            max_words=max_words,
            method=method,
            client_reference=client_reference,
            max_key_points=max_key_points,
            include_article_text=include_article_text,
        )
        return SummarizeResult.from_pb(await self._unary(self._stub.Summarize, request, timeout))

    async def summarize_many(
        self,
        requests: Iterable[RequestLike] | AsyncIterable[RequestLike],
        *,
        timeout: float | None = None,
        max_in_flight: int | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`Client.summarize_many`."""
        gate = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        failure: list[BaseException] = []

        async def outgoing() -> AsyncIterator[pb.SummarizeStreamRequest]:
            try:
                async for request in _aiter_requests(requests):
                    message = to_request_pb(request)
                    if gate is not None:
                        await gate.acquire()
                    yield pb.SummarizeStreamRequest(request=message)
            except Exception as exc:
                failure.append(exc)
                call.cancel()

        call = self._stub.SummarizeStream(
            outgoing(), timeout=timeout, metadata=self._config.call_metadata()
        )
        try:
            async for response in call:
                if gate is not None:
                    gate.release()
                yield StreamItem.from_pb(response)
        except grpc.RpcError as exc:
            if failure:
                raise failure[0] from exc
            raise from_rpc_error(exc) from exc
        except asyncio.CancelledError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            call.cancel()
        if failure:
            raise failure[0]

    async def translate(
        self,
        texts: Sequence[str],
        target_languages: Sequence[str],
        source_language: str = "",
        *,
        timeout: float | None = None,
    ) -> TranslateResult:
        """Translate editor-written ``texts`` into each of ``target_languages``."""
        request = translate_request(texts, target_languages, source_language)
        return TranslateResult.from_pb(await self._unary(self._stub.Translate, request, timeout))

    async def detect_language(self, text: str, *, timeout: float | None = None) -> LanguageResult:
        """The language of ``text``, as :meth:`Client.detect_language`."""
        request = pb.DetectLanguageRequest(text=text)
        return LanguageResult.from_pb(
            await self._unary(self._stub.DetectLanguage, request, timeout)
        )

    async def server_info(self, *, timeout: float | None = None) -> ServerInfo:
        """Languages, models, limits and capabilities of the server."""
        request = pb.GetServerInfoRequest()
        return ServerInfo.from_pb(await self._unary(self._stub.GetServerInfo, request, timeout))

    async def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """``grpc.health.v1`` status, as :meth:`Client.health`."""
        raw = await self._unary(
            self._health_check, _wire.encode_health_check_request(service), timeout
        )
        return _wire.decode_health_check_response(raw)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


__all__ = ["AsyncClient", "Client", "NewsbriefError", "channel_options", "service_config"]
