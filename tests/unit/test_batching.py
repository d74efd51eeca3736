"""The micro-batcher with fake batch functions: grouping, max wait, lengths, token budget,
deadlines, cancellation, overload, failing batches, shutdown. No timing assertions: a gate holds
the worker while items queue up, so the batches formed are deterministic."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from google.rpc import code_pb2, error_details_pb2

from newsbrief.service.domain import ModelInfo, Notice
from newsbrief.service.errors import DeadlineExceeded, NotReady, Overloaded
from newsbrief.service.models.batching import (
    BatchedTranslator,
    BatchError,
    MicroBatcher,
    approx_tokens,
)
from newsbrief.service.models.protocols import Translated
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.serving.status import to_status
from newsbrief.service.settings import BatchingSettings
from tests.fakes import failing_load

GATE = "gate"


class Recorder:
    """A fake blocking batch function: records each call; the key ``gate`` blocks the worker
    until ``release()``; a payload ``"bad"`` makes its batch raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, list[Any]]] = []
        self.gate = threading.Event()
        self.in_gate = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, key: Any, payloads: list[Any]) -> list[Any]:
        with self.lock:
            self.calls.append((key, list(payloads)))
        if key == GATE:
            self.in_gate.set()
            assert self.gate.wait(10), "gate never released"
        if "bad" in payloads:
            raise ValueError("model exploded")
        return [f"{key}:{p}" for p in payloads]

    def release(self) -> None:
        self.gate.set()

    def seen(self) -> list[Any]:
        return [p for key, batch in self.calls if key != GATE for p in batch]

    def batches(self) -> list[tuple[Any, list[Any]]]:
        return [(k, b) for k, b in self.calls if k != GATE]


@pytest.fixture
def rec() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.release()


def size(payload: Any) -> int:
    return payload if isinstance(payload, int) else 1


def make(rec: Recorder, **kw: Any) -> MicroBatcher[Any, Any, Any]:
    kw.setdefault("max_wait_ms", 0.0)
    return MicroBatcher(rec, **kw)


@contextlib.contextmanager
def batcher(rec: Recorder, **kw: Any) -> Iterator[MicroBatcher[Any, Any, Any]]:
    """``make(rec, **kw)``, closed when the ``with`` block ends, however it ends."""
    b = make(rec, **kw)
    try:
        yield b
    finally:
        b.close()


async def hold_worker(b: MicroBatcher[Any, Any, Any], rec: Recorder) -> asyncio.Task[Any]:
    """Occupy the (single) worker with a gated batch; returns the task awaiting it."""
    task = asyncio.create_task(b.submit(GATE, "hold"))
    await until(rec.in_gate.is_set)
    return task


async def until(cond: Callable[[], bool], limit: float = 10.0) -> None:
    end = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < end, "condition never became true"
        await asyncio.sleep(0.001)


@pytest.mark.asyncio
async def test_groups_by_key_and_size(rec: Recorder) -> None:
    with batcher(rec, max_batch_size=4) as b:
        hold = await hold_worker(b, rec)
        a = [asyncio.create_task(b.submit("a", i)) for i in range(5)]
        bb = [asyncio.create_task(b.submit("b", i)) for i in range(3)]
        await until(lambda: b.queued == 8)
        rec.release()
        assert await asyncio.gather(*a) == [f"a:{i}" for i in range(5)]
        assert await asyncio.gather(*bb) == [f"b:{i}" for i in range(3)]
        await hold
        # Oldest first; a batch never mixes keys nor exceeds the size.
        assert rec.batches() == [("a", [0, 1, 2, 3]), ("a", [4]), ("b", [0, 1, 2])]
        assert b.stats.batch_sizes == {1: 2, 4: 1, 3: 1}  # the gate batch counts too


@pytest.mark.asyncio
async def test_max_wait_flushes_a_partial_batch(rec: Recorder) -> None:
    with batcher(rec, max_batch_size=8, max_wait_ms=200) as b:
        results = await asyncio.gather(*(b.submit("k", i) for i in range(3)))
        assert results == ["k:0", "k:1", "k:2"]
        assert rec.batches() == [("k", [0, 1, 2])]  # three items, not eight: the wait ended it


