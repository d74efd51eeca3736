"""Scraped plain text: the main story kept, page furniture and following stories removed."""

from __future__ import annotations

import pytest

from newsbrief.service.intake.scraped import (
    BYLINE,
    CAPTION,
    COMMENTS,
    HEADLINE,
    NAVIGATION,
    PROMO,
    RELATED,
    SOURCE,
    TIMESTAMP,
    UI,
    boilerplate_warning,
    clean_scraped_text,
    split_dateline,
)

MAIN = [
    "The Seoul city government said on Friday it would add 14 night bus routes from July to "
    "serve late-shift workers across the capital.",
    "The new routes will run between midnight and 5 a.m., bringing the number of night lines "
    "to 28, officials said.",
    '"Late-shift workers have asked for this for years," said Lee Min-ho, a city transport '
    "official.",
    "The city will spend 4.2 billion won on the expansion this year.",
]

ENGLISH_PAGE = f"""The Korea Herald
Home > National
Seoul to add 14 night bus routes from July
Seoul to add 14 night bus routes from July
time 32 minutes ago
By Kim Ji-hye
Share
SEOUL, June 7 — {MAIN[0]}
Commuters wait for a night bus in central Seoul. (Yonhap)
{MAIN[1]}
Advertisement
{MAIN[2]}
{MAIN[3]}
Download the Korea Herald app on the App Store and Google Play.
Subscribe to our newsletter
Related Articles
Busan port traffic hits record high
BUSAN, June 6 — Container traffic at Busan port reached a record in May as exports to
the United States recovered, the port authority said.
Yonhap
time 2 hours ago
Incheon airport adds flights to Vietnam
INCHEON, June 6 — Incheon International Airport said it would add weekly flights to
three Vietnamese cities from August.
"""


def test_english_page_keeps_only_the_main_story() -> None:
    cleaned = clean_scraped_text(ENGLISH_PAGE)

    assert cleaned.text.split("\n\n") == MAIN
    assert cleaned.headline == "Seoul to add 14 night bus routes from July"
    assert cleaned.dateline == "SEOUL, June 7 —"
    assert cleaned.byline == "Kim Ji-hye"
    assert not cleaned.kept_original
    assert cleaned.related_stories == 2
    removed = cleaned.removed
    assert removed[HEADLINE] == 1
    assert removed[NAVIGATION] == 1  # the logo line above the headline
    assert removed[TIMESTAMP] == 1
    assert removed[BYLINE] == 1
    assert removed[CAPTION] == 1
    assert removed[UI] == 3  # breadcrumb, "Share", "Advertisement"
    assert removed[PROMO] == 2
    assert removed[RELATED] == 7  # the heading, 2 headlines, 2 teasers, a source, a time
    for word in ("Busan", "Incheon", "Yonhap", "App Store", "newsletter", "minutes ago"):
        assert word not in cleaned.text


def test_given_title_is_the_repeated_headline() -> None:
    text = "Flood plan approved\n\nFlood plan approved\n\n" + "\n\n".join(MAIN)
    cleaned = clean_scraped_text(text, title="Flood plan approved")
    assert cleaned.removed == {HEADLINE: 2}
    assert cleaned.text.split("\n\n") == MAIN


@pytest.mark.parametrize(
    ("lines", "kept", "removed"),
    [
        pytest.param(
            [
                *MAIN,
                "12 comments",
                "Jason K.",
                "3 hours ago",
                "Finally some good news for night workers, this is long overdue in my view.",
                "Reply",
            ],
            MAIN,
            {COMMENTS: 5},
            id="comments_after_the_story_are_removed",
        ),
        pytest.param(
            [MAIN[0], "Comments", *MAIN[1:]],
            MAIN,
            {UI: 1},  # removed as a button label only
            id="a_comments_button_does_not_swallow_the_story",
        ),
        pytest.param(
            [
                *MAIN,
                "Reporting by Jane Doe; Editing by John Roe",
                "SOURCE: Al Jazeera News",
                "© 2024 The Example Times. All rights reserved.",
            ],
            MAIN,
            {SOURCE: 3},
            id="credits_and_source_lines",
        ),
        pytest.param(
            [
                MAIN[0],
                MAIN[1],
                "WASHINGTON (Reuters) — The U.S. Senate passed a spending bill late on Thursday, "
                "averting a government shutdown.",
            ],
            MAIN[:2],
            {RELATED: 1},
            id="a_second_dateline_starts_a_following_story_without_a_heading",
        ),
    ],
)
def test_the_story_is_kept_and_what_is_around_it_removed(
    lines: list[str], kept: list[str], removed: dict[str, int]
) -> None:
    cleaned = clean_scraped_text("\n".join(lines))
    assert cleaned.text.split("\n\n") == kept
    assert cleaned.removed == removed


