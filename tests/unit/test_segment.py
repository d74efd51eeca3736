import pytest

from newsbrief.service.text.segment import split_paragraphs, split_sentences


def test_english_abbreviations_numbers_and_initials() -> None:
    text = (
        "Mr. Smith met Dr. Jones at 3.5 p.m. on Jan. 5 in the U.S. Army base. "
        "George W. Bush visited No. 10 Downing St. on Monday. "
        "Apple Inc. said 1,000 staff and 1.000 tonnes moved. Prices rose 5.5% in the U.S. "
        "The rest fell."
    )
    assert split_sentences(text, "en") == [
        "Mr. Smith met Dr. Jones at 3.5 p.m. on Jan. 5 in the U.S. Army base.",
        "George W. Bush visited No. 10 Downing St. on Monday.",
        "Apple Inc. said 1,000 staff and 1.000 tonnes moved.",
        "Prices rose 5.5% in the U.S.",
        "The rest fell.",
    ]


def test_quotes_stay_with_their_attribution() -> None:
    text = (
        '"We will win the vote," he said. "Stop!" she shouted. '
        'He added: "It is over." Then he left. \u201cReally?\u201d Smith asked.'
    )
    assert split_sentences(text, "en") == [
        '"We will win the vote," he said.',
        '"Stop!" she shouted.',
        'He added: "It is over."',
        "Then he left.",
        "\u201cReally?\u201d Smith asked.",
    ]


def test_ellipses() -> None:
    text = "He waited... and waited. Then nothing\u2026 Nobody came."
    assert split_sentences(text, "en") == [
        "He waited... and waited.",
        "Then nothing\u2026",
        "Nobody came.",
    ]


def test_korean_endings_with_and_without_spaces() -> None:
    text = "서울에서 회의가 열렸다. 무엇을 했나요? 그는 떠났다.그는 돌아오지 않았다. 정말일까?"
    assert split_sentences(text, "ko") == [
        "서울에서 회의가 열렸다.",
        "무엇을 했나요?",
        "그는 떠났다.",
        "그는 돌아오지 않았다.",
        "정말일까?",
    ]


def test_korean_quotation_inside_a_sentence() -> None:
    text = '그는 "이제 끝났다."라고 말했다. 가격은 3.5% 올랐다.'
    assert split_sentences(text, "ko") == ['그는 "이제 끝났다."라고 말했다.', "가격은 3.5% 올랐다."]


def test_malay_missing_space_titles_and_numbers() -> None:
    text = (
        "Sidang akhbar diadakan di New York kelmarin.Bolivia pula membantah. "
        "Datuk Seri Dr. Wan Azizah berkata kos mencecah RM1.5 bilion. "
        "Syarikat itu, ABC Sdn. Bhd. menafikannya."
    )
    assert split_sentences(text, "ms") == [
        "Sidang akhbar diadakan di New York kelmarin.",
        "Bolivia pula membantah.",
        "Datuk Seri Dr. Wan Azizah berkata kos mencecah RM1.5 bilion.",
        "Syarikat itu, ABC Sdn. Bhd. menafikannya.",
    ]


def test_domains_are_not_split() -> None:
    text = "KONTAN.CO.ID - NEW YORK. Saham AS jatuh, lapor detik.com hari ini."
    assert split_sentences(text, "id") == [
        "KONTAN.CO.ID - NEW YORK.",
        "Saham AS jatuh, lapor detik.com hari ini.",
    ]


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


def test_newline_ends_a_sentence_of_a_heading() -> None:
    assert split_sentences("Breaking news\nThe vote passed.", "en") == [
        "Breaking news",
        "The vote passed.",
    ]


def test_an_opening_quote_after_a_full_stop_starts_the_next_sentence() -> None:
    text = (
        'Ia berlaku di Pulau Pinang."Bahagian itu sedang disiasat," katanya. '
        'Dia berkata: "Kami akan menang."Semua orang bersorak. '
        "Dia menang.\u201cKami gembira,\u201d katanya."
    )
    assert split_sentences(text, "ms") == [
        "Ia berlaku di Pulau Pinang.",
        '"Bahagian itu sedang disiasat," katanya.',
        'Dia berkata: "Kami akan menang."',
        "Semua orang bersorak.",
        "Dia menang.",
        "\u201cKami gembira,\u201d katanya.",
    ]


def test_korean_opening_quote_after_a_full_stop() -> None:
    text = '정부는 오늘 발표했다."우리는 최선을 다할 것"이라고 말했다.'
    assert split_sentences(text, "ko") == [
        "정부는 오늘 발표했다.",
        '"우리는 최선을 다할 것"이라고 말했다.',
    ]