@pytest.mark.asyncio
async def test_similar_lengths_are_batched_together(rec: Recorder) -> None:
    with batcher(rec, max_batch_size=3, cost=size) as b:
        hold = await hold_worker(b, rec)
        sizes = [1, 50, 2, 52, 3, 51]
        tasks = [asyncio.create_task(b.submit("k", n)) for n in sizes]
        await until(lambda: b.queued == len(sizes))
        rec.release()
        await asyncio.gather(hold, *tasks)
        assert [sorted(batch) for _, batch in rec.batches()] == [[1, 2, 3], [50, 51, 52]]


@pytest.mark.asyncio
async def test_token_budget_counts_padding_and_a_long_item_runs_alone(rec: Recorder) -> None:
    with batcher(rec, max_batch_size=8, max_batch_tokens=100, cost=size) as b:
        hold = await hold_worker(b, rec)
        tasks = [asyncio.create_task(b.submit("k", n)) for n in (40, 41, 42, 500)]
        await until(lambda: b.queued == 4)
        rec.release()
        assert await asyncio.gather(*tasks) == ["k:40", "k:41", "k:42", "k:500"]
        await hold
        batches = [batch for _, batch in rec.batches()]
        assert all(len(x) * max(x) <= 100 for x in batches if len(x) > 1)
        assert [500] in batches
        assert sorted(p for x in batches for p in x) == [40, 41, 42, 500]


@pytest.mark.asyncio
async def test_expired_deadline_at_submit_never_reaches_the_model(rec: Recorder) -> None:
    with batcher(rec) as b:
        with pytest.raises(DeadlineExceeded):
            await b.submit("k", "late", deadline=time.monotonic() - 0.001)
        assert await b.submit("k", "ok") == "k:ok"
        assert rec.seen() == ["ok"]
        assert b.stats.expired == 1


@pytest.mark.asyncio
async def test_item_expiring_in_the_queue_never_reaches_the_model(rec: Recorder) -> None:
    with batcher(rec) as b:
        hold = await hold_worker(b, rec)
        with pytest.raises(DeadlineExceeded):
            await b.submit("k", "late", deadline=time.monotonic() + 0.05)
        assert b.queued == 0
        rec.release()
        await hold
        assert await b.submit("k", "after") == "k:after"
        assert "late" not in rec.seen()


@pytest.mark.asyncio
async def test_worker_fails_items_whose_deadline_passed_while_queued(rec: Recorder) -> None:
    now = [1000.0]
    with batcher(rec, clock=lambda: now[0]) as b:
        hold = await hold_worker(b, rec)
        late = asyncio.create_task(b.submit("k", "late", deadline=1000.5))
        fresh = asyncio.create_task(b.submit("k", "fresh", deadline=2000.0))
        await until(lambda: b.queued == 2)
        now[0] = 1001.0  # the late item's deadline passes while it waits for the worker
        rec.release()
        with pytest.raises(DeadlineExceeded):
            await late
        assert await fresh == "k:fresh"
        await hold
        assert rec.seen() == ["fresh"]


@pytest.mark.asyncio
async def test_cancelled_request_is_dropped_before_it_runs(rec: Recorder) -> None:
    with batcher(rec) as b:
        hold = await hold_worker(b, rec)
        doomed = asyncio.create_task(b.submit_many("k", ["x1", "x2"]))
        kept = asyncio.create_task(b.submit("k", "y"))
        await until(lambda: b.queued == 3)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert b.queued == 1
        rec.release()
        assert await kept == "k:y"
        await hold
        assert rec.seen() == ["y"]
        assert b.stats.cancelled == 2


@pytest.mark.asyncio
async def test_full_queue_is_overloaded_with_retry_info(rec: Recorder) -> None:
    with batcher(rec, max_queue=2, retry_after_s=1.5) as b:
        hold = await hold_worker(b, rec)
        queued = [asyncio.create_task(b.submit("k", i)) for i in range(2)]
        await until(lambda: b.queued == 2)
        with pytest.raises(Overloaded) as info:
            await b.submit("k", 99)
        with pytest.raises(Overloaded):  # admission is all or none
            await b.submit_many("other", [1])
        assert b.stats.rejected == 2
        status = to_status(info.value)
        assert status.code == code_pb2.RESOURCE_EXHAUSTED
        retry = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(retry)
        assert retry.retry_delay.seconds == 1 and retry.retry_delay.nanos == 500_000_000
        rec.release()
        assert await asyncio.gather(*queued) == ["k:0", "k:1"]
        await hold
        assert 99 not in rec.seen()