FIGURES = [
    "The unemployment rate fell for the third month in a row, the statistics office said.",
    "12%",
    "\u201cThere is no alternative to a two-state solution,\u201d he said. \u2013 AFP",
]


@pytest.mark.parametrize(
    "article",
    [
        pytest.param(
            [
                "By Tuesday, the council had approved the plan after months of debate.",
                "Users can subscribe to the service for five dollars a month, the company said.",
                "Shares of the company rose 5 per cent on Monday after the announcement.",
                "More than 2,000 people signed up in the first hour, according to the firm.",
                "The photo agency said the images would be released on Friday.",
            ],
            id="article_sentences_that_mention_ui_words_stay",
        ),
        pytest.param(FIGURES, id="figures_and_agency_sign_offs_stay"),
    ],
)
def test_article_paragraphs_stay(article: list[str]) -> None:
    text = "\n\n".join(article)
    cleaned = clean_scraped_text(text)
    assert cleaned.removed == {}
    assert cleaned.text == text


def test_clean_text_is_returned_unchanged() -> None:
    text = "\n\n".join(MAIN)
    cleaned = clean_scraped_text(text)
    assert cleaned.text == text
    assert cleaned.removed == {}
    assert boilerplate_warning(cleaned) is None


def test_hard_wrapped_lines_are_joined_but_a_time_line_is_not() -> None:
    text = (
        "Seoul to add 14 night bus routes from July\n"
        "time 32 minutes ago\n\n"
        "The Seoul city government said on Friday that it would add 14 night\n"
        "bus routes from July to serve late-shift workers across the capital.\n"
    )
    cleaned = clean_scraped_text(text)
    assert cleaned.removed == {TIMESTAMP: 1}
    assert cleaned.headline == "Seoul to add 14 night bus routes from July"
    assert cleaned.text.startswith("The Seoul city government said")


def test_never_removes_the_whole_article() -> None:
    text = "Share\nSubscribe\nRead more\nA short note."
    cleaned = clean_scraped_text(text)
    assert cleaned.kept_original
    assert cleaned.text == text
    code, message = boilerplate_warning(cleaned) or ("", "")
    assert code == "BOILERPLATE_KEPT"
    assert "too little" in message


def test_warning_says_what_was_removed() -> None:
    code, message = boilerplate_warning(clean_scraped_text(ENGLISH_PAGE)) or ("", "")
    assert code == "BOILERPLATE_REMOVED"
    assert "7 paragraphs of following stories (2 stories)" in message
    assert "1 caption" in message and "2 promotion" in message and "1 timestamp" in message


KOREAN_PAGE = "\n".join(
    [
        "엔터미디어",
        "홈 > 방송",
        "드라마 '우리들의 블루스' 시청률 최고 기록",
        "드라마 '우리들의 블루스' 시청률 최고 기록",
        "입력 2024.06.07 08:41",
        "(서울=연합뉴스) 홍길동 기자 = 드라마 '우리들의 블루스'가 지난 주말 "
        "방송에서 자체 최고 시청률을 기록했다고 방송사가 7일 밝혔다.",
        "[사진=tvN 제공]",
        '방송사 관계자는 "배우들의 연기와 제주의 풍경이 시청자들의 마음을 움직였다"고 말했다.',
        "이 드라마는 다음 달 마지막 회를 방송할 예정이며 후속작은 아직 정해지지 않았다.",
        "공유하기",
        "기사제보 및 보도자료 newsroom@example.co.kr",
        "관련기사",
        "예능 '놀라운 토요일' 500회 맞아",
        "(서울=연합뉴스) 김철수 기자 = 예능 프로그램 '놀라운 "
        "토요일'이 방송 500회를 맞았다고 제작진이 밝혔다.",
        "",
    ]
)


