"""API keys, per-key quotas and request ids: the rules every front end (gRPC, HTTP) applies.

No transport imports here: the gRPC interceptors and the HTTP front end both call these and map
the domain errors they raise through the one error table.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import re
import time
import uuid

from newsbrief.service.errors import PermissionDenied, QuotaExceeded, Unauthenticated

log = logging.getLogger(__name__)

#: The default of ``logging.request_id_max_chars``.
REQUEST_ID_MAX_CHARS = 128
#: What a caller's request id may be made of: what any log, header or grpc metadata value
#: carries as it is (no space, no control character, ASCII only).
REQUEST_ID_CHARS = "A-Za-z0-9._:/+=@-"
_SAFE_ID = re.compile(f"[{REQUEST_ID_CHARS}]+")


def request_id(given: str | None, *, max_chars: int = REQUEST_ID_MAX_CHARS) -> str:
    """The caller's request id when it is 1 to ``max_chars`` characters of
    :data:`REQUEST_ID_CHARS`; otherwise a new one (32 hex digits). An id is never cut or
    cleaned: an id the caller would not recognise is worse than a new one, which the caller
    gets back in ``x-request-id``. A refused id is logged at DEBUG only, escaped and cut to 64
    characters, once per call: at INFO any client could double the log's volume with it."""
    if given and len(given) <= max_chars and _SAFE_ID.fullmatch(given):
        return given
    made = uuid.uuid4().hex
    if given:
        log.debug(
            "request id %s refused (not 1-%d of [%s]): %s",
            ascii(given[:64]),
            max_chars,
            REQUEST_ID_CHARS,
            made,
        )
    return made


class MinuteQuota:
    """Requests per key in a sliding window, a minute by default (bounded: one deque per
    configured key, at most ``per_minute`` entries each)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._seen: dict[str, collections.deque[float]] = {}

    def take(self, key_hash: str) -> float:
        """0.0 when the request fits (and is counted); otherwise the seconds until it would."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        window = self._seen.setdefault(key_hash, collections.deque())
        while window and now - window[0] >= self.window_s:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(self.window_s - (now - window[0]), 0.001)
        window.append(now)
        return 0.0


class ApiKeys:
    """Accepted keys, stored as SHA-256 hex digests and compared in constant time, with a
    per-key request quota. ``check`` raises Unauthenticated (no key), PermissionDenied (unknown
    key) or QuotaExceeded (with the seconds until the key may call again)."""

    def __init__(
        self, key_hashes: list[str], *, requests_per_minute: int = 0, window_s: float = 60.0
    ) -> None:
        self._hashes = [h.strip().lower() for h in key_hashes if h.strip()]
        self._quota = MinuteQuota(requests_per_minute, window_s)

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def check(self, key: str, *, how_to_send: str) -> None:
        """Authenticate ``key`` and count one request against its quota."""
        self.take(self.authenticate(key, how_to_send=how_to_send))

    def authenticate(self, key: str, *, how_to_send: str) -> str:
        """The key's digest, or Unauthenticated / PermissionDenied."""
        if not key:
            raise Unauthenticated(f"missing API key: send it {how_to_send}")
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if not any(hmac.compare_digest(digest, h) for h in self._hashes):
            raise PermissionDenied("the API key is not valid for this server")
        return digest

    def take(self, digest: str) -> None:
        """Count one unit (a call, or one article of a stream) against the key's quota, or
        raise QuotaExceeded with the seconds until a unit frees up."""
        wait = self._quota.take(digest)
        if wait:
            window = self._quota.window_s
            raise QuotaExceeded(
                f"api-key:{digest[:12]}",
                f"quota of {self._quota.per_minute} per {window:g} s exceeded for this key "
                f"(calls count one, stream articles one each); retry after {wait:.1f} s",
                retry_after_s=wait,
            )