@pytest.mark.asyncio
async def test_a_failing_batch_fails_only_its_own_items(rec: Recorder) -> None:
    with batcher(rec) as b:
        hold = await hold_worker(b, rec)
        bad = asyncio.create_task(b.submit_many("x", ["bad", "innocent"]))
        good = asyncio.create_task(b.submit_many("y", ["fine", "also"]))
        await until(lambda: b.queued == 4)
        rec.release()
        with pytest.raises(BatchError) as info:
            await bad
        assert isinstance(info.value.__cause__, ValueError)
        assert await good == ["y:fine", "y:also"]
        await hold
        assert await b.submit("x", "next") == "x:next"  # the worker goes on
        assert b.stats.failed_batches == 1


@pytest.mark.asyncio
async def test_wrong_number_of_results_is_an_error() -> None:
    b: MicroBatcher[str, str, str] = MicroBatcher(lambda key, xs: xs[:-1], max_wait_ms=0)
    try:
        with pytest.raises(BatchError, match="returned 1 results for 2 inputs"):
            await b.submit_many("k", ["a", "b"])
    finally:
        b.close()


@pytest.mark.asyncio
async def test_workers_run_batches_in_parallel(rec: Recorder) -> None:
    with batcher(rec, workers=2) as b:
        hold = await hold_worker(b, rec)  # one worker is held; the other still serves
        assert await b.submit("k", "free") == "k:free"
        rec.release()
        await hold


@pytest.mark.asyncio
async def test_close_drains_or_fails_the_queue_and_joins_workers(rec: Recorder) -> None:
    b = make(rec, max_wait_ms=60_000, max_batch_size=100)  # only the close flushes them
    drained = [asyncio.create_task(b.submit("k", i)) for i in range(3)]
    await until(lambda: b.queued == 3)
    await b.aclose(drain=True)
    assert await asyncio.gather(*drained) == ["k:0", "k:1", "k:2"]
    assert rec.batches() == [("k", [0, 1, 2])]
    assert b.closed and b.running == 0
    with pytest.raises(NotReady):
        await b.submit("k", "after close")

    rec2 = Recorder()
    b2 = make(rec2)
    hold2 = await hold_worker(b2, rec2)
    failed = asyncio.create_task(b2.submit("k", "queued"))
    await until(lambda: b2.queued == 1)
    closing = asyncio.create_task(b2.aclose(drain=False))
    with pytest.raises(NotReady):
        await failed
    rec2.release()
    await closing
    await hold2
    assert "queued" not in rec2.seen()


def test_from_settings_uses_every_limit() -> None:
    s = BatchingSettings(
        max_batch_size=3, max_wait_ms=7, max_batch_tokens=99, max_queue=5, retry_after_s=2
    )
    b: MicroBatcher[str, str, str] = MicroBatcher.from_settings(lambda k, x: x, s, workers=2)
    assert (b.max_batch_size, b.max_wait_s, b.max_batch_tokens, b.max_queue, b.workers) == (
        3,
        0.007,
        99,
        5,
        2,
    )
    assert b.retry_after_s == 2
    assert b.max_gap_s == BatchingSettings().max_gap_ms / 1000
    off: MicroBatcher[str, str, str] = MicroBatcher.from_settings(
        lambda k, x: x, BatchingSettings(enabled=False)
    )
    assert off.max_batch_size == 1


FAKE_INFO = ModelInfo(role="translator", id="fake", languages=("en", "ko", "ms"))


class FakeEngine:
    """A blocking translation engine; a text holding "long" gets a notice of its own."""

    max_input_tokens = 100

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str, str]] = []

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        self.calls.append((list(texts), source, target))
        notices: list[tuple[Notice, ...]] = [
            (Notice("TRANSLATION_SPLIT", f"split {t}"),) if "long" in t else () for t in texts
        ]
        return Translated([f"[{target}] {t}" for t in texts], notices)


def fake_translator(engine: FakeEngine, settings: BatchingSettings) -> BatchedTranslator:
    return BatchedTranslator(ModelWorker(FAKE_INFO, lambda: (engine, FAKE_INFO)), settings)


