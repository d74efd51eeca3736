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
(UNAVAILABLE, retryable), and a new process takes its place. A call still running when its
deadline has passed by ``workers_kill_grace_s`` is stopped: its worker process is killed and
replaced (the new one loads its models in the background) and the caller gets
:class:`~newsbrief.service.errors.DeadlineExceeded`, so a hostile input or a stage hung in native
code holds a worker no longer than its caller's deadline; a call without a deadline is bounded
by ``max_call_seconds``. A call whose deadline passes while it waits for a free worker never
runs, nor does one whose caller is cancelled while it waits.

The workers and their fork server never outlive the server, however it ends (SIGKILL
included). Each worker watches the server and exits when it is gone (:func:`_watch_server`),
and asks Linux to kill it when its parent, the fork server, dies (``PR_SET_PDEATHSIG``: this
reaches a worker stuck in native code, where no thread of its own can run); the fork server
exits when the server is gone (:mod:`.orphans`).

Workers start with ``forkserver`` (``spawn`` where that is missing), never by forking this process,
whose gRPC threads must not be forked. The fork server loads the language models (about 130 MB
resident, a second or two of CPU) before it forks the first worker, and every worker shares them
copy-on-write (:mod:`.shared_models`; ``workers_share_models``); with ``spawn``, or with that
setting off, each worker loads its own at start; with ``language_models_at_start`` off none is
loaded until a call without a source language needs one, then by each worker for itself. As with
any use of ``multiprocessing``, a script that builds a pipeline itself must guard its entry point
(``if __name__ == "__main__":``): each worker imports the script's main module again
(``newsbrief-server`` and ``python -m newsbrief.service`` do).
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import TypeVar

from newsbrief.service.errors import DeadlineExceeded, WorkerLost
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.pipeline import shared_models
from newsbrief.service.settings import Settings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer

log = logging.getLogger(__name__)
T = TypeVar("T")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class WorkerState:
    """What the stages of one worker process share: the settings and the language models."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # models loaded by the fork server are shared with it (and the other workers)
        # language_models_at_start off: lingua loads a model when a text first needs it
        self.detector = LanguageDetector(
            settings.language,
            preload=settings.language_models_at_start
            and not shared_models.shared(settings.language),
        )
        self.summarizer = ExtractiveSummarizer(settings.brief)


_state: WorkerState | None = None


def die_with_parent() -> None:
    """Ask Linux to kill this process (SIGKILL: it may be in native code) when its parent
    process dies; nothing elsewhere. Note that Linux means the parent *thread*: call it only in
    a process started by a thread that lives as long as its process."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except (OSError, AttributeError) as exc:  # no libc with prctl here
        log.warning("prctl(PR_SET_PDEATHSIG) unavailable: %s", exc)


