"""Amounts are compared as whole values with their scale and currency, by the faithfulness guard
and by the translation check alike (one table of numbers, scales, months and currencies)."""

from __future__ import annotations

import pytest

from newsbrief.service.checks.faithfulness import check_texts
from newsbrief.service.checks.preservation import missing_items
from newsbrief.service.text.numbers import currency_around

CASES = [
    # (amount in the text checked, what the other text says, supported?)
    ("£2m", "2 people came.", False),  # a bare 2 elsewhere is not 2 million
    ("£1m", "One man said so.", False),  # "one" is not one million
    ("£1m", "It holds 1 million pounds.", True),
    ("£2m", "It was $2m.", False),  # the same value in another currency
    ("£2m", "It was 2,000,000.", True),  # a value written without a currency supports any
    ("2 million dollars", "It was $2m.", True),
    ("45 million ringgit", "Kosnya RM45 juta.", True),
    ("US$1.5bn", "The bill: 1,500,000,000 dollars.", True),
    ("€3 million", "It cost €3m.", True),
]


@pytest.mark.parametrize(("amount", "other", "ok"), CASES)
def test_the_guard_compares_whole_amounts(amount: str, other: str, ok: bool) -> None:
    result = check_texts([("summary", f"The cost is {amount} now.")], f"Report. {other}", "en")
    assert result.passed is ok, result.issues


@pytest.mark.parametrize(("amount", "other", "ok"), CASES)
def test_the_translation_check_compares_whole_amounts(amount: str, other: str, ok: bool) -> None:
    missing = missing_items(f"The cost is {amount} now.", f"Report. {other}", "en", "ms")
    assert (missing == []) is ok, missing


def test_the_guard_judges_spelled_and_abbreviated_scales_alike() -> None:
    article = "One man spoke. Then 2 people left."
    for claim in ("one million", "£1m", "1 million", "two million", "£2m"):
        assert not check_texts([("summary", f"It cost {claim}.")], article, "en").passed, claim
    article = "The council set aside 1 million and later 2,000,000."
    for claim in ("one million", "£1m", "1 million", "two million", "£2m"):
        assert check_texts([("summary", f"It cost {claim}.")], article, "en").passed, claim


def test_currency_around() -> None:
    text = "RM45 juta, £2m, 200만 파운드, 7 dollars, farm 5, 3 million won"
    assert currency_around(text, 2, 4) == "MYR"
    assert currency_around(text, text.index("2m"), text.index("2m") + 2) == "GBP"
    at = text.index("200")
    assert currency_around(text, at, at + 3) == "GBP"  # after the scale word 만
    at = text.index("7 ")
    assert currency_around(text, at, at + 1) == "USD"
    at = text.index("5,")
    assert currency_around(text, at, at + 1) == ""  # "farm" does not end in a currency
    at = text.index("3 m")
    assert currency_around(text, at, at + 1) == "KRW"
