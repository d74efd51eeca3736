"""The translation stage: a brief, or editor-written texts, into each target language. Every
target language is one batch (so a name is rendered the same way in each field) and all targets
run side by side. A text repeated in a batch, or translated before by the same model, is not
sent to the model again (:class:`~newsbrief.service.caching.translations.TranslationCache`). Each
translation is checked for the numbers, dates and quoted names of its source, and what the model
had to do to a text is said for that text only.

The check (:func:`mismatches`) runs in a worker process (``run``), not on the event loop: it
costs about 2 s of CPU per million characters of source and translation (pure Python and
regular expressions holding the interpreter lock), and a Translate call may carry megabytes in
each of four languages. Handing its texts over costs about 1 ms per megabyte (pickling), and
about 1 ms in all for a brief, whose check itself takes under half a millisecond."""

from __future__ import annotations

import asyncio

from newsbrief.service.caching.translations import TranslationCache
from newsbrief.service.checks.preservation import missing_items
from newsbrief.service.domain import Brief, Notice, Translation
from newsbrief.service.models.protocols import Translated, Translator
from newsbrief.service.pipeline.stages import Runner
from newsbrief.service.text.segment import split_sentences

#: The translation counts a brief's timings carry: texts asked for, distinct texts sent to the
#: model, distinct texts answered by the translation cache, over all targets.
COUNTS = ("translate.texts", "translate.sent", "translate.cached")


async def translate_brief(
    cache: TranslationCache,
    translator: Translator,
    brief: Brief,
    source: str,
    targets: tuple[str, ...],
    deadline: float | None = None,
    tenant: str = "",
    *,
    run: Runner,
) -> tuple[list[Translation], list[Notice], dict[str, float]]:
    """Each target gets one batch holding headline, summary sentences and key points; returns
    the translations, their notices and the :data:`COUNTS`."""
    sentences = split_sentences(brief.summary, source) if brief.summary else []
    batch = [brief.headline, *sentences, *brief.key_points]
    labels = [
        "headline",
        *(["summary"] * len(sentences)),
        *(f"key point {i + 1}" for i in range(len(brief.key_points))),
    ]
    n = len(sentences)
    counts = dict.fromkeys(COUNTS, 0.0)

    async def one(target: str) -> tuple[Translation, list[Notice]]:
        if target == source:
            return Translation(target, brief), []
        texts, found = await _translate(
            cache, translator, batch, labels, source, target, deadline, tenant, run, counts
        )
        translated = Brief(
            headline=texts[0],
            summary=" ".join(texts[1 : 1 + n]),
            key_points=tuple(texts[1 + n :]),
        )
        return Translation(target, translated), found

    # every target language at once: each is its own batch key, so with two model workers
    # (inter_threads=2) Korean and Malay are translated side by side
    done = await asyncio.gather(*(one(t) for t in targets))
    return [t for t, _ in done], [w for _, ws in done for w in ws], counts


async def translate_texts(
    cache: TranslationCache,
    translator: Translator,
    texts: list[str],
    source: str,
    targets: tuple[str, ...],
    deadline: float | None = None,
    tenant: str = "",
    *,
    run: Runner,
) -> tuple[dict[str, list[str]], list[Notice]]:
    """Editor-written texts into each target language (labelled "text 1", "text 2", ...)."""
    labels = [f"text {i + 1}" for i in range(len(texts))]

    async def one(target: str) -> tuple[list[str], list[Notice]]:
        if target == source:
            return list(texts), []
        return await _translate(
            cache, translator, texts, labels, source, target, deadline, tenant, run
        )

    done = await asyncio.gather(*(one(t) for t in targets))
    out = {target: found for target, (found, _) in zip(targets, done, strict=True)}
    return out, [w for _, notices in done for w in notices]


async def _translate(
    cache: TranslationCache,
    translator: Translator,
    texts: list[str],
    labels: list[str],
    source: str,
    target: str,
    deadline: float | None,
    tenant: str,
    run: Runner,
    counts: dict[str, float] | None = None,
) -> tuple[list[str], list[Notice]]:
    translated = await cache.translate(
        translator, texts, source, target, deadline=deadline, tenant=tenant
    )
    if counts is not None:
        counts["translate.texts"] += len(texts)
        counts["translate.sent"] += translated.sent
        counts["translate.cached"] += translated.cached
    found = engine_notices(translated, labels, target)
    # the check in a worker process: CPU-bound, and a Translate call's texts may be long
    found.extend(
        await run(mismatches, texts, translated.texts, labels, source, target, deadline=deadline)
    )
    return translated.texts, found


def engine_notices(translated: Translated, labels: list[str], target: str) -> list[Notice]:
    """The translator's per-text notices as one notice per kind for this request: the texts it
    concerns, by their labels ("headline", "key point 2", "text 3"), then what happened."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for label, notices in zip(labels, translated.notices_per_text, strict=False):
        for notice in notices:
            which = grouped.setdefault((notice.code, notice.message), [])
            if label not in which:
                which.append(label)
    return [
        Notice(code, f"{', '.join(which)} ({target}): {message}")
        for (code, message), which in grouped.items()
    ]


def mismatches(
    sources: list[str], translations: list[str], labels: list[str], source: str, target: str
) -> list[Notice]:
    """One TRANSLATION_MISMATCH notice per target language listing the numbers, dates and
    quoted names of the source that its translation lacks."""
    missing: list[str] = []
    for text, translated, label in zip(sources, translations, labels, strict=False):
        missing.extend(
            f"{item} ({label})" for item in missing_items(text, translated, source, target)
        )
    if not missing:
        return []
    return [
        Notice(
            "TRANSLATION_MISMATCH",
            f"the {target} translation may have changed or dropped: {'; '.join(missing)}",
        )
    ]
