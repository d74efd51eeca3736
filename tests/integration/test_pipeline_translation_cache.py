"""The translation cache through the pipeline (its worker processes run): a brief's timings
count the texts asked, sent to the model and answered by the cache; the caches keep tenants apart
unless shared."""

from __future__ import annotations

import asyncio
from typing import Any

from newsbrief.service.domain import Article, BriefOptions
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.text.segment import split_sentences
from tests.conftest import make_settings
from tests.fakes import Recorder

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
