"""OpenTelemetry traces of one server: its own ``TracerProvider`` (never the global one, so
servers in one process keep their spans apart), the W3C trace-context propagator for incoming
``traceparent`` headers, and an OTLP/gRPC exporter when an endpoint is configured.

Imported only when tracing is on (it needs the ``tracing`` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from newsbrief.service import __version__
from newsbrief.service.settings import TracingSettings

log = logging.getLogger(__name__)

PROPAGATOR = TraceContextTextMapPropagator()


def build_provider(
    settings: TracingSettings, exporters: tuple[SpanExporter, ...] = ()
) -> TracerProvider:
    """A provider that samples ``sample_ratio`` of new traces (following a caller's decision)
    and exports to the OTLP endpoint, when one is set, and to ``exporters``."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "service.version": __version__}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    all_exporters = list(exporters)
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        all_exporters.append(
            OTLPSpanExporter(endpoint=settings.otlp_endpoint, insecure=settings.otlp_insecure)
        )
        log.info("exporting traces to %s", settings.otlp_endpoint)
    for exporter in all_exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    """The caller's trace context from its ``traceparent``/``tracestate`` headers (lower-case
    keys), or an empty context."""
    return PROPAGATOR.extract(carrier=carrier)


__all__ = ["PROPAGATOR", "build_provider", "extract", "otel_context", "trace"]
