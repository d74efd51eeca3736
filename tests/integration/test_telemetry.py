"""Metrics, traces and access-log fields of the real server: /metrics is scraped over HTTP after
real calls, spans go to an in-memory exporter, and with both off nothing of either is imported."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import sys
from typing import Any

import grpc
import pytest

from newsbrief.client import Client, InvalidArgumentError, ResourceExhaustedError
from newsbrief.service.app import App
from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.observability.logs import JsonFormatter
from newsbrief.service.observability.telemetry import Telemetry
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import BatchingSettings, Settings
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc
from tests.conftest import REPO, RunningServer, make_settings
from tests.harness.server import free_port, metric, metrics
from tests.integration.test_batching_server import TEXT, GatedEngine

SUMMARIZE = "/newsbrief.v1.SummarizerService/Summarize"
TRANSLATE = "/newsbrief.v1.SummarizerService/Translate"


class _TracedServer(RunningServer):
    def __init__(self, settings: Settings, pipeline: Pipeline, exporter: Any) -> None:
        self._telemetry = Telemetry.from_settings(settings, span_exporters=[exporter])
        super().__init__(settings, pipeline=pipeline)

    async def _make(self, pipeline: Pipeline | None) -> App:
        return App(self.settings, pipeline=pipeline, telemetry=self._telemetry)


def _pipeline(settings: Settings) -> Pipeline:
    info = ModelInfo(role="translator", id="gated", languages=("en", "ko", "ms"))
    engine = GatedEngine()
    translator = BatchedTranslator(
        ModelWorker(info, lambda: (engine, info)), BatchingSettings(), workers=1
    )
    return Pipeline(settings, translator=translator)


def test_metrics_move_after_real_calls() -> None:
    key = "metrics-test-key"
    settings = make_settings(
        metrics_port=free_port(),
        metrics_host="127.0.0.1",
        auth={
            "api_key_hashes": [hashlib.sha256(key.encode()).hexdigest()],
            "requests_per_minute": 12,
            "quota_replicas": 2,  # this replica's share: 6 a minute
        },
    )
    with (
        RunningServer(settings, pipeline=_pipeline(settings)) as server,
        Client(server.target, timeout=60, retries=0, api_key=key) as client,
    ):
        port = server.app.metrics_port
        assert port == settings.metrics_port
        before = metrics(port)
        assert metric(before, "newsbrief_requests_total") == 0
        assert metric(before, "newsbrief_model_ready", role="translator", model="gated") == 1

        client.summarize(TEXT)
        client.summarize(TEXT)  # the same article again: from the cache
        client.summarize(TEXT, target_languages=["ko"])
        client.translate(["The park opens in May."], ["ms"], source_language="en")
        with pytest.raises(InvalidArgumentError):
            client.summarize("   ")
        client.translate(["The sixth call."], ["ko"], source_language="en")
        with pytest.raises(ResourceExhaustedError):  # the 7th call of the minute
            client.translate(["One more."], ["ko"], source_language="en")

        after = metrics(port)
    assert metric(after, "newsbrief_requests_total", method=SUMMARIZE, code="OK") == 3
    assert metric(after, "newsbrief_requests_total", method=SUMMARIZE, code="INVALID_ARGUMENT") == 1
    assert metric(after, "newsbrief_requests_total", method=TRANSLATE, code="OK") == 2
    assert (
        metric(after, "newsbrief_requests_total", method=TRANSLATE, code="RESOURCE_EXHAUSTED") == 1
    )
    assert metric(after, "newsbrief_quota_rejections_total", transport="grpc") == 1
    assert metric(after, "newsbrief_request_duration_seconds_count", method=SUMMARIZE) == 4
    assert metric(after, "newsbrief_request_duration_seconds_sum", method=SUMMARIZE) > 0
    assert metric(after, "newsbrief_requests_in_flight", method=SUMMARIZE) == 0
    for stage in ("intake", "brief", "guard", "translate"):
        assert metric(after, "newsbrief_stage_duration_seconds_count", stage=stage) >= 1, stage
    # the warm-up brief ran before the first scrape; two misses and one hit since
    assert metric(after, "newsbrief_cache_lookups_total", result="hit") == 1
    misses = metric(after, "newsbrief_cache_lookups_total", result="miss")
    assert misses - metric(before, "newsbrief_cache_lookups_total", result="miss") == 2
    assert metric(after, "newsbrief_cache_entries") >= 2
    # the brief's translation and the two Translate calls: three model calls, tokens both ways
    assert metric(after, "newsbrief_model_batch_size_count", model="translator") == 3
    assert metric(after, "newsbrief_model_batch_size_sum", model="translator") >= 3
    assert metric(after, "newsbrief_model_tokens_total", model="translator", direction="in") > 0
    assert metric(after, "newsbrief_model_tokens_total", model="translator", direction="out") > 0
    assert metric(after, "newsbrief_model_queue_depth", model="translator") == 0

    # the Grafana dashboard and the autoscaler's adapter query only metrics the server exposes
    exposed = {name for name, _ in after}
    for path in ("grafana-dashboard.json", "prometheus-adapter-values.yaml"):
        used = set(re.findall(r"newsbrief_[a-z_]+", (REPO / "deploy" / path).read_text("utf-8")))
        assert used and used <= exposed, (path, used - exposed)


def test_one_trace_per_request_with_stage_spans_under_the_callers_trace() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    settings = make_settings(tracing={"enabled": True})
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    caller_span = "00f067aa0ba902b7"
    with _TracedServer(settings, _pipeline(settings), exporter) as server:
        assert server.app.telemetry.flush()
        exporter.clear()  # the warm-up brief's spans
        with grpc.insecure_channel(server.target) as channel:
            stub = newsbrief_pb2_grpc.SummarizerServiceStub(channel)
            stub.Summarize(
                pb.SummarizeRequest(text=TEXT, target_languages=["ko"]),
                metadata=(("traceparent", f"00-{caller_trace}-{caller_span}-01"),),
                timeout=60,
            )
            stub.Summarize(pb.SummarizeRequest(text=TEXT + " More."), timeout=60)
            with pytest.raises(grpc.RpcError) as info:
                stub.Summarize(pb.SummarizeRequest(text=" "), timeout=60)
            assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            with Client(server.target, timeout=60) as client:
                assert client.health() == "SERVING"  # counted, not traced
        assert server.app.telemetry.flush()
        spans = exporter.get_finished_spans()

    roots = [s for s in spans if s.name == SUMMARIZE.strip("/")]
    assert len(roots) == 3
    traces = {s.context.trace_id for s in roots}
    assert len(traces) == 3  # one trace per request
    by_trace = {t: [s for s in spans if s.context.trace_id == t] for t in traces}
    assert {s.context.trace_id for s in spans} == traces  # nothing outside them

    first = next(s for s in roots if s.context.trace_id == int(caller_trace, 16))
    assert first.parent is not None and first.parent.span_id == int(caller_span, 16)
    names = {s.name for s in by_trace[first.context.trace_id]}
    assert {"stage intake", "stage brief", "stage guard", "stage translate"} <= names
    assert "model batch translator" in names
    for span in by_trace[first.context.trace_id]:
        if span is not first:
            assert span.parent is not None  # every other span hangs under the request's
    assert dict(first.attributes or {})["rpc.response.status_code"] == "OK"

    codes = [(s, dict(s.attributes or {}).get("rpc.response.status_code")) for s in roots]
    failed = next(s for s, code in codes if code != "OK")
    assert dict(failed.attributes or {})["rpc.response.status_code"] == "INVALID_ARGUMENT"
    assert not failed.status.is_ok


def test_access_log_records_carry_separate_fields(caplog: pytest.LogCaptureFixture) -> None:
    with (
        RunningServer(make_settings()) as server,
        grpc.insecure_channel(server.target) as channel,
        caplog.at_level(logging.INFO, logger="newsbrief.access"),
    ):
        stub = newsbrief_pb2_grpc.SummarizerServiceStub(channel)
        stub.Summarize(
            pb.SummarizeRequest(text=TEXT), metadata=(("x-request-id", "req-fields-1"),), timeout=60
        )
    records = [r for r in caplog.records if r.name == "newsbrief.access"]
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["method"] == SUMMARIZE
    assert line["code"] == "OK"
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert line["peer"].startswith(("ipv4:127.0.0.1:", "ipv6:"))
    assert line["request_id"] == "req-fields-1"


OFF = """
import sys
from newsbrief.client import Client
from tests.conftest import REPO, RunningServer, make_settings

