"""Main story of scraped plain text: page furniture and the stories listed after it removed.

Text copied or scraped from a news page carries the article together with its furniture: the
headline twice, photo captions, share and subscribe buttons, "time 32 minutes ago" lines, app
and newsletter promotions, comment boxes and, after the story, the first paragraphs of other
stories (each with its own headline, dateline and source). :func:`clean_scraped_text` finds the
main story and drops the rest, paragraph by paragraph, and says what it removed (counts per kind)
so that the caller can tell the editor. It works on text without markup; HTML intake runs it over
the extracted main text too.

Rules are language-aware for English, Korean and Malay/Indonesian and never rewrite a paragraph
they keep, except that a dateline ("SEOUL, June 7 --") is taken off the story's first paragraph
and returned as metadata.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from newsbrief.service.intake.scraped_patterns import (
    _ADDRESSES_READER,
    _BREADCRUMB,
    _BYLINE_KO,
    _BYLINE_PREFIX,
    _CAPTION,
    _CAPTION_CREDIT,
    _CLOCK_OR_DATE,
    _COMMENT_COUNT,
    _COMMENT_HEADINGS,
    _COUNTED_UI,
    _DATELINE,
    _NAME_PARTICLES,
    _NAME_SPLIT,
    _PROMO,
    _PROMO_WEAK,
    _RELATED_HEADINGS,
    _RELATED_PREFIX,
    _SENTENCE_END,
    _SOURCE_LINE,
    _TIME_WORD_SET,
    _TIMEISH,
    _UI_PHRASES,
    _UI_WORDS,
    _norm,
    _phrases,
)
from newsbrief.service.text.patterns import HANGUL as _HANGUL
from newsbrief.service.text.segment import (
    _BLANK,
    _line_continues,
    split_paragraphs,
    split_sentences,
)

if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Set

# Kinds of removed text, as reported to callers.
HEADLINE = "repeated headline"
CAPTION = "caption"
UI = "UI text"
TIMESTAMP = "timestamp"
PROMO = "promotion"
COMMENTS = "comments"
BYLINE = "byline"
SOURCE = "source line"
RELATED = "following stories"
DUPLICATE = "duplicate paragraph"
NAVIGATION = "navigation"


def _is_byline(raw: str) -> bool:
    """ "By Jane Doe and John Roe, CNN", "Oleh Ahmad Ali", "홍길동 기자": names, not a sentence."""
    if _BYLINE_KO.match(raw):
        return True
    m = _BYLINE_PREFIX.match(raw)
    if not m:
        return False
    rest = raw[m.end() :].strip().rstrip(".,")
    parts = [p for p in _NAME_SPLIT.split(rest) if p]
    if not parts or len(parts) > 5:
        return False
    for part in parts:
        words = part.split()
        if not 1 <= len(words) <= 5:
            return False
        if not all(w[0].isupper() or w.casefold() in _NAME_PARTICLES for w in words):
            return False
    return True


@dataclass(frozen=True)
class CleanedText:
    """What :func:`clean_scraped_text` kept and removed."""

    text: str
    """The main story, paragraphs separated by blank lines (the original if nothing was safe)."""
    removed: dict[str, int] = field(default_factory=dict)
    """Paragraphs removed, per kind (``"caption"``, ``"UI text"``, ...)."""
    related_stories: int = 0
    """How many stories listed after the main one were dropped."""
    headline: str = ""
    """The story's headline where the text started with one (removed from the body)."""
    dateline: str = ""
    """The story's dateline ("SEOUL, June 7 --"), taken off its first paragraph."""
    byline: str = ""
    """A byline line found in the text ("By Jane Doe"), removed from the body."""
    kept_original: bool = False
    """True when cleaning would have left too little, so the original text was returned."""

    @property
    def removed_total(self) -> int:
        return sum(self.removed.values())

    def describe(self) -> str:
        """One line for editors: what was removed, kind by kind."""
        parts = []
        for kind, n in sorted(self.removed.items(), key=lambda kv: (-kv[1], kv[0])):
            label = f"{n} {kind}" if kind != RELATED else f"{n} paragraphs of following stories"
            if kind == RELATED and self.related_stories:
                label += f" ({self.related_stories} stories)"
            parts.append(label)
        return ", ".join(parts)


