"""Shared facts about numbers, amounts and dates in the served languages (en, ko, ms, id).

One table each for number words, scale words, months, weekdays and currencies, used by the
faithfulness guard (a brief against its article) and by the translation check (a translation
against its source) alike, so the two cannot drift apart. An **amount** is compared as a whole
value with its scale and currency (:func:`currency_around`, :func:`supported`):
``£2m`` is 2,000,000 pounds, the same as ``2 million pounds`` or ``GBP 2,000,000``; it is not
supported by a bare ``2`` elsewhere in the text, nor by ``$2m``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

#: Number words of the served languages (Korean writes numbers with digits and units).
NUMBER_WORDS: dict[str, int] = {
    # en
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    # ms / id
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "lapan": 8,
    "delapan": 8, "sembilan": 9, "sepuluh": 10,
}  # fmt: skip

#: Words that say "one" so often (an article, a pronoun) that a brief's use is not a fact.
TOO_COMMON_NUMBER_WORDS = frozenset({"one", "satu"})

#: Ordinal words: a source that says "third" supports a brief's "3".
ORDINAL_WORDS: dict[str, int] = {"first": 1, "second": 2, "third": 3}

#: Scale words and abbreviations -> their multiplier.
SCALES: dict[str, int] = {
    # en
    "thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6, "mn": 10**6,
    "billion": 10**9, "bn": 10**9, "b": 10**9, "trillion": 10**12,
    # ms / id
    "ribu": 10**3, "juta": 10**6, "bilion": 10**9, "miliar": 10**9, "milyar": 10**9,
    "trilion": 10**12, "triliun": 10**12,
    # ko
    "천": 10**3, "만": 10**4, "억": 10**8, "조": 10**12,
}  # fmt: skip

#: The Latin-script scale words as a regex alternative, longest first.
LATIN_SCALE_PATTERN = "|".join(
    sorted((re.escape(w) for w in SCALES if w.isascii()), key=len, reverse=True)
)

MONTHS: dict[str, int] = {
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

#: The month names of :data:`MONTHS` as a regular-expression alternation, longest first: match
#: it case-insensitively (``re.IGNORECASE``).
MONTH_NAMES = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

#: The same names capitalised ("Jan", "March", "Ogos"), for patterns that match case-sensitively.
MONTH_TITLES = "|".join(sorted((re.escape(m.capitalize()) for m in MONTHS), key=len, reverse=True))

#: Month names that are also ordinary words ("may", "march"): dates only next to a number.
AMBIGUOUS_MONTHS = frozenset(
    {"may", "march", "mar", "jun", "dec", "sep", "sept", "mac", "mei", "jan"}
)

WEEKDAYS: dict[str, int] = {
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
    "sunday": 7,
    "isnin": 1, "selasa": 2, "rabu": 3, "khamis": 4, "kamis": 4, "jumaat": 5, "jumat": 5,
    "sabtu": 6, "ahad": 7,
}  # fmt: skip

#: Currency symbols and codes written before a number ("£2m", "RM45", "US$1.5bn", "USD 3").
CURRENCY_PREFIXES: dict[str, str] = {
    "us$": "USD", "usd": "USD", "$": "USD", "£": "GBP", "gbp": "GBP", "€": "EUR", "eur": "EUR",
    "¥": "JPY", "jpy": "JPY", "₩": "KRW", "krw": "KRW", "rm": "MYR", "myr": "MYR",
    "rp": "IDR", "idr": "IDR", "s$": "SGD", "sgd": "SGD", "a$": "AUD", "aud": "AUD",
    "hk$": "HKD", "hkd": "HKD", "rmb": "CNY", "cny": "CNY",
}  # fmt: skip

#: Currency words written after a number (and its scale): "2 million pounds", "45 juta ringgit",
#: "200만 파운드".
CURRENCY_WORDS: dict[str, str] = {
    "dollar": "USD", "dollars": "USD", "dolar": "USD", "달러": "USD",
    "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "paun": "GBP", "파운드": "GBP",
    "euro": "EUR", "euros": "EUR", "유로": "EUR",
    "yen": "JPY", "엔": "JPY",
    "won": "KRW", "원": "KRW",
    "ringgit": "MYR", "링깃": "MYR",
    "rupiah": "IDR", "루피아": "IDR",
    "yuan": "CNY", "위안": "CNY",
}  # fmt: skip

_PREFIX = re.compile(
    "(?:"
    + "|".join(sorted((re.escape(p) for p in CURRENCY_PREFIXES), key=len, reverse=True))
    + r")\s?$",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"^\s*([^\W\d_]+)(?:\s*([^\W\d_]+))?")


def currency_around(text: str, start: int, end: int) -> str:
    """The currency (ISO code) written right before the number ``text[start:end]`` (a symbol or
    code) or right after it and its scale word, if any (a word); "" when there is none."""
    before = _PREFIX.search(text[max(0, start - 4) : start])
    if before is not None:
        prefix = before.group(0).strip().lower()
        head = text[max(0, start - 4) : start].lower()
        # "RM" and "Rp" only as prefixes, not the end of a word ("farm 5")
        start_of_prefix = len(head) - len(before.group(0))
        if not prefix.isalpha() or start_of_prefix == 0 or not head[start_of_prefix - 1].isalpha():
            return CURRENCY_PREFIXES[prefix]
    after = _SUFFIX.match(text[end : end + 32])
    for word in after.groups() if after is not None else ():
        if word is None:
            break
        if word.lower() in CURRENCY_WORDS:
            return CURRENCY_WORDS[word.lower()]
        if word.lower() not in SCALES:
            break
    return ""


def canonical(value: Decimal | float | int) -> str:
    """A number written canonically, so that equal values compare equal as text."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(dec.normalize(), "f")


def supported(key: str, currency: str, found: Mapping[str, set[str]]) -> bool:
    """Whether an amount (its whole value written as ``key``, its ``currency``, "" for none) is
    supported by the amounts ``found`` in the other text (value key -> the currencies it was
    written with, "" for none): the same whole value, and no other currency than its own. A
    value the other text writes without a currency supports any."""
    currencies = found.get(key)
    if currencies is None:
        return False
    return not currency or "" in currencies or currency in currencies
