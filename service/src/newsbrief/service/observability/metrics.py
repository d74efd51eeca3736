"""Prometheus metrics of one server, on their own registry and HTTP port.

Request metrics are recorded by the front ends through
:class:`~newsbrief.service.observability.telemetry.Telemetry` (transport-neutral: a
``transport`` label says ``grpc`` or ``http``); stage, batch and token metrics by the pipeline
and the batchers; queue depth, cache and model state are read from the live objects when
Prometheus scrapes (:class:`PipelineCollector`), so the hot path pays nothing for them.
``prometheus_client`` is imported only when metrics are on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: Request latency buckets (seconds): a cached brief takes about a millisecond, a neural one
#: with translations seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    """The metric families of one server (one registry each, so servers in one process, as in
    tests, do not share counters)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        # every family is registered on this server's own registry
        counter = partial(Counter, registry=self.registry)
        gauge = partial(Gauge, registry=self.registry)
        histogram = partial(Histogram, registry=self.registry)
        self.requests = counter(
            "newsbrief_requests",
            "Finished requests by transport, method and status code.",
            ("transport", "method", "code"),
        )
        self.latency = histogram(
            "newsbrief_request_duration_seconds",
            "Request latency by transport and method (whole stream for streaming calls).",
            ("transport", "method"),
            buckets=LATENCY_BUCKETS,
        )
        self.in_flight = gauge(
            "newsbrief_requests_in_flight",
            "Requests being handled now, by transport and method.",
            ("transport", "method"),
        )
        self.stage_latency = histogram(
            "newsbrief_stage_duration_seconds",
            "Time in each pipeline stage (intake, brief, guard, abstractive, translate, ...).",
            ("stage",),
            buckets=LATENCY_BUCKETS,
        )
        self.batch_size = histogram(
            "newsbrief_model_batch_size",
            "Items (texts) in each model call, by model role.",
            ("model",),
            buckets=BATCH_SIZE_BUCKETS,
        )
        self.batch_latency = histogram(
            "newsbrief_model_batch_duration_seconds",
            "Duration of each model call (one batch), by model role.",
            ("model",),
            buckets=LATENCY_BUCKETS,
        )
        self.tokens = counter(
            "newsbrief_model_tokens",
            "Tokens into and out of each model role (the batcher's token measure: about four "
            "characters a token, one per Hangul/CJK character).",
            ("model", "direction"),
        )
        self.quota_rejections = counter(
            "newsbrief_quota_rejections",
            "Requests refused because an API key was over its quota.",
            ("transport",),
        )

    def watch(self, pipeline: Any) -> None:
        """Report the queue depth, cache and model state of ``pipeline`` at each scrape."""
        self.registry.register(PipelineCollector(pipeline))


class PipelineCollector(Collector):
    """Gauges and counters read from the pipeline's own bookkeeping when Prometheus scrapes."""

    def __init__(self, pipeline: Any) -> None:
        self._pipeline = pipeline

    def describe(self) -> list[Any]:
        return []  # families depend on the configured models; collect() is cheap

    def collect(self) -> Iterator[Any]:
        p = self._pipeline
        queue = GaugeMetricFamily(
            "newsbrief_model_queue_depth", "Items waiting for a model worker.", labels=["model"]
        )
        rejected = CounterMetricFamily(
            "newsbrief_model_queue_rejections",
            "Items refused because the model's queue was full (RESOURCE_EXHAUSTED).",
            labels=["model"],
        )
        expired = CounterMetricFamily(
            "newsbrief_model_deadline_expired",
            "Items whose deadline passed before the model was called.",
            labels=["model"],
        )
        for role in ("summarizer", "translator"):
            batcher = getattr(getattr(p, role, None), "batcher", None)
            if batcher is None:
                continue
            queue.add_metric([role], float(batcher.queued))
            stats = getattr(batcher, "stats", None)
            if stats is not None:
                rejected.add_metric([role], float(stats.rejected))
                expired.add_metric([role], float(stats.expired))
        yield queue
        yield rejected
        yield expired

        cache = getattr(p, "cache", None)
        if cache is not None:
            lookups = CounterMetricFamily(
                "newsbrief_cache_lookups",
                "Result cache lookups by result (hit or miss).",
                labels=["result"],
            )
            lookups.add_metric(["hit"], float(cache.stats.hits))
            lookups.add_metric(["miss"], float(cache.stats.misses))
            yield lookups
            yield GaugeMetricFamily(
                "newsbrief_cache_entries", "Results in the cache.", value=float(len(cache))
            )
            yield GaugeMetricFamily(
                "newsbrief_cache_bytes", "Bytes of results in the cache.", value=float(cache.bytes)
            )

        ready = GaugeMetricFamily(
            "newsbrief_model_ready",
            "1 when a model is loaded and serving, 0 while loading or when it cannot load.",
            labels=["role", "model", "revision", "backend"],
        )
        try:
            models = p.info().models
        except Exception:  # a scrape must never fail because of the pipeline
            log.debug("model state not readable", exc_info=True)
            models = ()
        for m in models:
            ready.add_metric([m.role, m.id, m.revision, m.backend], 1.0 if m.ready else 0.0)
        yield ready


def metrics_app(registry: CollectorRegistry) -> Any:
    """The ``/metrics`` endpoint as an ASGI app (served by the composition root on its own
    port, with the same connection bounds as the HTTP port)."""
    from prometheus_client import make_asgi_app

    return make_asgi_app(registry=registry)
