"""Main text and metadata of a news page from its HTML.

The main text is trafilatura's (default settings, pinned version): measured on the 333 pages of
five public extraction benchmarks (``make eval``), it holds up across sites, where the
hand-written extractor this module used to be lost whole articles to class-name rules. When
trafilatura finds no main text, its baseline (the page's paragraphs and ``<article>``) and then
all the visible text of the page stand in, and :attr:`ExtractedPage.weak` says so: a page with
visible text is never refused.

The metadata is read here from the same lxml tree: the headline (``og:title``, ``<h1>`` or
``<title>``, without the site's name), byline and publication date, from the markup standards
that publishers use (Open Graph, ``<meta name="author">``, ``article:published_time``,
``<time datetime>``), never from rules about particular sites.

Hostile input is bounded before parsing: a page over ``max_html_bytes`` never gets here
(:mod:`.validate`); lxml's HTML parser caps nesting (libxml2's default depth limit) and is linear
in the input except in the attributes of one tag, each of which it compares with all those
before it (quadratic: one tag with 30,000 attributes took 2.7 s to parse, and trafilatura parsed
the page four times). So the page is parsed once, and every step reads that tree
(trafilatura's ``extract`` and ``baseline`` copy a tree they are given, so the tree read here
stays whole); and before that a start tag keeps only its first ``max_tag_attributes`` attributes
(:func:`cap_attributes`, one linear pass; the 350 evaluation pages have at most 120 on a tag,
most under 40). An attribute dropped there carries nothing the extraction reads: the text is
between the tags.
"""

from __future__ import annotations

import html as htmllib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # trafilatura and lxml are imported where a page is parsed: only the worker
    # processes parse pages, and the server process need not hold them (about 20 MiB)
    from lxml import html as lxml_html

from newsbrief.service.text.patterns import SPACE

log = logging.getLogger(__name__)

_SWALLOWED_TITLE = 1000  # characters: no real title is that long
# "Headline | Site", "Headline - Site", "Site :: Headline"
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|\u2013|\u2014|--|::|\u00bb|\u00ab|\u2022|\u00b7)\s+")


@dataclass(frozen=True)
class ExtractedPage:
    """What :func:`extract_html` found in a page."""

    text: str
    """Main text, paragraphs separated by a blank line."""
    title: str = ""
    byline: str = ""
    date: str = ""
    paragraphs: int = 0
    weak: bool = False
    """True when the main-text extractor found nothing and a fallback gave the text."""


def _squash(text: str | None) -> str:
    return SPACE.sub(" ", text or "").strip()


def _meta(tree: lxml_html.HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").casefold()
        content = _squash(node.get("content"))
        if key and content and key not in out:
            out[key] = content
    return out


def _first_text(tree: lxml_html.HtmlElement, tag: str) -> str:
    for node in tree.iter(tag):
        text = _squash(node.text_content())
        if text:
            return text
    return ""


def _strip_site(title: str, site: str) -> str:
    """``"Headline | Site News"`` -> ``"Headline"``: drop the parts that name the site (the
    ``og:site_name``, or else the short parts beside a clearly longer one)."""
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    site_key = site.casefold()
    if site_key:
        kept = [p for p in parts if p.casefold() != site_key and site_key not in p.casefold()]
        if kept and len(kept) < len(parts):
            parts = kept
            if len(parts) == 1:
                return parts[0]
    longest = max(parts, key=lambda p: len(p.split()))
    others = max((len(p.split()) for p in parts if p is not longest), default=0)
    if len(longest.split()) >= 3 and others <= 4 and len(longest.split()) > others:
        return longest
    return " - ".join(parts)


def headline_of(meta: dict[str, str], h1: str, title_tag: str, *, min_words: int = 3) -> str:
    """The article's own headline: ``og:title`` (or ``twitter:title``), else the first
    ``<h1>``, else ``<title>``, each without the site's name; a candidate of fewer than
    ``min_words`` words ("Arts", a site name) gives way to a longer one."""
    site = meta.get("og:site_name", "")
    candidates = [
        _strip_site(c, site)
        for c in (meta.get("og:title", ""), meta.get("twitter:title", ""), h1, title_tag)
        if c
    ]
    for candidate in candidates:
        if len(candidate.split()) >= min_words:
            return candidate
    return candidates[0] if candidates else ""


def _byline(meta: dict[str, str], tree: lxml_html.HtmlElement) -> str:
    for key in ("author", "article:author", "byl", "dc.creator"):
        value = meta.get(key, "")
        if value and not value.startswith("http"):
            return value
    for node in tree.iter("a", "span", "div", "p"):
        if (
            node.get("rel", "").casefold() == "author"
            or "author" in node.get("itemprop", "").casefold()
        ):
            text = _squash(node.text_content())
            if 0 < len(text) < 100:
                return text
    return ""


def _date(meta: dict[str, str], tree: lxml_html.HtmlElement) -> str:
    for key in ("article:published_time", "datepublished", "date", "dc.date", "pubdate"):
        if meta.get(key):
            return meta[key]
    for node in tree.iter("time"):
        if node.get("datetime"):
            return _squash(node.get("datetime"))
    return ""


_TAG = re.compile(r"(<[^<>]*>)")  # no nested "<": one pass, linear even on "<<<<..."
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w:-]*)")
_INVISIBLE = frozenset(("script", "style", "noscript", "template", "svg"))
_INLINE = frozenset(("a", "span", "b", "i", "em", "strong", "u", "font", "small", "sup", "sub"))