@pytest.mark.asyncio
async def test_batched_translator_shares_calls_across_requests() -> None:
    # no gap rule: a busy machine between the two submissions must not close the batch early
    engine = FakeEngine()
    translator = fake_translator(
        engine, BatchingSettings(max_wait_ms=200, max_gap_ms=0, max_batch_size=8)
    )
    await translator.start()
    try:
        one, two, other = await asyncio.gather(
            translator.translate(["a", "b long"], "en", "ko"),
            translator.translate(["c"], "en", "ko"),
            translator.translate(["d"], "en", "ms"),
        )
        assert one.texts == ["[ko] a", "[ko] b long"] and two.texts == ["[ko] c"]
        assert other.texts == ["[ms] d"]
        assert sorted((sorted(t), s, g) for t, s, g in engine.calls) == [
            (["a", "b long", "c"], "en", "ko"),
            (["d"], "en", "ms"),
        ]
        # one model call served both requests; each gets only its own texts' notices
        assert one.notices_per_text == [(), (Notice("TRANSLATION_SPLIT", "split b long"),)]
        assert two.notices_per_text == [()]
        assert translator.info.id == "fake" and translator.info.ready
        assert translator.supports("en", "ko") and not translator.supports("en", "xx")
    finally:
        translator.close()


@pytest.mark.asyncio
async def test_a_translator_that_failed_to_load_says_why() -> None:
    broken = failing_load(RuntimeError("no weights here"))
    translator = BatchedTranslator(ModelWorker(FAKE_INFO, broken), BatchingSettings())
    await translator.start()  # never raises: the server stays up
    try:
        assert not translator.info.ready and "no weights here" in translator.info.detail
        with pytest.raises(Exception, match="no weights here"):
            await translator.translate(["a"], "en", "ko")
    finally:
        translator.close()


def test_approx_tokens() -> None:
    assert approx_tokens("") == 1
    assert approx_tokens("a" * 40) == 10
    assert approx_tokens("한국어") == 3


@pytest.mark.asyncio
async def test_two_idle_workers_run_full_batches_of_a_burst_side_by_side() -> None:
    """Ten texts, two idle workers, batches of at most four: both workers run a full batch at
    once (the barrier holds the first until the second runs), then the rest follows."""
    both_running = threading.Barrier(2, timeout=10)  # broken unless two batches run at once
    batches: list[list[int]] = []

    def fn(key: str, payloads: list[int]) -> list[str]:
        batches.append(list(payloads))
        if len(batches) <= 2:
            both_running.wait()
        return [f"{key}:{p}" for p in payloads]

    b: MicroBatcher[str, int, str] = MicroBatcher(fn, workers=2, max_batch_size=4, max_wait_ms=0.0)
    try:
        assert await b.submit_many("k", list(range(10))) == [f"k:{i}" for i in range(10)]
        assert [len(batch) for batch in batches[:2]] == [4, 4]
        assert sum(len(batch) for batch in batches[2:]) == 2
        assert max(len(batch) for batch in batches) <= 4
    finally:
        b.close()


@pytest.mark.asyncio
async def test_idle_workers_split_a_burst_that_fits_one_batch() -> None:
    """Eight texts arriving together with two idle workers run as two batches of four side by
    side (each worker has its own cores), not as one batch of eight while a worker idles."""
    both_running = threading.Barrier(2, timeout=10)  # broken unless two batches run at once
    batches: list[list[int]] = []

    def fn(key: str, payloads: list[int]) -> list[str]:
        batches.append(list(payloads))
        both_running.wait()
        return [f"{key}:{p}" for p in payloads]

    b: MicroBatcher[str, int, str] = MicroBatcher(fn, workers=2, max_batch_size=16, max_wait_ms=0.0)
    try:
        assert await b.submit_many("k", list(range(8))) == [f"k:{i}" for i in range(8)]
        assert sorted(len(batch) for batch in batches) == [4, 4]
    finally:
        b.close()


@pytest.mark.asyncio
async def test_a_burst_is_gathered_until_it_stops(rec: Recorder) -> None:
    """With a long max wait, a partial batch closes once no item has joined it for max_gap_ms:
    items arriving one after another within the gap share one batch."""
    with batcher(rec, max_batch_size=16, max_wait_ms=600_000, max_gap_ms=1_000) as b:
        first = asyncio.create_task(b.submit("k", 0))
        await until(lambda: b.queued == 1)
        rest = [asyncio.create_task(b.submit("k", i)) for i in (1, 2)]
        assert await asyncio.gather(first, *rest) == ["k:0", "k:1", "k:2"]
        assert rec.batches() == [("k", [0, 1, 2])]  # one batch, closed by the gap


