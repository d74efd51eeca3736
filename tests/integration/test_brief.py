"""Briefs over the wire: the real server on 127.0.0.1:0, called through newsbrief.client."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbrief.client import Client
from tests.conftest import RunningServer, require_data

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _assert_extractive(result_text: str, article: str) -> None:
    assert _squash(result_text) in _squash(article), result_text


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target, timeout=30) as c:
        yield c


@pytest.mark.parametrize(
    ("name", "lang"), [("en_article.txt", "en"), ("ko_article.txt", "ko"), ("ms_article.txt", "ms")]
)
def test_brief_of_an_article_in_each_language(client: Client, name: str, lang: str) -> None:
    # a closing line of digits makes the text new to the shared server's result cache (tests run
    # in any order, several at once), so the brief is worked on and its stages timed
    article = (FIXTURES / name).read_text(encoding="utf-8") + f"\n\n{uuid.uuid4().int % 10**12}\n"
    result = client.summarize(article, client_reference=f"ref-{lang}")

    assert result.source_language.code == lang
    assert result.source_language.confidence > 0.5
    assert result.client_reference == f"ref-{lang}"
    assert result.method == "extractive"
    assert result.brief.headline
    assert result.brief.summary
    assert 1 <= len(result.brief.key_points) <= 3
    for point in result.brief.key_points:
        _assert_extractive(point, article)
    assert result.faithfulness.passed, result.faithfulness.issues
    assert result.models and result.models[0].id == "extractive"
    assert result.metadata.sentences >= 4
    assert "brief" in result.timings.stages_ms
    assert result.translations == ()


def test_brief_respects_the_lead_and_the_budget(client: Client) -> None:
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    short = client.summarize(article, max_sentences=1)
    assert "riverside freight yard" in short.brief.summary  # the lead sentence carries the news
    assert short.brief.summary.count(". ") == 0
    long = client.summarize(article, length="long")
    assert len(long.brief.summary) > len(short.brief.summary)


def test_title_becomes_the_headline(client: Client) -> None:
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8").split("\n", 2)[2]
    result = client.summarize(article, title="Riverside park approved")
    assert result.brief.headline == "Riverside park approved"


def test_given_language_is_reported_as_given(client: Client) -> None:
    article = (FIXTURES / "ms_article.txt").read_text(encoding="utf-8")
    result = client.summarize(article, source_language="ms-MY")
    assert result.source_language.code == "ms"
    assert result.source_language.given
    assert result.source_language.confidence == 1.0


def test_html_page_gives_a_brief_without_page_furniture(client: Client) -> None:
    page = (FIXTURES / "en_page.html").read_text(encoding="utf-8")
    result = client.summarize(html=page)
    text = " ".join([result.brief.headline, result.brief.summary, *result.brief.key_points])
    assert "riverside" in text.lower()
    for furniture in ("tracking", "Share on", "Copyright", "Bus fares", "artist's impression"):
        assert furniture not in text
    assert result.metadata.title.startswith("City council approves")


def test_server_info_describes_models_limits_and_capabilities(client: Client) -> None:
    info = client.server_info()
    assert info.version
    assert {"en", "ko", "ms"} <= set(info.summary_languages)
    assert info.limits.max_text_chars == 100_000
    capabilities = {c.name: c for c in info.capabilities}
    assert capabilities["summarize.extractive"].ready
    assert not capabilities["translate"].ready
    assert "translat" in capabilities["translate"].detail
    assert capabilities["jobs"].ready  # on by default
    assert any(m.id == "extractive" and m.ready for m in info.models)


def test_cnn_dailymail_items_get_briefs_made_of_their_sentences(client: Client) -> None:
    path = require_data("summarisation", "en_news_summaries.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["dataset"] == "cnn_dailymail"][:5]
    for row in rows:
        result = client.summarize(row["text"])
        assert result.source_language.code == "en"
        assert result.faithfulness.passed, result.faithfulness.issues


def test_korean_and_malay_articles_from_the_shared_set(client: Client) -> None:
    path = require_data("non_english", "ko_ms_news.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        result = client.summarize(row["text"])
        assert result.source_language.code == row["lang"], row["id"]
        assert result.faithfulness.passed, (row["id"], result.faithfulness.issues)


def test_many_concurrent_calls_share_one_server(server: RunningServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    with Client(server.target) as c, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: c.summarize(article, client_reference=str(i)), range(16)))
    assert sorted(int(r.client_reference) for r in results) == list(range(16))
    assert len({r.brief.summary for r in results}) == 1
