"""What a line of a brief may be: key points are sentences or grammatical compressions of one
(never a prefix cut mid-clause, a subordinate clause alone, a table row or a menu), in English,
Malay/Indonesian and Korean; page furniture never becomes a line or a headline."""

from __future__ import annotations

import re

import pytest

from newsbrief.service.domain import Article, Budget
from newsbrief.service.intake.main_text import main_text, page_title, untable
from newsbrief.service.settings import BriefSettings, IntakeSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer, length_units
from newsbrief.service.text.lines import (
    compress,
    ends_as_sentence,
    is_compression_of,
    is_furniture,
    is_listing,
    is_sentence,
)
from newsbrief.service.text.segment import split_paragraphs, split_sentences


def _brief_points(text: str, lang: str = "en", sentences: int = 1) -> tuple[list[str], list[str]]:
    paragraphs = [split_sentences(p, lang) for p in split_paragraphs(text)]
    brief = ExtractiveSummarizer(BriefSettings()).summarize(
        paragraphs, lang, Budget(sentences, 100, 3)
    )
    return list(brief.key_points), [s for p in paragraphs for s in p]


# ---- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "The council approved the plan on Tuesday.",
        '"We will build it," she said.',
        "2024 was the warmest year on record!",
        "Is this the end of the line?",
        "Banjir melanda ibu kota semalam.",
    ],
)
def test_sentences_are_sentences(line: str) -> None:
    assert is_sentence(line, "en")


@pytest.mark.parametrize(
    "line",
    [
        # the cuts the issue quotes: a subject without its predicate, a prefix cut mid-phrase
        "The SUV, which is the top-selling vehicle in the U.S. that isn't a pickup truck",
        "Kim said that Pyongyang would 'unconditionally support the stand of Russia and its "
        "foreign policies in all the crucial international political",
        "which meant the",  # a fragment
        "| 1 | Kyle Busch | 5040 | 12 |",  # a table row, however it ends
        "| Powerball | 20, 23, 25, 27, 28, Powerball: 02, Power Play: 5 |.",
        "Home News Sport Business Travel Culture Weather Video Live.",  # a menu
        "Album Of The Week: Prince Rama Top 10 Hits Of The End Of The World Top 10 Rock Operas.",
        "Ask Mint | US data, Indian cement and auto numbers to rule Sensex this week.",
        "(The quote never closes.",
    ],
)
def test_fragments_rows_and_menus_are_not(line: str) -> None:
    assert not is_sentence(line, "en")


def test_korean_sentence_endings() -> None:
    assert ends_as_sentence("정부는 내년 예산을 3% 늘리기로 했다.", "ko")
    assert ends_as_sentence("정부는 내년 예산을 3% 늘리기로 했다", "ko")  # 다 without a stop
    assert ends_as_sentence("시민들은 크게 환영하고 있어요", "ko")
    assert not ends_as_sentence("서울시는 오늘 오전", "ko")  # a cut before the verb
    assert is_sentence("정부는 내년 예산을 3% 늘리기로 했다.", "ko")


def test_listings_and_furniture() -> None:
    assert is_listing("| Home | | News | | Sport |")
    assert is_listing("Sections \u2022 World \u2022 Business \u2022 Opinion")
    assert not is_listing("The council voted 9 to 2 in favour of the plan on Tuesday night.")
    assert is_furniture(
        "We use cookies and other tracking technologies to improve your browsing experience "
        "on our site."
    )
    assert is_furniture("By clicking accept you grant your consent to these activities.")
    assert is_furniture("Please enable JavaScript to view this page.")
    assert is_furniture("Learn more in our Privacy Policy.")
    assert is_furniture(
        "To make choices about data use, visit our Advertising Policy and Privacy Policy."
    )
    assert is_furniture("This video is unavailable in the format required for your device.")
    assert not is_furniture("The bakery sold 4,000 cookies on the first day of the fair.")
    assert not is_furniture("The launch is set for 10:00 a.m. ET on Friday.")


