"""The one call policy of both doors: API keys, the per-key quota (counted once whatever the
door, once per unary call and once per article of a stream), admission (in-flight limits per
method and in all, streams per connection, draining), and each call's deadline (the caller's,
bounded by ``max_call_seconds``).

A door calls :meth:`CallPolicy.begin` with what it read from the request's headers — before it
reads, inflates or parses a body — and releases the returned :class:`Call` when the call ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.admission import Admission, Ticket
from newsbrief.service.serving.context import CallContext
from newsbrief.service.settings import Settings

#: The methods whose requests are a stream of articles (the quota counts each article).
STREAMING = frozenset({"SummarizeStream"})


@dataclass
class Call:
    """An admitted call: its context and its admission ticket (released once, by ``end``)."""

    context: CallContext
    ticket: Ticket | None = field(default=None, repr=False)

    def end(self) -> None:
        if self.ticket is not None:
            self.ticket.release()
            self.ticket = None

    def __enter__(self) -> Call:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()


class CallPolicy:
    """Keys, quotas and admission, one instance per server, shared by the gRPC and the HTTP
    door (so a key's quota and the in-flight limits count calls of both together)."""

    def __init__(self, settings: Settings) -> None:
        auth = settings.auth
        self.keys = ApiKeys(
            auth.api_key_hashes,
            requests_per_minute=auth.replica_requests_per_minute,
            window_s=auth.quota_window_s,
        )
        self.admission = Admission.from_settings(
            settings.admission, total=settings.max_concurrent_rpcs
        )
        self.max_call_s = settings.max_call_seconds
        self.stream_idle_s = settings.admission.stream_idle_timeout_s
        self.stream_concurrency = settings.stream_concurrency

    def authenticate(self, key: str, *, how_to_send: str) -> str:
        """The caller's tenant (its key's digest; "" when the server needs no key), or
        Unauthenticated / PermissionDenied."""
        if not self.keys.enabled:
            return ""
        return self.keys.authenticate(key, how_to_send=how_to_send)

    def begin(
        self,
        method: str,
        *,
        transport: str,
        key: str,
        how_to_send: str,
        peer: str,
        request_id: str,
        timeout_s: float | None,
    ) -> Call:
        """Admit one call, or raise the domain error that refuses it: Unauthenticated,
        PermissionDenied (key), NotReady (draining), Overloaded (a limit), QuotaExceeded (a
        unary call over its key's quota; a stream's articles are counted by :meth:`take`)."""
        tenant = self.authenticate(key, how_to_send=how_to_send)
        ticket = self.admission.admit(method, peer)
        try:
            if method not in STREAMING:
                self.take(tenant)
        except BaseException:
            ticket.release()
            raise
        now = time.monotonic()
        if method in STREAMING:
            deadline = None if timeout_s is None else now + timeout_s
        else:
            limit = self.max_call_s if timeout_s is None else min(timeout_s, self.max_call_s)
            deadline = now + limit
        context = CallContext(
            method=method,
            transport=transport,
            request_id=request_id,
            peer=peer,
            tenant=tenant,
            deadline=deadline,
            max_call_s=self.max_call_s,
        )
        return Call(context, ticket)

    def take(self, tenant: str) -> None:
        """Count one unit of ``tenant``'s quota (QuotaExceeded when it is spent)."""
        if self.keys.enabled:
            self.keys.take(tenant)
