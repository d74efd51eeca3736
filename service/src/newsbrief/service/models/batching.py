"""Micro-batching of model calls across concurrent requests.

A :class:`MicroBatcher` sits between the pipeline and one model. It wraps a *blocking* batch
function ``fn(key, payloads) -> results`` (explicit composition: the engine knows nothing of it)
and runs it on its own worker threads, never on the event loop. Coroutines ``await submit(key,
payload, deadline=...)``; items with the same key (e.g. a language pair) are grouped into one call:

- a batch closes at ``max_batch_size`` items, at ``max_batch_tokens`` padded tokens (items x the
  longest item's cost), ``max_wait_ms`` after its oldest item arrived, or, while no batch runs,
  ``max_gap_ms`` after its newest one (no item joined it since: a burst is over), whichever
  comes first; while every worker is busy, items simply accumulate (batches grow with the load);
- the gap rule is for an idle model (a lone request waits only ``max_gap_ms``): while another
  batch runs, the cores are busy and the requests of clients answered together arrive spread
  over tens of milliseconds, so a batch closed by the gap would take one or two of them and
  leave the rest to the next free worker; such groups keep their sizes from then on (clients
  answered together send again together): 16 clients of a 2-replica translator got batches of
  3 or 4 and 4.7 requests/s where batches of 8 give 8.4. Under load a batch waits up to
  ``max_wait_ms``, counted from its oldest item or from the moment a batch last finished,
  whichever is later: a worker just freed waits for the clients its answers bring back, however
  long the items already queued have waited for it;
- where the batcher is told how many calls the server is serving (:attr:`MicroBatcher.company`,
  set by the pipeline), the items of a lone call run at once, on any free worker (its Korean
  texts beside its Malay ones): no other call is on its way to join them, so waiting would only
  delay it; and while more calls are in progress than items are queued or running, some are
  yet to send theirs: the gap rule does not close a batch then (``max_wait_ms`` still bounds it);
- waiting items are shared among the idle workers: a worker takes its share and leaves the rest
  to the next idle one, so a burst runs on every free worker at once instead of one worker
  taking it all while another idles (the share counts the items of calls still on their way:
  they go to the other workers); what a full batch or a share leaves is the rest of a burst,
  and the next free worker takes it at once (no second wait);
- while other batches run, a batch takes at most an even share, over the workers, of the work
  in the batcher (the items' summed cost, queued and running): clients answered together send
  again together, so a split of 15 texts and 1 would repeat from then on; halves even the
  workers' groups out. What that share leaves waits for company as any item does under load;
- the oldest waiting item always goes into the next batch of its key (no starvation), with the
  items closest to it in length (less padding);
- an item whose deadline (``time.monotonic()`` seconds) has passed never reaches the model: it
  fails with :class:`~newsbrief.service.errors.DeadlineExceeded`; an item whose awaiting
  coroutine was cancelled is dropped before it runs;
- the queue is bounded (``max_queue`` items): beyond it ``submit`` raises
  :class:`~newsbrief.service.errors.Overloaded` (RESOURCE_EXHAUSTED with ``RetryInfo``);
- an exception in ``fn`` fails the items of that batch only, and the worker goes on;
- ``close()`` stops accepting, runs (or fails) what is queued, and joins the workers.

``workers`` threads run batches in parallel: with CTranslate2 this is the ``inter_threads`` of the
translator (each call is served by one of its replicas); with torch, keep one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from newsbrief.service.domain import ModelInfo, Notice
from newsbrief.service.errors import (
    CapabilityUnavailable,
    DeadlineExceeded,
    NewsbriefError,
    NotReady,
    Overloaded,
)
from newsbrief.service.models.chunking import split_to_fit
from newsbrief.service.models.protocols import (
    SummarizationEngine,
    Summary,
    Translated,
    TranslationEngine,
)
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.observability.telemetry import NO_TELEMETRY, Telemetry
from newsbrief.service.settings import BatchingSettings

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

_IDLE_POLL_S = 1.0  # every wait is bounded; an idle worker re-checks this often


class BatchError(RuntimeError):
    """A model call failed; every item of that batch gets its own instance (cause chained)."""


@dataclass
class BatcherStats:
    """Counters of one batcher (read them for metrics and benchmarks)."""

    submitted: int = 0
    rejected: int = 0
    expired: int = 0
    cancelled: int = 0
    batches: int = 0
    items_run: int = 0
    failed_batches: int = 0
    busy_s: float = 0.0
    batch_sizes: Counter[int] = field(default_factory=Counter)

    @property
    def mean_batch_size(self) -> float:
        return self.items_run / self.batches if self.batches else 0.0


@dataclass(eq=False)
class _Item(Generic[K, T, R]):
    key: K
    payload: T
    cost: int
    deadline: float | None
    enqueued: float
    seq: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[R]
    trace: Any = None  # the submitting request's trace context (tracing on)


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _reject(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _unit_cost(_: object) -> int:
    return 1


class MicroBatcher(Generic[K, T, R]):
    """Groups concurrent ``submit`` calls into batched calls of ``fn`` on worker threads."""

    #: Batch metrics and spans (set by ``Telemetry.watch``; a no-op by default).
    telemetry: Telemetry = NO_TELEMETRY

    def __init__(
        self,
        fn: Callable[[K, list[T]], Sequence[R]],
        *,
        max_batch_size: int = 16,
        max_wait_ms: float = 5.0,
        max_gap_ms: float = 0.0,
        max_batch_tokens: int = 4096,
        max_queue: int = 512,
        workers: int = 1,
        cost: Callable[[T], int] | None = None,
        similar_lengths: bool = True,
        retry_after_s: float = 1.0,
        shutdown_timeout_s: float = 10.0,
        name: str = "model",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch_size < 1 or max_batch_tokens < 1 or max_queue < 1 or workers < 1:
            raise ValueError("batch size, token budget, queue and workers must be at least 1")
        self._fn = fn
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_gap_s = max_gap_ms / 1000.0
        self.max_batch_tokens = max_batch_tokens
        self.max_queue = max_queue
        self.workers = workers
        self._cost: Callable[[T], int] = cost or _unit_cost
        self.similar_lengths = similar_lengths
        self.retry_after_s = retry_after_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.name = name
        #: How many calls the server is serving now (read from the workers' threads), or None
        #: when nobody says. A partial batch waits for company only when another call is in
        #: progress: the items of a lone call run at once.
        self.company: Callable[[], int] | None = None
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: dict[K, list[_Item[K, T, R]]] = {}
        # keys whose waiting items were left by a batch that closed (a full one, or a worker's
        # share of a burst): the next free worker takes them at once, without waiting again
        self._ready: set[K] = set()
        self._queued = 0
        self._running = 0
        self._running_items = 0  # items in the batches that run now
        self._running_cost = 0  # and their summed cost
        self._freed_at = float("-inf")  # when a batch last finished (a worker became free)
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._drain = True
        self.stats = BatcherStats()

    @classmethod
    def from_settings(
        cls,
        fn: Callable[[K, list[T]], Sequence[R]],
        settings: BatchingSettings,
        *,
        workers: int = 1,
        cost: Callable[[T], int] | None = None,
        name: str = "model",
    ) -> MicroBatcher[K, T, R]:
        """A batcher with the limits of ``settings``; ``enabled=False`` gives batches of one."""
        return cls(
            fn,
            max_batch_size=settings.max_batch_size if settings.enabled else 1,
            max_wait_ms=settings.max_wait_ms if settings.enabled else 0.0,
            max_gap_ms=settings.max_gap_ms if settings.enabled else 0.0,
            max_batch_tokens=settings.max_batch_tokens,
            max_queue=settings.max_queue,
            workers=workers,
            cost=cost,
            similar_lengths=settings.similar_lengths,
            retry_after_s=settings.retry_after_s,
            shutdown_timeout_s=settings.shutdown_timeout_s,
            name=name,
        )

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads (``submit`` starts them on first use too)."""
        with self._cond:
            if self._closed:
                raise NotReady(f"the {self.name} batcher is closed")
            while len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._worker,
                    name=f"newsbrief-{self.name}-{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def close(self, *, drain: bool = True, join_timeout: float | None = None) -> None:
        """Stop accepting items. With ``drain`` the queued items still run (at once, without
        waiting for fuller batches); without it they fail with NotReady. Waits up to
        ``join_timeout`` (default ``shutdown_timeout_s``) for the workers to finish."""
        with self._cond:
            self._closed = True
            self._drain = drain
            if not drain or not self._threads:
                for group in self._pending.values():
                    for item in group:
                        self._fail(item, NotReady(f"the {self.name} model is shutting down"))
                self._pending.clear()
                self._queued = 0
            self._cond.notify_all()
        limit = self.shutdown_timeout_s if join_timeout is None else join_timeout
        end = time.monotonic() + limit
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("%s batcher: workers still busy after %.1f s: %s", self.name, limit, alive)

    async def aclose(self, *, drain: bool = True, join_timeout: float | None = None) -> None:
        """``close`` without blocking the event loop."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self.close(drain=drain, join_timeout=join_timeout))

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def queued(self) -> int:
        """Items waiting for a worker."""
        return self._queued

    @property
    def running(self) -> int:
        """Batches in the model right now."""
        return self._running

    # ---- submitting ------------------------------------------------------------------------

    async def submit(self, key: K, payload: T, *, deadline: float | None = None) -> R:
        """The result of ``fn(key, [..., payload, ...])`` for this payload."""
        return (await self.submit_many(key, [payload], deadline=deadline))[0]

    async def submit_many(
        self, key: K, payloads: Sequence[T], *, deadline: float | None = None
    ) -> list[R]:
        """Results for several payloads of one request, in order. They are admitted together
        (all or none) and may share batches with other requests' items."""
        if not payloads:
            return []
        loop = asyncio.get_running_loop()
        now = self._clock()
        if deadline is not None and now >= deadline:
            with self._cond:
                self.stats.expired += len(payloads)
            raise DeadlineExceeded(f"the deadline passed before the {self.name} model was called")
        trace = self.telemetry.capture()
        items = [
            _Item(
                key=key,
                payload=p,
                cost=max(1, int(self._cost(p))),
                deadline=deadline,
                enqueued=now,
                seq=0,
                loop=loop,
                future=loop.create_future(),
                trace=trace,
            )
            for p in payloads
        ]
        if not self._threads:
            self.start()
        with self._cond:
            if self._closed:
                raise NotReady(f"the {self.name} model is shutting down", self.retry_after_s)
            if self._queued + len(items) > self.max_queue:
                self.stats.rejected += len(items)
                raise Overloaded(
                    f"the {self.name} model is overloaded: {self._queued} items are waiting "
                    f"(limit {self.max_queue}); retry later",
                    self.retry_after_s,
                )
            group = self._pending.setdefault(key, [])
            for item in items:
                item.seq = next(self._seq)
                group.append(item)
            self._queued += len(items)
            self.stats.submitted += len(items)
            self._cond.notify()
        futures = [item.future for item in items]
        try:
            if deadline is None:
                return list(await asyncio.gather(*futures))
            async with asyncio.timeout(max(0.0, deadline - self._clock())):
                return list(await asyncio.gather(*futures))
        except TimeoutError:
            raise DeadlineExceeded(
                f"the deadline passed while waiting for the {self.name} model"
            ) from None
        finally:
            # Cancelled, timed out or failed: whatever has not run yet is dropped from the queue.
            dropped = False
            for f in futures:
                if not f.done() or f.cancelled():
                    f.cancel()
                    dropped = True
                else:
                    f.exception()  # retrieved: no "exception was never retrieved" noise
            if dropped:
                self._discard(items)

    def _discard(self, items: list[_Item[K, T, R]]) -> None:
        with self._cond:
            for item in items:
                group = self._pending.get(item.key)
                if group is not None and item in group:
                    group.remove(item)
                    self._queued -= 1
                    self.stats.cancelled += 1
                    if not group:
                        del self._pending[item.key]
                        self._ready.discard(item.key)

    # ---- the workers -----------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            with self._cond:
                picked = self._next_batch_locked()
                if picked is None:
                    return
                key, items = picked
                cost = sum(i.cost for i in items)
                self._running += 1
                self._running_items += len(items)
                self._running_cost += cost
            try:
                self._run(key, items)
            finally:
                with self._cond:
                    self._running -= 1
                    self._running_items -= len(items)
                    self._running_cost -= cost
                    self._freed_at = self._clock()
                    self._cond.notify_all()

    def _next_batch_locked(self) -> tuple[K, list[_Item[K, T, R]]] | None:
        while True:
            now = self._clock()
            self._purge_locked(now)
            if not self._pending:
                if self._closed:
                    return None
                self._cond.wait(_IDLE_POLL_S)
                continue
            best: K | None = None
            best_seq = -1
            wake = now + _IDLE_POLL_S
            calls = self.company() if self.company is not None else None
            # a lone call: nothing else is on its way to join its items
            lone = calls is not None and calls <= 1
            # more calls in progress than items here: some have yet to send theirs
            coming = max(0, (calls or 0) - self._queued - self._running_items)
            for key, group in self._pending.items():
                oldest = group[0]
                # under load, a worker that has just become free waits for the company its
                # own answers bring back, however long the items already queued have waited
                since = max(oldest.enqueued, self._freed_at) if self._running else oldest.enqueued
                flush_at = now if lone else since + self.max_wait_s
                if not lone and not coming and not self._running and self.max_gap_s > 0:
                    # an idle model: a burst is over when nothing joined it for a while
                    flush_at = min(flush_at, group[-1].enqueued + self.max_gap_s)
                full = (
                    len(group) >= self.max_batch_size
                    or len(group) * max(i.cost for i in group) >= self.max_batch_tokens
                )
                if self._closed or full or now >= flush_at or key in self._ready:
                    if best is None or oldest.seq < best_seq:
                        best, best_seq = key, oldest.seq
                else:
                    wake = min(wake, flush_at)
                for item in group:
                    if item.deadline is not None:
                        wake = min(wake, item.deadline)
            if best is not None:
                batch = self._take_locked(best, coming)
                if self._pending:
                    self._cond.notify()  # another idle worker takes what is left
                return best, batch
            self._cond.wait(max(0.0, wake - now))

    def _purge_locked(self, now: float) -> None:
        """Drop cancelled items and fail expired ones; they never reach the model."""
        for key in list(self._pending):
            keep = self._live(self._pending[key], now)
            self._queued -= len(self._pending[key]) - len(keep)
            if keep:
                self._pending[key] = keep
            else:
                del self._pending[key]
                self._ready.discard(key)

    def _share_locked(self, group: list[_Item[K, T, R]], coming: int) -> int:
        """Most items this worker takes from ``group``: all it may (``max_batch_size``), unless
        other workers are idle with no other key to run: then an even share, the rest left to
        them (they take it at once). Each worker runs on its own cores, so two half batches side
        by side finish sooner than one full batch while the other worker idles. The share counts
        the items of the ``coming`` calls still on their way (:attr:`company`): they are the
        other workers'."""
        if self._closed:
            return self.max_batch_size
        # this worker is not counted in _running yet; each other waiting key will take a worker
        spare = self.workers - self._running - (len(self._pending) - 1)
        if spare <= 1:
            return self.max_batch_size
        return min(self.max_batch_size, -(-(len(group) + coming) // spare))

    def _fair_locked(self) -> float:
        """Most work (summed cost) one batch may take while other batches run: an even split,
        over the workers, of the work in the batcher, queued and running. Clients answered
        together send again together, so a batch's size tends to repeat: a worker that took
        all it could (15 texts while the other ran 1) would keep that split from then on;
        taking an even share leaves the rest to the other worker, and the groups even out. (A
        long text running alone counts as the work it is: the short ones queued beside it are
        not split for its sake.)"""
        if self._running == 0 or self.workers == 1:
            return math.inf
        queued = sum(item.cost for group in self._pending.values() for item in group)
        return (queued + self._running_cost) / self.workers

    def _take_locked(self, key: K, coming: int) -> list[_Item[K, T, R]]:
        """The oldest item of ``key`` plus the items nearest to it in cost, within the size and
        padded-token limits, this worker's share of a burst (:meth:`_share_locked`) and its
        even share under load (:meth:`_fair_locked`)."""
        group = self._pending[key]
        anchor = group[0]
        rest = group[1:]
        if self.similar_lengths:
            rest = sorted(rest, key=lambda i: (abs(i.cost - anchor.cost), i.seq))
        batch = [anchor]
        longest = work = anchor.cost
        limit = self._share_locked(group, coming)
        fair = self._fair_locked()
        evened = False  # cut by the even share of the work under load
        for item in rest:
            if len(batch) >= limit:
                break
            if work >= fair:
                evened = True
                break
            widest = max(longest, item.cost)
            if widest * (len(batch) + 1) > self.max_batch_tokens:
                continue
            batch.append(item)
            longest = widest
            work += item.cost
        chosen = {id(i) for i in batch}
        left = [i for i in group if id(i) not in chosen]
        if left:
            self._pending[key] = left
            if evened:  # the rest waits for company, as any item does under load
                self._ready.discard(key)
            else:  # cut by a limit or a burst's share: the rest of that burst runs at once
                self._ready.add(key)
        else:
            del self._pending[key]
            self._ready.discard(key)
        self._queued -= len(batch)
        batch.sort(key=lambda i: i.seq)
        return batch

    def _run(self, key: K, items: list[_Item[K, T, R]]) -> None:
        # a last look: the batch may have waited for this worker's lock
        live = self._live(items, self._clock())
        if not live:
            return
        started = time.monotonic()
        traces = [item.trace for item in live]
        try:
            with self.telemetry.batch(
                self.name, traces, sum(i.cost for i in live), len(live)
            ) as batch:
                results = list(self._fn(key, [item.payload for item in live]))
                if len(results) != len(live):
                    raise BatchError(
                        f"the {self.name} model returned {len(results)} results for "
                        f"{len(live)} inputs"
                    )
                batch.done(results, self._cost)
        except Exception as exc:
            log.error(
                "%s batch of %d items (key %r) failed", self.name, len(live), key, exc_info=exc
            )
            with self._cond:
                self.stats.failed_batches += 1
            for item in live:
                self._fail(item, self._batch_error(exc, len(live)))
            return
        finally:
            with self._cond:
                self.stats.batches += 1
                self.stats.items_run += len(live)
                self.stats.batch_sizes[len(live)] += 1
                self.stats.busy_s += time.monotonic() - started
        for item, result in zip(live, results, strict=True):
            self._deliver(item, _resolve, result)

    def _live(self, items: list[_Item[K, T, R]], now: float) -> list[_Item[K, T, R]]:
        """``items`` less the cancelled ones (counted) and the expired ones (counted, failed)."""
        live: list[_Item[K, T, R]] = []
        for item in items:
            if item.future.cancelled():
                self.stats.cancelled += 1
            elif item.deadline is not None and now >= item.deadline:
                self.stats.expired += 1
                self._fail(item, self._expired())
            else:
                live.append(item)
        return live

    def _expired(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"the deadline passed before the {self.name} model was called")

    def _batch_error(self, exc: Exception, size: int) -> Exception:
        if isinstance(exc, NewsbriefError):
            return exc
        error = BatchError(f"the {self.name} model failed on a batch of {size}: {exc!r}")
        error.__cause__ = exc
        return error

    def _fail(self, item: _Item[K, T, R], exc: BaseException) -> None:
        self._deliver(item, _reject, exc)

    @staticmethod
    def _deliver(
        item: _Item[K, T, R], how: Callable[[asyncio.Future[Any], Any], None], value: Any
    ) -> None:
        try:
            item.loop.call_soon_threadsafe(how, item.future, value)
        except RuntimeError:  # the event loop is closed: nobody is waiting any more
            pass


# ---- adapters: an engine behind the pipeline's Protocols, batched from outside ----------------


def approx_tokens(text: str) -> int:
    """A cheap token estimate for batching: about 4 characters a token for spaced scripts, and
    one a character for Hangul/CJK (which subword vocabularies split finely)."""
    wide = sum(1 for ch in text if ord(ch) >= 0x1100)
    return max(1, (len(text) - wide) // 4 + wide)


_TranslatedText = tuple[str, tuple[Notice, ...]]
E = TypeVar("E")
K2 = TypeVar("K2", bound=Hashable)


class _BatchedModel(Generic[E, K2, T, R]):
    """What both adapters share: a model on its worker, and the batcher its calls go through.
    A managed model: ``start`` loads the engine and starts the batcher, ``close`` stops both."""

    model: ModelWorker[E]
    batcher: MicroBatcher[K2, T, R]

    @property
    def info(self) -> ModelInfo:
        return self.model.info

    async def start(self) -> None:
        await self.model.start()
        self.batcher.start()

    def close(self) -> None:
        self.batcher.close(drain=False)
        self.model.close()


class BatchedTranslator(_BatchedModel[TranslationEngine, tuple[str, str], str, _TranslatedText]):
    """The pipeline's ``Translator`` over a translation engine: the engine's blocking
    ``translate_batch`` is the batch function of a :class:`MicroBatcher` keyed by language pair,
    so the texts of concurrent requests share model calls. Each text comes back with its own
    notices. A managed model: ``start`` loads the engine on its worker, ``close`` stops both.

    ``workers``: batches run at once (a CTranslate2 model's ``inter_threads``; 1 for torch)."""

    def __init__(
        self,
        model: ModelWorker[TranslationEngine],
        settings: BatchingSettings,
        *,
        workers: int = 1,
        cost: Callable[[str], int] | None = None,
    ) -> None:
        self.model = model
        self.batcher = MicroBatcher.from_settings(
            self._run, settings, workers=workers, cost=cost or approx_tokens, name="translator"
        )

    def _run(self, key: tuple[str, str], texts: list[str]) -> list[_TranslatedText]:
        translated = self.model.engine.translate_batch(texts, key[0], key[1])
        return list(zip(translated.texts, translated.notices_per_text, strict=True))

    def supports(self, source: str, target: str) -> bool:
        languages = self.model.info.languages
        return source in languages and target in languages

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        if not self.model.ready:
            raise CapabilityUnavailable(
                "translate", f"translation is not available: {self.model.detail}"
            )
        pairs = await self.batcher.submit_many((source, target), texts, deadline=deadline)
        return Translated([text for text, _ in pairs], [notices for _, notices in pairs])


MAX_ROUNDS = 3
"""Most rounds of "summarise the parts, then the summary of the parts" for one article."""


class BatchedSummarizer(_BatchedModel[SummarizationEngine, str, str, str]):
    """The pipeline's ``Summarizer`` over a summarisation engine. An article longer than the
    model's input is split into sentence chunks that fit (on the model's worker thread); the
    chunks, with those of concurrent articles, go through a :class:`MicroBatcher` keyed by
    language whose batch function is the engine's ``summarize_batch``; the summaries of the
    parts are summarised again, up to :data:`MAX_ROUNDS` rounds. Model work not started by the
    request's deadline is not done. A managed model, like :class:`BatchedTranslator`."""

    def __init__(
        self,
        model: ModelWorker[SummarizationEngine],
        settings: BatchingSettings,
        *,
        name: str,
        workers: int = 1,
    ) -> None:
        self.model = model
        self._name = name
        self.batcher = MicroBatcher.from_settings(
            self._run, settings, workers=workers, cost=approx_tokens, name="summarizer"
        )

    def _run(self, lang: str, texts: list[str]) -> list[str]:
        return self.model.engine.summarize_batch(texts, lang)

    @property
    def name(self) -> str:
        return self._name

    def supports(self, lang: str) -> bool:
        return lang in self.model.info.languages

    async def summarize(self, text: str, lang: str, *, deadline: float | None = None) -> Summary:
        """The summary of one article; :attr:`Summary.parts` and :attr:`Summary.rounds` say
        what was done to a long one, for the caller's notice."""
        engine = self.model.engine
        limit = engine.max_input_tokens
        input_tokens = await self.model.call(engine.count_tokens, text, deadline=deadline)
        pieces = await self.model.call(
            split_to_fit, text, lang, engine.count_tokens, limit, deadline=deadline
        )
        first_parts = len(pieces)
        rounds = 0
        while True:
            rounds += 1
            summaries = await self.batcher.submit_many(lang, pieces, deadline=deadline)
            if len(summaries) == 1:
                out = summaries[0]
                break
            joined = " ".join(s for s in summaries if s)
            if rounds >= MAX_ROUNDS:
                out = joined  # the summaries of the parts, whole: still nothing cut
                break
            pieces = (
                await self.model.call(
                    split_to_fit, joined, lang, engine.count_tokens, limit, deadline=deadline
                )
                if joined
                else [""]
            )
        return Summary(out, input_tokens, limit, first_parts, rounds)
