"""Paragraph and sentence segmentation for English, Korean, Malay and Indonesian.

Rule-based (stdlib ``re``). Every sentence and paragraph returned is a trimmed slice of the
input, so a caller can check that a summary sentence comes from the article by substring.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from newsbrief.service.text.patterns import ALNUM, HANGUL, SPACE
from newsbrief.service.text.words import word_set

_TERMINAL = re.compile(r"(?:\.{2,}|\u2026|[.!?\u3002\uff1f\uff01]+)([\"'\u201d\u2019\u00bb)\]]*)")
_STRAIGHT_QUOTE = re.compile('"')
_NEXT_WORDS = re.compile(r"[^\s]+")
_BLANK = re.compile(r"\n[ \t]*\n\s*")
_LINE_END = re.compile(
    r"(?:[.!?\u2026:;\u3002\uff1f\uff01]|[.!?\u2026][\"'\u201d\u2019\u00bb)\]]+|다|요)$"
)


# Abbreviations after which a full stop never ends a sentence (titles, prefixes, "No. 5").
_NEVER_END = word_set(
    """mr mrs ms mx dr prof sen rep gov gen lt col capt cmdr sgt cpl adm maj brig supt insp
    det rev fr st mt ft vs v no nos art fig figs pp vol ch sec dept est approx ca cf
    encik en pn tn sdr sdri hj hjh jln jl kg tg bpk dato datuk ir ybhg yb dsb dll spt kpd
    bil tel"""
)
# Abbreviations that may also end a sentence: they do when a usual sentence opener follows.
_MAY_END = word_set(
    """inc ltd co corp plc llc bhd sdn tbk jr sr etc jan feb mar apr jun jul aug sep sept oct
    nov dec mon tue tues wed thu thur thurs fri sat sun am pm"""
)
_OPENERS = word_set(
    """The A An He She It They We I You His Her Its Their Our My This That These Those There
    But And Or So Yet In On At For From By With As If When While After Before Since
    Although Though However Meanwhile Now Then Today Yesterday Last Next Some Many Most All
    No Not One Two Three What Who Why How Where Police Officials Mr Mrs Ms Dr
    Ini Itu Dia Beliau Mereka Kami Kita Saya Dalam Pada Selain Namun Tetapi Bagaimanapun
    Menurut Sementara Selepas Setelah Sebelum Kerajaan Pemerintah"""
)
_SPEECH_VERBS = word_set(
    """said says asked asks told added adds explained wrote writes replied shouted
    katanya kata berkata ujarnya ujar tanya jelasnya tambahnya"""
)


def _line_continues(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` continues the paragraph of ``prev`` (hard-wrapped text)."""
    prev = prev.rstrip()
    nxt = nxt.lstrip()
    if not prev or not nxt:
        return False
    if _LINE_END.search(prev):
        return False
    first = nxt[0]
    # A wrapped line goes on mid-sentence: it starts in lower case or with a continuing mark.
    return first.islower() or first in ",;)\u2013\u2014-"


def split_paragraphs(text: str) -> list[str]:
    """Split ``text`` into paragraphs (trimmed slices of it).

    Blank lines always separate paragraphs. A single newline also does, unless the next line
    visibly continues the previous one (hard-wrapped text: the line before ends without
    sentence punctuation and the next starts in lower case).
    """
    out: list[str] = []
    for block in _BLANK.split(text):
        lines = block.split("\n")
        start = 0
        offset = 0
        for i, line in enumerate(lines[:-1]):
            offset += len(line) + 1
            if not _line_continues(line, lines[i + 1]):
                piece = block[start : offset - 1].strip()
                if piece:
                    out.append(piece)
                start = offset
        piece = block[start:].strip()
        if piece:
            out.append(piece)
    return out


#: How far the boundary rules look around a full stop: the word before it (abbreviations,
#: initials) and the words after it. A longer run of non-space characters is no abbreviation,
#: and bounded windows keep segmentation linear in the text's length (no rule rescans the
#: sentence so far at every full stop).
_WINDOW = 64
_WORD_STOPS = frozenset("\"'\u201c\u2018([")


def _word_before(text: str, lo: int, hi: int) -> str:
    """The run of non-space, non-opening-quote characters ending at ``hi`` (at most
    :data:`_WINDOW` of them, never before ``lo``); "" when the character before ``hi`` is none."""
    i = hi
    floor = max(lo, hi - _WINDOW)
    while i > floor and not text[i - 1].isspace() and text[i - 1] not in _WORD_STOPS:
        i -= 1
    return text[i:hi]


def _skip_space_back(text: str, lo: int, hi: int) -> int:
    """The offset before the whitespace that ends at ``hi`` (not before ``lo``)."""
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return hi


