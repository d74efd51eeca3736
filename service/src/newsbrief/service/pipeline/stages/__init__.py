"""The stages of a brief, each a module of plain functions over domain types:
:mod:`intake` (text or HTML -> clean text, language, sentences), :mod:`extractive` (the built-in
brief and its check), :mod:`abstractive` (a neural summary, kept only when the faithfulness guard
passes it) and :mod:`translation` (the brief or texts into other languages, checked).
:class:`~newsbrief.service.pipeline.core.Pipeline` orchestrates them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from newsbrief.service.errors import DeadlineExceeded

T = TypeVar("T")


def check_deadline(deadline: float | None, stage: str) -> None:
    """Raise DeadlineExceeded when ``deadline`` (``time.monotonic()`` seconds) has passed: the
    stage boundary where a late request stops spending CPU."""
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded(f"the deadline passed before the {stage} stage")


#: The stages a worker process ran, in order: (stage, started, ended), ``time.monotonic()``
#: seconds (the same clock in every process of the machine).
StageTimes = list[tuple[str, float, float]]

#: The attributes of an exception raised by a :class:`Stopwatch`'s stages: the
#: :data:`StageTimes` up to it (the failing stage last) and the name of the stage that raised it
#: (absent when it was the deadline before a stage), so that the caller can report them
#: across the process boundary.
STAGE_TIMES = "newsbrief_stage_times"
FAILED_STAGE = "newsbrief_failed_stage"


class Stopwatch:
    """Times stages run one after another in a worker process, for the caller to report
    (:meth:`~newsbrief.service.observability.telemetry.Telemetry.stages_done`)."""

    def __init__(self) -> None:
        self.times: StageTimes = []

    @contextmanager
    def stage(self, name: str, deadline: float | None) -> Iterator[None]:
        """Run one stage: not started once ``deadline`` has passed (:func:`check_deadline`);
        an exception it raises carries the times so far (:data:`STAGE_TIMES`)."""
        try:
            check_deadline(deadline, name)
        except Exception as exc:
            setattr(exc, STAGE_TIMES, self.times)
            raise
        started = time.monotonic()
        try:
            yield
        except Exception as exc:
            self.times.append((name, started, time.monotonic()))
            setattr(exc, STAGE_TIMES, self.times)
            setattr(exc, FAILED_STAGE, name)
            raise
        self.times.append((name, started, time.monotonic()))


class Runner(Protocol):
    """Runs a blocking function in one of the pipeline's worker processes (the function
    module-level, its arguments and result picklable), stopping it when it is still running
    shortly after ``deadline`` (DeadlineExceeded)."""

    async def __call__(
        self, fn: Callable[..., T], /, *args: object, deadline: float | None
    ) -> T: ...
