"""The stages of a brief, each a module of plain functions over domain types:
:mod:`ingest` (text or HTML -> clean text, language, sentences), :mod:`extractive` (the built-in
brief and its check), :mod:`abstractive` (a neural summary, kept only when the faithfulness guard
passes it) and :mod:`translation` (the brief or texts into other languages, checked).
:class:`~newsbrief.service.pipeline.core.Pipeline` orchestrates them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Runner(Protocol):
    """Runs a blocking function off the event loop (the pipeline's thread pool)."""

    async def __call__(self, fn: Callable[..., T], /, *args: object) -> T: ...
