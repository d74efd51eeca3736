"""The main text of an article and its metadata, before language and sentences.

HTML goes through :func:`.html.extract_html` (trafilatura) and then the furniture cleaning of
:mod:`.scraped` in its ``extracted`` mode; plain text (typed, pasted or a whole page dumped by a
scraper) through the full cleaning. The server (:class:`.core.Pipeline`) and the evaluation
(``eval/``) both call :func:`main_text`, so what is measured is what is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import Article, Notice
from ..errors import FieldViolation, InvalidArgument
from ..settings import IntakeSettings
from ..text.normalize import normalize_text
from .html import extract_html
from .scraped import boilerplate_warning, clean_scraped_text, prose_paragraphs


@dataclass(frozen=True)
class MainText:
    """The main text of an article and what the intake learnt about it on the way."""

    text: str
    """The main text without the dateline, paragraphs separated by one blank line."""
    title: str = ""
    byline: str = ""
    date: str = ""
    dateline: str = ""
    warnings: tuple[Notice, ...] = field(default_factory=tuple)

    @property
    def article_text(self) -> str:
        """The main text as the article has it: the dateline back in front of it."""
        return f"{self.dateline} {self.text}" if self.dateline else self.text


def main_text(article: Article, settings: IntakeSettings) -> MainText:
    """The cleaned main text of ``article`` with its headline, byline, date and dateline.

    Raises InvalidArgument only when there is no readable text at all (a page with visible
    text always gives some, with an ``EXTRACTION_WEAK`` warning when the extractor found no
    main text and all the page's text was used).
    """
    warnings: list[Notice] = []
    title = normalize_text(article.title)
    byline = date = ""
    if article.html is not None:
        page = extract_html(article.html, max_tag_attributes=settings.max_tag_attributes)
        byline, date = page.byline, page.date
        # the byline the page's markup names is metadata, not a paragraph of the story
        credit = {byline.casefold(), f"by {byline}".casefold()} if byline else set()
        text = normalize_text(
            "\n\n".join(p for p in page.text.split("\n\n") if p.casefold() not in credit)
        )
        title = title or normalize_text(page.title)
        clean = settings.clean_html
        if not text:
            raise InvalidArgument(FieldViolation("html", "the page has no visible text"))
        if page.weak:
            warnings.append(
                Notice(
                    "EXTRACTION_WEAK",
                    "no main article text was recognised in the page, so the brief was made "
                    "from all of its visible text (menus and other page furniture may show); "
                    "send the article text to get a better brief",
                )
            )
    else:
        text = normalize_text(article.text or "")
        clean = settings.clean_text
        if not text:
            raise InvalidArgument(FieldViolation("text", "contains no readable text"))
    dateline = ""
    if clean:
        extracted = article.html is not None
        lines = text.count("\n") + 1
        if not extracted and settings.page_dump_lines <= lines <= settings.page_dump_max_lines:
            # a whole page dumped to text: its headline from the top of the page, then the
            # paragraphs that read as prose (jusText) cleaned of what furniture is left
            title = title or clean_scraped_text(text).headline
            prose = prose_paragraphs(text)
            if prose:
                text, extracted = prose, True
        cleaned = clean_scraped_text(
            text,
            title,
            min_kept_chars=settings.min_kept_chars,
            min_kept_ratio=settings.min_kept_ratio,
            extracted=extracted,
        )
        text = cleaned.text
        title = title or cleaned.headline
        byline = byline or cleaned.byline
        dateline = cleaned.dateline
        warning = boilerplate_warning(cleaned)
        if warning is not None:
            warnings.append(Notice(*warning))
    return MainText(
        text=text,
        title=title,
        byline=byline,
        date=date,
        dateline=dateline,
        warnings=tuple(warnings),
    )
