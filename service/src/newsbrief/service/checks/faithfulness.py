"""Faithfulness guard for abstractive briefs: every number, date, name and quotation of the
headline, summary and key points must be found in the source.

What is checked, after normalisation of both sides:

* **numbers**: digits with thousands separators or decimals ("1,000" = "1000", "3.50" = "3.5"),
  percentages ("3.5%" = "3.5 percent" = "3.5 per cent"), scales ("1.5 million" = "1,500,000"),
  ordinals ("21st" = "21") and English number words ("three" = "3", "twenty-five" = "25",
  "three million" = "3m", "dozen"; Malay "tiga" = "3"); a lone "one" is too common to check;
* **dates**: month names (any case, abbreviations such as "Jan." too) and weekdays must occur in the
  source; Korean "3월 5일" is covered by the number check;
* **names**: capitalised words that do not open a sentence, and runs of capitalised words
  ("Wulong International Kite Festival"): every word of the name must be a word of the source. A
  name made of source words in a new order ("John Kerry" from "John Smith" and "Kerry Jones") is
  not caught. All-lowercase text has no capitals to find names by, and Hangul has no case at all:
  for Korean text names are **not** checked (numbers, dates and quotations are), and
  :attr:`GuardResult.notes` says so;
* **quotations**: text between quotation marks ("...", “...”, '...', 「...」) must be found in the
  source, ignoring case, punctuation and spacing.

The verdict is "unfaithful" when at least one fact is missing (:data:`DEFAULT_MAX_ISSUES` = 0
tolerated).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from newsbrief.service.domain import Brief, Faithfulness
from newsbrief.service.text.numbers import (
    AMBIGUOUS_MONTHS,
    LATIN_SCALE_PATTERN,
    MONTHS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    SCALES,
    TOO_COMMON_NUMBER_WORDS,
    WEEKDAYS,
    currency_around,
    supported,
)
from newsbrief.service.text.patterns import HANGUL, WORD

DEFAULT_MAX_ISSUES = 0
"""Issues tolerated before a brief is judged unfaithful."""

_NUMBER_WORDS = {w: v for w, v in NUMBER_WORDS.items() if w not in TOO_COMMON_NUMBER_WORDS}
_SOURCE_ONLY_WORDS = {w: NUMBER_WORDS[w] for w in TOO_COMMON_NUMBER_WORDS} | ORDINAL_WORDS
_UNIT_WORDS = "one|two|three|four|five|six|seven|eight|nine"
_TEEN_WORDS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TEN_WORDS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
# English number words as one number: "twenty-five", "three million", "two hundred"
_WORD_NUM = re.compile(
    rf"\b(?:(?P<tens>{_TEN_WORDS})(?:[-\s](?P<unit2>{_UNIT_WORDS}))?|(?P<teen>{_TEEN_WORDS})"
    rf"|(?P<unit>{_UNIT_WORDS}))(?:\s+(?P<scale>hundred|thousand|million|billion|trillion))?\b",
    re.IGNORECASE,
)
_WORD_VALUES = {w: i + 1 for i, w in enumerate(_UNIT_WORDS.split("|"))}
_WORD_VALUES.update({w: i + 10 for i, w in enumerate(_TEEN_WORDS.split("|"))})
_WORD_VALUES.update({w: (i + 2) * 10 for i, w in enumerate(_TEN_WORDS.split("|"))})


def _word_number(m: re.Match[str]) -> float | None:
    """The value of a :data:`_WORD_NUM` match; None for a lone "one" (too common to check)."""
    groups = {k: (v or "").casefold() for k, v in m.groupdict().items()}
    if groups["unit"] == "one" and not groups["scale"]:
        return None
    value = float(
        _WORD_VALUES[groups["tens"]] + (_WORD_VALUES[groups["unit2"]] if groups["unit2"] else 0)
        if groups["tens"]
        else _WORD_VALUES[groups["teen"] or groups["unit"]]
    )
    if groups["scale"]:
        value *= 100 if groups["scale"] == "hundred" else SCALES[groups["scale"]]
    return value


_NUM = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:(st|nd|rd|th)\b)?"
    r"(\s*(?:%|per\s*cent\b|percent\b|peratus\b|persen\b))?"
    rf"(?:\s*({LATIN_SCALE_PATTERN})\b)?",
    re.IGNORECASE,
)
_QUOTE = re.compile(
    r"\"([^\"]{3,300})\"|\u201c([^\u201d]{3,300})\u201d|``\s*(.{3,300}?)\s*''"
    # single quotes: not a possessive ("the swans ' draw", tokenised), no sentence end inside
    r"|(?:^|(?<=[^s\W]\s)|(?<=[\s(\[]))(?<!s\s)[`'\u2018]\s*(\w(?:[^'\u2019`.!?]|[.!?](?!\s)|(?<=\w)['\u2019](?=\w)){2,200}?)"
    r"\s*['\u2019](?![\w])"
    r"|\u300c([^\u300d]{2,300})\u300d"
)
_SENTENCE_ENDS = frozenset(".!?:;\u2026\"'`\u201c\u201d\u2018([")
_CONNECTORS = {"of", "de", "la", "van", "von", "der", "al", "bin", "binti", "the", "and", "&"}
_HONORIFICS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sir",
    "dame",
    "president",
    "minister",
    "datuk",
    "dato",
    "tan",
    "sri",
    "encik",
    "puan",
}
# Capitalised words that are not names: sentence openers after a colon or dash, pronouns.
_NOT_NAMES = {"i", "i'm", "i've", "i'd", "i'll", "tv", "ok"}


def _number_value(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _key(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True)
class Fact:
    """One checkable fact of the brief."""

    kind: str  # number, date, name, quote
    text: str  # as written in the brief
    field: str  # headline, summary, key_points[i]
    currency: str = ""  # of an amount ("GBP" for "£2m"), "" when none is written


@dataclass
class GuardResult:
    """The guard's verdict: the facts missing from the source, and what it could not check."""

    issues: list[str] = field(default_factory=list)
    checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return len(self.issues) <= DEFAULT_MAX_ISSUES

    def faithfulness(self) -> Faithfulness:
        return Faithfulness(passed=self.passed, issues=tuple(self.issues))