MALAY_PAGE = "\n".join(
    [
        "Harga minyak kekal minggu ini",
        "Oleh Ahmad Ali",
        "Dikemas kini 3 jam yang lalu",
        "KUALA LUMPUR: Kerajaan mengumumkan bahawa harga minyak akan dikekalkan "
        "sehingga hujung tahun ini bagi meringankan beban rakyat.",
        "Gambar: Stesen minyak di Kuala Lumpur.",
        "Menteri Kewangan berkata keputusan itu dibuat selepas mesyuarat kabinet pada Rabu lalu.",
        "Baca juga",
        "Ikuti kami di Telegram untuk berita terkini.",
        "Berita berkaitan",
        "Harga ayam naik di Pulau Pinang",
        "GEORGE TOWN: Harga ayam di Pulau Pinang meningkat sebanyak 20 sen "
        "sekilogram sejak Isnin, kata persatuan peniaga.",
        "",
    ]
)


@pytest.mark.parametrize(
    ("page", "count", "starts", "found", "absent", "removed"),
    [
        pytest.param(
            KOREAN_PAGE,
            3,
            ["드라마 '우리들의 블루스'가 지난 주말"],
            {
                "dateline": "(서울=연합뉴스) 홍길동 기자 =",
                "headline": "드라마 '우리들의 블루스' 시청률 최고 기록",
            },
            ["놀라운 토요일", "사진", "공유", "입력", "newsroom"],
            {CAPTION, TIMESTAMP, UI, PROMO, RELATED},
            id="korean",
        ),
        pytest.param(
            MALAY_PAGE,
            2,
            ["Kerajaan mengumumkan bahawa", "Menteri Kewangan berkata"],
            {"dateline": "KUALA LUMPUR:", "byline": "Ahmad Ali"},
            ["ayam", "Telegram"],
            set(),
            id="malay",
        ),
    ],
)
def test_a_page_keeps_its_story_and_drops_the_one_that_follows(
    page: str,
    count: int,
    starts: list[str],
    found: dict[str, str],
    absent: list[str],
    removed: set[str],
) -> None:
    """The story's ``count`` paragraphs kept (the first ones start with ``starts``), its
    dateline and headline or byline found, the following story counted and dropped."""
    cleaned = clean_scraped_text(page)
    paragraphs = cleaned.text.split("\n\n")
    assert len(paragraphs) == count
    for paragraph, start in zip(paragraphs, starts, strict=False):
        assert paragraph.startswith(start)
    for field, value in found.items():
        assert getattr(cleaned, field) == value
    assert cleaned.related_stories == 1
    for junk in absent:
        assert junk not in cleaned.text
    assert removed <= set(cleaned.removed)


@pytest.mark.parametrize(
    ("paragraph", "dateline"),
    [
        ("SEOUL, June 7 — The city said on Friday it would act.", "SEOUL, June 7 —"),
        ("Seoul, June 7 -- The city said on Friday it would act.", "Seoul, June 7 --"),
        ("WASHINGTON (AP) — The city said on Friday it would act.", "WASHINGTON (AP) —"),
        ("NEW YORK, Nov 19 (Reuters) - The city said on Friday it would act.", ""),
        ("(Reuters) - The city said on Friday it would act today.", "(Reuters) -"),
        ("KUALA LUMPUR: Kerajaan berkata ia akan bertindak segera.", "KUALA LUMPUR:"),
        ("(서울=연합뉴스) 홍길동 기자 = 정부는 7일 새 대책을 발표했다고 밝혔다.", ""),
        ("The city said on Friday - after a long debate - it would act.", ""),
        ("U.S. - China talks resumed on Friday after a long break.", ""),
    ],
)
def test_split_dateline(paragraph: str, dateline: str) -> None:
    found, rest = split_dateline(paragraph)
    if paragraph.startswith("NEW YORK"):
        dateline = "NEW YORK, Nov 19 (Reuters) -"
    if paragraph.startswith("(서울"):
        dateline = "(서울=연합뉴스) 홍길동 기자 ="
    assert found == dateline
    if found:
        assert paragraph.endswith(rest) and rest[0].isalnum()
    else:
        assert rest == paragraph


def test_a_caption_after_figures_and_agency_sign_offs_goes() -> None:
    caption = "Protesters march in Hong Kong on Sunday. REUTERS/Tyrone Siu"
    text = "\n\n".join([*FIGURES, caption])
    assert clean_scraped_text(text).removed == {CAPTION: 1}


def test_subheadings_inside_the_story_do_not_end_it() -> None:
    article = [
        MAIN[0],
        "What residents say",
        MAIN[1],
        "More on the budget",
        MAIN[2],
        "관련 법안 통과 전망",
        MAIN[3],
    ]
    text = "\n\n".join(article)
    cleaned = clean_scraped_text(text)
    assert cleaned.removed == {}
    assert cleaned.text == text
