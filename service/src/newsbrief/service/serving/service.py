"""The service's calls, transport-free: protobuf request + :class:`CallContext` in, protobuf
response out (MLServer's data plane, vLLM's ``serving_*`` classes). The gRPC and HTTP doors are
adapters that build the context through the :class:`CallPolicy` and convert errors with the one
table in ``status.py``; the stream's rules (its window, per-article quota, idle timeout, wrap-up
on drain, bounded answers) live here, so both doors hold them alike."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from newsbrief.service.errors import (
    DeadlineExceeded,
    FieldViolation,
    InvalidArgument,
    NewsbriefError,
    QuotaExceeded,
)
from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.serving import converters as conv
from newsbrief.service.serving.context import CallContext, Undecodable
from newsbrief.service.serving.policy import CallPolicy
from newsbrief.service.serving.status import to_status
from newsbrief.v1 import newsbrief_pb2 as pb

log = logging.getLogger(__name__)

StreamItem = pb.SummarizeStreamRequest | Undecodable


def decoded(message: Any) -> Any:
    """``message`` itself, or InvalidArgument when its bytes could not be parsed."""
    if isinstance(message, Undecodable):
        raise InvalidArgument(
            FieldViolation(
                "request",
                f"is not a valid {message.type_name} message (corrupt bytes: "
                f"{message.error[:200]})",
            )
        )
    return message


class NewsbriefService:
    """The SummarizerService calls over one :class:`Pipeline`, for any door."""

    def __init__(self, pipeline: Pipeline, policy: CallPolicy) -> None:
        self.pipeline = pipeline
        self.policy = policy

    async def summarize(
        self, request: pb.SummarizeRequest | Undecodable, call: CallContext
    ) -> pb.SummarizeResponse:
        article, options = conv.article_from_pb(decoded(request))
        result = await self.pipeline.brief(
            article, options, deadline=call.deadline, tenant=call.tenant
        )
        return conv.result_to_pb(result)

    async def translate(
        self, request: pb.TranslateRequest | Undecodable, call: CallContext
    ) -> pb.TranslateResponse:
        req: pb.TranslateRequest = decoded(request)
        result = await self.pipeline.translate(
            list(req.texts),
            req.source_language,
            list(req.target_languages),
            deadline=call.deadline,
            tenant=call.tenant,
        )
        return conv.translate_to_pb(result)

    async def detect_language(
        self, request: pb.DetectLanguageRequest | Undecodable, call: CallContext
    ) -> pb.DetectLanguageResponse:
        req: pb.DetectLanguageRequest = decoded(request)
        return conv.detect_to_pb(await self.pipeline.detect_language(req.text))

    async def get_server_info(
        self, request: pb.GetServerInfoRequest | Undecodable, call: CallContext
    ) -> pb.GetServerInfoResponse:
        decoded(request)
        return conv.info_to_pb(self.pipeline.info())

    async def summarize_stream(
        self, requests: AsyncIterator[StreamItem], call: CallContext
    ) -> AsyncIterator[pb.SummarizeStreamResponse]:
        """Up to ``stream_concurrency`` articles are briefed at once; each answer is yielded as
        soon as it is done, with its own status. A window slot is freed when its answer has
        been taken by the door (written), not when the brief is done, so a client that sends
        and never reads holds at most ``stream_concurrency`` answers in server memory, and the
        door stops reading its articles (flow control holds it back).

        The stream takes no more articles when its key's quota is spent (it ends with the
        quota error once those in flight are answered), when the server drains (it ends
        UNAVAILABLE with a retry delay), or when it has nothing in flight and nothing arrives
        for ``stream_idle_timeout_s`` (it ends DEADLINE_EXCEEDED)."""
        window = asyncio.Semaphore(self.policy.stream_concurrency)
        answers: asyncio.Queue[pb.SummarizeStreamResponse | None] = asyncio.Queue()
        watch = _StreamWatch(last=time.monotonic())
        tasks: set[asyncio.Task[None]] = set()

        async def one(index: int, item: StreamItem) -> None:
            reference = "" if isinstance(item, Undecodable) else item.request.client_reference
            try:
                article, options = conv.article_from_pb(decoded(item).request)
                result = await self.pipeline.brief(
                    article, options, deadline=call.item_deadline(), tenant=call.tenant
                )
                out = pb.SummarizeStreamResponse(
                    client_reference=reference,
                    index=index,
                    status=pb.ItemStatus(code=0),
                    response=conv.result_to_pb(result),
                )
            except Exception as exc:
                out = item_error(index, reference, exc)
            watch.briefing -= 1
            watch.last = time.monotonic()
            answers.put_nowait(out)  # bounded: one per window slot

        async def reader() -> None:
            index = 0
            try:
                async for item in self._articles(requests, call, watch, window):
                    watch.briefing += 1
                    task = asyncio.create_task(one(index, item))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    index += 1
                while tasks:
                    await asyncio.gather(*list(tasks))
            finally:
                answers.put_nowait(None)

        reading = asyncio.create_task(reader())
        try:
            while True:
                out = await answers.get()
                if out is None:
                    break
                yield out  # returns once the door has taken it
                watch.last = time.monotonic()
                window.release()
            await reading  # re-raises a failure of the request stream itself
        finally:
            reading.cancel()
            for task in list(tasks):
                task.cancel()
        watch.raise_end(self.policy)

    async def _articles(
        self,
        requests: AsyncIterator[StreamItem],
        call: CallContext,
        watch: _StreamWatch,
        window: asyncio.Semaphore,
    ) -> AsyncIterator[StreamItem]:
        """The stream's articles, each taken once a window slot is free and counted against
        the key's quota; ends early (``watch.ended``) on a spent quota, drain, or idleness."""
        source = aiter(requests)
        closing = asyncio.ensure_future(self.policy.admission.closing.wait())
        idle_s = self.policy.stream_idle_s
        try:
            while True:
                if not await _wait_for_slot(window, closing, watch, idle_s):
                    return
                pending = asyncio.ensure_future(anext(source))
                try:
                    while not pending.done():
                        await asyncio.wait(
                            {pending, closing},
                            timeout=max(0.01, watch.idle_left(idle_s)),
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                        if closing.done() and not pending.done():
                            watch.ended = "closing"  # shutting down: take no more articles
                            return
                        if not pending.done() and watch.idle_left(idle_s) <= 0:
                            watch.ended = "idle"
                            return
                    item = pending.result()
                except StopAsyncIteration:
                    window.release()
                    return
                finally:
                    pending.cancel()
                try:
                    self.policy.take(call.tenant)
                except QuotaExceeded as exc:
                    window.release()
                    watch.spent = exc
                    return
                watch.last = time.monotonic()
                yield item
        finally:
            closing.cancel()


async def _wait_for_slot(
    window: asyncio.Semaphore, closing: asyncio.Future[Any], watch: _StreamWatch, idle_s: float
) -> bool:
    """Until a window slot is taken (True), or the stream must end first (False)."""
    while True:
        slot = asyncio.ensure_future(window.acquire())
        await asyncio.wait(
            {slot, closing},
            timeout=max(0.01, watch.idle_left(idle_s)),
            return_when="FIRST_COMPLETED",
        )
        if slot.done():
            if closing.done():
                window.release()
                watch.ended = "closing"
                return False
            return True
        slot.cancel()
        if closing.done():
            watch.ended = "closing"
            return False
        if watch.idle_left(idle_s) <= 0:
            watch.ended = "idle"
            return False


@dataclass
class _StreamWatch:
    """The request side of one stream: articles being briefed, when the last one arrived or an
    answer was taken, and why it stopped taking articles ("idle", "closing", a spent quota)."""

    last: float
    briefing: int = 0
    ended: str = ""
    spent: QuotaExceeded | None = None

    def idle_left(self, idle_s: float) -> float:
        """Seconds until the stream counts as idle; while an article is being briefed it
        cannot be (the clock restarts at each answer taken), so a full period."""
        return idle_s if self.briefing else self.last + idle_s - time.monotonic()

    def raise_end(self, policy: CallPolicy) -> None:
        """The error that ends a stream that stopped taking articles early (none otherwise)."""
        if self.spent is not None:
            raise self.spent
        if self.ended == "idle":
            raise DeadlineExceeded(
                f"no article sent for {policy.stream_idle_s:g} s with none in flight: stream "
                "closed (admission.stream_idle_timeout_s)"
            )
        if self.ended == "closing":
            raise policy.admission.closed_stream()


def item_error(index: int, reference: str, exc: Exception) -> pb.SummarizeStreamResponse:
    """The per-article status of a failed stream item (same table as whole-call errors)."""
    request_id = request_id_var.get()
    if not isinstance(exc, NewsbriefError):
        log.error("stream item %d failed (request id %s)", index, request_id, exc_info=exc)
    status = to_status(exc, request_id)
    violations = [
        pb.FieldViolation(field=v.field, description=v.description)
        for v in (exc.violations if isinstance(exc, InvalidArgument) else ())
    ]
    return pb.SummarizeStreamResponse(
        client_reference=reference,
        index=index,
        status=pb.ItemStatus(
            code=status.code,
            message=status.message,
            field_violations=violations,
            details=list(status.details),
        ),
    )
