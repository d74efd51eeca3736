"""The composition root: build the models (the factory), the pipeline and the gRPC server;
start, serve, drain and stop. Nothing else wires these together."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from newsbrief.service.grpc.health import HealthServicer
from newsbrief.service.grpc.interceptors import RequestInterceptor
from newsbrief.service.grpc.servicer import (
    JobServicer,
    SummarizerServicer,
    add_jobs_to_server,
    add_to_server,
)
from newsbrief.service.http.server import HttpServer, build_app
from newsbrief.service.jobs.store import StoreUnavailable
from newsbrief.service.jobs.system import JobSystem
from newsbrief.service.models.factory import build_summarizer, build_translator
from newsbrief.service.observability.telemetry import Telemetry
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.jobs import JobsService, error_status, pipeline_brief
from newsbrief.service.serving.policy import CallPolicy
from newsbrief.service.serving.service import NewsbriefService
from newsbrief.service.settings import Settings
from newsbrief.v1 import newsbrief_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = newsbrief_pb2.DESCRIPTOR.services_by_name["SummarizerService"].full_name


class StartupError(RuntimeError):
    """The server cannot start as configured (e.g. the port is taken); the message says why in
    one line."""


class App:
    """One newsbrief server: ``await start()`` binds the port (health NOT_SERVING) and warms the
    pipeline up (then SERVING); ``await stop()`` drains (NOT_SERVING, in-flight RPCs finish
    within ``grace_seconds``) and closes."""

    def __init__(
        self,
        settings: Settings,
        *,
        pipeline: Pipeline | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.settings = settings
        if pipeline is None:
            pipeline = Pipeline(
                settings,
                translator=build_translator(settings),
                summarizer=build_summarizer(settings),
            )
        self.pipeline = pipeline
        self.telemetry = telemetry or Telemetry.from_settings(settings)
        self.telemetry.watch(pipeline)
        self.metrics_port = 0
        self.health = HealthServicer()
        #: the one call policy (keys, quotas, admission) of both doors
        self.policy = CallPolicy(settings)
        self.admission = self.policy.admission
        self.service = NewsbriefService(pipeline, self.policy)
        # one quota counter for both doors and the job runner (a job's articles count on its
        # key as they run)
        self.job_system = _job_system(settings, pipeline, self.policy.keys)
        self.jobs = JobsService(self.job_system, settings)
        self.port = 0
        self.http_port = 0
        self._server: grpc.aio.Server | None = None
        self._http: HttpServer | None = None
        self._metrics: HttpServer | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    async def start(self, *, wait_ready: bool = True) -> int:
        """Bind and start serving; returns the bound port. With ``wait_ready`` it returns once the
        pipeline is warm (SERVING); otherwise warm-up runs in the background."""
        s = self.settings
        if self.job_system is not None:
            try:
                await self.job_system.open()
            except StoreUnavailable as exc:
                raise StartupError(f"{exc} (set jobs.url / NEWSBRIEF_JOBS__URL)") from exc
        interceptors: list[grpc.aio.ServerInterceptor] = [
            RequestInterceptor(
                access_log_enabled=s.logging.access_log,
                max_message_bytes=s.max_message_bytes,
                request_id_max_chars=s.logging.request_id_max_chars,
            )
        ]
        if self.telemetry.enabled:
            from newsbrief.service.grpc.telemetry import TelemetryInterceptor

            interceptors.append(TelemetryInterceptor(self.telemetry))
        # No maximum_concurrent_rpcs: grpc's own limit would refuse health checks too, without
        # a retry delay; the call policy limits the API methods instead (in the servicer). The
        # connection-age grace is left at grpc's default (unbounded): rotation asks the client to
        # reconnect for new calls but never cuts a call in progress, however long the stream.
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                # twice the limit: RequestInterceptor refuses what lies between, with the
                # request id; grpc refuses larger messages before any handler runs
                ("grpc.max_receive_message_length", 2 * s.max_message_bytes),
                ("grpc.max_send_message_length", s.max_message_bytes),
                ("grpc.max_connection_age_ms", int(s.max_connection_age_s * 1000)),
                ("grpc.so_reuseport", 0),
            ],
        )
        servicer = SummarizerServicer(self.service)
        add_to_server(servicer, server)
        add_jobs_to_server(JobServicer(self.jobs, self.policy), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if s.reflection:
            reflection.enable_server_reflection(
                (
                    SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ),
                server,
            )
        address = f"{s.host}:{s.port}"
        _check_free(s.host, s.port, address)
        try:
            if s.tls.cert_file or s.tls.key_file or s.tls.client_ca_file:
                self.port = server.add_secure_port(address, _server_credentials(s))
            else:
                self.port = server.add_insecure_port(address)
        except RuntimeError as exc:  # grpc: "Failed to bind to address ..."
            self.port = 0
            log.debug("bind failed", exc_info=exc)
        if self.port == 0:
            raise StartupError(
                f"cannot listen on {address}: the address is in use or not available here "
                "(choose another with --port / NEWSBRIEF_PORT)"
            )
        await server.start()
        self._server = server
        metrics = self.telemetry.metrics_app() if s.metrics_port else None
        if metrics is not None:
            self._metrics = HttpServer(metrics, s.http, grace_seconds=0.0, name="metrics")
            self.metrics_port = await self._metrics.start(s.metrics_host, s.metrics_port)
            log.info("metrics on http://%s:%d/metrics", s.metrics_host, self.metrics_port)
        log.info("listening on %s:%d (NOT_SERVING until the pipeline is warm)", s.host, self.port)
        if s.http_port:
            self._http = HttpServer(
                build_app(self.service, s, self.serving, telemetry=self.telemetry, jobs=self.jobs),
                s.http,
                grace_seconds=s.grace_seconds,
            )
            self.http_port = await self._http.start(s.host, max(s.http_port, 0))
            log.info("HTTP/JSON on %s:%d", s.host, self.http_port)
        self._warmup = asyncio.create_task(self._become_ready())
        if wait_ready:
            await self._warmup
        return self.port

    async def wait_ready(self) -> None:
        """Until the pipeline is warm and health says SERVING (raises if warm-up failed)."""
        assert self._warmup is not None, "start() first"
        await asyncio.shield(self._warmup)

    async def serving(self) -> bool:
        """Whether the gRPC health state of the whole server is SERVING (HTTP /readyz)."""
        reply = await self.health.Check(health_pb2.HealthCheckRequest(service=""), None)
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def _become_ready(self) -> None:
        await self.pipeline.start()
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.job_system is not None:
            self.job_system.start()
        log.info("SERVING on port %d", self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Drain: health NOT_SERVING at once (load balancers stop sending), keep serving for
        ``drain_seconds``; then refuse new calls (UNAVAILABLE with a retry delay) while the
        calls in flight get up to ``grace`` seconds to finish (open streams take no more
        articles, answer those in flight and end with UNAVAILABLE, so their clients resume
        elsewhere), and at least ``refuse_seconds`` pass; then close the port.

        The port stays open while in-flight calls finish, with new calls refused by our own
        admission control: calls that reach grpc after it starts closing, or that wait inside
        it unclaimed, are cancelled by grpc itself (CANCELLED, which clients do not retry)."""
        if self._server is None:
            return
        grace = self.settings.grace_seconds if grace is None else grace
        await self.health.enter_graceful_shutdown()
        self.health.close()  # open Watch streams have been told NOT_SERVING: end them
        if self._warmup is not None and not self._warmup.done():
            self._warmup.cancel()
        # jobs: no new job or article from now; those in flight finish within the grace and
        # the jobs held are given back for another replica
        jobs_stopped = asyncio.ensure_future(
            self.job_system.stop(grace) if self.job_system is not None else asyncio.sleep(0)
        )
        if self.settings.drain_seconds:
            log.info("draining for %.1f s", self.settings.drain_seconds)
            await asyncio.sleep(self.settings.drain_seconds)
        self.admission.drain()
        started = time.monotonic()
        idle = await self.admission.wait_idle(grace)
        left = max(0.0, grace - (time.monotonic() - started))
        await asyncio.sleep(
            min(left, max(0.0, self.settings.refuse_seconds - (time.monotonic() - started)))
        )
        if not idle:
            log.warning(
                "%d calls still in flight after the %.1f s grace: cancelling them",
                self.admission.in_flight_total,
                grace,
            )
        left = max(0.0, grace - (time.monotonic() - started))
        stopping = [self._server.stop(left)]
        for http in (self._http, self._metrics):
            if http is not None:
                stopping.append(http.stop(left))
        self._http = self._metrics = None
        await asyncio.gather(*stopping)
        await jobs_stopped
        self.pipeline.close()
        await asyncio.to_thread(self.telemetry.close)  # flushes spans: may wait on the exporter
        self._server = None
        self._stopped.set()
        log.info("stopped")

    async def wait(self) -> None:
        """Until the server stops (by ``stop``); raises at once if the warm-up failed. A warm-up
        cancelled by ``stop`` (SIGTERM while loading) is a normal stop, not an error."""
        assert self._warmup is not None, "start() first"
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({stopped, self._warmup}, return_when=asyncio.FIRST_COMPLETED)
            warmup = self._warmup
            if warmup.done() and not warmup.cancelled() and warmup.exception() is not None:
                raise warmup.exception()  # type: ignore[misc]
            await stopped
        finally:
            stopped.cancel()


