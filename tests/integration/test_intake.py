"""Article intake over the wire: scraped text and HTML pages through newsbrief.client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from newsbrief.client import Client
from newsbrief.service.text.segment import split_sentences
from tests.conftest import RunningServer, make_settings
from tests.unit.test_scraped import ENGLISH_PAGE, KOREAN_PAGE, MAIN, MALAY_PAGE

FOLLOWING = ("Busan", "Incheon", "Vietnam", "Container", "record high")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target, timeout=30) as c:
        yield c


def _only_main_sentences(summary: str) -> bool:
    """Whether ``summary`` is a join of sentences of the main story, in its order."""
    sentences = [_squash(s) for s in split_sentences(" ".join(MAIN), "en")]
    rest = _squash(summary)
    if not rest:
        return False
    for sentence in sentences:
        if rest.startswith(sentence):
            rest = rest[len(sentence) :].lstrip()
    return not rest


def _codes(result: object) -> dict[str, str]:
    return {w.code: w.message for w in result.warnings}  # type: ignore[attr-defined]


def test_scraped_page_brief_is_made_of_the_main_story_only(client: Client) -> None:
    result = client.summarize(ENGLISH_PAGE, max_sentences=5, max_key_points=3)

    main = _squash(" ".join(MAIN))
    brief = result.brief
    assert _only_main_sentences(brief.summary)
    for point in brief.key_points:
        assert _squash(point) in main
    for text in (brief.headline, brief.summary, *brief.key_points):
        for word in FOLLOWING:
            assert word not in text
    assert result.source_language.code == "en"
    assert result.faithfulness.passed

    warnings = _codes(result)
    assert "BOILERPLATE_REMOVED" in warnings
    message = warnings["BOILERPLATE_REMOVED"]
    assert "following stories (2 stories)" in message
    assert "caption" in message and "promotion" in message and "timestamp" in message

    meta = result.metadata
    assert meta.title == "Seoul to add 14 night bus routes from July"
    assert meta.dateline == "SEOUL, June 7 —"
    assert meta.byline == "Kim Ji-hye"
    assert meta.paragraphs == 4
    assert brief.headline == meta.title


@pytest.mark.parametrize(("page", "lang"), [(KOREAN_PAGE, "ko"), (MALAY_PAGE, "ms")])
def test_korean_and_malay_scraped_pages(client: Client, page: str, lang: str) -> None:
    result = client.summarize(page)

    assert result.source_language.code == lang
    assert "BOILERPLATE_REMOVED" in _codes(result)
    assert result.metadata.dateline
    assert result.faithfulness.passed
    for junk in ("놀라운 토요일", "ayam", "Telegram", "공유", "기사제보"):
        assert junk not in result.brief.summary
        assert all(junk not in p for p in result.brief.key_points)


HTML_PAGE = f"""<!doctype html><html><head>
<title>Night buses | Example Herald</title>
<meta property="og:title" content="Seoul to add 14 night bus routes from July">
<meta name="author" content="Kim Ji-hye">
<meta property="article:published_time" content="2024-06-07T08:41:00+09:00">
</head><body>
<nav><a href="/">Home</a> <a href="/national">National</a></nav>
<article>
  <h1>Seoul to add 14 night bus routes from July</h1>
  <div class="share-bar">Share on Facebook</div>
  <p>SEOUL, June 7 — {MAIN[0]}</p>
  <figure><img src="bus.jpg"><figcaption>A night bus in Seoul. (Yonhap)</figcaption></figure>
  <p>{MAIN[1]}</p>
  <p>Advertisement</p>
  <p>{MAIN[2]}</p>
  <p>{MAIN[3]}</p>
  <p>Subscribe to our newsletter for the best of Seoul, delivered to your inbox.</p>
  <h4>Related Articles</h4>
  <ul><li><a href="/busan">Busan port traffic hits record high</a></li>
      <li><a href="/incheon">Incheon airport adds flights to Vietnam</a></li></ul>
