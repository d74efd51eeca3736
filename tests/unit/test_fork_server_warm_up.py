"""The fork server's warm-up of the stages: what they make at their first use is made there,
once, before any worker is forked (the workers share it), over articles that take every path of
the intake; never fatal."""

from __future__ import annotations

import pytest

from newsbrief.service.domain import Budget
from newsbrief.service.intake import scraped
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.pipeline import fork_server
from newsbrief.service.pipeline.stages.extractive import take_in_and_brief
from newsbrief.service.settings import BriefSettings, IntakeSettings, LanguageSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer


def test_the_warm_up_articles_take_the_paths_of_news_articles() -> None:
    intake = IntakeSettings()
    detector = LanguageDetector(LanguageSettings())
    summarizer = ExtractiveSummarizer(BriefSettings())
    articles = fork_server.warm_up_articles(intake)
    languages = []
    for article in articles:
        taken, brief, _, _ = take_in_and_brief(
            article, Budget(3, 80, 3), intake, detector.analyse, summarizer
        )
        languages.append(taken.language.code)
        assert brief.summary
    assert {"en", "ms", "ko"} <= set(languages)
    assert any(a.html for a in articles)
    dump = [a.text for a in articles if a.text and a.text.count("\n") + 1 >= intake.page_dump_lines]
    assert dump, "no page dump: jusText's path is not warmed"


def test_the_warm_up_makes_the_stop_words_of_every_language_once() -> None:
    scraped._stopwords.cache_clear()
    fork_server.warm_up(LanguageSettings())
    assert scraped._stopwords.cache_info().currsize == 1


def test_a_failing_warm_up_is_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr("newsbrief.service.pipeline.stages.extractive.take_in_and_brief", broken)
    fork_server.warm_up(LanguageSettings())  # logged, not raised