def split_dateline(paragraph: str) -> tuple[str, str]:
    """``("SEOUL, June 7 --", rest)`` when ``paragraph`` opens with a news dateline, else
    ``("", paragraph)``. The rest must still read as a sentence (a letter or a quote first)."""
    m = _DATELINE.match(paragraph)
    if not m:
        return "", paragraph
    dateline = m.group("dl")
    rest = paragraph[m.end() :].lstrip()
    if len(rest) < 20 or not (rest[0].isalnum() or rest[0] in "\"'\u201c\u2018("):
        return "", paragraph
    return dateline.strip(), rest


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def _is_korean(text: str, letters: int | None = None) -> bool:
    if letters is None:
        letters = _letters(text)
    return letters > 0 and len(_HANGUL.findall(text)) / letters > 0.5


def _size(text: str) -> int:
    """Length in words (Korean: characters / 3)."""
    if not _HANGUL.search(text):
        return len(text.split())
    letters = _letters(text)
    if _is_korean(text, letters):
        return max(1, letters // 3)
    return len(text.split())


def is_body(paragraph: str) -> bool:
    """Whether ``paragraph`` reads as article prose: long enough and ending as a sentence."""
    text = paragraph.strip()
    size = _size(text)
    if size >= 30:
        return True
    return size >= 8 and bool(_SENTENCE_END.search(text))


def _is_headline_like(paragraph: str) -> bool:
    """A short line that does not end as a sentence: a headline, a section label, a teaser."""
    text = paragraph.strip()
    size = _size(text)
    return 2 <= size <= 25 and not text.endswith((".", "!", "\u3002", "다.", ":", ","))


def _is_ui(norm: str, raw: str) -> bool:
    if not norm:
        return bool(raw.strip()) and not any(ch.isalnum() for ch in raw)  # "|", "...", "•"
    if norm in _UI_PHRASES or _COUNTED_UI.match(raw.strip()):
        return True
    words = norm.split()
    # a row of buttons: "Share Tweet Email", "Facebook Twitter WhatsApp"
    return (
        len(words) <= 8
        and all(w in _UI_WORDS or w.isdigit() for w in words)
        and not all(w.isdigit() for w in words)  # "12%" is a figure, not a button
    )


def _is_timestamp(norm: str, raw: str) -> bool:
    if not norm or not _TIMEISH.search(raw) or _size(raw) > 14:
        return False
    rest = [
        w
        for w in norm.split()
        if w not in _TIME_WORD_SET and not w.isdigit() and not re.fullmatch(r"\d+[a-z가-힣]*", w)
    ]
    # "time 32 minutes ago", "Nov. 19, 2019, 8:41 AM UTC", "입력 2019.11.19 08:41",
    # "Updated 3 hours ago | Reuters" (one source word allowed)
    words = norm.split()
    has_time = any(w in _TIME_WORD_SET for w in words) or bool(_CLOCK_OR_DATE.search(raw))
    return has_time and len(rest) <= 1 and len(words) > len(rest)


def _is_related_heading(norm: str, raw: str) -> bool:
    if norm in _RELATED_HEADINGS:
        return True
    return _size(raw) <= 8 and not _SENTENCE_END.search(raw) and bool(_RELATED_PREFIX.match(norm))


_BARE_COMMENT_LABELS = _phrases("comment|comments|komen|komentar|댓글|ulasan")


def _is_comment_heading(paragraphs: list[str], i: int) -> bool:
    """A heading that opens the comments. A bare "Comments" (also a button label) counts only
    when what follows is not article prose (a user name, a count, a sort order)."""
    raw = paragraphs[i].strip()
    norm = _norm(raw)
    if not (norm in _COMMENT_HEADINGS or _COMMENT_COUNT.match(raw)):
        return False
    if norm not in _BARE_COMMENT_LABELS:
        return True
    nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
    return not is_body(nxt)


def furniture_kind(paragraph: str) -> str | None:
    """The kind of furniture ``paragraph`` is (a byline, a timestamp, a caption, UI text, ...),
    or None for article text."""
    return _furniture(paragraph)


def _furniture(paragraph: str) -> str | None:
    """The kind of furniture ``paragraph`` is, or None for article text."""
    raw = paragraph.strip()
    norm = _norm(raw)
    if _is_ui(norm, raw):
        return UI
    if _is_timestamp(norm, raw):
        return TIMESTAMP
    size = _size(raw)  # once: it splits the whole paragraph
    if size <= 40 and _is_byline(raw):
        return BYLINE
    if size <= 40 and _SOURCE_LINE.match(raw):
        return SOURCE
    if size <= 40 and _CAPTION.search(raw):
        return CAPTION
    if size <= 25 and _CAPTION_CREDIT.search(raw) and len(split_sentences(raw, "")) <= 2:
        return CAPTION  # "Commuters wait for a bus in Seoul. (Yonhap)"
    if size <= 45 and _PROMO.search(raw):
        return PROMO
    if size <= 30 and _PROMO_WEAK.search(raw):
        first = _PROMO_WEAK.match(raw.lstrip(" *>-\u2022"))
        if first or _ADDRESSES_READER.search(raw):
            return PROMO
    if size <= 8 and _BREADCRUMB.search(raw) and not _SENTENCE_END.search(raw):
        return UI
    return None


def clean_scraped_text(
    text: str,
    title: str = "",
    *,
    min_kept_chars: int = 80,
    min_kept_ratio: float = 0.05,
    extracted: bool = False,
) -> CleanedText:
    """The main story of ``text`` (scraped or copied from a news page) and what was removed.

    Paragraphs (blank-line or line separated, hard wraps joined) are classified; furniture goes,
    and so does everything from the first sign of a following story on: a related-stories
    heading, a second dateline, or a headline followed by a source/time line. When what is left
    has fewer than ``min_kept_chars`` letters or ``min_kept_ratio`` of the original's, the
    original text is returned unchanged with ``kept_original`` set. ``extracted=True`` is for
    text an HTML extractor already cut to one article: a paragraph that seems to start another
    story (a headline, a second dateline) and a repeated paragraph are kept, as there they are
    more often the article's own.
    """
    paragraphs = _paragraphs(text)
    if not paragraphs:
        return CleanedText(text=text)
    removed: Counter[str] = Counter()
    kept: list[str] = []
    seen: set[str] = set()
    title_norm = _norm(title)
    headline = ""
    byline = ""
    dateline = ""
    body_seen = 0  # body paragraphs of the main story so far
    related_stories = 0
    in_comments = False
    i = 0
    n = len(paragraphs)
    while i < n:
        para = paragraphs[i]
        norm = _norm(para)
        # ---- the end of the main story ----------------------------------------------------
        if body_seen and _is_related_heading(norm, para):
            rest = paragraphs[i:]
            removed[RELATED] += len(rest)
            related_stories += max(1, _count_stories(rest[1:]))
            break
        if not extracted and body_seen >= 1 and _starts_next_story(paragraphs, i, body_seen):
            rest = paragraphs[i:]
            removed[RELATED] += len(rest)
            related_stories += max(1, _count_stories(rest))
            break
        if body_seen and _is_comment_heading(paragraphs, i):
            in_comments = True
            removed[COMMENTS] += 1
            i += 1
            continue
        if in_comments:
            removed[COMMENTS] += 1
            i += 1
            continue
        # ---- furniture inside the story ---------------------------------------------------
        if norm and (norm == title_norm or (norm == _norm(headline) and headline)):
            removed[HEADLINE] += 1
            if not body_seen and kept:  # a logo and section labels above the headline
                removed[NAVIGATION] += len(kept)
                kept.clear()
            i += 1
            continue
        kind = _furniture(para)
        if kind is not None:
            if kind == BYLINE and not byline:
                byline = _byline_name(para)
            removed[kind] += 1
            i += 1
            continue
        if not extracted and norm and norm in seen and _size(para) >= 3:
            removed[DUPLICATE] += 1
            i += 1
            continue
        if not body_seen and not headline and not title_norm and _is_headline_like(para):
            # the first headline-like line before the story is its headline
            nxt = _next_content(paragraphs, i + 1, norm)
            if (nxt is not None and is_body(nxt)) or _repeated_before_story(paragraphs, i, norm):
                headline = para.strip()
                seen.add(norm)
                if kept:
                    removed[NAVIGATION] += len(kept)
                    kept.clear()
                i += 1
                continue
        if not body_seen and is_body(para):
            found, after = split_dateline(para)
            if found:
                dateline = found
                para = after
        if is_body(para):
            body_seen += 1
        if norm:
            seen.add(norm)
        kept.append(para.strip())
        i += 1
    cleaned = "\n\n".join(kept)
    original_letters = _letters(text)
    if removed and (
        _letters(cleaned) < min_kept_chars
        or _letters(cleaned) < min_kept_ratio * original_letters
        or not body_seen
    ):
        return CleanedText(
            text=text,
            removed=dict(removed),
            related_stories=related_stories,
            kept_original=True,
        )
    return CleanedText(
        text=cleaned if removed or dateline or headline else text,
        removed=dict(removed),
        related_stories=related_stories,
        headline=headline,
        dateline=dateline,
        byline=byline,
    )


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of scraped text: blank lines and line breaks separate them; a line joins the
    one before only when that one is long and breaks mid-sentence (a hard wrap), and the line is
    not furniture of its own ("time 32 minutes ago" under a headline)."""
    out: list[str] = []
    for block in split_paragraphs(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        current: list[str] = []  # the lines of the paragraph being joined
        for line in lines:
            if (
                current
                and len(current[-1]) >= 40
                and _line_continues(current[-1], line)
                and _furniture(line) is None
            ):
                current.append(line)
                continue
            if current:
                out.append("\n".join(current))
            current = [line]
        if current:
            out.append("\n".join(current))
    return out


def _byline_name(paragraph: str) -> str:
    return _BYLINE_PREFIX.sub("", paragraph.strip().rstrip(".,"))


_GAP_COST = 80  # characters: what a paragraph that is not prose costs a run of prose
_SHORT_RUN = 3  # this many short lines in a row are a menu or a link list, not prose
_MIN_WRAP = 50  # characters: a shorter line is not taken for one a dumper wrapped
_LOOKAHEAD = 8  # paragraphs: how far a headline looks for its story (bounded: linear time)


def _next_content(paragraphs: list[str], start: int, skip: str = "") -> str | None:
    """The next paragraph that is not furniture (nor a repeat of ``skip``), within a few."""
    for j in range(start, min(len(paragraphs), start + _LOOKAHEAD)):
        para = paragraphs[j]
        if _furniture(para) is None and _norm(para) != skip:
            return para
    return None


def _repeated_before_story(paragraphs: list[str], i: int, norm: str) -> bool:
    """Whether paragraph ``i`` is a title line that the page repeats right away (a page's
    headline, then the article's own) with the story a few paragraphs on."""
    if i + 1 >= len(paragraphs) or _norm(paragraphs[i + 1]) != norm:
        return False
    return any(is_body(p) for p in paragraphs[i + 2 : i + 2 + _LOOKAHEAD])


def _starts_next_story(paragraphs: list[str], i: int, body_seen: int) -> bool:
    """Whether a story other than the main one starts at paragraph ``i``."""
    para = paragraphs[i]
    found = split_dateline(para)[0]
    if found and is_body(para):
        # a second dateline: "SEOUL, June 7 -- ..."; "KUALA LUMPUR: ..." (also "UPDATE: ...")
        # only right after a headline-like line
        return not found.endswith(":") or (i > 0 and _is_headline_like(paragraphs[i - 1]))
    if not _is_headline_like(para) or _furniture(para) is not None:
        return False
    # a headline followed by its own dateline, or by its source, byline or time line and then
    # a teaser paragraph
    tagged = False
    for j in range(i + 1, min(len(paragraphs), i + 5)):
        nxt = paragraphs[j]
        kind = _furniture(nxt)
        if kind in (TIMESTAMP, SOURCE, BYLINE):
            tagged = True
            continue
        if kind in (UI, CAPTION, PROMO):
            continue
        if split_dateline(nxt)[0] and is_body(nxt):
            return True
        return tagged and is_body(nxt)
    return False


def _count_stories(paragraphs: list[str]) -> int:
    """Stories in a list of teasers: headlines followed by body, or datelined paragraphs."""
    count = 0
    prev_headline = False
    for para in paragraphs:
        if _furniture(para) is not None or _is_related_heading(_norm(para), para):
            continue
        if split_dateline(para)[0] and is_body(para):
            if not prev_headline:
                count += 1
            prev_headline = False
        elif _is_headline_like(para):
            count += 1
            prev_headline = True
        else:
            prev_headline = False
    return count


def boilerplate_warning(cleaned: CleanedText) -> tuple[str, str] | None:
    """``(code, message)`` of the warning that tells the caller what cleaning did, or None."""
    if not cleaned.removed:
        return None
    if cleaned.kept_original:
        return (
            "BOILERPLATE_KEPT",
            f"the text looks like a scraped page ({cleaned.describe()}), but removing that "
            "would have left too little of an article, so the text was used as sent",
        )
    return (
        "BOILERPLATE_REMOVED",
        f"removed {cleaned.removed_total} paragraphs that were not part of the article: "
        f"{cleaned.describe()}",
    )


_LIST_ITEM = re.compile(r"^(?:[\u2022*\u25a1\u25a0\u00b7+-]|\d{1,3}[.)])\s")


def _reflow(text: str) -> list[str]:
    """The paragraphs of a page dump: its blank-line separated blocks, each cut into lines,
    with the lines a dumper wrapped joined again. A line was wrapped when the next one
    continues its sentence (:func:`_line_continues`) or when the next one's first word would
    not have fitted on it: it reaches the block's width (its longest line) within that word.
    A list item ("• ...", "1. ...") always starts a new paragraph."""
    out: list[str] = []
    for block in _BLANK.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        width = max((len(line) for line in lines), default=0)
        current = ""
        prev = ""
        for line in lines:
            word = line.split(maxsplit=1)[0]
            if (
                current
                and not _LIST_ITEM.match(line)
                and (
                    _line_continues(prev, line)
                    or (len(prev) >= _MIN_WRAP and len(prev) + 1 + len(word) > width)
                )
            ):
                current += " " + line
            else:
                if current:
                    out.append(current)
                current = line
            prev = line
        if current:
            out.append(current)
    return out


# a short signature or credit after a paragraph's last sentence: "(ren)", "[AFP]" (no leading
# whitespace in the pattern: a search tried at each space of a long run would be quadratic)
_SIGNATURE = re.compile(r"(?:\([^()]{1,30}\)|\[[^\[\]]{1,30}\])$")


def _densest(texts: list[str], prose: list[bool]) -> tuple[int, int, int] | None:
    """The first, the longest and the last paragraph of the densest run of prose: the run of
    paragraphs where the characters of prose that ends as sentences most outweigh the other
    paragraphs, each of which counts against it as :data:`_GAP_COST` characters (maximum-sum
    segment, one pass). None when no paragraph is such prose."""
    best = total = 0
    best_range = (0, -1)
    start = 0
    for i, text in enumerate(texts):
        if prose[i] and _SENTENCE_END.search(_SIGNATURE.sub("", text.rstrip()).rstrip()):
            total += len(text)
        else:
            total -= _GAP_COST
        if total <= 0:
            total, start = 0, i + 1
        elif total > best:
            best, best_range = total, (start, i)
    first, last = best_range
    if last < first:
        return None
    longest = max(range(first, last + 1), key=lambda i: len(texts[i]) if prose[i] else -1)
    return first, longest, last


class WordTable:
    """A large set of words in little memory, for membership only: jusText's 154,000 stop words
    take 4 MiB here, 19 MiB in a frozenset (a string object and a table slot each). The words
    lie in buckets by their hash, each bucket one string ``"\\nword\\nword\\n"``, about 8
    words long (a look-up is about three times slower than a set's)."""

    __slots__ = ("_buckets",)

    def __init__(self, words: Iterable[str]) -> None:
        unique = set(words)
        if any("\n" in w for w in unique):
            raise ValueError("a word of a WordTable holds a line break")
        buckets: list[list[str]] = [[] for _ in range(max(1, len(unique) // 8))]
        for word in unique:
            buckets[hash(word) % len(buckets)].append(word)
        self._buckets = tuple("\n" + "\n".join(b) + "\n" for b in buckets)

    def __contains__(self, word: object) -> bool:
        return (
            isinstance(word, str)
            and "\n" not in word
            and f"\n{word}\n" in self._buckets[hash(word) % len(self._buckets)]
        )


@cache
def _stopwords() -> WordTable:
    """The stop words of every language jusText knows, lower-cased as jusText compares them."""
    import justext

    words: set[str] = set()
    for language in justext.get_stoplists():
        words.update(justext.get_stoplist(language))
    return WordTable(w.lower() for w in words)


def prose_paragraphs(text: str, stopwords: Set[str] | None = None) -> str:
    """The paragraphs of a whole-page text dump that read as the article's prose, blank-line
    separated ("" when none does).

    The dump's lines are joined where the dumper wrapped them (:func:`_reflow`), and each
    paragraph is classified by jusText (length, share of stop words of all the languages it
    knows, and its neighbours: a short line between prose is prose), the algorithm behind
    trafilatura's own fallback; a page dump has no markup left for anything that needs the
    page's structure. Two structural cues of page dumps then correct it:

    * the article is the page's densest run of prose (:func:`_densest`): it ends where that run
      ends, or before, at the first heading of related stories or comments after its longest
      paragraph; and where a heading of related stories comes before the run, it starts with
      the run (what lies between is that list). What jusText took for prose around it
      (teasers, comments, captions of a gallery) goes;
    * :data:`_SHORT_RUN` or more short lines in a row (menus, link lists, teaser headlines) are
      not prose, even between prose paragraphs, where jusText's neighbour rule would keep them.
    """
    from justext import core

    lines = _reflow(text)
    markup = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    # justext.justext's steps, with its defaults
    dom = core.html_to_dom(f"<html><body>{markup}</body></html>".encode())
    paragraphs = core.ParagraphMaker.make_paragraphs(core.preprocessor(dom))
    # jusText asks of each word whether its lower case is a stop word, and keeps a lower-cased
    # copy of the stop list it is given: given only the stop words among this page's words (the
    # same answers), it copies those rather than the 154,000 words of every language (18 MiB)
    known: Container[str] = (
        _stopwords() if stopwords is None else frozenset(w.lower() for w in stopwords)
    )
    # the words of each paragraph's text (its text nodes: its ``text`` normalises their spaces
    # again, which splitting on them makes no odds to)
    words = {w.lower() for p in paragraphs for w in "".join(p.text_nodes).split()}
    page = frozenset(w for w in words if w in known)
    core.classify_paragraphs(paragraphs, page)
    core.revise_paragraph_classification(paragraphs)
    texts = [p.text for p in paragraphs]
    keep = [not p.is_boilerplate for p in paragraphs]
    run = _densest(texts, keep)
    if run is not None:
        first, anchor, last = run
        keep[last + 1 :] = [False] * (len(keep) - last - 1)
        for i in range(first - 1, -1, -1):
            if _is_related_heading(_norm(texts[i]), texts[i]):
                keep[:first] = [False] * first
                break
        for i in range(anchor + 1, len(texts)):
            if _is_related_heading(_norm(texts[i]), texts[i]) or _is_comment_heading(texts, i):
                keep[i:] = [False] * (len(keep) - i)
                break
    shorts = [p.cf_class == "short" for p in paragraphs]
    start = 0
    for i in range(len(shorts) + 1):
        if i < len(shorts) and shorts[i]:
            continue
        if i - start >= _SHORT_RUN:
            keep[start:i] = [False] * (i - start)
        start = i + 1
    return "\n\n".join(t for t, k in zip(texts, keep, strict=True) if k)