def _watch_server() -> None:
    """In a worker: exit as soon as the server that asked for this worker is gone. Its end of
    a pipe to this process closes when it dies, however it dies (:func:`die_with_parent` covers
    a worker stuck in native code holding the interpreter lock, where this thread cannot run)."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        while not multiprocessing.connection.wait([sentinel], timeout=60.0):
            pass
        os._exit(0)  # the server is gone: nobody will ask for this worker's answers

    threading.Thread(target=watch, name="newsbrief-server-watch", daemon=True).start()


def _initialize(settings: Settings) -> None:
    global _state
    # the fork server is this worker's parent, and it dies with the server (.orphans)
    die_with_parent()
    _watch_server()  # also exits at once when the server died before the line above
    _state = WorkerState(settings)


def state() -> WorkerState:
    """The state of this worker process (call only in a function run by :meth:`Workers.run`)."""
    if _state is None:
        raise RuntimeError("not in a pipeline worker process")
    return _state


def _pid() -> int:
    state()
    return os.getpid()


def _context(settings: Settings) -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        # the fork server imports the stages (lingua, lxml, trafilatura) once for all workers,
        # and with workers_share_models loads the language models once for all of them
        # (.fork_server, .shared_models: not with lingua's preloading, whose threads would
        # deadlock a process forked after them). It exits when the server is gone (.orphans).
        preload = [__name__, f"{__package__}.orphans"]
        if settings.workers_share_models:
            if settings.language_models_at_start:
                # read by the fork server when it starts (at the first worker's start)
                os.environ[shared_models.ENV] = settings.language.model_dump_json()
            else:  # it imports the stages and loads no model
                os.environ.pop(shared_models.ENV, None)
            preload.append(f"{__package__}.fork_server")  # after this module: it imports core
        context.set_forkserver_preload(preload)
    return context


class Workers:
    """``size`` worker processes for the CPU-bound stages. Thread-safe; usable from any event
    loop."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.size = settings.workers
        self._grace = settings.workers_kill_grace_s
        self._max_call = settings.max_call_seconds
        self._context = _context(settings)
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

    async def run(self, fn: Callable[..., T], /, *args: object, deadline: float | None = None) -> T:
        """``fn(*args)`` in a worker process: ``fn`` a module-level function, its arguments and
        result picklable; it finds the worker's models with :func:`state`. Waits while every
        worker is busy; a caller cancelled while waiting runs nothing.

        ``deadline`` (``time.monotonic()`` seconds; None = ``max_call_seconds`` from now): a
        call not started by then never starts, and one still running ``workers_kill_grace_s``
        after it is stopped (its worker is killed and replaced); both raise
        :class:`~newsbrief.service.errors.DeadlineExceeded`."""
        if deadline is None:
            deadline = time.monotonic() + self._max_call
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id in this process's log lines
        call = loop.run_in_executor(self._drivers, context.run, self._call, deadline, fn, *args)
        # the driver stops a running call on time; this bounds the wait for a free worker
        # (a call still queued is cancelled, so it never runs)
        wait = deadline + self._grace + 1.0 - time.monotonic()
        try:
            return await asyncio.wait_for(call, timeout=max(wait, 0.0))
        except TimeoutError:
            raise DeadlineExceeded(
                f"the deadline passed while waiting for a worker for {_name(fn)}"
            ) from None

    def _call(self, deadline: float, fn: Callable[..., T], *args: object) -> T:
        if time.monotonic() >= deadline:  # waited past it for a driver: run nothing
            raise DeadlineExceeded(f"the deadline passed before {_name(fn)} started")
        try:  # one free process per driver thread: never a long wait, but a bounded one
            process = self._free.get(timeout=max(deadline - time.monotonic(), 0) + self._grace)
        except queue.Empty:
            raise DeadlineExceeded(f"no worker was free for {_name(fn)} in time") from None
        try:
            try:
                future = process.submit(fn, *args)
            except BrokenProcessPool:  # it died while idle: this call never reached it
                process = self._replace(process, "a pipeline worker process died")
                future = process.submit(fn, *args)
            try:
                return future.result(timeout=max(deadline + self._grace - time.monotonic(), 0))
            except FutureTimeout:
                future.cancel()  # still queued behind a fresh worker's boot: it never runs
                process = self._replace(
                    process,
                    f"a pipeline worker process ran {_name(fn)} past its call's deadline; "
                    "stopping it",
                    kill=True,
                )
                raise DeadlineExceeded(
                    f"{_name(fn)} was still running past the deadline and was stopped"
                ) from None
        except BrokenProcessPool as exc:
            process = self._replace(process, "a pipeline worker process died")
            raise WorkerLost(
                "the worker process working on this request stopped unexpectedly and has been "
                "replaced; retry the request"
            ) from exc
        finally:
            self._free.put(process)

    def _replace(
        self, old: ProcessPoolExecutor, why: str, *, kill: bool = False
    ) -> ProcessPoolExecutor:
        """A new worker process in place of ``old`` (killed first with ``kill``), loading its
        models now rather than in the next request's time."""
        # a stop at the deadline is the caller's input or a hang, not a fault of the server
        log.log(logging.WARNING if kill else logging.ERROR, "%s; starting a new one", why)
        if kill:
            _kill(old)
        old.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._processes.remove(old)
            self._booted.pop(old, None)
        process = self._new_process()
        if not self._closed:
            self._boot(process)
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


def _kill(process: ProcessPoolExecutor) -> None:
    """SIGKILL the worker process of ``process`` (its call cannot be stopped otherwise)."""
    # the executor's own table of its processes: the only handle on a worker whose boot has
    # not answered yet (stable since Python 3.8)
    workers = getattr(process, "_processes", None) or {}
    for worker in list(workers.values()):
        try:
            worker.kill()
        except (OSError, ValueError):  # gone already, or closed
            pass


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
