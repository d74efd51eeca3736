"""The result cache: the key covers every option and model that changes the output, LRU eviction
by entries and by bytes (hits through the pipeline and over gRPC set ``cached``:
tests/integration/test_pipeline_cache.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from newsbrief.service.caching.results import ResultCache, brief_key
from newsbrief.service.domain import (
    Article,
    Brief,
    BriefOptions,
    BriefResult,
    DetectedLanguage,
    Faithfulness,
    LengthPreset,
    Method,
    ModelInfo,
)
from newsbrief.service.settings import CacheSettings

TEXT = (
    "The council approved a new park on Tuesday. It will cost 45 million dollars, said mayor "
    "Lee. Residents welcomed the plan, which includes trees, paths and a playground."
)
ARTICLE = Article(text=TEXT, title="Park approved", source_language="en")
OPTIONS = BriefOptions(target_languages=("ko",))
TRANSLATOR = ModelInfo(
    role="translator",
    id="facebook/m2m100_418M",
    revision="55c2e61",
    backend="ctranslate2",
    parameters=(("num_beams", "4"),),
)
MODELS = (ModelInfo(role="summarizer", id="extractive", revision="0.1.0"), TRANSLATOR)


def key(
    article: Article = ARTICLE,
    options: BriefOptions = OPTIONS,
    models: tuple[ModelInfo, ...] = MODELS,
    salt: str = "settings",
) -> str:
    return brief_key(article, options, targets=options.target_languages, models=models, salt=salt)


def _model(**change: Any) -> tuple[ModelInfo, ...]:
    return (MODELS[0], dataclasses.replace(TRANSLATOR, **change))


# One variant per input that changes the output; each differs from the base in that one thing.
VARIANTS: dict[str, dict[str, Any]] = {
    "text": {"article": dataclasses.replace(ARTICLE, text=TEXT + " More.")},
    "html instead of text": {"article": dataclasses.replace(ARTICLE, text=None, html=TEXT)},
    "title": {"article": dataclasses.replace(ARTICLE, title="Park rejected")},
    "no title": {"article": dataclasses.replace(ARTICLE, title="")},
    "source_language": {"article": dataclasses.replace(ARTICLE, source_language="ms")},
    "detect language": {"article": dataclasses.replace(ARTICLE, source_language="")},
    "length": {"options": dataclasses.replace(OPTIONS, length=LengthPreset.SHORT)},
    "max_sentences": {"options": dataclasses.replace(OPTIONS, max_sentences=2)},
    "max_words": {"options": dataclasses.replace(OPTIONS, max_words=40)},
    "method": {"options": dataclasses.replace(OPTIONS, method=Method.EXTRACTIVE)},
    "targets": {"options": dataclasses.replace(OPTIONS, target_languages=("ms",))},
    "more targets": {"options": dataclasses.replace(OPTIONS, target_languages=("ko", "ms"))},
    "no targets": {"options": dataclasses.replace(OPTIONS, target_languages=())},
    "key points": {"options": dataclasses.replace(OPTIONS, max_key_points=5)},
    "model id": {"models": _model(id="facebook/nllb-200-distilled-600M")},
    "model revision": {"models": _model(revision="0000000")},
    "engine": {"models": _model(backend="transformers")},
    "model readiness": {"models": _model(ready=False)},
    "decoding": {"models": _model(parameters=(("num_beams", "1"),))},
    "no translator": {"models": MODELS[:1]},
    "server settings": {"salt": "other settings"},
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_inputs_differing_in_one_option_never_share_an_entry(name: str) -> None:
    assert key(**VARIANTS[name]) != key()


def test_target_order_matters_and_everything_else_is_one_key() -> None:
    ko_ms = dataclasses.replace(OPTIONS, target_languages=("ko", "ms"))
    ms_ko = dataclasses.replace(OPTIONS, target_languages=("ms", "ko"))
    assert key(options=ko_ms) != key(options=ms_ko)  # translations come back in that order
    all_keys = {key(**v) for v in VARIANTS.values()} | {key()}
    assert len(all_keys) == len(VARIANTS) + 1


def test_what_does_not_change_the_output_shares_the_entry() -> None:
    assert key(dataclasses.replace(ARTICLE, client_reference="cms-42")) == key()
    # the same text, normalised: NFD vs NFC, CRLF, trailing spaces
    messy = TEXT.replace(". ", ".  ") + "  \r\n"
    assert key(dataclasses.replace(ARTICLE, text=messy)) == key()
    cafe = dataclasses.replace(ARTICLE, text="Cafe\u0301 opens. " + TEXT)
    assert key(cafe) == key(dataclasses.replace(ARTICLE, text="Caf\u00e9 opens. " + TEXT))


def _result(summary: str) -> BriefResult:
    return BriefResult(
        brief=Brief(headline="h", summary=summary),
        language=DetectedLanguage("en", 1.0),
        method="extractive",
        faithfulness=Faithfulness(True),
    )


def test_lru_eviction_by_entries() -> None:
    cache = ResultCache(CacheSettings(max_entries=2))
    cache.put("a", _result("A"))
    cache.put("b", _result("B"))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", _result("C"))
    assert cache.get("b") is None and len(cache) == 2
    assert [cache.get(k).brief.summary for k in ("a", "c")] == ["A", "C"]  # type: ignore[union-attr]
    assert cache.stats.evictions == 1


def test_lru_eviction_by_bytes() -> None:
    size = len(__import__("pickle").dumps(_result("x" * 1000)))
    cache = ResultCache(CacheSettings(max_entries=100, max_bytes=int(size * 2.5)))
    for k in "abc":
        cache.put(k, _result(k * 1000))
    assert cache.get("a") is None and len(cache) == 2
    assert cache.bytes <= cache.max_bytes
    cache.put("huge", _result("y" * 10 * size))  # larger than the whole cache: not stored
    assert cache.get("huge") is None and len(cache) == 2


def test_hits_are_copies_and_a_disabled_cache_keeps_nothing() -> None:
    cache = ResultCache(CacheSettings())
    cache.put("k", _result("S"))
    first = cache.get("k")
    assert first is not None
    first.warnings.append("mutated")  # type: ignore[arg-type]
    again = cache.get("k")
    assert again is not None and again.warnings == []
    off = ResultCache(CacheSettings(enabled=False))
    off.put("k", _result("S"))
    assert off.get("k") is None


def test_the_tenant_is_in_the_key() -> None:
    base = key()
    assert brief_key(ARTICLE, OPTIONS, targets=("ko",), models=MODELS, salt="settings") == base
    scoped = brief_key(
        ARTICLE, OPTIONS, targets=("ko",), models=MODELS, salt="settings", tenant="a" * 64
    )
    other = brief_key(
        ARTICLE, OPTIONS, targets=("ko",), models=MODELS, salt="settings", tenant="b" * 64
    )
    assert len({base, scoped, other}) == 3