with RunningServer(make_settings()) as server, Client(server.target, timeout=60) as client:
    client.summarize("The council approved a new park on Tuesday. It opens in May.")
    assert server.app.metrics_port == 0
print("LOADED", sorted(m for m in ("prometheus_client", "opentelemetry") if m in sys.modules))
"""


def test_metrics_and_tracing_off_by_default_import_nothing() -> None:
    proc = subprocess.run([sys.executable, "-c", OFF], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LOADED []" in proc.stdout


def test_http_calls_are_counted_with_their_transport() -> None:
    import httpx

    settings = make_settings(metrics_port=free_port(), metrics_host="127.0.0.1", http_port=-1)
    with RunningServer(settings) as server:
        url = f"{server.http_url}{SUMMARIZE}"
        assert httpx.post(url, json={"text": TEXT}, timeout=30).status_code == 200
        assert httpx.post(url, json={"text": " "}, timeout=30).status_code == 400
        after = metrics(server.app.metrics_port)
    http = {"transport": "http", "method": SUMMARIZE}
    assert metric(after, "newsbrief_requests_total", code="OK", **http) == 1
    assert metric(after, "newsbrief_requests_total", code="INVALID_ARGUMENT", **http) == 1
    assert metric(after, "newsbrief_request_duration_seconds_count", **http) == 2
    assert metric(after, "newsbrief_requests_in_flight", **http) == 0
    assert metric(after, "newsbrief_requests_total", transport="grpc") == 0
