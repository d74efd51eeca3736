"""Fakes shared by tests of several tiers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsbrief.service.domain import Article, BriefOptions, BriefResult, ModelInfo, Notice
from newsbrief.service.models.protocols import Translated
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.serving.policy import Call, CallPolicy
from newsbrief.service.settings import Settings

INFO = ModelInfo(
    role="translator",
    id="facebook/m2m100_418M",
    revision="55c2e61",
    backend="ctranslate2",
    languages=("en", "ko", "ms"),
    parameters=(("num_beams", "4"),),
)


class Recorder:
    """A translator that upper-cases and records every batch it is sent; a text holding "!" gets
    ``notices``."""

    def __init__(self, info: ModelInfo = INFO, notices: tuple[Notice, ...] = ()) -> None:
        self._info = info
        self.notices = notices
        self.batches: list[list[str]] = []

    @property
    def info(self) -> ModelInfo:
        return self._info

    def supports(self, source: str, target: str) -> bool:
        return True

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        self.batches.append(list(texts))
        notices = [self.notices if "!" in t else () for t in texts]
        return Translated([f"{target}:{t.upper()}" for t in texts], notices)

    @property
    def sent(self) -> list[str]:
        return [t for b in self.batches for t in b]


def fake_snapshot(cache: Path, repo_id: str, revision: str) -> Path:
    """A Hugging Face cache entry for ``repo_id`` at ``revision`` (a config file only)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    return snapshot


def failing_load(error: Exception) -> Callable[[], tuple[Any, ModelInfo]]:
    """A model worker's load function that raises ``error``: a model that cannot load."""

    def load() -> tuple[Any, ModelInfo]:
        raise error

    return load


def begin_call(
    policy: CallPolicy,
    method: str,
    timeout_s: float | None,
    *,
    transport: str = "test",
    how_to_send: str = "",
) -> Call:
    """``policy.begin`` for a call with no API key from peer "p" with request id "r"."""
    return policy.begin(
        method,
        transport=transport,
        key="",
        how_to_send=how_to_send,
        peer="p",
        request_id="r",
        timeout_s=timeout_s,
    )


class HookedPipeline(Pipeline):
    """The real pipeline with a hook before each brief: a subclass's :meth:`before_brief` may
    record the brief, slow it down (:meth:`wait`), hold it or make it fail; the real brief
    follows unless the hook raises. The hook runs inside the brief, as the pipeline counts it
    (a held brief is a call in progress for the models it may use)."""

    def __init__(self, settings: Settings, **parts: Any) -> None:
        super().__init__(settings, **parts)  # parts: the models, as Pipeline takes them
        self.cancelled = threading.Event()
        """Set when a brief is cancelled during :meth:`wait`."""

    async def before_brief(self, article: Article, deadline: float | None) -> None:
        """Runs first in each brief (nothing here)."""

    async def wait(self, seconds: float) -> None:
        """Sleep ``seconds``; a cancellation meanwhile sets :attr:`cancelled` (and goes on)."""
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def _brief(
        self, article: Article, options: BriefOptions, *, deadline: float | None, tenant: str
    ) -> BriefResult:
        await self.before_brief(article, deadline)
        return await super()._brief(article, options, deadline=deadline, tenant=tenant)
