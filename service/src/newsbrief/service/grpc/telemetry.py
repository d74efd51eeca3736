"""The gRPC side of :mod:`newsbrief.service.observability.telemetry`: one interceptor that
records each RPC (in flight, latency, count by status code, quota rejections) and runs it
inside a SERVER span whose parent is the caller's ``traceparent`` metadata.

It sits inside :class:`~newsbrief.service.grpc.interceptors.RequestInterceptor`, so it sees the
domain errors before they become statuses and takes their code from the one error table
(``code_for``); it never reads the call's code or peer. Our own interceptor rather than
``opentelemetry-instrumentation-grpc``: that one learns a status only from ``context.abort`` /
``set_code`` on its context proxy, so errors turned into statuses by the outer interceptor
(``abort_with_status``) would leave its spans without a status code.
"""

from __future__ import annotations

from typing import Any

import grpc

from newsbrief.service.errors import QuotaExceeded
from newsbrief.service.grpc.interceptors import OPEN_SERVICES, HookedInterceptor, Hooks, _metadata
from newsbrief.service.observability.telemetry import Telemetry
from newsbrief.service.serving.status import code_for

TRANSPORT = "grpc"


def status_name(error: BaseException | None) -> str:
    """The status code an RPC that ended with ``error`` gets (by the domain error table)."""
    if error is None:
        return "OK"
    if isinstance(error, grpc.aio.AbortError):
        return "UNKNOWN"  # aborted by an inner handler with a code this wrapper cannot see
    if not isinstance(error, Exception):
        return "CANCELLED"
    return code_for(error).name


class TelemetryInterceptor(HookedInterceptor):
    """Metrics and a trace span per RPC (see the module docstring); health checks and
    reflection are counted but not traced (a probe every few seconds would flood the traces)."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def hooks(self, details: grpc.HandlerCallDetails, started: float) -> Hooks:
        method = details.method
        headers = _metadata(details)
        traced = not method.startswith(OPEN_SERVICES)  # probes and reflection: counted only
        calls: list[Any] = []

        async def before(context: Any) -> None:
            call = self._telemetry.request(TRANSPORT, method, headers, traced=traced)
            calls.append(call.__enter__())

        def after(error: BaseException | None) -> None:
            if not calls:
                return
            call = calls.pop()
            call.code = status_name(error)
            if isinstance(error, QuotaExceeded):
                self._telemetry.quota_rejected(TRANSPORT)
            call.__exit__(None, None, None)

        return Hooks(before, after=after)
