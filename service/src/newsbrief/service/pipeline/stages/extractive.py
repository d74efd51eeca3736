"""The extractive stage: the built-in brief (article sentences chosen to the length budget) and
the extractive guarantee, checked rather than assumed (:mod:`newsbrief.service.checks.verbatim`)."""

from __future__ import annotations

from newsbrief.service import __version__
from newsbrief.service.checks.verbatim import check_extractive
from newsbrief.service.domain import Brief, Budget, Faithfulness, ModelInfo
from newsbrief.service.pipeline.stages.intake import Intake
from newsbrief.service.summarize.extractive import ExtractiveSummarizer
from newsbrief.service.text.patterns import SPACE

#: The built-in extractive summariser, as responses list it among their models.
EXTRACTIVE_MODEL = ModelInfo(
    role="summarizer",
    id="extractive",
    revision=__version__,
    licence="Apache-2.0 (built in, no weights)",
    languages=(),
    ready=True,
    backend="builtin",
)


def squash(text: str) -> str:
    """One line: hard-wrapped article lines are joined with single spaces."""
    return SPACE.sub(" ", text).strip()


def extractive_brief(summarizer: ExtractiveSummarizer, intake: Intake, budget: Budget) -> Brief:
    """Blocking: the extractive brief of an article taken in, each field on one line."""
    brief = summarizer.summarize(intake.paragraphs, intake.language.code, budget, intake.title)
    return Brief(
        headline=squash(brief.headline),
        summary=squash(brief.summary),
        key_points=tuple(squash(k) for k in brief.key_points),
    )


def check_extractive_brief(brief: Brief, intake: Intake) -> Faithfulness:
    """:func:`~newsbrief.service.checks.verbatim.check_extractive` of a brief against the
    article taken in."""
    sentences = [s for p in intake.paragraphs for s in p]
    return check_extractive(brief, sentences, intake.text, intake.title)