def _job_system(settings: Settings, pipeline: Pipeline, keys: ApiKeys) -> JobSystem | None:
    """The jobs machinery (store, runner, webhooks) when jobs are on."""
    if not settings.jobs.enabled:
        return None
    return JobSystem(
        settings.jobs_url,
        settings.jobs,
        brief=pipeline_brief(pipeline, keys, settings.jobs.article_timeout_s),
        error_status=error_status,
    )


def _check_free(host: str, port: int, address: str) -> None:
    """Raise StartupError naming the reason when ``host:port`` cannot be bound (port in use,
    address not on this machine): one clear line instead of grpc's log and a traceback. grpc
    binds again right after (a port taken in between still fails, with a generic message)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise StartupError(f"cannot listen on {address}: {exc}") from exc
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise StartupError(
                    f"cannot listen on {address}: {reason} (choose another port with --port / "
                    "NEWSBRIEF_PORT)"
                ) from exc


def _server_credentials(s: Settings) -> grpc.ServerCredentials:
    if not (s.tls.cert_file and s.tls.key_file):  # settings refuse this; never serve plaintext
        raise StartupError("TLS needs both tls.cert_file and tls.key_file")
    key = Path(s.tls.key_file).read_bytes()
    cert = Path(s.tls.cert_file).read_bytes()
    ca = Path(s.tls.client_ca_file).read_bytes() if s.tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
    )


#: After SIGTERM the process ends within drain + grace + this, whatever its clients do.
HARD_STOP_MARGIN_S = 4.0


def _exit_after(seconds: float) -> None:
    """End the process after ``seconds`` if the orderly stop has not ended it by then (a client
    that neither reads nor closes can hold a connection's writer; a stuck stop must not leave
    the pod to be killed with nothing flushed). A daemon thread: it needs no event loop."""

    def hard_stop() -> None:
        log.error("the server did not stop within %.1f s of the signal: exiting now", seconds)
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, hard_stop)
    timer.daemon = True
    timer.start()


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then drain and stop."""
    app = App(settings)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        if stopping:
            return
        log.info("received %s: draining", signal.Signals(signum).name)
        stopping.append(asyncio.create_task(app.stop()))
        _exit_after(settings.drain_seconds + settings.grace_seconds + HARD_STOP_MARGIN_S)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await app.start(wait_ready=False)
    try:
        await app.wait()
    finally:
        if not stopping:
            await app.stop(grace=0)
        else:
            await stopping[0]