def test_furniture_that_holds_a_colon_and_no_word_of_the_first_look() -> None:
    # the first look passes a clock time and the advertising policy on (a colon alone, as in a
    # quotation, does not call for the full table)
    assert is_furniture("Last changed 10:30 GMT, Monday, 5 May 2024")
    assert is_furniture("Mar 5, 2024, at 10:30 by the desk")
    assert is_furniture("See our advertising policy: it explains the ads you see.")
    assert not is_furniture('The minister said: "We will build the terminal by 2027."')
    assert not is_listing("Council members voted nine to two in favour of the plan on Tuesday.")
    assert is_listing("World Business Opinion Sport Culture Travel Style Video Weather Games")


# ---- compression ----------------------------------------------------------------------------

LONG = (
    "The terminal, which will replace a pier built in 1932, is expected to open in 2027 and "
    "will carry about 4,000 passengers a day between the old harbour and the northern islands "
    "(the busiest route in the region), the mayor said on Wednesday."
)


def test_compression_drops_asides_and_keeps_the_main_clause() -> None:
    short = compress(LONG, "en", 30, length_units)
    assert short == (
        "The terminal is expected to open in 2027 and will carry about 4,000 passengers a day "
        "between the old harbour and the northern islands."
    )
    assert is_compression_of(short, LONG)


def test_compression_goes_step_by_step_only_as_far_as_needed() -> None:
    # 32 words fit once the parenthetical and the attribution are out; the relative clause stays
    short = compress(LONG, "en", 32, length_units)
    assert short is not None and short.startswith("The terminal, which will replace a pier")
    assert "(the busiest" not in short and "mayor" not in short
    assert compress(LONG, "en", 100, length_units) == LONG  # fits whole: unchanged


@pytest.mark.parametrize(
    ("text", "lang", "limit", "expected"),
    [
        pytest.param(
            "After a three-hour debate that ran late into the night, the city council approved "
            "the new ferry terminal by nine votes to two.",
            "en",
            16,
            "The city council approved the new ferry terminal by nine votes to two.",
            id="a_leading_adverbial_goes_and_the_sentence_is_capitalised",
        ),
        pytest.param(
            "Engineers from six countries spent four years testing a new kind of concrete that "
            "absorbs carbon dioxide from the air while it hardens in large moulds near the coast.",
            "en",
            10,
            None,
            id="a_sentence_that_cannot_be_compressed_to_fit_is_left_out_never_cut_to_a_prefix",
        ),
        pytest.param(
            "Forrest Jones said that anything that touches a guest's skin should be washed every "
            "time the room is made, but that even the fanciest hotels don't always do so.",
            "en",
            22,
            "Forrest Jones said that anything that touches a guest's skin should be washed every "
            "time the room is made.",
            id="a_trailing_clause_goes",
        ),
        pytest.param(
            "Audiences are already warming up to the new show before it even airs, not only the "
            "studio viewers of the first season, but people who have seen early photos of it.",
            "en",
            22,
            None,
            id="not_the_second_half_of_not_only",
        ),
        pytest.param(
            "서울시(시장 홍길동)는 내년부터 한강 공원 열 곳에 무료 와이파이를 설치한다고 밝혔다.",
            "ko",
            12,
            "서울시는 내년부터 한강 공원 열 곳에 무료 와이파이를 설치한다고 밝혔다.",
            id="korean_sentences_lose_only_parentheticals",
        ),
    ],
)
def test_compression(text: str, lang: str, limit: int, expected: str | None) -> None:
    assert compress(text, lang, limit, length_units) == expected


def test_never_a_subordinate_clause_alone() -> None:
    text = (
        "Where it's easy to view Fallen Order as an unoriginal mishmash of ideas borrowed "
        "from a dozen other games and films, it is the way they fit together that makes it "
        "one of the best Star Wars games in years."
    )
    short = compress(text, "en", 12, length_units)
    assert short is None or not short.casefold().startswith("where")


