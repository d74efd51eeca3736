"""The contract of a neural summariser, as the pipeline sees it (the extractive brief is built in).

Beside :class:`~newsbrief.service.models.protocols.Translator`; kept in its own module so that the
summariser and the translator can evolve separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from newsbrief.service.domain import ModelInfo


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
        """What was done to a long article, for the ``INPUT_CHUNKED`` warning."""
        return (
            f"the article is {self.input_tokens} tokens, longer than the summariser's "
            f"{self.max_input_tokens}-token input: it was split at sentence boundaries into "
            f"{self.parts} parts, each part was summarised, then the summaries of the parts were "
            f"summarised ({self.rounds} rounds in all); nothing was cut"
        )


@runtime_checkable
class Summarizer(Protocol):
    """Summarises whole articles. Implementations never block the event loop: model calls run
    on the model's own worker."""

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

    async def summarize(self, text: str, lang: str) -> Summary:
        """The summary of one article (chunked when longer than the model's input)."""
        ...
