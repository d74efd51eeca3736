"""The job runner of one replica: claims jobs from the store, briefs their articles through an
injected callable, commits each article's outcome as it completes, and finishes the job once.

A job runs on one replica at a time (the lease, renewed every ``lease_s / 3``); a replica that
stops gives its jobs back at once (another takes them on its next poll), one that dies loses
them when the lease lapses. Articles committed stay committed; the others run again, so an
article may be briefed twice, but is finished once and a job completes once.

An article over its key's quota (QuotaExceeded) waits the delay the error gives and runs again:
it does not fail and the wait is not an attempt. A transient error (NotReady, Overloaded) runs it
again after a delay, up to ``article_max_attempts`` starts; any other error is the article's
outcome (its status, as a stream item's).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from newsbrief.service.errors import NotReady, Overloaded, QuotaExceeded
from newsbrief.service.jobs.claims import ClaimLoop
from newsbrief.service.jobs.store import Claim, JobStore, PendingArticle
from newsbrief.service.settings import JobsSettings
from newsbrief.v1 import newsbrief_pb2 as pb

log = logging.getLogger(__name__)

#: brief one article for a tenant (the API key's digest); raises the domain errors of errors.py
BriefFn = Callable[[pb.SummarizeRequest, str], Awaitable[pb.SummarizeResponse]]
#: the status of an article that ended with an error (the one error table, as stream items)
StatusFn = Callable[[BaseException], pb.ItemStatus]

UNAVAILABLE = 14


def new_owner() -> str:
    """A name for this replica's leases: host, process, and a random part (a restarted process
    with the same pid is another owner)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner(ClaimLoop[Claim]):
    """Runs up to ``settings.concurrency`` jobs at once, each with up to
    ``settings.article_concurrency`` articles in flight, until :meth:`stop`."""

    def __init__(
        self,
        store: JobStore,
        settings: JobsSettings,
        *,
        brief: BriefFn,
        error_status: StatusFn,
        owner: str,
        on_finished: Callable[[str, str], None] = lambda job_id, state: None,
    ) -> None:
        super().__init__(store, concurrency=settings.concurrency, poll_s=settings.poll_s)
        self._s = settings
        self._brief = brief
        self._error_status = error_status
        self.owner = owner
        self._on_finished = on_finished
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="newsbrief-jobs"),
            asyncio.create_task(self._cleanup(), name="newsbrief-jobs-cleanup"),
        ]

    async def stop(self, grace: float) -> None:
        """Take no more jobs or articles; articles in flight get ``grace`` seconds to finish
        (and are committed); then the jobs held are given back."""
        self._stopping.set()
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)

    async def _claim(self) -> Claim | None:
        try:
            return await self._store.call(
                self._store.claim, self.owner, now=time.time(), lease_s=self._s.lease_s
            )
        except Exception:
            log.exception("cannot claim a job from the jobs store")
            return None

    def _start(self, claim: Claim) -> asyncio.Task[None]:
        return asyncio.create_task(self._run(claim), name=f"newsbrief-job-{claim.job_id}")

    async def _cleanup(self) -> None:
        while not self._stopping.is_set():
            try:
                deleted = await self._store.call(self._store.expire, now=time.time())
                if deleted:
                    log.info("deleted %d expired jobs", deleted)
            except Exception:
                log.exception("cannot delete expired jobs")
            await asyncio.sleep(self._s.cleanup_interval_s)

    async def _run(self, claim: Claim) -> None:
        lost = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(claim, lost))
        finished = False
        try:
            log.info("job %s: started on %s (lease %d)", claim.job_id, self.owner, claim.token)
            todo = await self._store.call(self._store.pending, claim.job_id)
            window = asyncio.Semaphore(self._s.article_concurrency)
            running: set[asyncio.Task[None]] = set()
            for item in todo:
                await window.acquire()
                if self._stopping.is_set() or lost.is_set():
                    window.release()
                    break
                task = asyncio.create_task(self._article(claim, item, lost, window))
                running.add(task)
                task.add_done_callback(running.discard)
            if running:
                await asyncio.wait(set(running))
            if not self._stopping.is_set() and not lost.is_set():
                state = await self._store.call(
                    self._store.finish_job,
                    claim,
                    now=time.time(),
                    retention_s=self._s.retention_s,
                )
                if state is not None:
                    finished = True
                    log.info("job %s: %s", claim.job_id, state)
                    self._on_finished(claim.job_id, state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s: the runner failed; the job is given back", claim.job_id)
        finally:
            beat.cancel()
            if not finished and not lost.is_set():
                try:
                    await asyncio.shield(self._store.call(self._store.release, claim))
                except Exception:
                    log.exception("job %s: cannot give the job back", claim.job_id)
            self._slots.release()
            self._wake.set()  # a slot is free: look for the next job

    async def _heartbeat(self, claim: Claim, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self._s.lease_s / 3)
            try:
                held = await self._store.call(
                    self._store.renew, claim, now=time.time(), lease_s=self._s.lease_s
                )
            except Exception:
                log.exception("job %s: cannot renew the lease", claim.job_id)
                continue
            if not held:
                log.info("job %s: no longer held here (cancelled or taken over)", claim.job_id)
                lost.set()
                return

    async def _article(
        self, claim: Claim, item: PendingArticle, lost: asyncio.Event, window: asyncio.Semaphore
    ) -> None:
        try:
            await self._article_attempts(claim, item, lost)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s article %d: not finished", claim.job_id, item.index)
        finally:
            window.release()

    async def _article_attempts(
        self, claim: Claim, item: PendingArticle, lost: asyncio.Event
    ) -> None:
        request = pb.SummarizeRequest.FromString(item.request)
        attempts = item.attempts
        while not lost.is_set():
            if attempts >= self._s.article_max_attempts:
                error = NotReady(
                    f"gave up after {attempts} attempts (jobs.article_max_attempts): the server "
                    "kept failing or stopping while briefing this article"
                )
                await self._finish(claim, item.index, None, self._error_status(error), attempts)
                return
            if self._stopping.is_set():
                return
            started = await self._store.call(self._store.start_article, claim, item.index)
            if started is None:
                return  # the job is no longer ours
            attempts = started
            try:
                response = await self._brief_with_quota(request, claim.tenant, lost)
            except (NotReady, Overloaded) as exc:
                delay = getattr(exc, "retry_after_s", 0.0) or self._s.retry_delay_s
                log.info(
                    "job %s article %d: %s; again in %.1f s",
                    claim.job_id,
                    item.index,
                    exc.message,
                    delay,
                )
                if await _wait(self._stopping, delay):
                    return
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._finish(claim, item.index, None, self._error_status(exc), attempts)
                return
            if response is None:
                return  # stopping or lost while waiting for quota
            await self._finish(claim, item.index, response, pb.ItemStatus(code=0), attempts)
            return

    async def _brief_with_quota(
        self, request: pb.SummarizeRequest, tenant: str, lost: asyncio.Event
    ) -> pb.SummarizeResponse | None:
        while True:
            try:
                return await self._brief(request, tenant)
            except QuotaExceeded as exc:
                if await _wait(self._stopping, exc.retry_after_s) or lost.is_set():
                    return None

    async def _finish(
        self,
        claim: Claim,
        index: int,
        response: pb.SummarizeResponse | None,
        status: pb.ItemStatus,
        attempts: int,
    ) -> None:
        ok = response is not None
        written = await self._store.call(
            self._store.finish_article,
            claim,
            index,
            ok=ok,
            response=response.SerializeToString() if response is not None else None,
            status=status.SerializeToString(),
            now=time.time(),
        )
        if written:
            log.info(
                "job %s article %d: %s (attempt %d)",
                claim.job_id,
                index,
                "ok" if ok else f"failed {status.code}",
                attempts,
            )


async def _wait(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless the runner stops first (True: it is stopping)."""
    try:
        await asyncio.wait_for(stopping.wait(), max(seconds, 0.0))
    except TimeoutError:
        return False
    return True
