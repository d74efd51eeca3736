"""The contracts a model engine fulfils. The pipeline only speaks to these Protocols."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from newsbrief.service.domain import ModelInfo, Warning


class TranslationBatch(list[str]):
    """The translations of one batch, in input order, plus what the engine had to do to them
    (``warnings``: an input truncated, an output cut at the length limit). Any ``list[str]`` is a
    valid translation result; this one also carries warnings."""

    def __init__(self, texts: Iterable[str] = (), warnings: Iterable[Warning] = ()) -> None:
        super().__init__(texts)
        self.warnings: list[Warning] = list(warnings)


@runtime_checkable
class Translator(Protocol):
    """Translates batches of texts. Implementations never block the event loop: they hand the
    work to their own worker and await it."""

    @property
    def info(self) -> ModelInfo:
        """Model id, revision, licence, languages and readiness."""
        ...

    def supports(self, source: str, target: str) -> bool:
        """Whether this engine translates from ``source`` into ``target`` (BCP-47)."""
        ...

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> list[str]:
        """Translate ``texts`` (one batch) from ``source`` into ``target``, in the same order
        (a :class:`TranslationBatch` when there are warnings). ``deadline`` is the caller's
        (``time.monotonic()`` seconds): a text that has not reached the model by then never
        does (``DeadlineExceeded``)."""
        ...


@runtime_checkable
class ManagedModel(Protocol):
    """A backend that loads its model at start-up (in its own worker, before SERVING) and
    releases it at shutdown. ``start`` never raises for a missing model: the backend reports
    itself not ready, with the reason, in ``info``."""

    async def start(self) -> None: ...

    def close(self) -> None: ...