class SourceIndex:
    """What the source says, normalised for look-ups: numbers (with scaled values), words,
    months, weekdays, and a punctuation-free text for quotations."""

    def __init__(self, source: str, lang: str = "") -> None:
        self.lang = lang
        self.numbers: set[str] = set()
        # value -> the currencies it is written with ("" for none), for whole-value amounts
        self.amounts: dict[str, set[str]] = {}
        self.words: set[str] = set()
        self.months: set[int] = set()
        self.weekdays: set[int] = set()
        for m in _NUM.finditer(source):
            currency = currency_around(source, m.start(), m.end())
            for value in _numbers_of(m):  # "£2m": 2 and 2,000,000 pounds
                self._add(value, currency)
        for m in _WORD_NUM.finditer(source):
            spelled = _word_number(m)
            if spelled is not None:
                self._add(spelled, currency_around(source, m.start(), m.end()))
        folded = source.casefold()
        for w in WORD.findall(folded):
            self.words.add(w)
            self.words.add(_strip_possessive(w))
            if w in _NUMBER_WORDS:
                self._add(_NUMBER_WORDS[w])
            if w in _SOURCE_ONLY_WORDS:
                self._add(_SOURCE_ONLY_WORDS[w])
            if w in MONTHS:
                self.months.add(MONTHS[w])
            if w in WEEKDAYS:
                self.weekdays.add(WEEKDAYS[w])
        self.flat = _flat(source)

    def _add(self, value: float, currency: str = "") -> None:
        key = _key(value)
        self.numbers.add(key)
        self.amounts.setdefault(key, set()).add(currency)


def _strip_possessive(word: str) -> str:
    for suffix in ("'s", "\u2019s", "s'", "'"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] if suffix != "s'" else word[:-1]
    return word


def _flat(text: str) -> str:
    """Case-folded words joined by single spaces: punctuation and spacing do not count."""
    return " " + " ".join(WORD.findall(text.casefold().replace("\u2019", "'"))) + " "


def _numbers_of(m: re.Match[str]) -> list[float]:
    """The values a number match stands for: as written, and scaled ("1.5 million")."""
    whole, frac, _ordinal, _percent, scale = m.groups()
    value = _number_value(whole + ("." + frac if frac else ""))
    if value is None:
        return []
    out = [value]
    if scale:
        out.append(value * SCALES[scale.lower()])
    return out


