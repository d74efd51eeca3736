"""No text translated twice: repeats within a batch go to the model once, and the sentence-level
cache answers texts translated before by the same model (id, revision, engine, decoding) between
the same languages, LRU-bounded by entries and bytes (through the pipeline:
tests/integration/test_pipeline_translation_cache.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from newsbrief.service.caching.translations import TranslationCache
from newsbrief.service.domain import ModelInfo, Notice
from newsbrief.service.settings import TranslationCacheSettings
from tests.fakes import INFO, Recorder


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


def test_a_tenant_sees_only_its_own_translations() -> None:
    c, fake = cache(), Recorder()
    asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="a"))
    other = asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="b"))
    again = asyncio.run(c.translate(fake, ["Hello."], "en", "ko", tenant="a"))
    assert (other.sent, other.cached) == (1, 0)  # b is not told that a sent it
    assert (again.sent, again.cached) == (0, 1)
    assert fake.sent == ["Hello.", "Hello."]
