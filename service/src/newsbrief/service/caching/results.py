"""Result cache: whole briefs of repeated requests, in process, LRU-bounded by entries and bytes.

The key (:func:`brief_key`) is a SHA-256 over everything that changes the output: the normalised
text (or the raw HTML: the page is not extracted again on a hit), the title, the given source
language, every option (length, sentence and word budgets, method, target languages in order, key
points, whether the article text is returned), the id, revision, engine, readiness and decoding
parameters of every model that may take part, and a fingerprint of the server's own brief and
language settings. What only echoes the request (``client_reference``) or measures it (timings) is
not in the key: on a hit those are the current request's, and ``cached`` is true. The caller's
tenant (its API key's digest) is in the key too, unless ``cache.shared_across_keys``: one key is
never told what another key submitted.

Entries are kept pickled: their size in bytes is exact, and every hit gets its own copy.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Sequence

from newsbrief.service.caching.lru import ByteLRU, LruStats
from newsbrief.service.domain import Article, BriefOptions, BriefResult, ModelInfo
from newsbrief.service.settings import CacheSettings
from newsbrief.service.text.normalize import normalize_text


def brief_key(
    article: Article,
    options: BriefOptions,
    *,
    targets: Sequence[str],
    models: Sequence[ModelInfo],
    salt: str = "",
    tenant: str = "",
) -> str:
    """The cache key of one brief request (after validation: canonical codes, targets), for
    ``tenant`` (the caller's key digest, "" when the cache is shared)."""
    if article.html is not None:
        kind, content = "html", article.html
    else:
        kind, content = "text", normalize_text(article.text or "")
    fields = {
        "kind": kind,
        "content": hashlib.sha256(content.encode("utf-8")).hexdigest(),
        "title": normalize_text(article.title),
        "source_language": article.source_language,
        "length": options.length.value if options.length is not None else "",
        "max_sentences": options.max_sentences,
        "max_words": options.max_words,
        "method": options.method.value,
        "targets": list(targets),
        "max_key_points": options.max_key_points,
        "include_article_text": options.include_article_text,
        "models": [
            [m.role, m.id, m.revision, m.backend, m.ready, [list(p) for p in m.parameters]]
            for m in models
        ],
        "salt": salt,
        "tenant": tenant,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


#: The result cache's counters (hits, misses, stores, evictions) and size.
CacheStats = LruStats


class ResultCache:
    """An LRU map from key to :class:`BriefResult`, bounded by ``max_entries`` and
    ``max_bytes`` (pickled size). Thread-safe."""

    def __init__(self, settings: CacheSettings) -> None:
        self.max_entries = settings.max_entries
        self.max_bytes = settings.max_bytes
        self.enabled = settings.enabled and settings.max_entries > 0 and settings.max_bytes > 0
        self._lru: ByteLRU[str, bytes] = ByteLRU(settings.max_entries, settings.max_bytes)
        self.stats = self._lru.stats

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def bytes(self) -> int:
        return self._lru.bytes

    def get(self, key: str) -> BriefResult | None:
        """A copy of the stored result (most recently used now), or None."""
        if not self.enabled:
            return None
        blob = self._lru.get(key)
        if blob is None:
            return None
        result = pickle.loads(blob)
        assert isinstance(result, BriefResult)
        return result

    def put(self, key: str, result: BriefResult) -> None:
        """Store ``result``; the least recently used entries go until both bounds hold. A
        result larger than ``max_bytes`` on its own is not stored."""
        if not self.enabled:
            return
        blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        self._lru.put(key, blob, len(blob))

    def clear(self) -> None:
        self._lru.clear()