def extract_facts(text: str, field_name: str, lang: str = "") -> list[Fact]:
    """The numbers, dates, names and quotations of one field of a brief."""
    facts: list[Fact] = []
    for m in _NUM.finditer(text):
        currency = currency_around(text, m.start(), m.end())
        facts.append(Fact("number", m.group(0).strip(), field_name, currency))
    spans: list[tuple[int, int]] = []
    for m in _WORD_NUM.finditer(text):
        if _word_number(m) is not None:
            currency = currency_around(text, m.start(), m.end())
            facts.append(Fact("number", m.group(0), field_name, currency))
            spans.append(m.span())
    words = list(WORD.finditer(text))
    for m in words:
        w = m.group(0).casefold()
        k = bisect_right(spans, (m.start(), len(text) + 1)) - 1  # spans are ordered, disjoint
        if k >= 0 and spans[k][0] <= m.start() < spans[k][1]:
            continue
        if w in _NUMBER_WORDS and w not in ("hundred", "thousand"):
            facts.append(Fact("number", m.group(0), field_name))
        elif _is_date_word(w, text, m):
            facts.append(Fact("date", m.group(0), field_name))
    if not HANGUL.search(text):
        facts.extend(Fact("name", n, field_name) for n in _names(text))
    for q in _QUOTE.finditer(text):
        inner = next(g for g in q.groups() if g is not None).strip()
        if len(WORD.findall(inner)) >= 1:
            facts.append(Fact("quote", inner, field_name))
    return facts


def _is_date_word(word: str, text: str, m: re.Match[str]) -> bool:
    if word in WEEKDAYS:
        return True
    return word in MONTHS and (word not in AMBIGUOUS_MONTHS or _next_to_number(text, m))


