"""Result cache: whole briefs of repeated requests, in process, LRU-bounded by entries and bytes.

The key (:func:`brief_key`) is a SHA-256 over everything that changes the output: the normalised
text (or the raw HTML: the page is not extracted again on a hit), the title, the given source
language, every option (length, sentence and word budgets, method, target languages in order, key
points, whether the article text is returned), the id, revision, engine, readiness and decoding
parameters of every model that may take part, and a fingerprint of the server's own brief and
language settings. What only echoes the request (``client_reference``) or measures it (timings) is
not in the key: on a hit those are the current request's, and ``cached`` is true.

Entries are kept pickled: their size in bytes is exact, and every hit gets its own copy.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

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
) -> str:
    """The cache key of one brief request (after validation: canonical codes, targets)."""
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
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0


class ResultCache:
    """An LRU map from key to :class:`BriefResult`, bounded by ``max_entries`` and
    ``max_bytes`` (pickled size). Thread-safe."""

    def __init__(self, settings: CacheSettings) -> None:
        self.max_entries = settings.max_entries
        self.max_bytes = settings.max_bytes
        self.enabled = settings.enabled and settings.max_entries > 0 and settings.max_bytes > 0
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._data)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: str) -> BriefResult | None:
        """A copy of the stored result (most recently used now), or None."""
        if not self.enabled:
            return None
        with self._lock:
            blob = self._data.get(key)
            if blob is None:
                self.stats.misses += 1
                return None
            self._data.move_to_end(key)
            self.stats.hits += 1
        result = pickle.loads(blob)
        assert isinstance(result, BriefResult)
        return result

    def put(self, key: str, result: BriefResult) -> None:
        """Store ``result``; the least recently used entries go until both bounds hold. A
        result larger than ``max_bytes`` on its own is not stored."""
        if not self.enabled:
            return
        blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        if len(blob) > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._data[key] = blob
            self._bytes += len(blob)
            self.stats.stores += 1
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._data.popitem(last=False)
                self._bytes -= len(evicted)
                self.stats.evictions += 1
            self.stats.entries = len(self._data)
            self.stats.bytes = self._bytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self.stats.entries = self.stats.bytes = 0
