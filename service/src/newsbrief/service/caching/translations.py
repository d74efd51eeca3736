"""No text translated twice: identical texts of one batch go to the model once, and texts
translated before (same model, revision, engine, decoding, language pair) come from a bounded,
in-process LRU cache instead of the model.

:class:`TranslationCache` sits between the pipeline and any :class:`Translator`::

    translated = await cache.translate(translator, texts, source, target, deadline=deadline)
    translated.sent, translated.cached  # texts the model saw, texts the cache answered

What the model had to do to a text (split it, cut an over-long sentence, stop at the output
limit) comes per text from the translator; the cache keeps each text's notices with it and
repeats them on a hit, so a cut translation is never served without its notice.
Concurrent requests that miss on the same text both send it (no single-flight): the second one
just refreshes the entry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from newsbrief.service.caching.lru import ByteLRU, LruStats
from newsbrief.service.domain import ModelInfo, Notice
from newsbrief.service.models.protocols import Translated, Translator
from newsbrief.service.settings import TranslationCacheSettings

# A key: (tenant, model fingerprint, source, target, text); a value: (translation, its notices).
_Key = tuple[str, str, str, str, str]
_Value = tuple[str, tuple[Notice, ...]]


@dataclass(frozen=True)
class CachedBatch(Translated):
    """Translations in input order with each text's notices, and how the texts were served:
    ``sent`` distinct texts went to the model, ``cached`` distinct texts came from the cache
    (``len(self) - sent - cached`` were repeats within the batch)."""

    sent: int = 0
    cached: int = 0


@dataclass
class TranslationCacheStats(LruStats):
    """Counters since start (for metrics and tests); ``hits`` are distinct texts answered from
    the cache."""

    texts: int = 0  # texts asked for
    sent: int = 0  # texts sent to a model

    @property
    def repeats(self) -> int:
        """Texts answered by another text of their own batch."""
        return self.texts - self.sent - self.hits


def model_fingerprint(info: ModelInfo) -> str:
    """What identifies a model's output: id, revision, engine and decoding parameters."""
    return json.dumps(
        [info.id, info.revision, info.backend, [list(p) for p in info.parameters]],
        ensure_ascii=False,
        separators=(",", ":"),
    )


class TranslationCache:
    """Deduplicates every batch; with ``settings.enabled``, also remembers translations across
    batches, LRU-bounded by ``max_entries`` and ``max_bytes`` (UTF-8 bytes of text plus
    translation). Thread-safe."""

    def __init__(self, settings: TranslationCacheSettings) -> None:
        self.max_entries = settings.max_entries
        self.max_bytes = settings.max_bytes
        self.enabled = settings.enabled and settings.max_entries > 0 and settings.max_bytes > 0
        self.stats = TranslationCacheStats()
        self._lru: ByteLRU[_Key, _Value] = ByteLRU(
            settings.max_entries, settings.max_bytes, self.stats
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._lru)

    async def translate(
        self,
        translator: Translator,
        texts: Sequence[str],
        source: str,
        target: str,
        *,
        deadline: float | None = None,
        tenant: str = "",
    ) -> CachedBatch:
        """``translator.translate`` of ``texts``, with each distinct text not in the cache sent
        to it once (one batch, in first-seen order). Texts are remembered for ``tenant`` (the
        caller's key digest; "" when the cache is shared) and answered only to it."""
        fingerprint = model_fingerprint(translator.info)
        distinct = list(dict.fromkeys(texts))
        known = self._lookup([(tenant, fingerprint, source, target, t) for t in distinct])
        todo = [t for t in distinct if t not in known]
        if todo:
            translated = await translator.translate(todo, source, target, deadline=deadline)
            if len(translated) != len(todo):
                raise RuntimeError(
                    f"translator returned {len(translated)} texts for a batch of {len(todo)}"
                )
            fresh = {
                t: (out, notices)
                for t, out, notices in zip(
                    todo, translated.texts, translated.notices_per_text, strict=True
                )
            }
            self._store([((tenant, fingerprint, source, target, t), fresh[t]) for t in todo])
            known |= fresh
        with self._lock:
            self.stats.texts += len(texts)
            self.stats.sent += len(todo)
        return CachedBatch(
            [known[t][0] for t in texts],
            [known[t][1] for t in texts],
            sent=len(todo),
            cached=len(distinct) - len(todo),
        )

    def clear(self) -> None:
        self._lru.clear()

    def _lookup(self, keys: list[_Key]) -> dict[str, _Value]:
        if not self.enabled:
            return {}
        return {key[-1]: value for key, value in self._lru.get_many(keys).items()}

    def _store(self, items: list[tuple[_Key, _Value]]) -> None:
        if self.enabled:
            self._lru.put_many((key, value, _size(key, value)) for key, value in items)


def _size(key: _Key, value: _Value) -> int:
    return len(key[-1].encode("utf-8")) + len(value[0].encode("utf-8"))