@pytest.mark.asyncio
async def test_under_load_the_gap_does_not_split_a_burst(rec: Recorder) -> None:
    """While another batch runs, the gap rule is off: items that arrive further apart than
    max_gap_ms (as clients answered together do when the cores are busy) still share one batch
    (up to max_wait_ms), instead of the first one running alone on the free worker."""
    with batcher(rec, workers=2, max_batch_size=2, max_wait_ms=600_000, max_gap_ms=20) as b:
        hold = await hold_worker(b, rec)  # one worker busy: the model is under load
        first = asyncio.create_task(b.submit("k", 0))
        await until(lambda: b.queued == 1)
        await asyncio.sleep(0.3)  # fifteen gaps pass with no item joining
        assert rec.batches() == []  # the free worker still waits for the rest of the burst
        second = asyncio.create_task(b.submit("k", 1))
        assert await asyncio.gather(first, second) == ["k:0", "k:1"]  # run by the free worker
        assert rec.batches() == [("k", [0, 1])]
        rec.release()
        await hold


@pytest.mark.asyncio
async def test_what_a_full_batch_leaves_runs_at_once(rec: Recorder) -> None:
    """Items left waiting because the batch before them was full (or a worker's share of a
    burst) are the rest of that burst: the next free worker runs them at once instead of
    waiting max_wait_ms for more, even while another batch runs."""
    with batcher(rec, workers=2, max_batch_size=4, max_wait_ms=600_000, max_gap_ms=20) as b:
        hold = await hold_worker(b, rec)  # one worker busy for the whole test
        burst = b.submit_many("k", list(range(6)))
        assert await asyncio.wait_for(burst, timeout=10) == [f"k:{i}" for i in range(6)]
        assert rec.batches() == [("k", [0, 1, 2, 3]), ("k", [4, 5])]
        rec.release()
        await hold


@pytest.mark.asyncio
async def test_a_lone_call_does_not_wait_for_company(rec: Recorder) -> None:
    """Told that only one call is in progress, an idle model runs its items at once, whatever
    max_wait_ms and max_gap_ms say (nothing else is on its way to join them)."""
    with batcher(rec, max_batch_size=16, max_wait_ms=600_000, max_gap_ms=600_000) as b:
        b.company = lambda: 1
        result = await asyncio.wait_for(b.submit_many("k", [0, 1]), timeout=10)
        assert result == ["k:0", "k:1"]
        assert rec.batches() == [("k", [0, 1])]


@pytest.mark.asyncio
async def test_a_lone_calls_second_language_runs_beside_its_first(rec: Recorder) -> None:
    """A lone call's texts of a second key (its Malay beside its Korean) run at once on the free
    worker while its first batch runs: nothing else is on its way to join them."""
    with batcher(rec, workers=2, max_batch_size=16, max_wait_ms=600_000, max_gap_ms=600_000) as b:
        b.company = lambda: 1
        hold = await hold_worker(b, rec)  # the call's first batch, still running
        assert await asyncio.wait_for(b.submit("ms", 0), timeout=10) == "ms:0"
        rec.release()
        await hold


@pytest.mark.asyncio
async def test_items_wait_for_company_while_other_calls_are_in_progress(rec: Recorder) -> None:
    """With another call in progress, an idle model's partial batch waits for it (the gap and
    the max wait rule it) and the two calls share one batch."""
    with batcher(rec, max_batch_size=2, max_wait_ms=600_000, max_gap_ms=600_000) as b:
        b.company = lambda: 2
        first = asyncio.create_task(b.submit("k", 0))
        await until(lambda: b.queued == 1)
        await asyncio.sleep(0.2)
        assert rec.batches() == []  # still waiting for the other call's item
        second = asyncio.create_task(b.submit("k", 1))
        assert await asyncio.wait_for(asyncio.gather(first, second), 10) == ["k:0", "k:1"]
        assert rec.batches() == [("k", [0, 1])]


