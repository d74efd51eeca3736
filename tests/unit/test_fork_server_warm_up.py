"""The fork server's warm-up of the stages: what they make at their first use is made there,
once, before any worker is forked (the workers share it), over articles that take every path of
the intake; never fatal."""

from __future__ import annotations

import sys

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


def _resident_kb(path: str) -> int:
    """Resident KiB of this process's read-only, never-copied mappings of ``path``."""
    total, current = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split()
            if not fields[0].endswith(":"):
                current = len(fields) >= 6 and fields[5] == path and fields[1] == "r--p"
            elif current and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc: Linux")
def test_the_pages_lingua_read_its_models_from_are_handed_back_and_detection_goes_on() -> None:
    """After loading the models, the fork server hands back the pages of lingua's library that
    held them compressed (clean file pages): most of what loading read is no longer resident,
    and detection still works (a page needed again is read back)."""
    import lingua.lingua

    library = lingua.lingua.__file__
    detector = LanguageDetector(LanguageSettings())  # loads the models: reads the library
    loaded = _resident_kb(library)
    assert loaded > 4096, f"only {loaded} KiB of {library} resident after loading the models"
    assert fork_server.page_out(library) > 0
    assert _resident_kb(library) < loaded / 2
    text = "The city council approved a new park on Tuesday after a long debate."
    assert detector.detect(text).code == "en"