def test_malay_attribution_goes() -> None:
    text = (
        "Kerajaan akan membina tiga buah hospital baharu di negeri itu tahun depan bagi "
        "menampung pertambahan penduduk yang pesat, kata Menteri Kesihatan semalam."
    )
    short = compress(text, "ms", 20, length_units)
    assert short is not None and short.endswith("pesat.")
    assert "kata" not in short


# ---- the brief --------------------------------------------------------------------------------

ARTICLE = f"""The city council approved a new ferry terminal on Tuesday after a three-hour debate.

| 1 | Terminal budget | 48 million euros | approved |

| Home | | News | | Sport | | Weather |

{LONG}

Council members voted 9 to 2 in favour of the plan, which opponents had fought for two years, \
and the mayor, who had promised the terminal in her campaign, said construction would begin in \
the spring once the contracts were signed and the money from the regional government had arrived \
in the city's accounts.

Ferry operators welcomed the vote.

We use cookies and other tracking technologies to improve your browsing experience on our site.
"""


def test_key_points_are_sentences_or_compressions_of_one() -> None:
    points, sentences = _brief_points(ARTICLE)
    assert len(points) >= 2
    for point in points:
        assert is_sentence(point, "en"), point
        assert any(is_compression_of(point, s) for s in sentences), point
        assert "|" not in point and "cookies" not in point
        assert length_units(point, "en") <= 30
    # the long sentence is a key point as a compression, not as a prefix
    assert any(p.startswith("The terminal") and "(the busiest" not in p for p in points), points


def test_korean_key_points_end_as_sentences() -> None:
    text = (
        "서울시는 내년부터 한강 공원 열 곳에 무료 와이파이를 설치한다고 7일 밝혔다.\n\n"
        "시는 이를 위해 예산 20억 원을 편성했다.\n\n"
        "시민들은 공원에서 인터넷을 쓰기 어렵다는 불만을 여러 차례 제기해 왔다.\n\n"
        "설치 공사는 내년 3월에 시작해 6월에 끝날 예정이다.\n\n"
        "시는 이용자가 많은 여의도와 뚝섬 공원부터 설치할 계획이다."
    )
    points, _ = _brief_points(text, "ko")
    assert points
    assert all(ends_as_sentence(p, "ko") for p in points), points


# ---- the intake: headlines and layout tables ---------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "By Tess Bonn - 11/19/19 06:56 AM EST",
        "We use cookies and other tracking technologies to improve your browsing experience",
        "VICTOR TANGERMANN, FUTURISM",
        "| Reprints | Single Page |",
        "Media caption Mr Obama told the BBC that gun control was his biggest frustration",
        "Associated Press - January 14, 2008 12:53 PM ET",
    ],
)
def test_page_furniture_is_not_a_headline(line: str) -> None:
    assert page_title(line) == ""


def test_a_story_headline_is_kept() -> None:
    assert (
        page_title("Council approves new ferry terminal") == "Council approves new ferry terminal"
    )
    assert page_title("| Gulf states urge peace with Iran | | |") == (
        "Gulf states urge peace with Iran"
    )


def test_prose_in_a_layout_table_becomes_paragraphs() -> None:
    row = (
        "| | | LAHORE, Pakistan -- At least 22 police and four civilians were killed Thursday "
        "when a suicide bomber blew himself up outside the High Court. | |"
    )
    assert untable(row) == (
        "LAHORE, Pakistan -- At least 22 police and four civilians were killed Thursday when a "
        "suicide bomber blew himself up outside the High Court."
    )
    assert untable("| Home | News | Sport |") == "| Home | News | Sport |"
    assert untable("Plain paragraph.") == "Plain paragraph."


def test_a_dump_with_a_byline_on_top_gets_no_byline_headline() -> None:
    lines = ["By Tess Bonn - 11/19/19 06:56 AM EST", ""]
    body = (
        "The city council approved a new ferry terminal on Tuesday after a three-hour debate "
        "that drew hundreds of residents to the town hall."
    )
    dump = "\n".join(lines + [body, ""] * 20)
    result = main_text(Article(text=dump), IntakeSettings())
    assert not re.match(r"(?i)by\s", result.title)
