"""No text translated twice: repeats within a batch go to the model once, and the sentence-level
cache answers texts translated before by the same model (id, revision, engine, decoding) between
the same languages, LRU-bounded by entries and bytes; through the pipeline, a brief's timings
count the texts asked, sent to the model and answered by the cache."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from newsbrief.service.caching.translations import TranslationCache
from newsbrief.service.domain import Article, BriefOptions, ModelInfo, Notice
from newsbrief.service.models.protocols import Translated
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import TranslationCacheSettings
from newsbrief.service.text.segment import split_sentences
from tests.conftest import make_settings

INFO = ModelInfo(
    role="translator",
    id="facebook/m2m100_418M",
    revision="55c2e61",
    backend="ctranslate2",
    languages=("en", "ko", "ms"),
    parameters=(("num_beams", "4"),),
)


class Recorder:
    """A translator that upper-cases and records every batch it is sent; a text holding "!" gets
    ``notices``."""

    def __init__(self, info: ModelInfo = INFO, notices: tuple[Notice, ...] = ()) -> None:
        self._info = info
        self.notices = notices
        self.batches: list[list[str]] = []

    @property
    def info(self) -> ModelInfo:
        return self._info

    def supports(self, source: str, target: str) -> bool:
        return True

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        self.batches.append(list(texts))
        notices = [self.notices if "!" in t else () for t in texts]
        return Translated([f"{target}:{t.upper()}" for t in texts], notices)

    @property
    def sent(self) -> list[str]:
        return [t for b in self.batches for t in b]


def cache(**settings: Any) -> TranslationCache:
    return TranslationCache(TranslationCacheSettings(**settings))


def run(
    c: TranslationCache,
    translator: Recorder,
    texts: list[str],
    pair: tuple[str, str] = ("en", "ko"),
) -> Any:
    return asyncio.run(c.translate(translator, texts, *pair))


def test_repeats_in_one_batch_are_sent_once_and_answered_in_place() -> None:
    fake = Recorder()
    out = run(cache(enabled=False), fake, ["a.", "b.", "a.", "c.", "b."])
    assert fake.batches == [["a.", "b.", "c."]]
    assert out.texts == ["ko:A.", "ko:B.", "ko:A.", "ko:C.", "ko:B."]
    assert (out.sent, out.cached) == (3, 0)


def test_texts_seen_before_come_from_the_cache() -> None:
    fake, c = Recorder(), cache()
    run(c, fake, ["a.", "b."])
    out = run(c, fake, ["b.", "c.", "a."])
    assert fake.batches == [["a.", "b."], ["c."]]
    assert out.texts == ["ko:B.", "ko:C.", "ko:A."]
    assert (out.sent, out.cached) == (1, 2)
    assert (c.stats.texts, c.stats.sent, c.stats.hits, c.stats.repeats) == (5, 3, 2, 0)
    again = run(c, fake, ["a.", "a."])
    assert len(fake.batches) == 2  # nothing sent
    assert (again.sent, again.cached) == (0, 1)


def test_a_disabled_cache_sends_every_batch() -> None:
    fake, c = Recorder(), cache(enabled=False)
    run(c, fake, ["a."])
    run(c, fake, ["a."])
    assert fake.batches == [["a."], ["a."]]
    assert len(c) == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda: (dataclasses.replace(INFO, id="facebook/nllb-200-distilled-600M"), ("en", "ko")),
        lambda: (dataclasses.replace(INFO, revision="other"), ("en", "ko")),
        lambda: (dataclasses.replace(INFO, backend="transformers"), ("en", "ko")),
        lambda: (dataclasses.replace(INFO, parameters=(("num_beams", "1"),)), ("en", "ko")),
        lambda: (INFO, ("en", "ms")),
        lambda: (INFO, ("ms", "ko")),
    ],
    ids=["model", "revision", "engine", "decoding", "target", "source"],
)
def test_the_key_covers_model_revision_engine_decoding_and_pair(
    change: Callable[[], tuple[ModelInfo, tuple[str, str]]],
) -> None:
    c = cache()
    run(c, Recorder(), ["a."])
    info, pair = change()
    other = Recorder(info)
    out = run(c, other, ["a."], pair)
    assert other.batches == [["a."]]
    assert (out.sent, out.cached) == (1, 0)


def test_lru_bound_by_entries() -> None:
    fake, c = Recorder(), cache(max_entries=2)
    run(c, fake, ["a.", "b."])
    run(c, fake, ["a."])  # a. is now the most recently used
    run(c, fake, ["c."])  # evicts b.
    assert len(c) == 2 and c.stats.evictions == 1
    run(c, fake, ["a.", "b."])
    assert fake.batches[-1] == ["b."]


def test_lru_bound_by_bytes() -> None:
    fake, c = Recorder(), cache(max_bytes=40)
    run(c, fake, ["x" * 8, "y" * 8])  # 8 + 11 bytes each
    assert len(c) == 2 and c.stats.bytes == 38
    run(c, fake, ["z" * 8])
    assert len(c) == 2 and c.stats.bytes <= 40
    run(c, fake, ["w" * 30])  # larger than the whole cache on its own: not kept
    assert len(c) == 2 and c.stats.bytes <= 40


def test_a_hit_repeats_the_notices_of_its_own_text() -> None:
    cut = Notice("TRANSLATION_OUTPUT_TRUNCATED", "it reached the limit and may be incomplete")
    fake, c = Recorder(notices=(cut,)), cache()
    out = run(c, fake, ["a!", "b.", "a!"])
    assert out.notices_per_text == [(cut,), (), (cut,)]  # each text its own, repeats too
    fake.notices = ()
    hit = run(c, fake, ["b.", "a!"])
    assert fake.batches == [["a!", "b."]]  # not sent again ...
    assert hit.notices_per_text == [(), (cut,)]  # ... and not served without its notice


# ---- through the pipeline --------------------------------------------------------------------

ARTICLE = (
    "The council approved 1,250 homes on Tuesday. The plan will cost 45 million dollars. "
    "Mayor Lee said work starts in 2026. Residents welcomed the decision."
)


def briefs(fake: Recorder, articles: list[str], title: str = "", **options: Any) -> list[Any]:
    async def go() -> list[Any]:
        pipeline = Pipeline(make_settings(cache={"enabled": False}), translator=fake)
        await pipeline.start()
        try:
            return [
                await pipeline.brief(
                    Article(text=a, title=title, source_language="en"),
                    BriefOptions(target_languages=("ko", "ms"), **options),
                )
                for a in articles
            ]
        finally:
            pipeline.close()

    return asyncio.run(go())


def test_a_headline_that_is_a_summary_sentence_is_translated_once() -> None:
    fake = Recorder()
    first = ARTICLE.split(". ")[0] + "."
    (result,) = briefs(fake, [ARTICLE], title=first)
    brief = result.brief
    fields = [brief.headline, *split_sentences(brief.summary, "en"), *brief.key_points]
    assert brief.headline in fields[1:]  # the caller's title is also the first summary sentence
    distinct = len(set(fields))
    assert result.timings_ms["translate.texts"] == 2 * len(fields)  # ko and ms
    assert len(fake.sent) == result.timings_ms["translate.sent"] == 2 * distinct < 2 * len(fields)
    for translation in result.translations:  # every field still has its translation
        assert translation.brief.headline in translation.brief.summary


def test_a_repeated_brief_is_answered_by_the_translation_cache() -> None:
    fake = Recorder()
    first, second = briefs(fake, [ARTICLE, ARTICLE])
    assert not second.cached  # the result cache is off: the brief is made again
    sent_first = int(first.timings_ms["translate.sent"])
    assert len(fake.sent) == sent_first > 0
    assert second.timings_ms["translate.sent"] == 0
    assert second.timings_ms["translate.cached"] == sent_first
    assert second.translations == first.translations


def test_a_tenant_sees_only_its_own_translations() -> None:
    c, fake = cache(), Recorder()
    asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="a"))
    other = asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="b"))
    again = asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="a"))
    assert (other.sent, other.cached) == (1, 0)  # b is not told that a sent it
    assert (again.sent, again.cached) == (0, 1)
    assert fake.sent == ["Hello.", "Hello."]


def pipeline_runs(shared: bool, calls: list[tuple[str, str]]) -> tuple[Recorder, list[Any]]:
    """``calls`` of (kind, tenant), kind "brief" or "translate", through one Pipeline with both
    caches on; the fake translator and each call's result."""
    fake = Recorder()

    async def go() -> list[Any]:
        pipeline = Pipeline(make_settings(cache={"shared_across_keys": shared}), translator=fake)
        await pipeline.start()
        try:
            out: list[Any] = []
            for kind, tenant in calls:
                if kind == "brief":
                    article = Article(text=ARTICLE, source_language="en")
                    options = BriefOptions(target_languages=("ko",))
                    out.append(await pipeline.brief(article, options, tenant=tenant))
                else:
                    texts = ["The council met.", "Work starts in 2026."]
                    out.append(await pipeline.translate(texts, "en", ["ko"], tenant=tenant))
            return out
        finally:
            pipeline.close()

    return fake, asyncio.run(go())


def test_pipeline_caches_are_per_tenant_unless_shared() -> None:
    calls = [("brief", "a"), ("brief", "b"), ("brief", "a"), ("translate", "a"), ("translate", "b")]
    fake, (a1, b1, a2, _, _) = pipeline_runs(False, calls)
    assert not a1.cached and not b1.cached and a2.cached
    # b's brief was made and translated again: neither cache told it a's article was seen
    assert b1.timings_ms["translate.cached"] == 0
    assert b1.timings_ms["translate.sent"] == a1.timings_ms["translate.sent"] > 0
    assert fake.sent.count("Work starts in 2026.") == 2  # Translate: once per tenant

    fake, (a1, b1, a2, _, _) = pipeline_runs(True, calls)
    assert not a1.cached and b1.cached and a2.cached
    assert fake.sent.count("Work starts in 2026.") == 1