def _is_boundary(text: str, m: re.Match[str], lang: str, seg_start: int) -> bool:
    end = m.end()
    punct = text[m.start() : end - len(m.group(1))]
    quoted = bool(m.group(1))
    if end >= len(text):
        return True
    space = SPACE.match(text, end)
    ws = space.end() - end if space else 0
    prev_char = text[m.start() - 1] if m.start() > 0 else ""
    if ws == 0:
        nxt = text[end]
        two = text[end : end + 2]
        if punct == "." and prev_char.isdigit() and nxt.isdigit():
            return False  # 3.5, 1.000
        if nxt in "\u201c\u2018\u00ab" and len(two) > 1:
            # an opening curly quote after a full stop starts the next sentence: menang.\u201cKami
            return two[1].isupper() or bool(HANGUL.match(two[1]))
        if HANGUL.match(nxt):
            # 했다.그는 -> two sentences; "그렇다."라고 -> a quotation inside one sentence.
            return not quoted and bool(HANGUL.match(prev_char))
        if nxt.isupper() and len(two) > 1 and two[1].islower():
            # kelmarin.Bolivia (missing space), but not U.S.Army or KONTAN.CO.ID
            if punct == ".":
                word = _word_before(text, 0, m.start())
                return len(word) >= 2 and word.isalpha() and word[-2:].islower()
            return True
        return False
    after = text[end + ws : end + ws + _WINDOW]
    if "\n" in text[end : end + ws]:
        tail_end = _skip_space_back(text, seg_start, m.start())
        prev_line = text[max(seg_start, tail_end - _WINDOW) : tail_end]
        if not _line_continues(prev_line, after):
            return True
    nxt = after[0]
    if nxt.islower():
        return False  # "Stop!" he said. / etc. and more
    words = _NEXT_WORDS.findall(after)
    if quoted and any(w.strip(",.").lower() in _SPEECH_VERBS for w in words[:3]):
        return False  # "Really?" Smith asked.
    if punct != ".":
        return True
    word = _word_before(text, seg_start, m.start())
    if not word:
        return True
    key = word.lower().rstrip(".").replace(".", "")
    if key in _NEVER_END:
        return False
    if len(word) == 1 and word.isupper() and word.isalpha():
        return False  # initials: George W. Bush
    word_start = m.start() - len(word)
    if word.isdigit() and _skip_space_back(text, seg_start, word_start) == seg_start:
        return False  # "1. Item" at the start of a line
    first = words[0].strip("\"'\u201c\u2018(") if words else ""
    if key in _MAY_END or ("." in word and word.replace(".", "").isalpha()):
        if nxt.isdigit():
            return False  # Jan. 5
        return first in _OPENERS
    return True


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` into sentences (trimmed slices of it, never empty).

    Handles abbreviations (Mr., Dr., U.S., Jan. 5, No. 3), decimals and thousands (3.5, 1.000),
    quotations (``"...," he said.`` and ``"Stop!" she said.`` stay one sentence), ellipses,
    Korean endings with or without a following space (``다. 요. 까?``) and Malay or English
    full stops with a missing space (``kelmarin.Bolivia``). ``lang`` is a BCP-47 code; rules
    that do not depend on it apply to every language.
    """
    del lang  # the rules are script-driven; kept for future language-specific rules
    out: list[str] = []
    start = 0
    boundaries: list[int] = []
    quotes = [q.start() for q in _STRAIGHT_QUOTE.finditer(text)]
    for m in _TERMINAL.finditer(text):
        if m.start() < start:
            continue
        cut = _opening_quote_cut(text, m, start, quotes)
        if cut is not None:
            boundaries.append(cut)
            start = cut
            continue
        if _is_boundary(text, m, "", start):
            boundaries.append(m.end())
            start = m.end()
    # newlines that end a paragraph-like line also end a sentence (headings, list items)
    cuts = sorted(set(boundaries) | set(_line_cuts(text)))
    start = 0
    for cut in [*cuts, len(text)]:
        piece = text[start:cut].strip()
        if piece and ALNUM.search(piece):
            out.append(piece)
        elif piece and out:
            pass  # stray punctuation between sentences
        start = cut
    return out


def _opening_quote_cut(
    text: str, m: re.Match[str], seg_start: int, quotes: list[int]
) -> int | None:
    """Where to cut when a straight double quote right after a full stop opens the next
    sentence (``Pinang."Bahagian itu ...`` in the Malay crawl, ``했다."우리는``): the quote is
    an opening one when the sentence so far holds no open quotation (an even number of ``"``)
    and a letter follows it without a space. ``quotes`` are the offsets of every ``"`` in the
    text (counted by bisection, not by rescanning the sentence). Returns the offset before the
    quote, or None."""
    closing = m.group(1)
    if not closing.startswith('"'):
        return None
    end = m.end()
    if end >= len(text) or not text[end].isalpha():
        return None
    prev_char = text[m.start() - 1] if m.start() > 0 else ""
    if not (prev_char.isalpha() or prev_char in ")]"):
        return None
    if (bisect_left(quotes, m.start()) - bisect_left(quotes, seg_start)) % 2:
        return None  # closes a quotation that this sentence opened
    return m.end() - len(closing)


def _line_cuts(text: str) -> list[int]:
    cuts: list[int] = []
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        pos += len(line) + 1
        if not _line_continues(line, lines[i + 1]):
            cuts.append(pos - 1)
    return cuts
