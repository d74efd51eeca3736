import pytest

from newsbrief.service.text.segment import split_paragraphs, split_sentences


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param(
            "Mr. Smith met Dr. Jones at 3.5 p.m. on Jan. 5 in the U.S. Army base. "
            "George W. Bush visited No. 10 Downing St. on Monday. "
            "Apple Inc. said 1,000 staff and 1.000 tonnes moved. Prices rose 5.5% in the U.S. "
            "The rest fell.",
            "en",
            [
                "Mr. Smith met Dr. Jones at 3.5 p.m. on Jan. 5 in the U.S. Army base.",
                "George W. Bush visited No. 10 Downing St. on Monday.",
                "Apple Inc. said 1,000 staff and 1.000 tonnes moved.",
                "Prices rose 5.5% in the U.S.",
                "The rest fell.",
            ],
            id="english_abbreviations_numbers_and_initials",
        ),
        pytest.param(
            '"We will win the vote," he said. "Stop!" she shouted. '
            'He added: "It is over." Then he left. \u201cReally?\u201d Smith asked.',
            "en",
            [
                '"We will win the vote," he said.',
                '"Stop!" she shouted.',
                'He added: "It is over."',
                "Then he left.",
                "\u201cReally?\u201d Smith asked.",
            ],
            id="quotes_stay_with_their_attribution",
        ),
        pytest.param(
            "He waited... and waited. Then nothing\u2026 Nobody came.",
            "en",
            [
                "He waited... and waited.",
                "Then nothing\u2026",
                "Nobody came.",
            ],
            id="ellipses",
        ),
        pytest.param(
            "서울에서 회의가 열렸다. 무엇을 했나요? 그는 떠났다.그는 돌아오지 않았다. 정말일까?",
            "ko",
            [
                "서울에서 회의가 열렸다.",
                "무엇을 했나요?",
                "그는 떠났다.",
                "그는 돌아오지 않았다.",
                "정말일까?",
            ],
            id="korean_endings_with_and_without_spaces",
        ),
        pytest.param(
            '그는 "이제 끝났다."라고 말했다. 가격은 3.5% 올랐다.',
            "ko",
            ['그는 "이제 끝났다."라고 말했다.', "가격은 3.5% 올랐다."],
            id="korean_quotation_inside_a_sentence",
        ),
        pytest.param(
            "Sidang akhbar diadakan di New York kelmarin.Bolivia pula membantah. "
            "Datuk Seri Dr. Wan Azizah berkata kos mencecah RM1.5 bilion. "
            "Syarikat itu, ABC Sdn. Bhd. menafikannya.",
            "ms",
            [
                "Sidang akhbar diadakan di New York kelmarin.",
                "Bolivia pula membantah.",
                "Datuk Seri Dr. Wan Azizah berkata kos mencecah RM1.5 bilion.",
                "Syarikat itu, ABC Sdn. Bhd. menafikannya.",
            ],
            id="malay_missing_space_titles_and_numbers",
        ),
        pytest.param(
            "KONTAN.CO.ID - NEW YORK. Saham AS jatuh, lapor detik.com hari ini.",
            "id",
            [
                "KONTAN.CO.ID - NEW YORK.",
                "Saham AS jatuh, lapor detik.com hari ini.",
            ],
            id="domains_are_not_split",
        ),
        pytest.param(
            "Breaking news\nThe vote passed.",
            "en",
            [
                "Breaking news",
                "The vote passed.",
            ],
            id="newline_ends_a_sentence_of_a_heading",
        ),
        pytest.param(
            'Ia berlaku di Pulau Pinang."Bahagian itu sedang disiasat," katanya. '
            'Dia berkata: "Kami akan menang."Semua orang bersorak. '
            "Dia menang.\u201cKami gembira,\u201d katanya.",
            "ms",
            [
                "Ia berlaku di Pulau Pinang.",
                '"Bahagian itu sedang disiasat," katanya.',
                'Dia berkata: "Kami akan menang."',
                "Semua orang bersorak.",
                "Dia menang.",
                "\u201cKami gembira,\u201d katanya.",
            ],
            id="an_opening_quote_after_a_full_stop_starts_the_next_sentence",
        ),
        pytest.param(
            '정부는 오늘 발표했다."우리는 최선을 다할 것"이라고 말했다.',
            "ko",
            [
                "정부는 오늘 발표했다.",
                '"우리는 최선을 다할 것"이라고 말했다.',
            ],
            id="korean_opening_quote_after_a_full_stop",
        ),
    ],
)
def test_split_sentences(text: str, lang: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


@pytest.mark.parametrize("lang", ["en", "ko", "ms"])
def test_sentences_are_trimmed_slices_and_never_empty(lang: str) -> None:
    text = '  One.  ... \n\n"  Two?" \u201d Three!\n'
    sentences = split_sentences(text, lang)
    assert sentences
    for s in sentences:
        assert s and s == s.strip() and s in text
        assert any(ch.isalnum() for ch in s)


def test_empty_text() -> None:
    assert split_sentences("", "en") == []
    assert split_paragraphs("  \n\n ") == []


def test_paragraphs_blank_lines_and_one_per_line() -> None:
    text = (
        "Headline of the story\n"
        "First paragraph, on its own line.\n"
        "Second paragraph.\n\n\n"
        "Third paragraph that is hard\nwrapped in the middle."
    )
    assert split_paragraphs(text) == [
        "Headline of the story",
        "First paragraph, on its own line.",
        "Second paragraph.",
        "Third paragraph that is hard\nwrapped in the middle.",
    ]
