"""What a translation must keep: numbers, dates and quoted names, checked after translation.

Each protected item of a source text is looked for in its translation, normalised so that a
faithful rendering passes: thousands separators ("1,000" = "1000" = "1.000" in Indonesian),
scale words in any of the served languages ("45 million" = "45 juta" = "4500만"), small number
words ("three" = "3" = "tiga"), month names or Korean "N월" ("3 March" = "3 Mac" = "3월 3일"),
and quoted names compared case-insensitively. What is not found is reported, never repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?!\d)"
    r"(\s*(?:[만억조천]|[A-Za-z]+))?",
)
_SCALE_WORDS = {
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
    "ribu": 10**3,
    "juta": 10**6,
    "bilion": 10**9,
    "miliar": 10**9,
    "milyar": 10**9,
    "trilion": 10**12,
    "triliun": 10**12,
    "천": 10**3,
    "만": 10**4,
    "억": 10**8,
    "조": 10**12,
}
_NUMBER_WORDS = {
    # en, ms/id; Korean numbers are written with digits or are units above.
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6,
    "tujuh": 7, "lapan": 8, "delapan": 8, "sembilan": 9, "sepuluh": 10,
}  # fmt: skip
_MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # ms
    "januari": 1, "februari": 2, "mac": 3, "mei": 5, "julai": 7, "ogos": 8,
    "oktober": 10, "disember": 12,
    # id
    "maret": 3, "juni": 6, "juli": 7, "agustus": 8, "desember": 12,
}  # fmt: skip
_MONTH_WORD = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_DATE_MONTH = re.compile(
    rf"(?:\b\d{{1,2}}\s+({_MONTH_WORD})\b|\b({_MONTH_WORD})\.?\s+\d{{1,2}}\b)", re.IGNORECASE
)
_ANY_MONTH = re.compile(rf"\b({_MONTH_WORD})\b", re.IGNORECASE)
_KO_MONTH = re.compile(r"(\d{1,2})\s*월")
_QUOTED = re.compile(
    '["\u201c\u00ab\u201e]([^"\u201c\u201d\u00ab\u00bb\u201e]{1,80})["\u201d\u00bb]'
    "|(?<!\\w)[\u2018']([^\u2018\u2019']{1,80})[\u2019'](?!\\w)"
)
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Item:
    """One thing a translation must keep: how it was written, and what counts as kept."""

    kind: str  # "number", "date", "name"
    text: str
    values: frozenset[str]


def _decimal(raw: str, language: str) -> Decimal | None:
    """ "1,000" -> 1000, "1,5" -> 1.5 in Indonesian (comma decimal, dot thousands)."""
    text = raw
    if language == "id":
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", text):
        text = text.replace(".", "")
    else:
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _canon(value: Decimal) -> str:
    return format(value.normalize(), "f")


# A run starts only where a digit run starts and never gives digits back (possessive): a long
# run of digits and separators without a unit is scanned once, not once per digit.
_KO_RUN = re.compile(r"(?<![\d,.])(?:\d[\d,.]*+\s*[천만억조]\s*|(?<=[천만억조])\s*[만억조]\s*){2,}")
_KO_PART = re.compile(r"(\d[\d,.]*)?\s*([천만억조])")
_KO_BIG = {"만": Decimal(10**4), "억": Decimal(10**8), "조": Decimal(10**12)}


def _korean_value(run: str) -> Decimal | None:
    """The value of a Korean number with several units: "4억 5천만" = 450000000."""
    total = Decimal(0)
    small = Decimal(0)
    for digits, unit in _KO_PART.findall(run):
        n = _decimal(digits, "ko") if digits else None
        if digits and n is None:
            return None
        if unit == "천":
            small += (n if n is not None else Decimal(1)) * 1000
        else:
            base = small + (n or Decimal(0))
            total += (base if base else Decimal(1)) * _KO_BIG[unit]
            small = Decimal(0)
    return total + small


def _numbers(text: str, language: str) -> list[tuple[str, set[str]]]:
    """(as written, {literal value, scaled value}) for each number in ``text``."""
    out: list[tuple[str, set[str]]] = []
    pieces: list[str] = []
    done = 0
    for run in _KO_RUN.finditer(text):  # "4억 5천만": one number, not three
        value = _korean_value(run.group(0))
        if value is not None:
            out.append((run.group(0).strip(), {_canon(value)}))
            pieces += [text[done : run.start()], " " * len(run.group(0))]
            done = run.end()
    text = "".join([*pieces, text[done:]])  # the runs blanked out, in one pass
    for match in _NUMBER.finditer(text):
        value = _decimal(match.group(1), language)
        if value is None:
            continue
        values = {_canon(value)}
        written = match.group(1)
        unit = (match.group(2) or "").strip().lower()
        if unit in _SCALE_WORDS:
            values.add(_canon(value * _SCALE_WORDS[unit]))
            written = match.group(0).strip()
        out.append((written, values))
    return out


def _months(text: str) -> set[str]:
    months = {str(_MONTHS[m.lower()]) for m in _ANY_MONTH.findall(text)}
    months |= {str(int(n)) for n in _KO_MONTH.findall(text)}
    return months


def protected_items(text: str, language: str) -> list[Item]:
    """The numbers, dated months and quoted names of ``text`` (in ``language``)."""
    items: list[Item] = []
    for written, values in _numbers(text, language):
        items.append(Item("number", written, frozenset(values)))
    for match in _DATE_MONTH.finditer(text):
        name = (match.group(1) or match.group(2)).lower()
        items.append(Item("date", match.group(0), frozenset({f"month:{_MONTHS[name]}"})))
    for match in _QUOTED.finditer(text):
        quoted = _SPACE.sub(" ", match.group(1) or match.group(2) or "").strip()
        words = _WORD.findall(quoted)
        if not words or len(words) > 4:
            continue  # a quotation is translated; only short quoted names must stay
        if all(w[0].isupper() or w[0].isdigit() for w in words if w[0].isalpha() or w[0].isdigit()):
            items.append(Item("name", quoted, frozenset({f"name:{quoted.casefold()}"})))
    return items


def _kept_values(text: str, language: str) -> set[str]:
    values: set[str] = set()
    for _, found in _numbers(text, language):
        values |= found
    for word in _WORD.findall(text.lower()):
        if word in _NUMBER_WORDS:
            values.add(str(_NUMBER_WORDS[word]))
    values |= {f"month:{m}" for m in _months(text)}
    return values


def missing_items(source: str, translation: str, source_lang: str, target_lang: str) -> list[str]:
    """Protected items of ``source`` not found in ``translation``, as written in the source."""
    items = protected_items(source, source_lang)
    if not items:
        return []
    kept = _kept_values(translation, target_lang)
    folded = _SPACE.sub(" ", translation).casefold()
    missing: list[str] = []
    for item in items:
        if item.kind == "name":
            if item.text.casefold() not in folded:
                missing.append(f"“{item.text}”")
        elif not (item.values & kept):
            missing.append(item.text)
    return list(dict.fromkeys(missing))
