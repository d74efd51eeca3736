"""The extractive stage: the built-in brief (article sentences chosen to the length budget) and
the extractive guarantee, checked rather than assumed (:mod:`newsbrief.service.checks.verbatim`)."""

from __future__ import annotations

from collections.abc import Callable

from newsbrief.service import __version__
from newsbrief.service.checks.verbatim import check_extractive
from newsbrief.service.domain import (
    Article,
    Brief,
    BriefLine,
    Budget,
    Faithfulness,
    ModelInfo,
    Span,
)
from newsbrief.service.intake.language import LanguageAnalysis
from newsbrief.service.pipeline.stages import StageTimes, Stopwatch
from newsbrief.service.pipeline.stages.intake import Intake, take_in
from newsbrief.service.settings import IntakeSettings
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
    """Blocking: the extractive brief of an article taken in, each field on one line, each
    summary sentence and key point with the span of ``intake.article_text`` it came from."""
    brief = summarizer.summarize(
        intake.paragraphs,
        intake.language.code,
        budget,
        intake.title,
        locate_sentences(intake.article_text, intake.paragraphs),
    )
    return Brief(
        headline=squash(brief.headline),
        summary=squash(brief.summary),
        key_points=tuple(squash(k) for k in brief.key_points),
        summary_lines=tuple(BriefLine(squash(x.text), x.sources) for x in brief.summary_lines),
        key_point_lines=tuple(BriefLine(squash(x.text), x.sources) for x in brief.key_point_lines),
    )


def locate_sentences(text: str, paragraphs: list[list[str]]) -> list[Span | None]:
    """Where each sentence of ``paragraphs`` (in order) is in ``text``: a span of code points,
    or None for one that cannot be found (the sentences are read from ``text`` in order, so
    each is looked for after the one before; a sentence whose spacing differs is matched word
    by word)."""
    out: list[Span | None] = []
    cursor = 0
    for paragraph in paragraphs:
        for sentence in paragraph:
            piece = sentence.strip()
            if not piece:
                out.append(None)
                continue
            start = text.find(piece, cursor)
            if start >= 0:
                end = start + len(piece)
            else:
                found = find_words(text, piece.split(), cursor)
                if found is None:
                    out.append(None)
                    continue
                start, end = found
            out.append(Span(start, end))
            cursor = end
    return out


def find_words(text: str, words: list[str], start: int) -> tuple[int, int] | None:
    """The first place in ``text`` from ``start`` where ``words`` (none empty, none holding white
    space) stand in order, separated by white space of any kind and length: its span, or None.
    What the regular expression ``w1\\s+w2\\s+...`` finds, without compiling one per sentence (a
    brief located ~18 sentences an article that way, most of its time)."""
    first = words[0]
    at = text.find(first, start)
    while at >= 0:
        end = at + len(first)
        for word in words[1:]:
            gap = end
            while gap < len(text) and text[gap].isspace():
                gap += 1
            if gap == end or not text.startswith(word, gap):
                break
            end = gap + len(word)
        else:
            return at, end
        at = text.find(first, at + 1)
    return None


def check_extractive_brief(brief: Brief, intake: Intake) -> Faithfulness:
    """:func:`~newsbrief.service.checks.verbatim.check_extractive` of a brief against the
    article taken in."""
    sentences = [s for p in intake.paragraphs for s in p]
    return check_extractive(brief, sentences, intake.text, intake.title)


def take_in_and_brief(
    article: Article,
    budget: Budget,
    settings: IntakeSettings,
    analyse: Callable[[str], LanguageAnalysis],
    summarizer: ExtractiveSummarizer,
    deadline: float | None = None,
) -> tuple[Intake, Brief, Faithfulness, StageTimes]:
    """Blocking, in one worker process call: the intake (:func:`.intake.take_in`), the
    extractive brief and its check, each stage started only before ``deadline``; with the
    times of the stages (``intake``, ``brief``, ``guard``) for the caller to report."""
    clock = Stopwatch()
    with clock.stage("intake", deadline):
        intake = take_in(article, settings, analyse, deadline)
    with clock.stage("brief", deadline):
        brief = extractive_brief(summarizer, intake, budget)
    with clock.stage("guard", deadline):
        faithfulness = check_extractive_brief(brief, intake)
    return intake, brief, faithfulness, clock.times