</article>
<aside class="related">BUSAN, June 6 — Container traffic at Busan port hit a record.</aside>
</body></html>"""


def test_html_page_metadata_and_main_text(client: Client) -> None:
    result = client.summarize(html=HTML_PAGE, max_sentences=5)

    meta = result.metadata
    assert meta.title == "Seoul to add 14 night bus routes from July"
    assert meta.byline == "Kim Ji-hye"
    assert meta.date == "2024-06-07T08:41:00+09:00"
    assert meta.dateline == "SEOUL, June 7 —"
    assert meta.paragraphs == 4
    for text in (result.brief.summary, *result.brief.key_points):
        assert text
        for word in (*FOLLOWING, "newsletter", "Advertisement", "Share"):
            assert word not in text
    assert _only_main_sentences(result.brief.summary)
    assert "BOILERPLATE_REMOVED" in _codes(result)


def test_mixed_language_text_is_und_with_a_warning(client: Client) -> None:
    text = (
        "The central bank raised interest rates for the third time this year.\n"
        "Officials said inflation had stayed above the target for most of the year.\n"
        "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.\n"
        "예산안은 지난해보다 3% 늘어난 규모로 복지 지출이 크게 늘었다.\n"
    )
    result = client.summarize(text)
    assert result.source_language.code == "und"
    warnings = _codes(result)
    assert "LANGUAGE_MIXED" in warnings
    assert "English" in warnings["LANGUAGE_MIXED"] and "Korean" in warnings["LANGUAGE_MIXED"]
    assert result.brief.summary  # still briefed, with generic rules


def test_cleaning_can_be_switched_off() -> None:
    settings = make_settings()
    settings.intake.clean_text = False
    with RunningServer(settings) as running, Client(running.target, timeout=30) as c:
        result = c.summarize(ENGLISH_PAGE)
    assert "BOILERPLATE_REMOVED" not in _codes(result)
    assert result.metadata.dateline == ""


# The seed case: a scraped page whose title line is repeated at the top, then a photo
# caption, the story, "Related Articles" with other stories, comments and app-store prompts.
SEED_HEADLINE = "Kim Jong Un hosts talks with visiting Chinese leader in Pyongyang"
SEED_STORY = [
    "North Korean leader Kim Jong Un held talks with the visiting Chinese leader on Thursday, "
    "the first such visit in fourteen years, state media reported on Friday.",
    "The two sides discussed trade, tourism and the stalled nuclear negotiations with the "
    "United States, according to the official news agency.",
    "Analysts said the visit was meant to show that Beijing still holds influence over "
    "Pyongyang as talks with Washington remain frozen.",
    "The Chinese leader is expected to return home on Saturday after visiting a friendship "
    "tower that honours Chinese soldiers who fought in the Korean War.",
]
SEED_PAGE = "\n\n".join(
    [
        "Home | World | Asia",
        SEED_HEADLINE,
        SEED_HEADLINE,
        "Kim Jong Un greets the Chinese leader on his arrival in Pyongyang. (AP pic)",
        *SEED_STORY,
        "Related Articles",
        "Seoul says it will keep up aid to the North despite missile tests",
        "SEOUL, June 20 -- South Korea will keep sending food aid to the North, the unification "
        "ministry said on Thursday.",
        "Comments",
        "jdoe42 2 hours ago",
        "This visit changes nothing for ordinary people in the North, and everyone knows it.",
        "Download our app on the App Store and Google Play",
        "Get the latest news on your phone: download the app today",
    ]
)


def test_seed_scraped_page_gives_the_story_under_its_headline(client: Client) -> None:
    result = client.summarize(SEED_PAGE, max_sentences=3, include_article_text=True)
    brief = result.brief
    assert brief.headline == SEED_HEADLINE
    story = _squash(" ".join(SEED_STORY))
    for sentence in split_sentences(brief.summary, "en"):
        assert _squash(sentence) in story
    for text in (result.article_text, brief.summary, *brief.key_points):
        for stray in ("AP pic", "Related", "aid to the North", "jdoe42", "App Store", "app today"):
            assert stray not in text
    assert result.article_text.split("\n\n") == SEED_STORY


def test_article_text_only_when_asked(client: Client) -> None:
    plain = client.summarize(SEED_PAGE)
    assert plain.article_text == ""
    asked = client.summarize(SEED_PAGE, include_article_text=True)
    assert asked.article_text and not asked.cached  # the flag is part of the cache key
    again = client.summarize(SEED_PAGE, include_article_text=True)
    assert again.article_text == asked.article_text


def test_html_article_text_is_the_main_text(client: Client) -> None:
    story = "".join(f"<p>{p}</p>" for p in SEED_STORY)
    page = (
        "<html><head><title>" + SEED_HEADLINE + " | Daily Example</title>"
        '<meta property="og:site_name" content="Daily Example"></head><body>'
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{SEED_HEADLINE}</h1>{story}</article>"
        "<footer>Copyright 2019 Daily Example. All rights reserved.</footer></body></html>"
    )
    result = client.summarize(html=page, include_article_text=True)
    assert result.brief.headline == SEED_HEADLINE
    assert result.article_text.split("\n\n") == SEED_STORY


def test_unsupported_language_gets_its_code_and_a_brief(client: Client) -> None:
    portuguese = (
        "O governo anunciou nesta terça-feira um novo plano para reduzir o preço dos "
        "combustíveis, depois de semanas de protestos de camionistas em todo o país. "
        "Segundo o ministro da Economia, as medidas entram em vigor no próximo mês e vão "
        "custar cerca de dois mil milhões de euros aos cofres públicos. "
        "Os sindicatos disseram que o plano chega tarde, mas que é um primeiro passo."
    )
    result = client.summarize(portuguese)
    assert result.source_language.code == "pt"
    assert "LANGUAGE_UNSUPPORTED" in _codes(result)
    assert "Portuguese" in _codes(result)["LANGUAGE_UNSUPPORTED"]
    assert result.brief.summary and result.method == "extractive"
