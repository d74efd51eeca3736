"""One LRU map bounded by entries and by bytes, for the result cache and the translation cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class LruStats:
    """Counters since start, and the current size (for metrics and tests)."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0


class ByteLRU(Generic[K, V]):
    """A map from key to value holding at most ``max_entries`` entries and ``max_bytes`` bytes
    (each value's size is given when it is stored); the least recently used entries go first.
    A value larger than ``max_bytes`` on its own is not stored. Thread-safe."""

    def __init__(self, max_entries: int, max_bytes: int, stats: LruStats | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stats = stats if stats is not None else LruStats()
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: K) -> V | None:
        """The value (most recently used now), or None."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The values of the keys present (each most recently used now), under one lock."""
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                entry = self._data.get(key)
                if entry is None:
                    self.stats.misses += 1
                    continue
                self._data.move_to_end(key)
                self.stats.hits += 1
                found[key] = entry[0]
        return found

    def put(self, key: K, value: V, size: int) -> None:
        self.put_many([(key, value, size)])

    def put_many(self, items: Iterable[tuple[K, V, int]]) -> None:
        """Store each value with its size in bytes, then evict until both bounds hold."""
        with self._lock:
            for key, value, size in items:
                if size > self.max_bytes:
                    continue
                old = self._data.pop(key, None)
                if old is not None:
                    self._bytes -= old[1]
                self._data[key] = (value, size)
                self._bytes += size
                self.stats.stores += 1
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, size) = self._data.popitem(last=False)
                self._bytes -= size
                self.stats.evictions += 1
            self.stats.entries = len(self._data)
            self.stats.bytes = self._bytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self.stats.entries = self.stats.bytes = 0
