"""What the serving layer knows of one call, whatever door it came through."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class CallContext:
    """One admitted call: its method, the door it came through, the request id, the client
    connection, the caller (the digest of its API key, "" when the server needs no key) and its
    deadline (``time.monotonic()`` seconds; None only for a stream, whose articles are each
    bounded by ``max_call_s``)."""

    method: str
    transport: str
    request_id: str
    peer: str
    tenant: str
    deadline: float | None
    max_call_s: float

    def item_deadline(self) -> float:
        """The deadline of one article of a stream started now: the stream's own, or at most
        ``max_call_s`` from now."""
        bound = time.monotonic() + self.max_call_s
        return bound if self.deadline is None else min(self.deadline, bound)


@dataclass(frozen=True)
class Undecodable:
    """A request message whose bytes are not a valid message of its type: the service answers
    INVALID_ARGUMENT naming ``request`` (per item in a stream) rather than a transport's own
    error carrying a parser's exception text."""

    type_name: str
    error: str
