"""The ingest stage: the article's text (from plain text or an HTML page, scraped boilerplate
removed), its language, its paragraphs of sentences and its metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsbrief.service.domain import Article, ArticleMetadata, DetectedLanguage, Notice
from newsbrief.service.intake.language import LanguageAnalysis
from newsbrief.service.intake.main_text import take_in
from newsbrief.service.pipeline.stages import check_deadline
from newsbrief.service.settings import IntakeSettings
from newsbrief.service.text.segment import split_paragraphs, split_sentences


@dataclass
class Prepared:
    """An article after intake: normalised text, paragraphs of sentences, language, metadata."""

    text: str
    title: str
    paragraphs: list[list[str]]
    language: DetectedLanguage
    metadata: ArticleMetadata
    warnings: list[Notice]
    article_text: str
    """The cleaned main text with its dateline (what the response's article_text carries)."""


def prepare(
    article: Article,
    intake: IntakeSettings,
    analyse: Callable[[str], LanguageAnalysis],
    deadline: float | None = None,
) -> Prepared:
    """Blocking: the article taken in (:func:`~newsbrief.service.intake.main_text.take_in`: HTML
    extraction, cleaning), its language detected with ``analyse`` unless given, its sentences;
    the deadline is checked between these steps."""
    intake_result = take_in(article, intake)
    warnings = list(intake_result.warnings)
    text, title = intake_result.text, intake_result.title
    if article.source_language:
        language = DetectedLanguage(article.source_language, 1.0, given=True)
    else:
        check_deadline(deadline, "language")
        analysis = analyse(text)
        language = analysis.language
        warnings.extend(language_notices(analysis))
    lang = language.code
    check_deadline(deadline, "segment")
    paragraphs = [
        sentences
        for sentences in (split_sentences(p, lang) for p in split_paragraphs(text))
        if sentences
    ]
    metadata = ArticleMetadata(
        title=title,
        byline=intake_result.byline,
        date=intake_result.date,
        dateline=intake_result.dateline,
        characters=len(text),
        sentences=sum(len(p) for p in paragraphs),
        paragraphs=len(paragraphs),
    )
    return Prepared(
        text, title, paragraphs, language, metadata, warnings, intake_result.article_text
    )


def language_notices(analysis: LanguageAnalysis) -> list[Notice]:
    """LANGUAGE_UNSUPPORTED, _MIXED, _UNDETERMINED or _AMBIGUOUS when the answer is not clear."""
    if analysis.status == "ok":
        return []
    return [Notice(f"LANGUAGE_{analysis.status.upper()}", analysis.message())]
