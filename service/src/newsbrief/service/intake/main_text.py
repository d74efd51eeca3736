"""The main text of an article and its metadata, before language and sentences.

HTML goes through :func:`.html.extract_html` (trafilatura) and then the furniture cleaning of
:mod:`.scraped` in its ``extracted`` mode; plain text (typed, pasted or a whole page dumped by a
scraper) through the full cleaning. The server (:class:`.core.Pipeline`) and the evaluation
(``eval/``) both call :func:`main_text`, so what is measured is what is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from newsbrief.service.text.lines import is_furniture, is_listing

from ..domain import Article, Notice
from ..errors import FieldViolation, InvalidArgument
from ..settings import IntakeSettings
from ..text.normalize import normalize_text
from .html import extract_html
from .scraped import boilerplate_warning, clean_scraped_text, furniture_kind, prose_paragraphs


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
            "\n\n".join(untable(p) for p in page.text.split("\n\n") if p.casefold() not in credit)
        )
        title = title or page_title(normalize_text(page.title))
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
            title = title or page_title(clean_scraped_text(text).headline)
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
        title = title or page_title(cleaned.headline)
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


_CELL_SEPARATOR = re.compile(r"\s*\|\s*")
_PROSE_CELL_WORDS = 12


def untable(paragraph: str) -> str:
    """A paragraph of table rows (``| a | b |``, as the extractor writes a layout table) made
    into text: a cell of prose (:data:`_PROSE_CELL_WORDS` words or more) becomes a paragraph of
    its own, a row of short cells stays a row; other paragraphs are returned as they are."""
    lines = paragraph.split("\n")
    if not any(line.lstrip().startswith("|") for line in lines):
        return paragraph
    out: list[str] = []
    for line in lines:
        if not line.lstrip().startswith("|"):
            out.append(line)
            continue
        cells = [c for c in _CELL_SEPARATOR.split(line.strip().strip("| ")) if c]
        if any(len(c.split()) >= _PROSE_CELL_WORDS for c in cells):
            out.extend(f"\n{c}\n" for c in cells)
        elif len(cells) == 1:
            out.append(cells[0])
        elif cells:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def page_title(candidate: str) -> str:
    """``candidate`` as a headline found in a page or a dump, or "" when it is page furniture
    (a byline, a timestamp, a caption or credit, a consent banner, a menu or table row): the
    brief then takes its headline from the story. A caller's title is never judged."""
    text = candidate.strip()
    if text.startswith("|"):
        cells = [c for c in _CELL_SEPARATOR.split(text.strip("| ")) if c]
        text = cells[0] if len(cells) == 1 else text
    if not text or is_listing(text) or is_furniture(text) or furniture_kind(text):
        return ""
    if _BYLINE_START.match(text) or _CREDIT.search(text):
        return ""
    return text


_BYLINE_START = re.compile(r"(?i)^(?:by|posted\s+(?:in|by|on)|oleh)\s")
_CREDIT = re.compile(
    r"(?i)(?:\b(?:image|photo|picture)s?\s*:|\((?:[^()]*\b(?:getty|reuters|afp|ap|photo|file)\b[^()]*)\)\s*\.?$|"
    r"^media\s+caption\b|^(?:associated\s+press|reuters|afp)\s*[-\u2013\u2014,])"
)