def _next_to_number(text: str, m: re.Match[str]) -> bool:
    before = text[max(0, m.start() - 4) : m.start()]
    after = text[m.end() : m.end() + 4]
    return bool(re.search(r"\d\s*$", before) or re.match(r"\.?\s*\d", after))


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens a sentence: only spaces before it since the text's
    start, a newline, or sentence punctuation (or an opening quote or bracket). Looks back over
    the spaces only, so checking every word is linear in the text."""
    i = start
    while i > 0 and text[i - 1].isspace():
        if text[i - 1] == "\n":
            return True
        i -= 1
    return i == 0 or text[i - 1] in _SENTENCE_ENDS


def _names(text: str) -> list[str]:
    """Capitalised words and runs of them that do not merely open a sentence."""
    out: list[str] = []
    words = list(WORD.finditer(text))
    run: list[re.Match[str]] = []

    def flush() -> None:
        while run and run[-1].group(0).casefold() in _CONNECTORS:
            run.pop()
        if not run:
            return
        first = run[0]
        opens = _opens_sentence(text, first.start())
        names = [w for w in run if w.group(0).casefold() not in _CONNECTORS]
        if opens and len(names) == 1:
            run.clear()
            return  # a lone capitalised sentence opener is not a name
        if opens and first.group(0).casefold() not in _HONORIFICS:
            # "The Wulong Festival", "Police in Paris": drop the opener unless it joins the name
            keep = run[1:] if len(names) > 1 and _is_common_opener(first.group(0)) else run
        else:
            keep = run
        phrase = text[keep[0].start() : keep[-1].end()] if keep else ""
        plain = [w.casefold() for w in WORD.findall(phrase)]
        if plain and all(w in _NOT_NAMES or w in MONTHS or w in WEEKDAYS for w in plain):
            phrase = ""  # a date, not a name: checked as a date
        if phrase:
            out.append(phrase)
        run.clear()

    for i, m in enumerate(words):
        w = m.group(0)
        gap = text[words[i - 1].end() : m.start()] if i else ""
        continues = bool(run) and gap.strip() in ("", "-", "&") and "\n" not in gap
        currency = text[m.end() : m.end() + 1] == "$"  # "US$", "S$": a currency, not a name
        if (_capitalised(w) and not currency) or (
            run and continues and w.casefold() in _CONNECTORS
        ):
            if run and not continues:
                flush()
            run.append(m)
        else:
            flush()
    flush()
    return out


_COMMON_OPENERS = {
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "for",
    "from",
    "by",
    "with",
    "as",
    "after",
    "before",
    "but",
    "and",
    "police",
    "officials",
    "former",
    "new",
    "this",
    "that",
    "when",
    "while",
    "if",
}


def _is_common_opener(word: str) -> bool:
    return word.casefold() in _COMMON_OPENERS


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not any(ch.isdigit() for ch in word)


def check_brief(
    brief: Brief, source: str, title: str = "", lang: str = "", index: SourceIndex | None = None
) -> GuardResult:
    """Check every fact of ``brief`` against ``source`` (and the caller's ``title``)."""
    fields: list[tuple[str, str]] = [("headline", brief.headline), ("summary", brief.summary)]
    fields += [(f"key_points[{i}]", p) for i, p in enumerate(brief.key_points)]
    return check_texts(fields, f"{title}\n{source}", lang, index)


def check_texts(
    fields: Iterable[tuple[str, str]],
    source: str,
    lang: str = "",
    index: SourceIndex | None = None,
) -> GuardResult:
    """Check ``(field name, text)`` pairs against ``source``."""
    idx = index or SourceIndex(source, lang)
    result = GuardResult()
    seen: set[tuple[str, str]] = set()
    korean = lang == "ko"
    for name, text in fields:
        if not text:
            continue
        if korean or HANGUL.search(text):
            note = "names in Hangul are not checked (no case marks them); numbers, dates and "
            note += "quotations are"
            if note not in result.notes:
                result.notes.append(note)
        for fact in extract_facts(text, name, lang):
            result.checked += 1
            problem = _missing(fact, idx)
            if problem and (fact.kind, fact.text.casefold()) not in seen:
                seen.add((fact.kind, fact.text.casefold()))
                result.issues.append(f"{fact.field}: {problem}")
    return result


def _missing_amount(fact: Fact, value: float, idx: SourceIndex) -> str:
    """Why the amount ``value`` (whole, scale applied) of ``fact`` is not supported ("" when
    it is): absent from the article, or there only in another currency."""
    key = _key(value)
    if supported(key, fact.currency, idx.amounts):
        return ""
    if key in idx.amounts:
        others = ", ".join(sorted(c for c in idx.amounts[key] if c))
        return f"amount {fact.text!r} ({fact.currency}) is in the article only in {others}"
    return f"number {fact.text!r} is not in the article"


def _known_word(word: str, idx: SourceIndex) -> bool:
    """``word`` or a simple inflection of it (possessive, plural) is a word of the source."""
    forms = {word, _strip_possessive(word), word + "s"}
    if word.endswith("s"):
        forms.add(word[:-1])
    if word.endswith("es"):
        forms.add(word[:-2])
    return any(f in idx.words for f in forms)


def _missing(fact: Fact, idx: SourceIndex) -> str:
    """Why ``fact`` is not supported by the source ("" when it is)."""
    if fact.kind == "number":
        word = fact.text.casefold()
        spelled = _WORD_NUM.fullmatch(fact.text)
        if spelled is not None:
            value = _word_number(spelled)
            if value is None:
                return ""
            return _missing_amount(fact, value, idx)
        if word in _NUMBER_WORDS:
            value = _NUMBER_WORDS[word]
            if _key(value) in idx.numbers or word in idx.words:
                return ""
            return f"number {fact.text!r} is not in the article"
        m = _NUM.match(fact.text)
        if m is None:
            return ""
        # an amount is its whole value: "£2m" needs 2,000,000 in the article, not a bare "2"
        return _missing_amount(fact, _numbers_of(m)[-1], idx)
    if fact.kind == "date":
        word = fact.text.casefold().rstrip(".")
        if word in WEEKDAYS and WEEKDAYS[word] not in idx.weekdays:
            return f"day {fact.text!r} is not in the article"
        if word in MONTHS and MONTHS[word] not in idx.months:
            return f"month {fact.text!r} is not in the article"
        return ""
    if fact.kind == "name":
        missing = [
            w
            for w in WORD.findall(fact.text.casefold())
            if w not in _CONNECTORS and w not in _HONORIFICS and not _known_word(w, idx)
        ]
        return f"name {fact.text!r} is not in the article" if missing else ""
    if fact.kind == "quote":
        flat = _flat(fact.text)
        if flat.strip() and flat not in idx.flat:
            return f"quotation {fact.text[:80]!r} is not in the article"
        return ""
    return ""
