"""The CPU-bound pipeline stages in worker processes.

Why processes and not threads: the stages (HTML parsing in lxml and trafilatura, the regular
expressions of the scraped-text cleaner and the segmenter, lingua's language detection, the
extractive brief) are long calls into C or Rust that hold the GIL throughout. On a
100,000-character input single calls held it for 370 ms (an intake regex), 236 ms (the
segmenter) and 111 ms (lingua); on worker threads every such hold stalls the event loop that
answers every RPC, health included. Bounding each call (chunked regexes, a shorter switch
interval) cannot reach third-party C code and breaks again with each new stage; a worker process
has its own GIL, so the event loop's latency no longer depends on what the input is.

Each worker process runs one call at a time, driven by one thread of this process that waits for
the answer without holding the GIL. A worker that dies (killed, out of memory, a crash in native
code) fails only the call it was running, with :class:`~newsbrief.service.errors.WorkerLost`
(UNAVAILABLE, retryable), and a new process takes its place. Workers start with ``forkserver``
(``spawn`` where that is missing), never by forking this process, whose gRPC threads must not be
forked. Each worker holds its own language models (about 170 MB resident) and loads them at
start (a second or two of CPU). As with any use of ``multiprocessing``, a script that builds a
pipeline itself must guard its entry point (``if __name__ == "__main__":``): each worker imports
the script's main module again (``newsbrief-server`` and ``python -m newsbrief.service`` do).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import TypeVar

from newsbrief.service.errors import WorkerLost
from newsbrief.service.pipeline.extractive import ExtractiveSummarizer
from newsbrief.service.pipeline.language import LanguageDetector
from newsbrief.service.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerState:
    """What the stages of one worker process share: the settings and the language models."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detector = LanguageDetector(settings.language)
        self.summarizer = ExtractiveSummarizer(settings.brief)


_state: WorkerState | None = None


def _initialize(settings: Settings) -> None:
    global _state
    _state = WorkerState(settings)


def state() -> WorkerState:
    """The state of this worker process (call only in a function run by :meth:`Workers.run`)."""
    if _state is None:
        raise RuntimeError("not in a pipeline worker process")
    return _state


def _pid() -> int:
    state()
    return os.getpid()


def _context() -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        # the fork server imports the stages (lingua, lxml, trafilatura) once for all workers.
        # It does not load the language models: lingua's loading starts threads (rayon), and a
        # process forked after that deadlocks in its first detection.
        context.set_forkserver_preload([__name__])
    return context


class Workers:
    """``size`` worker processes for the CPU-bound stages. Thread-safe; usable from any event
    loop."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.size = settings.workers
        self._context = _context()
        self._lock = threading.Lock()
        self._closed = False
        self._processes: list[ProcessPoolExecutor] = []
        self._booted: dict[ProcessPoolExecutor, Future[int]] = {}  # each one's process id
        self._free: queue.SimpleQueue[ProcessPoolExecutor] = queue.SimpleQueue()
        for _ in range(self.size):
            self._free.put(self._new_process())
        # one thread per process: it hands a call over and waits for the answer (GIL released)
        self._drivers = ThreadPoolExecutor(
            max_workers=self.size, thread_name_prefix="newsbrief-cpu"
        )

    def _new_process(self) -> ProcessPoolExecutor:
        process = ProcessPoolExecutor(
            1, mp_context=self._context, initializer=_initialize, initargs=(self._settings,)
        )
        with self._lock:
            self._processes.append(process)
        return process

    async def start(self) -> list[int]:
        """Start every worker and wait until each has loaded its models; their process ids."""
        with self._lock:
            processes = list(self._processes)
        booted = [self._boot(p) for p in processes]
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in booted)))

    def _boot(self, process: ProcessPoolExecutor) -> Future[int]:
        """Start ``process`` now (it loads its models) rather than at its first call."""
        future = process.submit(_pid)
        with self._lock:
            self._booted[process] = future
        return future

    async def run(self, fn: Callable[..., T], /, *args: object) -> T:
        """``fn(*args)`` in a worker process: ``fn`` a module-level function, its arguments and
        result picklable; it finds the worker's models with :func:`state`. Waits while every
        worker is busy; a caller cancelled while waiting runs nothing."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id in this process's log lines
        return await loop.run_in_executor(self._drivers, context.run, self._call, fn, *args)

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        process = self._free.get()
        try:
            try:
                future = process.submit(fn, *args)
            except BrokenProcessPool:  # it died while idle: this call never reached it
                process = self._replace(process)
                future = process.submit(fn, *args)
            return future.result()
        except BrokenProcessPool as exc:
            process = self._replace(process)
            raise WorkerLost(
                "the worker process working on this request stopped unexpectedly and has been "
                "replaced; retry the request"
            ) from exc
        finally:
            self._free.put(process)

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        log.error("a pipeline worker process died; starting a new one")
        broken.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._processes.remove(broken)
            self._booted.pop(broken, None)
        process = self._new_process()
        if not self._closed:
            self._boot(process)  # loads its models now, not in the next request's time
        return process

    def pids(self) -> list[int]:
        """Process ids of the workers started and ready now."""
        with self._lock:
            booted = list(self._booted.values())
        return [f.result() for f in booted if f.done() and f.exception() is None]

    def close(self) -> None:
        """Stop the workers (a call running finishes first, in the background)."""
        self._closed = True
        self._drivers.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            process.shutdown(wait=False, cancel_futures=True)
