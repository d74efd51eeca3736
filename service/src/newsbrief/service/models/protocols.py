"""The contracts of the model layer.

Two sides:

- what the pipeline calls (async, never blocking the event loop): :class:`Translator`,
  :class:`Summarizer`, and :class:`ManagedModel` for what loads at start-up and stops at shutdown;
- what an engine provides (blocking, loaded, called from a worker thread):
  :class:`TranslationEngine` and :class:`SummarizationEngine`. ``hf/`` and ``ct2/`` implement
  these; the adapters of :mod:`newsbrief.service.models.batching` turn an engine into a
  ``Translator`` or ``Summarizer``.

Results carry what an engine had to do to each text (a text split, an input cut, an output
stopped at the length limit) **per text**: a request that shared a model batch with another
request receives only its own texts' notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from newsbrief.service.domain import ModelInfo, Notice


@dataclass(frozen=True)
class Translated:
    """The translations of some texts, in input order, and per text the notices of what the
    engine had to do to it (empty when nothing)."""

    texts: list[str]
    notices_per_text: list[tuple[Notice, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.notices_per_text:
            object.__setattr__(self, "notices_per_text", [() for _ in self.texts])
        if len(self.notices_per_text) != len(self.texts):
            raise ValueError(
                f"{len(self.texts)} texts but notices for {len(self.notices_per_text)}"
            )

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class Summary:
    """An abstractive summary of one article and how it was made."""

    text: str
    input_tokens: int  # of the whole article
    max_input_tokens: int  # the model's input size
    parts: int = 1  # chunks summarised in the first round (1 = the article fitted)
    rounds: int = 1  # 1 = summarised at once; 2 = parts, then the summary of the parts; ...

    @property
    def chunked(self) -> bool:
        return self.parts > 1

    def describe(self) -> str:
        """What was done to a long article, for the ``INPUT_CHUNKED`` notice."""
        return (
            f"the article is {self.input_tokens} tokens, longer than the summariser's "
            f"{self.max_input_tokens}-token input: it was split at sentence boundaries into "
            f"{self.parts} parts, each part was summarised, then the summaries of the parts were "
            f"summarised ({self.rounds} rounds in all); nothing was cut"
        )


# ---- what the pipeline calls ---------------------------------------------------------------


class Translator(Protocol):
    """Translates batches of texts; never blocks the event loop."""

    @property
    def info(self) -> ModelInfo:
        """Model id, revision, licence, languages and readiness."""
        ...

    def supports(self, source: str, target: str) -> bool:
        """Whether this translator translates from ``source`` into ``target`` (BCP-47)."""
        ...

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        """``texts`` from ``source`` into ``target``, in order. ``deadline`` is the caller's
        (``time.monotonic()`` seconds): a text that has not reached the model by then never does
        (``DeadlineExceeded``)."""
        ...


class Summarizer(Protocol):
    """Summarises whole articles; never blocks the event loop."""

    @property
    def name(self) -> str:
        """The preset name, reported as the response's ``method``."""
        ...

    @property
    def info(self) -> ModelInfo:
        """Model id, revision, licence, languages, readiness and decoding parameters."""
        ...

    def supports(self, lang: str) -> bool:
        """Whether articles in ``lang`` (BCP-47) can be summarised."""
        ...

    async def summarize(self, text: str, lang: str, *, deadline: float | None = None) -> Summary:
        """The summary of one article (chunked when longer than the model's input); model work
        not started by ``deadline`` is not done (``DeadlineExceeded``)."""
        ...


@runtime_checkable
class ManagedModel(Protocol):
    """A model that loads at start-up (on its own worker, before SERVING) and is released at
    shutdown. ``start`` never raises for a missing model: the model reports itself not ready,
    with the reason, in its ``info``."""

    async def start(self) -> None: ...

    def close(self) -> None: ...


# ---- what an engine provides (blocking) ----------------------------------------------------


class TranslationEngine(Protocol):
    """A loaded translation model. Blocking; safe to call from the batcher's worker threads."""

    @property
    def max_input_tokens(self) -> int: ...

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """One batch, in order; empty texts stay empty."""
        ...


class SummarizationEngine(Protocol):
    """A loaded summarisation model. Blocking; safe to call from the batcher's worker threads."""

    @property
    def max_input_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model's input (special tokens included)."""
        ...

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        """One summary per text, in order; every text must fit the input
        (:class:`~newsbrief.service.models.chunking.InputTooLong` otherwise)."""
        ...
