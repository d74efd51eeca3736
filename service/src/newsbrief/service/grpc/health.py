"""grpc.health.v1 with ``List`` and with ``Watch`` streams that end when the server stops.

grpcio-health-checking's asyncio servicer leaves ``List`` to the generated base class, which
raises (INTERNAL with a traceback on every call), and its ``Watch`` waits forever, so each open
watch holds the server's stop for the whole grace period.
"""

from __future__ import annotations

import asyncio
from typing import Any

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio


class HealthServicer(health_aio.HealthServicer):
    """The asyncio health servicer, plus ``List`` and ``close()`` (ends open watches)."""

    def __init__(self) -> None:
        super().__init__()
        self._closed = asyncio.Event()

    async def List(
        self, request: health_pb2.HealthListRequest, context: Any
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Any) -> None:
        watch = asyncio.ensure_future(super().Watch(request, context))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({watch, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            closed.cancel()
        if watch.done() and not watch.cancelled():
            watch.result()  # a failure of the watch itself

    def close(self) -> None:
        """End every open ``Watch`` (they have been sent NOT_SERVING by the graceful shutdown)."""
        self._closed.set()
