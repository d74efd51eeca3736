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

from newsbrief.service.text.numbers import (
    MONTH_NAMES,
    MONTHS,
    NUMBER_WORDS,
    SCALES,
    canonical,
    currency_around,
    supported,
)
from newsbrief.service.text.patterns import ALNUM_RUN, SPACE

_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?!\d)"
    r"(\s*(?:[만억조천]|[A-Za-z]+))?",
)
_DATE_MONTH = re.compile(
    rf"(?:\b\d{{1,2}}\s+({MONTH_NAMES})\b|\b({MONTH_NAMES})\.?\s+\d{{1,2}}\b)", re.IGNORECASE
)
_ANY_MONTH = re.compile(rf"\b({MONTH_NAMES})\b", re.IGNORECASE)
_KO_MONTH = re.compile(r"(\d{1,2})\s*월")
_QUOTED = re.compile(
    '["\u201c\u00ab\u201e]([^"\u201c\u201d\u00ab\u00bb\u201e]{1,80})["\u201d\u00bb]'
    "|(?<!\\w)[\u2018']([^\u2018\u2019']{1,80})[\u2019'](?!\\w)"
)


@dataclass(frozen=True)
class Item:
    """One thing a translation must keep: how it was written, and what counts as kept."""

    kind: str  # "number", "date", "name"
    text: str
    values: frozenset[str]
    currency: str = ""  # of an amount ("MYR" for "RM45 juta"), "" when none is written


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


@dataclass(frozen=True)
class _Number:
    written: str
    whole: str  # the value with its scale applied ("45 million" = 45000000)
    literal: str  # the digits alone ("45")
    currency: str


def _numbers(text: str, language: str) -> list[_Number]:
    """Each number of ``text``: as written, its whole value, its digits' value, its currency."""
    out: list[_Number] = []
    pieces: list[str] = []
    done = 0
    for run in _KO_RUN.finditer(text):  # "4억 5천만": one number, not three
        value = _korean_value(run.group(0))
        if value is not None:
            currency = currency_around(text, run.start(), run.end())
            out.append(_Number(run.group(0).strip(), canonical(value), canonical(value), currency))
            pieces += [text[done : run.start()], " " * len(run.group(0))]
            done = run.end()
    text = "".join([*pieces, text[done:]])  # the runs blanked out, in one pass
    for match in _NUMBER.finditer(text):
        value = _decimal(match.group(1), language)
        if value is None:
            continue
        written, whole = match.group(1), value
        unit = (match.group(2) or "").strip().lower()
        if unit in SCALES:
            whole = value * SCALES[unit]
            written = match.group(0).strip()
        currency = currency_around(text, match.start(), match.end(1))
        out.append(_Number(written, canonical(whole), canonical(value), currency))
    return out


def _months(text: str) -> set[str]:
    months = {str(MONTHS[m.lower()]) for m in _ANY_MONTH.findall(text)}
    months |= {str(int(n)) for n in _KO_MONTH.findall(text)}
    return months


def protected_items(text: str, language: str) -> list[Item]:
    """The numbers, dated months and quoted names of ``text`` (in ``language``)."""
    items: list[Item] = []
    for number in _numbers(text, language):
        # an amount is its whole value: "45 million" is kept by "45 juta" or "4500만", not "45"
        items.append(Item("number", number.written, frozenset({number.whole}), number.currency))
    for match in _DATE_MONTH.finditer(text):
        name = (match.group(1) or match.group(2)).lower()
        items.append(Item("date", match.group(0), frozenset({f"month:{MONTHS[name]}"})))
    for match in _QUOTED.finditer(text):
        quoted = SPACE.sub(" ", match.group(1) or match.group(2) or "").strip()
        words = ALNUM_RUN.findall(quoted)
        if not words or len(words) > 4:
            continue  # a quotation is translated; only short quoted names must stay
        if all(w[0].isupper() or w[0].isdigit() for w in words if w[0].isalpha() or w[0].isdigit()):
            items.append(Item("name", quoted, frozenset({f"name:{quoted.casefold()}"})))
    return items


def _kept(text: str, language: str) -> tuple[dict[str, set[str]], set[str]]:
    """What ``text`` holds: its numbers (value -> the currencies written with it, "" for none;
    a scaled number counts with its digits' value too) and its months."""
    amounts: dict[str, set[str]] = {}
    for number in _numbers(text, language):
        for value in (number.whole, number.literal):
            amounts.setdefault(value, set()).add(number.currency)
    for word in ALNUM_RUN.findall(text.lower()):
        if word in NUMBER_WORDS:
            amounts.setdefault(canonical(NUMBER_WORDS[word]), set()).add("")
    return amounts, {f"month:{m}" for m in _months(text)}


def missing_items(source: str, translation: str, source_lang: str, target_lang: str) -> list[str]:
    """Protected items of ``source`` not found in ``translation``, as written in the source."""
    items = protected_items(source, source_lang)
    if not items:
        return []
    amounts, months = _kept(translation, target_lang)
    folded = SPACE.sub(" ", translation).casefold()
    missing: list[str] = []
    for item in items:
        if item.kind == "name":
            if item.text.casefold() not in folded:
                missing.append(f"“{item.text}”")
        elif item.kind == "date":
            if not (item.values & months):
                missing.append(item.text)
        elif not any(supported(v, item.currency, amounts) for v in item.values):
            missing.append(item.text)
    return list(dict.fromkeys(missing))
