"""Stages timed in a worker process and reported by the server: the stopwatch of the
extractive pass (the deadline before each stage; the times of the stages so far carried by an
error), and the stage metrics and spans made from those times."""

from __future__ import annotations

import time

import pytest

import newsbrief.service.pipeline.stages as stages
from newsbrief.service.domain import Article, Budget
from newsbrief.service.errors import DeadlineExceeded
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.observability.telemetry import Telemetry
from newsbrief.service.pipeline.stages import FAILED_STAGE, STAGE_TIMES, Stopwatch
from newsbrief.service.pipeline.stages.extractive import take_in_and_brief
from newsbrief.service.settings import Settings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer

ARTICLE = (
    "The city council approved a new ferry terminal on Tuesday after a long debate.\n\n"
    "The terminal will replace a pier built in 1932 and is expected to open in 2027.\n\n"
    "Council members voted 9 to 2 in favour of the plan, the mayor said on Wednesday.\n"
)


def test_each_stage_is_timed_in_order() -> None:
    clock = Stopwatch()
    with clock.stage("one", None):
        pass
    with clock.stage("two", time.monotonic() + 60):
        pass
    assert [name for name, _, _ in clock.times] == ["one", "two"]
    (_, a0, a1), (_, b0, b1) = clock.times
    assert a0 <= a1 <= b0 <= b1


def test_no_stage_starts_past_the_deadline_and_the_error_carries_the_stages_so_far() -> None:
    clock = Stopwatch()
    with clock.stage("one", None):
        pass
    ran = False
    with (
        pytest.raises(DeadlineExceeded, match="before the two stage") as info,
        clock.stage("two", time.monotonic() - 0.001),
    ):
        ran = True
    assert not ran
    assert [name for name, _, _ in getattr(info.value, STAGE_TIMES)] == ["one"]
    assert not hasattr(info.value, FAILED_STAGE)  # no stage failed: one was not started


def test_an_error_in_a_stage_names_it_with_its_time() -> None:
    clock = Stopwatch()
    with pytest.raises(ValueError) as info, clock.stage("one", None):
        raise ValueError("broken")
    assert [name for name, _, _ in getattr(info.value, STAGE_TIMES)] == ["one"]
    assert getattr(info.value, FAILED_STAGE) == "one"


@pytest.fixture(scope="module")
def parts() -> tuple[Settings, LanguageDetector, ExtractiveSummarizer]:
    settings = Settings()
    return settings, LanguageDetector(settings.language), ExtractiveSummarizer(settings.brief)


def test_the_extractive_pass_runs_intake_brief_and_guard_in_one_call(
    parts: tuple[Settings, LanguageDetector, ExtractiveSummarizer],
) -> None:
    settings, detector, summarizer = parts
    intake, brief, faithfulness, times = take_in_and_brief(
        Article(text=ARTICLE),
        Budget(sentences=2, words=60, key_points=2),
        settings.intake,
        detector.analyse,
        summarizer,
        time.monotonic() + 60,
    )
    assert intake.language.code == "en" and intake.paragraphs
    assert brief.summary and faithfulness.passed
    assert [name for name, _, _ in times] == ["intake", "brief", "guard"]


def test_the_extractive_pass_stops_before_the_brief_once_the_deadline_has_passed(
    parts: tuple[Settings, LanguageDetector, ExtractiveSummarizer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, detector, _ = parts
    real = stages.check_deadline
    checked: list[str] = []

    def check(deadline: float | None, stage: str) -> None:
        """The deadline passes while the intake runs: the brief's check sees it passed."""
        checked.append(stage)
        real(time.monotonic() - 1 if stage == "brief" else deadline, stage)

    class NoBrief:
        def summarize(self, *args: object) -> None:
            raise AssertionError("the brief ran after the deadline")

    monkeypatch.setattr(stages, "check_deadline", check)
    with pytest.raises(DeadlineExceeded, match="before the brief stage") as info:
        take_in_and_brief(
            Article(text=ARTICLE),
            Budget(sentences=2, words=60, key_points=2),
            settings.intake,
            detector.analyse,
            NoBrief(),  # type: ignore[arg-type]
            time.monotonic() + 60,
        )
    assert checked == ["intake", "brief"]
    assert [name for name, _, _ in getattr(info.value, STAGE_TIMES)] == ["intake"]


def test_stages_timed_elsewhere_are_reported_as_metrics_and_spans_with_their_times() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from newsbrief.service.observability.metrics import Metrics

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(metrics=Metrics(), tracer_provider=provider)
    t0 = time.monotonic() - 10.0  # stages that ran a while ago, one after the other
    with telemetry.request("grpc", "/newsbrief.v1.SummarizerService/Summarize", {}):
        telemetry.stages_done(
            [("intake", t0, t0 + 2.0), ("brief", t0 + 2.0, t0 + 3.0)], DeadlineExceeded("late")
        )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    request = spans["newsbrief.v1.SummarizerService/Summarize"]
    intake, brief = spans["stage intake"], spans["stage brief"]
    for span in (intake, brief):
        assert span.parent is not None and span.parent.span_id == request.context.span_id
    assert intake.end_time is not None and intake.start_time is not None
    assert abs(intake.end_time - intake.start_time - 2_000_000_000) < 1000
    assert intake.end_time == brief.start_time
    assert request.start_time is not None
    assert intake.start_time < request.start_time  # the times given, not the time of the call
    assert intake.status.is_ok and not brief.status.is_ok
    assert [e.name for e in brief.events] == ["exception"]
    registry = telemetry.metrics.registry  # type: ignore[union-attr]
    count = "newsbrief_stage_duration_seconds_count"
    assert registry.get_sample_value(count, {"stage": "intake"}) == 1
    assert registry.get_sample_value(count, {"stage": "brief"}) == 1
    total = registry.get_sample_value("newsbrief_stage_duration_seconds_sum", {"stage": "intake"})
    assert total == pytest.approx(2.0)
