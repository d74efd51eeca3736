"""Admission control: bounded in-flight calls per method, per client connection and in all, and
a closed door while the server drains. Transport-free: the gRPC interceptor names the method
and the connection, and turns the errors raised here into statuses (with a RetryInfo delay).

Refusals are immediate (no hidden queue): a caller over a limit learns it at once and is told
when to retry, rather than waiting in a queue it cannot see.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass

from newsbrief.service.errors import NotReady, Overloaded
from newsbrief.service.settings import AdmissionSettings

log = logging.getLogger(__name__)


@dataclass
class Ticket:
    """One admitted call; ``release()`` it exactly once when the call ends."""

    admission: Admission
    method: str
    connection: str | None
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._release(self)


class Admission:
    """Counts calls in flight. ``limits`` maps a method name (``Summarize``...) to its limit;
    methods not in it are limited only by ``total``. ``per_connection`` bounds the calls of the
    methods in ``per_connection_methods`` open at once on one connection."""

    def __init__(
        self,
        limits: dict[str, int],
        *,
        total: int,
        per_connection: int,
        per_connection_methods: frozenset[str],
        retry_after_s: float,
        draining_retry_after_s: float,
    ) -> None:
        self.limits = dict(limits)
        self.total = total
        self.per_connection = per_connection
        self.per_connection_methods = per_connection_methods
        self.retry_after_s = retry_after_s
        self.draining_retry_after_s = draining_retry_after_s
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.by_connection: collections.Counter[str] = collections.Counter()
        self.refused: collections.Counter[str] = collections.Counter()
        self.draining = False
        #: set by drain(): open streams stop taking articles, answer those in flight and end
        self.closing = asyncio.Event()

    @classmethod
    def from_settings(cls, s: AdmissionSettings, *, total: int) -> Admission:
        return cls(
            {
                "Summarize": s.summarize,
                "Translate": s.translate,
                "SummarizeStream": s.summarize_stream,
                "GetServerInfo": s.server_info,
            },
            total=total,
            per_connection=s.streams_per_connection,
            per_connection_methods=frozenset({"SummarizeStream"}),
            retry_after_s=s.retry_after_s,
            draining_retry_after_s=s.draining_retry_after_s,
        )

    @property
    def in_flight_total(self) -> int:
        return sum(self.in_flight.values())

    def drain(self) -> None:
        """From now on new calls are refused with NotReady (UNAVAILABLE: retry elsewhere), and
        open streams are asked to wrap up (``closing``)."""
        self.draining = True
        self.closing.set()

    def closed_stream(self) -> NotReady:
        """The error that ends a stream wrapped up by drain(): its client reconnects and sends
        the articles not yet answered again."""
        return NotReady(
            "the server is shutting down: the articles sent and not answered were not taken; "
            "reconnect and send them again",
            retry_after_s=self.draining_retry_after_s,
        )

    async def wait_idle(self, within_s: float, poll_s: float = 0.05) -> bool:
        """Until no call is in flight (True) or ``within_s`` seconds passed (False)."""
        deadline = time.monotonic() + within_s
        while self.in_flight_total:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))
        return True

    def admit(self, method: str, connection: str | None = None) -> Ticket:
        """A ticket for one call, or NotReady (draining) / Overloaded (a limit is reached)."""
        if self.draining:
            self.refused["draining"] += 1
            raise NotReady(
                "the server is shutting down: retry (another replica will answer)",
                retry_after_s=self.draining_retry_after_s,
            )
        limit = self.limits.get(method)
        if limit is not None and self.in_flight[method] >= limit:
            self._refuse(method, f"{limit} {method} calls in flight")
        if self.in_flight_total >= self.total:
            self._refuse(method, f"{self.total} calls in flight")
        counted = connection if method in self.per_connection_methods else None
        if counted is not None and self.by_connection[counted] >= self.per_connection:
            self._refuse(method, f"{self.per_connection} {method} calls open on this connection")
        self.in_flight[method] += 1
        if counted is not None:
            self.by_connection[counted] += 1
        return Ticket(self, method, counted)

    def _refuse(self, method: str, what: str) -> None:
        self.refused[method] += 1
        raise Overloaded(
            f"server busy: {what} (the limit); retry after {self.retry_after_s:g} s",
            retry_after_s=self.retry_after_s,
        )

    def _release(self, ticket: Ticket) -> None:
        self.in_flight[ticket.method] -= 1
        if self.in_flight[ticket.method] <= 0:
            del self.in_flight[ticket.method]
        if ticket.connection is not None:
            self.by_connection[ticket.connection] -= 1
            if self.by_connection[ticket.connection] <= 0:
                del self.by_connection[ticket.connection]
