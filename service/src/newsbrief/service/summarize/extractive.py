"""The built-in extractive brief: headline, summary and key points taken from the article.

Sentences are scored by a position prior (news puts the essentials first) plus their centrality
(how much of the article's recurring vocabulary they carry) and their overlap with the title;
junk (bylines, "Read more", captions, fragments) and near-duplicates are skipped; the summary
keeps article order and fits the budget, measured by :func:`length_units`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from newsbrief.service.text.lines import (
    compress,
    is_furniture,
    is_listing,
    is_sentence,
    opens_as_sentence,
)
from newsbrief.service.text.patterns import HANGUL as _HANGUL
from newsbrief.service.text.patterns import HANGUL_RUN as _HANGUL_WORD
from newsbrief.service.text.patterns import WORD as _LATIN_WORD
from newsbrief.service.text.words import word_set

from ..domain import Brief, BriefLine, Budget, Span
from ..settings import BriefSettings

KOREAN_CHARS_PER_WORD = 3
"""Korean is measured in characters: one budget word is worth this many non-space characters."""
LONGEST_WORD_CHARS = 30
"""A run of non-space characters longer than this counts as one budget word per this many
characters, so a text without spaces (a URL, a 99,000-character "word") cannot make an unbounded
summary, key point or headline."""

_CLAUSE_END = re.compile(r"[,;:\u2013\u2014]\s|\s[-\u2013\u2014]\s")


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": word_set(
        """a an the and or but if then than so of to in on at by for from with as into about
        over after before under between through during without within is are was were be been
        being am has have had having do does did doing will would shall should can could may
        might must it its it's this that these those there here he she they we you i me him
        her them us my your his their our who whom which what when where why how not no nor
        also just only very more most such some any all each other both said says say told
        according mr mrs ms one two new last year years time like up out off"""
    ),
    "ms": word_set(
        """yang dan di ke dari pada untuk dengan ini itu adalah ialah akan telah sudah oleh
        dalam tidak tak bagi juga atau serta kepada bahawa bahwa karena kerana ia dia mereka
        kami kita saya beliau anda para sebuah seorang satu lebih masih hanya boleh bisa ada
        apabila ketika jika kata katanya berkata menurut tersebut selepas setelah sebelum
        antara iaitu yaitu lagi pula pun sahaja saja"""
    ),
    "ko": word_set(
        """그 이 저 것 수 등 및 또 또한 그리고 하지만 그러나 있다 없다 했다 한다 하는 있는
        위해 대한 통해 에서 에게 으로 로 을 를 은 는 이 가 의 도 와 과 고 며 다"""
    ),
}
_STOPWORDS["id"] = _STOPWORDS["ms"]

_JUNK_PATTERNS = re.compile(
    r"""^(?:by\s+[\w.\s'-]{1,60}$|by\s*\.|published:|updated:|last\s+updated|read\s+more|
    click\s+here|follow\s+(?:us|me)|share\s+this|sign\s+up|subscribe|advertisement|
    related:|see\s+also|watch:|photo:|photograph:|image:|picture:|video:|source:|
    copyright|\(c\)|all\s+rights\s+reserved|baca\s+juga|baca\s+lagi|ikuti\s+kami|
    \[?\s*(?:foto|gambar)\b|사진\s*=|\[?사진|기자\s*=|무단\s*전재)""",
    re.IGNORECASE | re.VERBOSE,
)
_CAPTION_END = re.compile(
    r"(?:\(\s*(?:photo|picture|image|pic|afp|reuters|ap|getty)[^)]*\)|"
    r"\b(?:AFP|REUTERS|AP|Getty Images|Bernama)\.?)\s*$"
)
_CAPTION_TAIL = 200


def length_units(text: str, lang: str) -> int:
    """Length of ``text`` in budget words under the rules of ``lang``.

    Korean (``ko``), written with spaces between eojeol that are not words, counts non-space
    characters divided by :data:`KOREAN_CHARS_PER_WORD` (rounded up); every other language counts
    whitespace-separated tokens, a token longer than :data:`LONGEST_WORD_CHARS` counting once per
    that many characters.
    """
    if lang == "ko":
        chars = sum(1 for ch in text if not ch.isspace())
        return math.ceil(chars / KOREAN_CHARS_PER_WORD)
    return sum(_word_units(w) for w in text.split())


def _word_units(word: str) -> int:
    return -(-len(word) // LONGEST_WORD_CHARS)


def tokens(text: str, lang: str) -> list[str]:
    """Content tokens of ``text`` for scoring: case-folded words minus stopwords.

    Korean eojeol carry their particles (``정부가``, ``정부는``), so Korean is represented by
    syllable bigrams of each eojeol (and single-syllable eojeol as themselves), which match
    across particles. Latin words lose a plural or possessive ``s``.
    """
    stop = _STOPWORDS.get(lang, _STOPWORDS["en"])
    out: list[str] = []
    for word in _LATIN_WORD.findall(text.casefold()):
        if not word.isascii() and _HANGUL.match(word):  # an ASCII word is never Korean
            for hw in _HANGUL_WORD.findall(word):
                if hw in stop:
                    continue
                if len(hw) == 1:
                    out.append(hw)
                else:
                    out.extend(hw[i : i + 2] for i in range(len(hw) - 1))
            continue
        word = word.replace("\u2019", "'")
        if word.endswith("'s"):
            word = word[:-2]
        if word in stop or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def is_junk(sentence: str, lang: str) -> bool:
    """Whether ``sentence`` is not summary material: a byline, a caption, a fragment, a link."""
    text = sentence.strip()
    # a caption's credit is at the end: only the tail is searched (the pattern scans to the end
    # from every "(", which is quadratic on a long sentence of parentheses)
    if _JUNK_PATTERNS.match(text) or _CAPTION_END.search(text[-_CAPTION_TAIL:]):
        return True
    if "http://" in text or "https://" in text or "www." in text.casefold():
        return True
    if is_listing(text) or is_furniture(text):
        return True
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    if lang == "ko":
        return len(letters) < 12
    words = text.split()
    if len(words) < 5:
        return True
    upper = sum(1 for ch in letters if ch.isupper())
    # all-caps banners, and lines that end without punctuation (headings, captions)
    return upper / len(letters) > 0.6 or (len(words) < 12 and text[-1].isalnum())


@dataclass(frozen=True)
class _Sentence:
    text: str
    index: int  # position in the article
    paragraph: int
    tokens: frozenset[str]
    units: int
    junk: bool
    source: Span | None = None  # where the sentence is in the article text, when known


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def shorten(text: str, max_units: int, lang: str) -> str:
    """A prefix of ``text`` of at most ``max_units``, cut at a clause boundary where possible.

    The result is always a slice of ``text`` (trailing punctuation of the cut removed), so it
    can still be found in the article.
    """
    text = text.strip()
    if length_units(text, lang) <= max_units:
        return text
    best = ""
    for m in _CLAUSE_END.finditer(text):
        prefix = text[: m.start()].rstrip(" ,;:-\u2013\u2014")
        if length_units(prefix, lang) > max_units:
            break
        if length_units(prefix, lang) >= max(3, max_units // 3):
            best = prefix
    if best:
        return best
    if lang == "ko":
        out = ""
        for part in re.findall(r"\S+\s*", text):
            if length_units(out + part, lang) > max_units:
                break
            out += part
        return out.rstrip(" ,;:") or text[: max_units * KOREAN_CHARS_PER_WORD]
    words: list[str] = []
    left = max_units
    for word in text.split():
        if left <= 0:
            break
        units = _word_units(word)
        words.append(word if units <= left else word[: left * LONGEST_WORD_CHARS])
        left -= units
    return " ".join(words).rstrip(" ,;:-")


def _stands_in(text: str) -> bool:
    """Whether a junk sentence may stand in for a summary or headline when an article has
    nothing else: a fragment may, page furniture and listings may not."""
    return not is_furniture(text) and not is_listing(text)


_WORD_FLOOR = 0.1
"""What a word used once in the article weighs in the summary's coverage (so that an article of
sentences without a shared word still gets a summary)."""


class ExtractiveSummarizer:
    """Makes a :class:`Brief` from article sentences. Stateless after construction; thread-safe."""

    def __init__(self, settings: BriefSettings) -> None:
        self.settings = settings

    def summarize(
        self,
        paragraphs: Sequence[Sequence[str]],
        lang: str,
        budget: Budget,
        title: str = "",
        sources: Sequence[Span | None] = (),
    ) -> Brief:
        """Brief of an article given as sentences per paragraph, in article order.

        ``sources``, when given, holds where each sentence (in the order of ``paragraphs``,
        empty ones included) is in the article text; each line of the brief then carries the
        span of its source sentence."""
        sentences = self._prepare(paragraphs, lang, sources)
        if not sentences:
            return Brief(
                headline=shorten(title, self.settings.headline_max_words, lang), summary=""
            )
        title_tokens = frozenset(tokens(title, lang))
        scores = self._score(sentences, title_tokens)
        chosen = self._select(sentences, scores, budget, lang)
        summary = " ".join(sentences[i].text for i in sorted(chosen))
        headline = self._headline(sentences, scores, title, lang)
        points = self._key_points(sentences, scores, chosen, budget, lang)

        def line(text: str, i: int) -> BriefLine:
            source = sentences[i].source
            return BriefLine(text, (source,) if source is not None else ())

        return Brief(
            headline=headline,
            summary=summary,
            key_points=tuple(p for _, p in points),
            summary_lines=tuple(line(sentences[i].text, i) for i in sorted(chosen)),
            key_point_lines=tuple(line(p, i) for i, p in points),
        )

    def _prepare(
        self, paragraphs: Sequence[Sequence[str]], lang: str, sources: Sequence[Span | None]
    ) -> list[_Sentence]:
        out: list[_Sentence] = []
        limit = self.settings.max_candidate_sentences
        flat = -1
        for p, para in enumerate(paragraphs):
            for text in para:
                flat += 1
                text = text.strip()
                if not text:
                    continue
                if len(out) >= limit:
                    return out
                out.append(
                    _Sentence(
                        text=text,
                        index=len(out),
                        paragraph=p,
                        tokens=frozenset(tokens(text, lang)),
                        units=length_units(text, lang),
                        junk=is_junk(text, lang),
                        source=sources[flat] if flat < len(sources) else None,
                    )
                )
        return out

    def _score(self, sentences: list[_Sentence], title_tokens: frozenset[str]) -> list[float]:
        df: Counter[str] = Counter()
        for s in sentences:
            df.update(s.tokens)
        n = len(sentences)
        raw: list[float] = []
        for s in sentences:
            if not s.tokens:
                raw.append(0.0)
                continue
            # tokens that recur across the article, each counted once per sentence
            weight = sum(math.log1p(df[t] - 1) for t in s.tokens)
            raw.append(weight / math.sqrt(len(s.tokens) + 4))
        top = max(raw) or 1.0
        scores: list[float] = []
        content_rank = 0
        for s, r in zip(sentences, raw, strict=True):
            centrality = r / top
            title_overlap = (
                len(s.tokens & title_tokens) / len(title_tokens) if title_tokens else 0.0
            )
            # position prior over non-junk sentences: the lead matters most in news
            position = 1.0 / (1.0 + 0.5 * content_rank) if not s.junk else 0.0
            if not s.junk:
                content_rank += 1
            relative = 1.0 - s.index / max(1, n)
            score = (
                centrality
                + 0.5 * title_overlap
                + self.settings.lead_bonus * (position + 0.2 * relative)
            )
            scores.append(score if not s.junk else -1.0)
        return scores

    def _select(
        self, sentences: list[_Sentence], scores: list[float], budget: Budget, lang: str
    ) -> list[int]:
        """The summary's sentences: greedy coverage of the article's recurring words.

        Among the article's first ``summary_window`` sentences that are not junk, each step
        takes the sentence whose words not yet covered weigh most (a word weighs more the more
        sentences of the article use it, ``log(df)``, plus a floor), per length unit to the
        power ``length_exponent`` and discounted by its rank in the article (``1 / (1 +
        position_decay * rank)``), until the budget's sentences or words are used up. Where
        Lead-3 takes whatever the first three sentences say, this takes the early sentences
        that between them say most of what the whole article keeps returning to, skipping one
        that repeats a sentence already taken or that spends many words on little."""
        settings = self.settings
        df: Counter[str] = Counter()
        for s in sentences:
            df.update(s.tokens)
        weight = {t: math.log(n) + _WORD_FLOOR for t, n in df.items()}
        # a summary sentence opens as one (not ": Bahagian ...", not "and then ...")
        window = [i for i, s in enumerate(sentences) if not s.junk and opens_as_sentence(s.text)][
            : settings.summary_window
        ]
        chosen: list[int] = []
        covered: set[str] = set()
        used = 0
        while len(chosen) < budget.sentences:
            best_gain, pick = 0.0, -1
            for rank, i in enumerate(window):
                s = sentences[i]
                if i in chosen or used + s.units > budget.words:
                    continue
                if any(
                    _jaccard(s.tokens, sentences[j].tokens) >= settings.redundancy_threshold
                    for j in chosen
                ):
                    continue
                gain = sum(weight[t] for t in s.tokens - covered)
                gain /= max(1, s.units) ** settings.length_exponent
                gain /= 1.0 + settings.position_decay * rank
                if gain > best_gain:
                    best_gain, pick = gain, i
            if pick < 0:
                break
            chosen.append(pick)
            covered |= sentences[pick].tokens
            used += sentences[pick].units
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        # nothing but junk (a one-line text, a run of one word): the best sentence that is not
        # page furniture or a listing stands in, cut to the budget; furniture never does
        best = next((i for i in order if not sentences[i].junk), None)
        if best is None:
            best = next((i for i in order if _stands_in(sentences[i].text)), None)
        if not chosen and budget.sentences > 0 and budget.words > 0 and best is not None:
            # nothing fits whole: the best sentence, compressed (else cut at a clause boundary)
            text = sentences[best].text
            cut = compress(text, lang, budget.words, length_units) or shorten(
                text, budget.words, lang
            )
            sentences[best] = _Sentence(
                cut,
                best,
                sentences[best].paragraph,
                sentences[best].tokens,
                length_units(cut, lang),
                False,
                sentences[best].source,
            )
            chosen.append(best)
        return chosen

    def _headline(
        self, sentences: list[_Sentence], scores: list[float], title: str, lang: str
    ) -> str:
        limit = self.settings.headline_max_words
        if title.strip():
            return shorten(title, limit, lang)
        lead = [i for i in range(min(len(sentences), 5)) if not sentences[i].junk]
        if not lead:
            lead = [i for i in range(len(sentences)) if not sentences[i].junk][:1]
        if not lead:
            lead = [i for i in range(len(sentences)) if _stands_in(sentences[i].text)][:1]
        if not lead:
            return ""  # nothing but page furniture: no headline rather than a menu
        pick = max(lead, key=lambda i: scores[i])
        source = sentences[pick].text
        text = compress(source, lang, limit, length_units) or shorten(source, limit, lang)
        return text.rstrip(".") if not text.endswith("..") else text

    def _key_points(
        self,
        sentences: list[_Sentence],
        scores: list[float],
        chosen: list[int],
        budget: Budget,
        lang: str,
    ) -> list[tuple[int, str]]:
        """The key points, in article order, each with the index of its source sentence.

        A key point is a whole article sentence or a compression of one
        (:func:`.lines.compress`: parentheticals, attributions, asides and leading adverbials
        out, the main clause kept), never a prefix cut mid-clause, a table row or a menu. The
        best-scored sentences that are not in the summary come first; a sentence that has to be
        compressed ranks a little below one that fits whole, and one that cannot be made to fit
        is passed over. A short article falls back to compressions of its summary sentences
        (when they differ enough from the summary), else has fewer key points."""
        want = budget.key_points
        if want <= 0:
            return []
        limit = max(8, min(30, budget.words // max(1, want)))
        # what a key point must not repeat: the summary's sentences and the points before it,
        # compared by the tokens of the (compressed) point itself
        taken = [sentences[i].tokens for i in chosen]
        threshold = self.settings.redundancy_threshold

        def repeats(point: frozenset[str]) -> bool:
            return not point or any(_jaccard(point, t) >= threshold for t in taken)

        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        ranked: list[tuple[float, int, str]] = []
        for i in order:
            s = sentences[i]
            if len(ranked) >= 4 * want:
                break
            if s.junk or i in chosen or not is_sentence(s.text, lang) or repeats(s.tokens):
                continue
            if s.units <= limit:
                ranked.append((scores[i], i, s.text))
                continue
            cut = compress(s.text, lang, limit, length_units)
            if cut is not None:
                ranked.append((scores[i] * _COMPRESSED_WEIGHT, i, cut))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        points: list[tuple[int, str]] = []

        def take(i: int, text: str) -> None:
            """``text`` (of sentence ``i``) a key point, unless it repeats what is taken."""
            point = frozenset(tokens(text, lang))
            if not repeats(point):
                points.append((i, text))
                taken.append(point)

        for _, i, text in ranked:
            if len(points) >= want:
                break
            take(i, text)
        if len(points) < want:
            # short article: compressions of the summary sentences that say less than them
            for i in sorted(chosen):
                if len(points) >= want:
                    break
                s = sentences[i]
                cut = compress(s.text, lang, min(limit, s.units - 1), length_units)
                if cut is not None:
                    take(i, cut)
        points.sort(key=lambda p: p[0])
        return points


_COMPRESSED_WEIGHT = 0.9
"""A compressed key point ranks below the whole sentence it came from would (the editor's
preference for shorter whole sentences over cut long ones)."""
