"""The intake stage: the article's text (from plain text or an HTML page, scraped boilerplate
removed), its language, its paragraphs of sentences and its metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsbrief.service.domain import Article, ArticleMetadata, DetectedLanguage, Notice
from newsbrief.service.intake.language import LanguageAnalysis
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.pipeline.stages import check_deadline
from newsbrief.service.settings import IntakeSettings
from newsbrief.service.text.segment import split_paragraphs, split_sentences


@dataclass
class Intake:
    """An article taken in: normalised text, paragraphs of sentences, language, metadata."""

    text: str
    title: str
    paragraphs: list[list[str]]
    language: DetectedLanguage
    metadata: ArticleMetadata
    warnings: list[Notice]
    article_text: str
    """The cleaned main text with its dateline (what the response's article_text carries)."""


def take_in(
    article: Article,
    settings: IntakeSettings,
    analyse: Callable[[str], LanguageAnalysis],
    deadline: float | None = None,
) -> Intake:
    """Blocking: the article taken in: its main text
    (:func:`~newsbrief.service.intake.main_text.main_text`: HTML
    extraction, cleaning), its language detected with ``analyse`` unless given, its sentences;
    the deadline is checked between these steps."""
    page = main_text(article, settings)
    warnings = list(page.warnings)
    text, title = page.text, page.title
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
        byline=page.byline,
        date=page.date,
        dateline=page.dateline,
        characters=len(text),
        sentences=sum(len(p) for p in paragraphs),
        paragraphs=len(paragraphs),
    )
    return Intake(text, title, paragraphs, language, metadata, warnings, page.article_text)


def language_notices(analysis: LanguageAnalysis) -> list[Notice]:
    """LANGUAGE_UNSUPPORTED, _MIXED, _UNDETERMINED or _AMBIGUOUS when the answer is not clear."""
    if analysis.status == "ok":
        return []
    return [Notice(f"LANGUAGE_{analysis.status.upper()}", analysis.message())]
