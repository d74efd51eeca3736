"""Metrics and traces behind one transport-neutral facade, :class:`Telemetry`.

A front end (the gRPC interceptor, an HTTP handler) wraps each call in
``telemetry.request(transport, method, headers)``; the pipeline wraps each stage in
``telemetry.stage(name)``; a model batcher wraps each model call in ``telemetry.batch(...)``.
With metrics and tracing both off (the default) these are shared no-op objects and neither
``prometheus_client`` nor OpenTelemetry is imported.

Metrics (``NEWSBRIEF_METRICS_PORT``): see :mod:`newsbrief.service.observability.metrics`.
Spans (``NEWSBRIEF_TRACING__ENABLED``): one SERVER span per request named after its method (its
parent is the caller's W3C ``traceparent`` when sent), a ``stage <name>`` span per pipeline stage,
and a ``model batch <role>`` span per model call, parented to the request of its oldest item and
linked to the requests of the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from newsbrief.service.settings import Settings

if TYPE_CHECKING:
    from newsbrief.service.observability.metrics import Metrics

log = logging.getLogger(__name__)

OK = "OK"


class Call:
    """One request in progress: ``code`` is set by the front end before the ``with`` ends
    (``"OK"`` unless told otherwise)."""

    __slots__ = ("_labels", "_span", "_started", "_telemetry", "_token", "code")

    def __init__(self, telemetry: Telemetry, transport: str, method: str) -> None:
        self._telemetry = telemetry
        self._labels = (transport, method)
        self.code = OK
        self._span: Any = None
        self._token: Any = None
        self._started = 0.0

    def __enter__(self) -> Call:
        self._started = time.monotonic()
        if self._telemetry.metrics is not None:
            self._telemetry.metrics.in_flight.labels(*self._labels).inc()
        return self

    def __exit__(self, *exc: object) -> None:
        metrics = self._telemetry.metrics
        if metrics is not None:
            transport, method = self._labels
            metrics.in_flight.labels(transport, method).dec()
            metrics.latency.labels(transport, method).observe(time.monotonic() - self._started)
            metrics.requests.labels(transport, method, self.code).inc()
        if self._span is not None:
            from newsbrief.service.observability.tracing import otel_context, trace

            self._span.set_attribute("rpc.response.status_code", self.code)
            if self.code != OK:
                self._span.set_status(trace.Status(trace.StatusCode.ERROR, self.code))
            self._span.end()
            try:
                otel_context.detach(self._token)
            except Exception:  # pragma: no cover - detached in another context: harmless
                log.debug("trace context not detached", exc_info=True)


class _Batch:
    """One model call in progress: ``done(results)`` counts the tokens out."""

    __slots__ = ("_model", "_span", "_telemetry")

    def __init__(self, telemetry: Telemetry, model: str, span: Any) -> None:
        self._telemetry = telemetry
        self._model = model
        self._span = span

    def done(self, results: Sequence[Any], cost: Any) -> None:
        metrics = self._telemetry.metrics
        if metrics is None:
            return
        texts = [_text_of(r) for r in results]
        out = sum(cost(t) for t in texts if t)
        metrics.tokens.labels(self._model, "out").inc(out)
        if self._span is not None:
            self._span.set_attribute("newsbrief.tokens_out", out)


def _text_of(result: Any) -> str:
    """The text of a model result: a string, or the first field of a (text, ...) tuple."""
    if isinstance(result, str):
        return result
    if isinstance(result, tuple) and result and isinstance(result[0], str):
        return result[0]
    return ""


class Telemetry:
    """Metrics and traces of one server (either may be off)."""

    def __init__(self, *, metrics: Metrics | None = None, tracer_provider: Any = None) -> None:
        self.metrics = metrics
        self._provider = tracer_provider
        self._tracer = tracer_provider.get_tracer("newsbrief.service") if tracer_provider else None

    @classmethod
    def from_settings(cls, settings: Settings, *, span_exporters: Sequence[Any] = ()) -> Telemetry:
        """Metrics when ``metrics_port`` is set, traces when ``tracing.enabled``."""
        metrics = None
        if settings.metrics_port:
            from newsbrief.service.observability.metrics import Metrics

            metrics = Metrics()
        provider = None
        if settings.tracing.enabled:
            from newsbrief.service.observability.tracing import build_provider

            provider = build_provider(settings.tracing, tuple(span_exporters))
        return cls(metrics=metrics, tracer_provider=provider)

    @property
    def enabled(self) -> bool:
        return self.metrics is not None or self._tracer is not None

    @property
    def tracing(self) -> bool:
        return self._tracer is not None

    # ---- lifecycle -------------------------------------------------------------------------

    def watch(self, pipeline: Any) -> None:
        """Instrument ``pipeline`` (its stages and its models' batchers) and report its queue
        depth, cache and model state."""
        if not self.enabled:
            return
        pipeline.telemetry = self
        for role in ("summarizer", "translator"):
            batcher = getattr(getattr(pipeline, role, None), "batcher", None)
            if batcher is not None:
                batcher.telemetry = self
        if self.metrics is not None:
            self.metrics.watch(pipeline)

    def metrics_app(self) -> Any:
        """The ``/metrics`` endpoint as an ASGI app (None when metrics are off)."""
        if self.metrics is None:
            return None
        from newsbrief.service.observability.metrics import metrics_app

        return metrics_app(self.metrics.registry)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Export the spans still buffered (True when done in time, or tracing is off)."""
        if self._provider is None:
            return True
        return bool(self._provider.force_flush(int(timeout_s * 1000)))

    def close(self) -> None:
        """Flush the spans still buffered."""
        if self._provider is not None:
            self._provider.shutdown()

    # ---- recording -------------------------------------------------------------------------

    def request(
        self, transport: str, method: str, headers: Mapping[str, str], *, traced: bool = True
    ) -> Call:
        """Track one request (``with telemetry.request(...) as call: ...; call.code = ...``):
        in-flight gauge, latency, count by code, and (``traced``) a SERVER span whose parent is
        the caller's ``traceparent`` (in ``headers``, lower-case keys)."""
        call = Call(self, transport, method)
        if self._tracer is not None and traced:
            from newsbrief.service.observability.tracing import extract, otel_context, trace

            parent = extract(headers)
            service, _, name = method.strip("/").rpartition("/")
            call._span = self._tracer.start_span(
                method.strip("/"),
                context=parent,
                kind=trace.SpanKind.SERVER,
                attributes={
                    "rpc.system": transport,
                    "rpc.service": service,
                    "rpc.method": name or method,
                },
            )
            call._token = otel_context.attach(trace.set_span_in_context(call._span, parent))
        return call

    def stage(self, name: str) -> AbstractContextManager[Any]:
        """Time one pipeline stage (histogram) inside a ``stage <name>`` span."""
        if not self.enabled:
            return nullcontext()
        return self._stage(name)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        span = (
            self._tracer.start_as_current_span(f"stage {name}")
            if self._tracer is not None
            else nullcontext()
        )
        try:
            with span:
                yield
        finally:
            if self.metrics is not None:
                self.metrics.stage_latency.labels(name).observe(time.monotonic() - started)

    def stages_done(
        self, stages: Sequence[tuple[str, float, float]], error: BaseException | None = None
    ) -> None:
        """Report pipeline stages timed elsewhere (in a worker process): (name, started,
        ended) in ``time.monotonic()`` seconds, each with the histogram and the ``stage <name>``
        span of :meth:`stage` (under the current span, with those times; the last one failed
        with ``error`` when given)."""
        if self.metrics is not None:
            for name, started, ended in stages:
                self.metrics.stage_latency.labels(name).observe(max(ended - started, 0.0))
        if self._tracer is None or not stages:
            return
        from newsbrief.service.observability.tracing import trace

        to_epoch_ns = time.time_ns() - time.monotonic_ns()  # once: the stages stay contiguous
        last = len(stages) - 1
        for i, (name, started, ended) in enumerate(stages):
            span = self._tracer.start_span(
                f"stage {name}", start_time=int(started * 1e9) + to_epoch_ns
            )
            if error is not None and i == last:  # as a span ended by an exception in stage()
                span.record_exception(error)
                span.set_status(
                    trace.Status(trace.StatusCode.ERROR, f"{type(error).__name__}: {error}")
                )
            span.end(end_time=int(ended * 1e9) + to_epoch_ns)

    def capture(self) -> Any:
        """The current trace context, for work handed to another thread (None when tracing is
        off)."""
        if self._tracer is None:
            return None
        from newsbrief.service.observability.tracing import otel_context

        return otel_context.get_current()

    def quota_rejected(self, transport: str) -> None:
        if self.metrics is not None:
            self.metrics.quota_rejections.labels(transport).inc()

    def batch(
        self, model: str, contexts: Sequence[Any], tokens_in: int, size: int
    ) -> AbstractContextManager[_Batch]:
        """Track one model call of ``size`` items: batch size, duration and tokens in, inside a
        ``model batch <model>`` span parented to the first item's request (``contexts`` from
        :meth:`capture`) and linked to the others'."""
        if not self.enabled:
            return nullcontext(_NO_BATCH)
        return self._batch(model, contexts, tokens_in, size)

    @contextmanager
    def _batch(
        self, model: str, contexts: Sequence[Any], tokens_in: int, size: int
    ) -> Iterator[_Batch]:
        started = time.monotonic()
        span: Any = None
        if self._tracer is not None:
            from newsbrief.service.observability.tracing import trace

            parents = [c for c in contexts if c is not None]
            links = [trace.Link(trace.get_current_span(c).get_span_context()) for c in parents[1:]]
            span = self._tracer.start_span(
                f"model batch {model}",
                context=parents[0] if parents else None,
                links=links,
                attributes={"newsbrief.batch_size": size, "newsbrief.tokens_in": tokens_in},
            )
        try:
            if span is not None:
                from newsbrief.service.observability.tracing import trace

                with trace.use_span(span, end_on_exit=True):
                    yield _Batch(self, model, span)
            else:
                yield _Batch(self, model, None)
        finally:
            if self.metrics is not None:
                self.metrics.batch_size.labels(model).observe(size)
                self.metrics.batch_latency.labels(model).observe(time.monotonic() - started)
                self.metrics.tokens.labels(model, "in").inc(tokens_in)


NO_TELEMETRY = Telemetry()
_NO_BATCH = _Batch(NO_TELEMETRY, "", None)
