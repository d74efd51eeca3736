"""What the job runner and the webhook deliverer share: a loop that claims one piece of work at a
time from the store (with a lease, so one replica runs it) while a slot is free, runs each in its
own task, and with nothing to claim waits for :meth:`ClaimLoop.wake` or the poll interval."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from newsbrief.service.jobs.store import JobStore

W = TypeVar("W")


class ClaimLoop(Generic[W]):
    """Up to ``concurrency`` pieces of work at once. A subclass says how to claim one
    (:meth:`_claim`, None when there is none or the store failed) and starts its task
    (:meth:`_start`), which gives its slot back (``self._slots.release()``) when it ends."""

    def __init__(self, store: JobStore, *, concurrency: int, poll_s: float) -> None:
        self._store = store
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        #: the tasks of the work in flight
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for work now (some was just queued)."""
        self._wake.set()

    async def _claim(self) -> W | None:
        raise NotImplementedError

    def _start(self, work: W) -> asyncio.Task[None]:
        raise NotImplementedError

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            await self._slots.acquire()
            work = await self._claim()
            if work is None:
                self._slots.release()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)
                except TimeoutError:
                    pass
                continue
            task = self._start(work)
            self._running.add(task)
            task.add_done_callback(self._running.discard)
