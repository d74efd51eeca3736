"""The faithfulness guard: facts of an abstractive brief must be found in the source."""

from __future__ import annotations

import pytest

from newsbrief.service.checks.faithfulness import check_brief, check_texts, extract_facts
from newsbrief.service.domain import Brief

SOURCE = (
    "The city council of Springfield approved a new park on Tuesday, March 3. "
    "It will cost 1,500,000 dollars, about 3.5 percent of the annual budget, and take three "
    'years to build. Mayor Joe Quimby said the park was "a gift to our children". '
    "Around 12,000 residents signed the petition."
)


def brief(summary: str, headline: str = "Springfield approves a park", *points: str) -> Brief:
    return Brief(headline=headline, summary=summary, key_points=tuple(points))


def test_faithful_paraphrase_passes_with_normalised_facts() -> None:
    result = check_brief(
        brief(
            "Springfield's council approved a park on Tuesday. It costs $1.5 million, or 3.5% of "
            'the budget, and takes 3 years. Mayor Quimby called it "a gift to our children". '
            "12000 residents signed.",
            "Council approves park in March",
            "The park costs 1.5 million dollars",
        ),
        SOURCE,
    )
    assert result.passed, result.issues
    assert result.checked >= 8


def test_invented_number_is_rejected() -> None:
    result = check_brief(brief("The park will cost 2,000,000 dollars."), SOURCE)
    assert not result.passed
    assert any("2,000,000" in issue for issue in result.issues)
    assert result.issues[0].startswith("summary:")


def test_number_in_a_key_point_is_checked_too() -> None:
    result = check_brief(
        brief("The council approved a park.", "Park approved", "It took 4 years"), SOURCE
    )
    assert not result.passed
    assert result.issues == ["key_points[0]: number '4' is not in the article"]


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("The council met on Friday.", "day"),
        ("The park opens in September 2027.", "month"),
        ("Governor Lisa Simpson backed the plan.", "name"),
        ('Quimby said it was "a waste of money".', "quotation"),
        ("Five councillors voted against it.", "number"),
    ],
)
def test_each_kind_of_invented_fact(summary: str, kind: str) -> None:
    result = check_brief(brief(summary), SOURCE)
    assert not result.passed
    assert any(kind in issue for issue in result.issues), result.issues


def test_sentence_openers_and_weekday_words_are_not_names() -> None:
    facts = extract_facts("The council met. Officials said it was fine on Tuesday.", "summary")
    assert [(f.kind, f.text) for f in facts] == [("date", "Tuesday")]


def test_names_and_numbers_are_found_in_the_title() -> None:
    result = check_brief(brief("Park Plan 2030 approved."), SOURCE, title="Park Plan 2030")
    assert result.passed, result.issues


def test_korean_numbers_are_checked_and_names_are_not() -> None:
    source = "서울시는 3월 5일 새 공원 건설에 120억 원을 투입한다고 밝혔다."
    ok = check_texts([("summary", "서울시는 공원에 120억 원을 쓴다.")], source, "ko")
    assert ok.passed
    assert ok.notes and "Hangul" in ok.notes[0]
    bad = check_texts([("summary", "서울시는 공원에 300억 원을 쓴다.")], source, "ko")
    assert not bad.passed
    assert "300" in bad.issues[0]


def test_malay_percentages_and_scales() -> None:
    source = "Kerajaan memperuntukkan RM1.5 bilion, iaitu 4.2 peratus daripada bajet, pada Isnin."
    ok = check_texts(
        [("summary", "Kerajaan memperuntukkan RM1.5 bilion (4.2%) pada Isnin.")], source
    )
    assert ok.passed, ok.issues
    bad = check_texts([("summary", "Kerajaan memperuntukkan RM2 bilion pada Isnin.")], source)
    assert not bad.passed


@pytest.mark.parametrize(
    ("summary", "passed"),
    [
        ("Twenty-five people came.", True),
        ("25 people came.", True),
        ("The plan costs three million dollars.", True),
        ("Two hundred cars were sold.", True),
        ("Twenty-six people came.", False),
        ("It cost four million dollars.", False),
        ("One man was hurt.", True),  # a lone "one" is not checked
    ],
)
def test_spelled_out_numbers(summary: str, passed: bool) -> None:
    source = "Twenty-five people came. It cost $3m. Some 200 cars were sold. A man was hurt."
    result = check_texts([("summary", summary)], source)
    assert result.passed is passed, result.issues
