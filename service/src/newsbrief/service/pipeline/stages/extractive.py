"""The extractive stage: the built-in brief (article sentences chosen to the length budget) and
the extractive guarantee, checked rather than assumed."""

from __future__ import annotations

import re

from newsbrief.service import __version__
from newsbrief.service.domain import Brief, Budget, Faithfulness, ModelInfo
from newsbrief.service.pipeline.stages.intake import Intake
from newsbrief.service.summarize.extractive import ExtractiveSummarizer

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

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def squash(text: str) -> str:
    """One line: hard-wrapped article lines are joined with single spaces."""
    return _SPACE.sub(" ", text).strip()


def extractive_brief(summarizer: ExtractiveSummarizer, intake: Intake, budget: Budget) -> Brief:
    """Blocking: the extractive brief of an article taken in, each field on one line."""
    brief = summarizer.summarize(intake.paragraphs, intake.language.code, budget, intake.title)
    return Brief(
        headline=squash(brief.headline),
        summary=squash(brief.summary),
        key_points=tuple(squash(k) for k in brief.key_points),
    )


def check_intake(brief: Brief, intake: Intake) -> Faithfulness:
    """:func:`check_extractive` of a brief against the article taken in."""
    sentences = [s for p in intake.paragraphs for s in p]
    return check_extractive(brief, sentences, intake.text, intake.title)


def check_extractive(brief: Brief, sentences: list[str], source: str, title: str) -> Faithfulness:
    """The extractive guarantee, checked rather than assumed: the summary is article sentences in
    article order (the last one possibly cut short to fit the budget), every key point is text of
    the article, and the headline is text of the article or its title (else every word of it is
    a word of them)."""
    issues: list[str] = []
    remaining = _SPACE.sub(" ", brief.summary).strip()
    for sentence in sentences:
        if not remaining:
            break
        piece = _SPACE.sub(" ", sentence).strip()
        if piece and remaining.startswith(piece):
            remaining = remaining[len(piece) :].lstrip()
        elif piece.startswith(remaining):
            remaining = ""  # the last sentence, shortened to fit the budget (a prefix of it)
    if remaining:
        issues.append(f"summary text not taken from the article: {remaining[:80]!r}")
    haystack = _SPACE.sub(" ", f"{title}\n{source}").casefold()
    for point in brief.key_points:
        if _SPACE.sub(" ", point).strip().casefold() not in haystack:
            issues.append(f"key point not found in the article: {point[:80]!r}")
    headline = _SPACE.sub(" ", brief.headline).strip().casefold()
    if headline not in haystack:  # a cut sentence or title is found whole; else word by word
        words = set(_WORD.findall(haystack))
        unknown = [w[:40] for w in _WORD.findall(headline) if w not in words]
        if unknown:
            issues.append(f"headline words not in the article: {', '.join(unknown[:5])}")
    return Faithfulness(passed=not issues, issues=tuple(issues))
