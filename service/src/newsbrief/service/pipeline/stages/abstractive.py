"""The abstractive stage: a neural summary made into a brief, served only when the faithfulness
guard finds every number, date, name and quotation of it in the article; otherwise the
extractive brief is served and the guard's issues say why."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from newsbrief.service.checks.faithfulness import check_brief
from newsbrief.service.domain import (
    Brief,
    BriefLine,
    Budget,
    Faithfulness,
    Method,
    ModelInfo,
    Notice,
    Span,
)
from newsbrief.service.errors import CapabilityUnavailable
from newsbrief.service.models.protocols import Summarizer, Summary
from newsbrief.service.pipeline.stages import Runner, check_deadline
from newsbrief.service.pipeline.stages.extractive import (
    EXTRACTIVE_MODEL,
    locate_sentences,
    squash,
)
from newsbrief.service.pipeline.stages.intake import Intake
from newsbrief.service.summarize.extractive import shorten, tokens
from newsbrief.service.text.segment import split_sentences


@dataclass
class Outcome:
    """The brief a request is served and how it was made."""

    brief: Brief
    faithfulness: Faithfulness
    models: list[ModelInfo] = field(default_factory=lambda: [EXTRACTIVE_MODEL])
    method: str = "extractive"
    notices: list[Notice] = field(default_factory=list)


def serving_summarizer(neural: Summarizer | None, lang: str, method: Method) -> Summarizer | None:
    """``neural`` when it summarises ``lang``; for method=auto None otherwise (the extractive
    brief serves that language); for method=abstractive FAILED_PRECONDITION saying why."""
    if neural is None or neural.supports(lang):
        return neural
    if method is Method.ABSTRACTIVE:
        raise CapabilityUnavailable(
            "summarize.abstractive",
            f"the configured summariser {neural.name} does not summarise {lang!r} "
            f"(it serves: {', '.join(neural.info.languages) or 'none'}); use "
            "method=auto or method=extractive",
        )
    return None


async def abstractive(
    neural: Summarizer,
    intake: Intake,
    extractive: Outcome,
    budget: Budget,
    headline_max_words: int,
    *,
    run: Runner,
    timings: dict[str, float],
    deadline: float | None = None,
) -> Outcome:
    """The neural brief when the guard passes it, else ``extractive`` with the guard's issues."""
    lang = intake.language.code
    check_deadline(deadline, "abstractive")
    t0 = time.monotonic()
    summary = await neural.summarize(intake.text, lang, deadline=deadline)
    timings["abstractive"] = (time.monotonic() - t0) * 1000
    notices: list[Notice] = []
    if summary.chunked:
        notices.append(Notice("INPUT_CHUNKED", summary.describe()))
    candidate = abstractive_brief(
        summary, extractive.brief, intake.title, lang, budget.key_points, headline_max_words
    )
    check_deadline(deadline, "guard")
    t0 = time.monotonic()
    verdict = await run(check_brief, candidate, intake.text, intake.title, lang, deadline=deadline)
    timings["guard"] = timings.get("guard", 0.0) + (time.monotonic() - t0) * 1000
    if not summary.text.strip():
        verdict.issues.append("summary: the summariser returned an empty summary")
    notices.extend(Notice("GUARD_LIMITED", note) for note in verdict.notes)
    if verdict.passed:
        candidate = await run(with_sources, candidate, intake, deadline=deadline)
        return Outcome(candidate, verdict.faithfulness(), [neural.info], neural.name, notices)
    # the extractive brief is served; the issues say why the model's was not
    faithfulness = Faithfulness(
        passed=extractive.faithfulness.passed,
        issues=(
            *(f"rejected {neural.name} brief: {x}" for x in verdict.issues),
            *extractive.faithfulness.issues,
        ),
    )
    notices.append(
        Notice(
            "ABSTRACTIVE_REJECTED",
            f"the {neural.name} summary was replaced by the extractive brief: "
            f"{len(verdict.issues)} fact(s) not found in the article "
            "(see faithfulness.issues)",
        )
    )
    return Outcome(
        extractive.brief, faithfulness, [EXTRACTIVE_MODEL, neural.info], "extractive", notices
    )


def abstractive_brief(
    summary: Summary, extractive: Brief, title: str, lang: str, want: int, headline_max_words: int
) -> Brief:
    """The brief of a model summary: the headline is the title when given, else the summary's
    first sentence shortened; the summary is the model's; the key points are the summary's
    sentences when it has as many as asked, else the extractive brief's key points (taken
    from the article)."""
    text = squash(summary.text)
    sentences = split_sentences(text, lang) if text else []
    if title.strip():
        headline = shorten(title, headline_max_words, lang)
    else:
        first = shorten(sentences[0], headline_max_words, lang) if sentences else ""
        headline = first.rstrip(".") if not first.endswith("..") else first
    if want and len(sentences) >= want:
        points = tuple(squash(s) for s in sentences[:want])
    else:
        points = extractive.key_points if want else ()
    return Brief(headline=squash(headline), summary=text, key_points=points)


MAX_SUPPORT = 2
"""Article sentences named as the source of one line of an abstractive brief, at most."""


def with_sources(brief: Brief, intake: Intake) -> Brief:
    """Blocking: ``brief`` (a model's, passed by the guard) with each summary sentence and key
    point pointing at the article sentences that support it (:func:`supporting`)."""
    lang = intake.language.code
    spans = locate_sentences(intake.article_text, intake.paragraphs)
    article = [
        (frozenset(tokens(text, lang)), span)
        for text, span in zip((s for p in intake.paragraphs for s in p), spans, strict=True)
        if span is not None
    ]

    def line(text: str) -> BriefLine:
        return BriefLine(text, supporting(frozenset(tokens(text, lang)), article))

    sentences = split_sentences(brief.summary, lang) if brief.summary else []
    return Brief(
        headline=brief.headline,
        summary=brief.summary,
        key_points=brief.key_points,
        summary_lines=tuple(line(squash(x)) for x in sentences),
        key_point_lines=tuple(line(x) for x in brief.key_points),
    )


def supporting(
    words: frozenset[str], article: list[tuple[frozenset[str], Span]]
) -> tuple[Span, ...]:
    """The article sentences a line was made from: greedily, the sentence that holds most of
    the line's content words not yet found (the words the guard's facts are made of: names,
    numbers, quoted words), up to :data:`MAX_SUPPORT`, each adding at least two of them (the
    first at least a third of the line's words); in article order."""
    found: list[Span] = []
    left = set(words)
    for _ in range(MAX_SUPPORT):
        best, gain = None, 0
        for sentence, span in article:
            g = len(left & sentence)
            if g > gain:
                best, gain = (sentence, span), g
        need = max(2, len(words) // 3) if not found else 2
        if best is None or gain < need:
            break
        found.append(best[1])
        left -= best[0]
    return tuple(sorted(found, key=lambda s: s.start))