def _visible_text(html: str) -> str:
    """All the text a reader would see, a line per block, read tag by tag without a tree: the
    last resort for markup that the HTML parser makes nothing of (a broken start tag that
    swallows the page). Linear in the input."""
    out: list[str] = []
    hidden = ""
    for token in _TAG.split(html):
        if not token.startswith("<") or not token.endswith(">") or len(token) < 3:
            if not hidden:
                out.append(token)
            continue
        match = _TAG_NAME.match(token)
        name = match.group(1).casefold() if match else ""
        if hidden:
            if token.startswith("</") and name == hidden:
                hidden = ""
            continue
        if name in _INVISIBLE and not token.startswith("</") and not token.endswith("/>"):
            hidden = name
        elif name not in _INLINE:
            out.append("\n")
    return htmllib.unescape("".join(out))


#: Attributes a start tag keeps by default (:func:`cap_attributes`); real pages have far fewer.
MAX_TAG_ATTRIBUTES = 256

# The tokens of HTML that decide where a start tag is, as the HTML standard's tokenizer reads
# them: a comment (to "-->"), a doctype, CDATA or processing instruction (to ">"), a start or
# end tag's name, the text of a raw-text element (to its end tag), one attribute (its name, then
# "=" and a value, quoted or not). Possessive quantifiers: no pattern ever backtracks.
_MARKUP = re.compile(r"<(?:(!--)|[!?]|/?([A-Za-z][^\s/>]*+))")
_ATTRIBUTE = r"[\s/]*+[^\s/>][^\s/>=]*+(?:\s*+=\s*+(?:\"[^\"]*+\"?+|'[^']*+'?+|[^\s>]*+))?+"
_ONE_ATTRIBUTE = re.compile(_ATTRIBUTE)
_ATTRIBUTES = re.compile(f"(?:{_ATTRIBUTE})*+")
_RAW_TEXT = {
    name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE)
    for name in ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")
}


def cap_attributes(html: str, limit: int) -> str:
    """``html`` with each tag's attributes after the first ``limit`` dropped. One pass over the
    page, each character read once or twice: linear whatever the markup (comments and the
    text of ``<script>``, ``<style>`` and the other raw-text elements are skipped, so their
    content is never taken for tags)."""
    kept: list[str] = []
    done = pos = 0
    while (tag := _MARKUP.search(html, pos)) is not None:
        if tag.group(1):  # a comment: "<!-->" and "<!--->" end at once
            end = html.find("-->", tag.end() - 2)
            pos = len(html) if end < 0 else end + 3
            continue
        name = tag.group(2)
        if name is None:  # a doctype, CDATA or processing instruction
            end = html.find(">", tag.end())
            pos = len(html) if end < 0 else end + 1
            continue
        start = tag.end()
        pos = _ATTRIBUTES.match(html, start).end()  # type: ignore[union-attr]
        if pos - start > limit:  # each attribute takes a character at least: maybe too many
            cut = start
            for i, attribute in enumerate(_ONE_ATTRIBUTE.finditer(html, start, pos)):
                if i == limit:
                    kept.append(html[done:cut])
                    done = pos
                    break
                cut = attribute.end()
        raw = _RAW_TEXT.get(name.lower()) if html[tag.start() + 1] != "/" else None
        if raw is not None:  # its text is not markup: on to its end tag
            close = raw.search(html, pos)
            pos = len(html) if close is None else close.start()
    kept.append(html[done:])
    return "".join(kept)


def _lines(text: str) -> list[str]:
    return [line for line in (_squash(x) for x in text.split("\n")) if line]


def extract_html(
    html: str, *, max_tag_attributes: int = MAX_TAG_ATTRIBUTES, _title: str = ""
) -> ExtractedPage:
    """Main text, headline, byline and publication date of a news page; a start tag's
    attributes past the first ``max_tag_attributes`` are dropped before parsing."""
    import trafilatura  # here, not at the top (see the imports there)

    html = cap_attributes(html, max_tag_attributes)
    tree = trafilatura.load_html(html) if html.strip() else None  # the page's only parse
    if tree is None:  # not markup lxml reads (or none at all): the text between the tags
        lines = _lines(_visible_text(html))
        return ExtractedPage("\n\n".join(lines), _title, paragraphs=len(lines), weak=True)
    title_tag = _first_text(tree, "title")
    if len(title_tag) > _SWALLOWED_TITLE and not _title:
        # an unclosed <title> took in the rest of the page as its text: read that text as the
        # page (once), with the title's first line as the title
        head, _, rest = title_tag.partition("<")
        return extract_html("<" + rest, max_tag_attributes=max_tag_attributes, _title=head.strip())
    meta = _meta(tree)
    title = _title or headline_of(meta, _first_text(tree, "h1"), title_tag)
    byline, date = _byline(meta, tree), _date(meta, tree)
    weak = False
    # trafilatura copies a tree it is given before it prunes it: ``tree`` stays whole
    lines = _lines(trafilatura.extract(tree, include_comments=False) or "")
    if not lines:
        weak = True
        lines = _lines(trafilatura.baseline(tree)[1]) or _lines(_visible_text(html))
    return ExtractedPage(
        text="\n\n".join(lines),
        title=title,
        byline=_squash(byline),
        date=date,
        paragraphs=len(lines),
        weak=weak,
    )