@pytest.mark.asyncio
async def test_an_idle_model_waits_for_calls_still_on_their_way(rec: Recorder) -> None:
    """Four calls in progress and the texts of two of them queued: the gap does not close the
    batch while the other two have yet to send theirs (max_wait_ms bounds that wait); when they
    arrive, the four share one batch."""
    with batcher(rec, max_batch_size=16, max_wait_ms=600_000, max_gap_ms=20) as b:
        b.company = lambda: 4
        first = asyncio.create_task(b.submit_many("k", [0, 1]))
        await until(lambda: b.queued == 2)
        await asyncio.sleep(0.3)  # fifteen gaps pass with no item joining
        assert rec.batches() == []
        rest = asyncio.create_task(b.submit_many("k", [2, 3]))
        assert await asyncio.wait_for(asyncio.gather(first, rest), 10) == [
            ["k:0", "k:1"],
            ["k:2", "k:3"],
        ]
        assert rec.batches() == [("k", [0, 1, 2, 3])]


@pytest.mark.asyncio
async def test_idle_workers_leave_room_for_calls_on_their_way(rec: Recorder) -> None:
    """Sixteen calls in progress, eight texts queued, two idle workers: once max_wait_ms has
    passed, one worker takes all eight and leaves the other to the eight calls still on their
    way, instead of splitting the eight four and four."""
    with batcher(rec, workers=2, max_batch_size=16, max_wait_ms=50) as b:
        b.company = lambda: 16
        result = await asyncio.wait_for(b.submit_many("k", list(range(8))), 10)
        assert result == [f"k:{i}" for i in range(8)]
        assert rec.batches() == [("k", list(range(8)))]


@pytest.mark.asyncio
async def test_under_load_a_batch_takes_an_even_share_of_the_work(rec: Recorder) -> None:
    """Fifteen texts queued while the other worker runs one: the free worker takes eight (half
    of the sixteen in the batcher), not all fifteen, and the rest waits for company as any item
    does under load. Clients answered together send again together, so a split of fifteen and
    one would repeat from then on; halves even the two workers' groups out."""
    with batcher(rec, workers=2, max_batch_size=16, max_wait_ms=50) as b:
        b.company = lambda: 16
        hold = await hold_worker(b, rec)  # one text running on the other worker
        burst = asyncio.create_task(b.submit_many("k", list(range(15))))
        await until(lambda: len(rec.batches()) >= 1)
        assert rec.batches()[0] == ("k", list(range(8)))
        assert await asyncio.wait_for(burst, 10) == [f"k:{i}" for i in range(15)]
        rec.release()
        await hold


@pytest.mark.asyncio
async def test_a_worker_just_freed_waits_for_company_however_long_items_waited() -> None:
    """Under load, a text that waited for a free worker far longer than max_wait_ms does not run
    alone the moment a worker frees: that worker's answers bring their clients back, and it
    waits max_wait_ms for them (a fake clock: the text waited ten max waits)."""
    now = [1000.0]
    calls = [1]
    gates = {"long": threading.Event(), "short": threading.Event()}
    entered = {key: threading.Event() for key in gates}
    batches: list[tuple[str, list[int]]] = []

    def fn(key: str, payloads: list[int]) -> list[str]:
        batches.append((key, list(payloads)))
        if key in gates:
            entered[key].set()
            assert gates[key].wait(10), "gate never opened"
        return [f"{key}:{p}" for p in payloads]

    b: MicroBatcher[str, int, str] = MicroBatcher(
        fn, workers=2, max_batch_size=2, max_wait_ms=1000.0, clock=lambda: now[0]
    )
    b.company = lambda: calls[0]
    try:
        # two batches run at once (told they are lone calls, they start without waiting)
        long = asyncio.create_task(b.submit("long", 0))
        await until(entered["long"].is_set)
        short = asyncio.create_task(b.submit("short", 0))
        await until(entered["short"].is_set)
        calls[0] = 4
        old = asyncio.create_task(b.submit("k", 0))  # both workers busy: it waits
        await until(lambda: b.queued == 1)
        now[0] += 10.0
        gates["short"].set()
        assert await short == "short:0"  # its client sends again
        new = asyncio.create_task(b.submit("k", 1))
        assert await asyncio.wait_for(asyncio.gather(old, new), 10) == ["k:0", "k:1"]
        assert batches[-1] == ("k", [0, 1])
        gates["long"].set()
        assert await long == "long:0"
    finally:
        for gate in gates.values():
            gate.set()
        b.close()
