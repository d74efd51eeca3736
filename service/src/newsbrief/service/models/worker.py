"""One model on its own worker thread: the lifecycle every engine shares, by composition.

A :class:`ModelWorker` owns one thread. ``await start()`` runs the engine's ``load`` function
there (the model is loaded, checked and warmed up off the event loop) and keeps the result:
the loaded engine and its :class:`~newsbrief.service.domain.ModelInfo`. A model that cannot load
leaves the worker not ready, with the reason in ``info.detail``; the server stays up.
``await call(fn, ...)`` runs a blocking call on the thread (the request id follows into its log
lines) and stops waiting at the caller's deadline.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Generic, TypeVar

from newsbrief.service.domain import ModelInfo
from newsbrief.service.errors import CapabilityUnavailable, DeadlineExceeded

log = logging.getLogger(__name__)

E = TypeVar("E")
T = TypeVar("T")


class ModelUnavailable(RuntimeError):
    """Raised by a ``load`` function for a model that cannot run here for a known reason (not
    installed, an extra missing): the message says why and how to fix it."""


class ModelWorker(Generic[E]):
    """A model's thread, its loaded engine and its readiness.

    ``load`` (blocking, run on the thread) returns the engine and the model's info once loaded,
    or raises :class:`ModelUnavailable` (logged as a warning) or any other error (logged with its
    traceback); either way the worker stays not ready with the reason.
    """

    def __init__(
        self,
        info: ModelInfo,
        load: Callable[[], tuple[E, ModelInfo]],
    ) -> None:
        self._info = replace(info, ready=False, detail=info.detail or f"{info.id} is loading")
        self._load = load
        self._engine: E | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"newsbrief-{info.role}"
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def detail(self) -> str:
        """Why the model is not ready ("" when it is)."""
        return self._info.detail

    @property
    def engine(self) -> E:
        """The loaded engine; FAILED_PRECONDITION with the reason while there is none."""
        if self._engine is None:
            raise CapabilityUnavailable(
                "translate" if self._info.role == "translator" else "summarize.abstractive",
                f"the {self._info.role} is not available: {self._info.detail}",
            )
        return self._engine

    async def start(self) -> None:
        """Load the model on the thread; never raises for a model that cannot load."""
        started = time.monotonic()
        try:
            engine, info = await self.call(self._load)
        except ModelUnavailable as exc:
            self._not_ready(str(exc))
            return
        except Exception as exc:
            log.exception("%s %s failed to load", self._info.role, self._info.id)
            self._not_ready(f"{self._info.id} failed to load: {exc}")
            return
        self._engine = engine
        self._info = replace(info, ready=True, detail="")
        log.info(
            "%s %s ready in %.1f s", self._info.role, self._info.id, time.monotonic() - started
        )

    def _not_ready(self, detail: str) -> None:
        self._info = replace(self._info, ready=False, detail=detail)
        log.warning("%s %s is not available: %s", self._info.role, self._info.id, detail)

    async def call(self, fn: Callable[..., T], *args: object, deadline: float | None = None) -> T:
        """``fn(*args)`` on the model's thread. A call not started by ``deadline``
        (``time.monotonic()`` seconds) is not made, and the caller stops waiting there."""
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded(f"the deadline passed before the {self._info.role} was called")
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id follows into the worker's logs
        future = loop.run_in_executor(self._executor, context.run, fn, *args)
        if deadline is None:
            return await future
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await future
        except TimeoutError:
            raise DeadlineExceeded(
                f"the deadline passed while waiting for the {self._info.role}"
            ) from None

    def close(self) -> None:
        """Stop the thread (queued calls are cancelled; a running one finishes on its own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
