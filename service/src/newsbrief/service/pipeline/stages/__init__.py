"""The stages of a brief, each a module of plain functions over domain types:
:mod:`intake` (text or HTML -> clean text, language, sentences), :mod:`extractive` (the built-in
brief and its check), :mod:`abstractive` (a neural summary, kept only when the faithfulness guard
passes it) and :mod:`translation` (the brief or texts into other languages, checked).
:class:`~newsbrief.service.pipeline.core.Pipeline` orchestrates them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from newsbrief.service.errors import DeadlineExceeded

T = TypeVar("T")


def check_deadline(deadline: float | None, stage: str) -> None:
    """Raise DeadlineExceeded when ``deadline`` (``time.monotonic()`` seconds) has passed: the
    stage boundary where a late request stops spending CPU."""
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded(f"the deadline passed before the {stage} stage")


class Runner(Protocol):
    """Runs a blocking function in one of the pipeline's worker processes (the function
    module-level, its arguments and result picklable), stopping it when it is still running
    shortly after ``deadline`` (DeadlineExceeded)."""

    async def __call__(
        self, fn: Callable[..., T], /, *args: object, deadline: float | None
    ) -> T: ...
