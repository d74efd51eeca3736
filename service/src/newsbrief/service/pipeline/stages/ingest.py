"""The ingest stage: the article's text (from plain text or an HTML page, scraped boilerplate
removed), its language, its paragraphs of sentences and its metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsbrief.service.domain import Article, ArticleMetadata, DetectedLanguage, Notice
from newsbrief.service.errors import FieldViolation, InvalidArgument
from newsbrief.service.pipeline.html import extract_html
from newsbrief.service.pipeline.language import LanguageAnalysis
from newsbrief.service.pipeline.scraped import boilerplate_warning, clean_scraped_text
from newsbrief.service.pipeline.stages import check_deadline
from newsbrief.service.settings import IntakeSettings
from newsbrief.service.text.normalize import normalize_text
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


def prepare(
    article: Article,
    intake: IntakeSettings,
    analyse: Callable[[str], LanguageAnalysis],
    deadline: float | None = None,
) -> Prepared:
    """Blocking: the article taken in (HTML extraction, cleaning), its language detected with
    ``analyse`` unless given, its sentences; the deadline is checked between these steps."""
    warnings: list[Notice] = []
    title = normalize_text(article.title)
    byline = date = dateline = ""
    clean = intake.clean_text
    if article.html is not None:
        page = extract_html(article.html)
        text = normalize_text(page.text)
        title = title or normalize_text(page.title)
        byline, date = page.byline, page.date
        clean = intake.clean_html
        if not text:
            raise InvalidArgument(FieldViolation("html", "no article text was found in the page"))
    else:
        text = normalize_text(article.text or "")
        if not text:
            raise InvalidArgument(FieldViolation("text", "contains no readable text"))
    if clean:
        check_deadline(deadline, "clean")
        cleaned = clean_scraped_text(
            text,
            title,
            min_kept_chars=intake.min_kept_chars,
            min_kept_ratio=intake.min_kept_ratio,
        )
        text = cleaned.text
        title = title or cleaned.headline
        byline = byline or cleaned.byline
        dateline = cleaned.dateline
        warning = boilerplate_warning(cleaned)
        if warning is not None:
            warnings.append(Notice(*warning))
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
        byline=byline,
        date=date,
        dateline=dateline,
        characters=len(text),
        sentences=sum(len(p) for p in paragraphs),
        paragraphs=len(paragraphs),
    )
    return Prepared(text, title, paragraphs, language, metadata, warnings)


def language_notices(analysis: LanguageAnalysis) -> list[Notice]:
    """LANGUAGE_MIXED / _UNDETERMINED / _AMBIGUOUS when the detector's answer is not clear-cut."""
    if analysis.status == "ok":
        return []
    return [Notice(f"LANGUAGE_{analysis.status.upper()}", analysis.message())]
