"""No text translated twice, on a real server with the tiny M2M100 checkpoint: the texts that
reach the model's engine per brief, before (every field of the brief, per target language) and
after (each distinct text once; none for sentences the translation cache has seen)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbrief.client import Client
from newsbrief.service.models.hf.translate import HFTranslationEngine
from newsbrief.service.text.segment import split_sentences
from tests.conftest import RunningServer, make_settings
from tests.model.conftest import tiny_translator_settings

ARTICLE = (
    "The council approved 1,250 homes on Tuesday. The plan will cost 45 million dollars. "
    "Mayor Lee said work starts in 2026. Residents welcomed the decision."
)
UPDATED = ARTICLE + " A second vote is due in May."
HEADLINE = "The council approved 1,250 homes on Tuesday."


class EngineTexts:
    """Every text handed to the engine's ``translate_batch`` (the model's own entry point)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._lock = threading.Lock()

    def take(self) -> list[str]:
        with self._lock:
            taken, self.texts = self.texts, []
        return taken


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> EngineTexts:
    record = EngineTexts()
    original = HFTranslationEngine.translate_batch

    def translate_batch(self, texts, source, target):  # type: ignore[no-untyped-def]
        with record._lock:
            record.texts.extend(texts)
        return original(self, texts, source, target)

    monkeypatch.setattr(HFTranslationEngine, "translate_batch", translate_batch)
    return record


def _server(checkpoint: Path, translations_cache: bool) -> RunningServer:
    return RunningServer(
        make_settings(
            models=tiny_translator_settings(checkpoint),
            cache={"enabled": False, "translations": {"enabled": translations_cache}},
        )
    )


@pytest.fixture
def server(m2m100_checkpoint: Path, seen: EngineTexts) -> Iterator[RunningServer]:
    with _server(m2m100_checkpoint, translations_cache=True) as running:
        seen.take()  # the warm-up
        yield running


def _fields(result) -> list[str]:  # type: ignore[no-untyped-def]
    brief = result.brief
    return [brief.headline, *split_sentences(brief.summary, "en"), *brief.key_points]


def test_a_brief_sends_each_distinct_text_once_per_language(
    server: RunningServer, seen: EngineTexts
) -> None:
    with Client(server.target, timeout=120) as client:
        result = client.summarize(
            ARTICLE, title=HEADLINE, target_languages=["ko", "ms"], source_language="en"
        )
    fields = _fields(result)
    sent = seen.take()
    before, after = 2 * len(fields), 2 * len(set(fields))
    assert after < before  # the caller's title is also the first summary sentence
    assert len(sent) == after and sorted(set(sent)) == sorted(set(fields))
    stages = result.timings.stages_ms
    assert (stages["translate.texts"], stages["translate.sent"]) == (before, after)
    assert stages["translate.cached"] == 0


def test_an_updated_article_only_sends_its_new_sentences(
    server: RunningServer, seen: EngineTexts
) -> None:
    with Client(server.target, timeout=120) as client:
        first = client.summarize(ARTICLE, target_languages=["ko"], source_language="en")
        seen.take()
        again = client.summarize(ARTICLE, target_languages=["ko"], source_language="en")
        assert not again.cached  # the result cache is off: the brief is made again
        assert seen.take() == []  # ... but every sentence of it was translated before
        assert again.timings.stages_ms["translate.cached"] == len(set(_fields(first)))
        assert again.translations == first.translations
        updated = client.summarize(UPDATED, target_languages=["ko"], source_language="en")
    new = set(_fields(updated)) - set(_fields(first))
    assert sorted(seen.take()) == sorted(new)


def test_with_the_cache_off_a_repeated_brief_is_translated_again(
    m2m100_checkpoint: Path, seen: EngineTexts
) -> None:
    with _server(m2m100_checkpoint, translations_cache=False) as running:
        seen.take()
        with Client(running.target, timeout=120) as client:
            one = client.summarize(ARTICLE, target_languages=["ko"], source_language="en")
            two = client.summarize(ARTICLE, target_languages=["ko"], source_language="en")
    distinct = len(set(_fields(one)))
    assert len(seen.take()) == 2 * distinct
    assert two.timings.stages_ms["translate.sent"] == distinct
    assert two.timings.stages_ms["translate.cached"] == 0
