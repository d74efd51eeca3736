"""Where each line of a brief came from, over the wire: with include_article_text every summary
sentence and key point carries spans of article_text (Unicode code points, end exclusive) that
hold the line, over gRPC (the client library and the CLI's --json) and over HTTP/JSON."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pytest

from newsbrief.client import BriefLine, Client, cli
from tests.conftest import RunningServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Characters outside the Basic Multilingual Plane before the story's sentences: offsets in
# code points and in UTF-16 units (what JavaScript counts) differ after them.
ARTICLE = (
    "Harbour vote \U0001f6a2\U0001f30a: the council backs the new ferry terminal.\n\n"
    "The city council approved a new ferry terminal on Tuesday after a three-hour debate "
    "that drew hundreds of residents to the town hall.\n\n"
    "The terminal, which will replace a pier built in 1932, is expected to open in 2027 and "
    "will carry about 4,000 passengers a day between the old harbour and the northern islands "
    "(the busiest route in the region), the mayor said on Wednesday.\n\n"
    "Council members voted 9 to 2 in favour of the plan.\n\n"
    "Opponents said the terminal would bring more traffic to the narrow streets of the old "
    "town, and asked for a study of the roads before building starts.\n\n"
    "The mayor said the study would be done this summer.\n\n"
    "Ferry operators welcomed the vote and said they would add two boats to the route.\n\n"
    "Construction is due to begin in the spring and will cost about 48 million euros.\n"
)
WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def _in_order(line: str, source: str) -> bool:
    """The words of ``line`` are words of ``source`` in the same order (a sentence or a
    compression of it)."""
    rest = iter(_words(source))
    return all(any(w == s for s in rest) for w in _words(line))


def _check_lines(lines: list[tuple[str, list[tuple[int, int]]]], article_text: str) -> None:
    assert lines
    for text, spans in lines:
        assert spans, f"no source for {text!r}"
        sources = " ".join(article_text[start:end] for start, end in spans)
        for start, end in spans:
            assert 0 <= start < end <= len(article_text)
        assert _in_order(text, sources), (text, sources)


def _pairs(lines: tuple[BriefLine, ...]) -> list[tuple[str, list[tuple[int, int]]]]:
    return [(x.text, [(s.start, s.end) for s in x.sources]) for x in lines]


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target, timeout=30) as c:
        yield c


def test_each_line_points_at_its_source_sentence_over_grpc(client: Client) -> None:
    result = client.summarize(ARTICLE, include_article_text=True)
    brief = result.brief
    assert [x.text for x in brief.key_point_lines] == list(brief.key_points)
    assert " ".join(x.text for x in brief.summary_lines) == brief.summary
    _check_lines(_pairs(brief.summary_lines), result.article_text)
    _check_lines(_pairs(brief.key_point_lines), result.article_text)
    # a summary sentence is its source sentence, exactly
    for line in brief.summary_lines:
        (span,) = line.sources
        assert result.article_text[span.start : span.end] == line.text


def test_a_compressed_key_point_points_at_the_sentence_it_was_compressed_from(
    client: Client,
) -> None:
    result = client.summarize(ARTICLE, include_article_text=True, max_sentences=1)
    lines = result.brief.key_point_lines
    compressed = [x for x in lines if x.text not in result.article_text]
    assert compressed, [x.text for x in lines]
    for line in compressed:
        (span,) = line.sources
        source = result.article_text[span.start : span.end]
        assert _in_order(line.text, source)
        assert len(line.text) < len(source)
    assert result.faithfulness.passed, result.faithfulness.issues


def test_lines_carry_no_sources_without_the_article_text(client: Client) -> None:
    result = client.summarize(ARTICLE)
    assert result.article_text == ""
    assert result.brief.summary_lines == ()
    assert result.brief.key_point_lines == ()
    assert result.brief.key_points


def test_spans_over_http_are_code_points_of_article_text(server: RunningServer) -> None:
    reply = httpx.post(
        f"{server.http_url}/newsbrief.v1.SummarizerService/Summarize",
        json={"text": ARTICLE, "includeArticleText": True},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    article_text = body["articleText"]
    brief = body["brief"]
    lines = [
        (x["text"], [(s.get("start", 0), s["end"]) for s in x["sources"]])
        for x in brief["summaryLines"] + brief["keyPointLines"]
    ]
    for _, spans in lines:
        for start, end in spans:
            assert isinstance(start, int) and isinstance(end, int)
    _check_lines(lines, article_text)
    # the text after the emoji is found at the same code points it has in Python
    first = brief["summaryLines"][0]
    span = first["sources"][0]
    assert article_text[span.get("start", 0) : span["end"]] == first["text"]


def test_cli_json_carries_the_spans(server: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    out = io.StringIO()
    with redirect_stdout(out):
        args = ["--target", server.target, "--retries", "0", "summarize", str(path)]
        code = cli.main([*args, "--json", "--article-text"])
    assert code == 0
    body = json.loads(out.getvalue())
    lines = [
        (x["text"], [(s.get("start", 0), s["end"]) for s in x["sources"]])
        for x in body["brief"]["keyPointLines"]
    ]
    _check_lines(lines, body["articleText"])
