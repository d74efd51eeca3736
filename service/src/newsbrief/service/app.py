"""Composition root: build the pipeline and the gRPC server, start, serve, drain and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from newsbrief.service.grpc.interceptors import ApiKeyInterceptor, RequestInterceptor
from newsbrief.service.grpc.servicer import SummarizerServicer, add_to_server
from newsbrief.service.http.server import HttpServer, build_app
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import Settings
from newsbrief.service.telemetry import Telemetry
from newsbrief.v1 import newsbrief_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = newsbrief_pb2.DESCRIPTOR.services_by_name["SummarizerService"].full_name


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
            from newsbrief.service.backends.loader import build_translator

            pipeline = Pipeline(settings, translator=build_translator(settings))
        self.pipeline = pipeline
        self.telemetry = telemetry or Telemetry.from_settings(settings)
        self.telemetry.watch(pipeline)
        self.metrics_port = 0
        self.health = health_aio.HealthServicer()
        self.port = 0
        self.http_port = 0
        self._server: grpc.aio.Server | None = None
        self._http: HttpServer | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    async def start(self, *, wait_ready: bool = True) -> int:
        """Bind and start serving; returns the bound port. With ``wait_ready`` it returns once the
        pipeline is warm (SERVING); otherwise warm-up runs in the background."""
        s = self.settings
        interceptors: list[grpc.aio.ServerInterceptor] = [
            RequestInterceptor(access_log_enabled=s.logging.access_log)
        ]
        if self.telemetry.enabled:
            from newsbrief.service.grpc.telemetry import TelemetryInterceptor

            interceptors.append(TelemetryInterceptor(self.telemetry))
        if s.auth.api_key_hashes:
            interceptors.append(  # this replica's share of the deployment's quota
                ApiKeyInterceptor(
                    s.auth.api_key_hashes, requests_per_minute=s.auth.replica_requests_per_minute
                )
            )
        server = grpc.aio.server(
            interceptors=interceptors,
            maximum_concurrent_rpcs=s.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", s.max_message_bytes),
                ("grpc.max_send_message_length", s.max_message_bytes),
                ("grpc.max_connection_age_ms", int(s.max_connection_age_s * 1000)),
                ("grpc.max_connection_age_grace_ms", int(s.grace_seconds * 1000)),
                ("grpc.so_reuseport", 0),
            ],
        )
        servicer = SummarizerServicer(self.pipeline, stream_concurrency=s.stream_concurrency)
        add_to_server(servicer, server)
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
        if s.tls.cert_file and s.tls.key_file:
            self.port = server.add_secure_port(address, _server_credentials(s))
        else:
            self.port = server.add_insecure_port(address)
        if self.port == 0:
            raise RuntimeError(f"could not bind {address}")
        await server.start()
        self._server = server
        if s.metrics_port:
            self.metrics_port = self.telemetry.serve(s.metrics_host, s.metrics_port)
        log.info("listening on %s:%d (NOT_SERVING until the pipeline is warm)", s.host, self.port)
        if s.http_port:
            self._http = HttpServer(
                build_app(servicer, s, self.serving, telemetry=self.telemetry),
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
        log.info("SERVING on port %d", self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Drain: health NOT_SERVING at once (load balancers stop sending), wait
        ``drain_seconds``, then stop accepting and give in-flight RPCs ``grace`` seconds."""
        if self._server is None:
            return
        await self.health.enter_graceful_shutdown()
        if self._warmup is not None and not self._warmup.done():
            self._warmup.cancel()
        if self.settings.drain_seconds:
            log.info("draining for %.1f s", self.settings.drain_seconds)
            await asyncio.sleep(self.settings.drain_seconds)
        grace_s = self.settings.grace_seconds if grace is None else grace
        if self._http is not None:
            await asyncio.gather(self._server.stop(grace_s), self._http.stop(grace_s))
            self._http = None
        else:
            await self._server.stop(grace_s)
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


def _server_credentials(s: Settings) -> grpc.ServerCredentials:
    assert s.tls.cert_file and s.tls.key_file
    key = Path(s.tls.key_file).read_bytes()
    cert = Path(s.tls.cert_file).read_bytes()
    ca = Path(s.tls.client_ca_file).read_bytes() if s.tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
    )


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
