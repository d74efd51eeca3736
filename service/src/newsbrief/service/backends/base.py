"""The contracts a model engine fulfils. The pipeline only speaks to these Protocols."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from newsbrief.service.domain import ModelInfo


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

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate ``texts`` (one batch) from ``source`` into ``target``, in the same order."""
        ...
