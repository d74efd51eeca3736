"""The extractive stage: the built-in brief (article sentences chosen to the length budget) and
the extractive guarantee, checked rather than assumed."""

from __future__ import annotations

import re

from newsbrief.service import __version__
from newsbrief.service.domain import Brief, BriefLine, Budget, Faithfulness, ModelInfo, Span
from newsbrief.service.pipeline.extractive import ExtractiveSummarizer
from newsbrief.service.pipeline.lines import is_compression_of
from newsbrief.service.pipeline.stages.ingest import Prepared

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


def extractive_brief(summarizer: ExtractiveSummarizer, prepared: Prepared, budget: Budget) -> Brief:
    """Blocking: the extractive brief of a prepared article, each field on one line, each
    summary sentence and key point with the span of ``prepared.article_text`` it came from."""
    brief = summarizer.summarize(
        prepared.paragraphs,
        prepared.language.code,
        budget,
        prepared.title,
        locate_sentences(prepared.article_text, prepared.paragraphs),
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
                pattern = r"\s+".join(re.escape(w) for w in piece.split())
                m = re.compile(pattern).search(text, cursor)
                if m is None:
                    out.append(None)
                    continue
                start, end = m.span()
            out.append(Span(start, end))
            cursor = end
    return out


def check_prepared(brief: Brief, prepared: Prepared) -> Faithfulness:
    """:func:`check_extractive` of a brief against the prepared article."""
    sentences = [s for p in prepared.paragraphs for s in p]
    return check_extractive(brief, sentences, prepared.text, prepared.title)


def check_extractive(brief: Brief, sentences: list[str], source: str, title: str) -> Faithfulness:
    """The extractive guarantee, checked rather than assumed: the summary is article sentences in
    article order (the last one possibly cut short to fit the budget), every key point is text of
    the article, and the headline is text of the article or its title (else every word of it is
    a word of them). A key point may be a compression of one article sentence (its words are
    words of the sentence, in order)."""
    issues: list[str] = []
    remaining = _SPACE.sub(" ", brief.summary).strip()
    for sentence in sentences:
        if not remaining:
            break
        piece = _SPACE.sub(" ", sentence).strip()
        if (
            piece
            and remaining.startswith(piece)
            and remaining[len(piece) : len(piece) + 1] in ("", " ")
        ):
            remaining = remaining[len(piece) :].lstrip()
        elif piece.startswith(remaining):
            remaining = ""  # the last sentence, shortened to fit the budget (a prefix of it)
    if remaining:
        issues.append(f"summary text not taken from the article: {remaining[:80]!r}")
    haystack = _SPACE.sub(" ", f"{title}\n{source}").casefold()
    for point in brief.key_points:
        if _SPACE.sub(" ", point).strip().casefold() in haystack:
            continue
        # a compression of one article sentence: its words in the sentence's order
        if not any(is_compression_of(point, sentence) for sentence in sentences):
            issues.append(f"key point not found in the article: {point[:80]!r}")
    headline = _SPACE.sub(" ", brief.headline).strip().casefold()
    if headline not in haystack:  # a cut sentence or title is found whole; else word by word
        words = set(_WORD.findall(haystack))
        unknown = [w[:40] for w in _WORD.findall(headline) if w not in words]
        if unknown:
            issues.append(f"headline words not in the article: {', '.join(unknown[:5])}")
    return Faithfulness(passed=not issues, issues=tuple(issues))
