"""Where the lines of a brief came from, without a server: the extractive brief's lines point at
their source sentences, an abstractive brief's lines at the article sentences that support them."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsbrief.service.domain import Article, Brief, Budget
from newsbrief.service.intake.language import LanguageAnalysis
from newsbrief.service.pipeline.stages.abstractive import with_sources
from newsbrief.service.pipeline.stages.extractive import (
    extractive_brief,
    find_words,
    locate_sentences,
)
from newsbrief.service.pipeline.stages.intake import Intake, take_in
from newsbrief.service.settings import BriefSettings, IntakeSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer

ARTICLE = (
    "The city council approved a new ferry terminal on Tuesday after a long debate.\n\n"
    "Council members voted 9 to 2 in favour of the plan,\nwhich will cost 48 million euros.\n\n"
    "Ferry operators said they would add two boats to the route next year."
)


def _prepared() -> Intake:
    # the language is given: the analyser is never called
    return take_in(Article(text=ARTICLE, source_language="en"), IntakeSettings(), _no_analysis)


def _no_analysis(text: str) -> LanguageAnalysis:
    raise AssertionError("the language was given")


def test_every_sentence_is_found_even_across_a_hard_wrap() -> None:
    prepared = _prepared()
    spans = locate_sentences(prepared.article_text, prepared.paragraphs)
    sentences = [s for p in prepared.paragraphs for s in p]
    assert len(spans) == len(sentences)
    for sentence, span in zip(sentences, spans, strict=True):
        assert span is not None
        found = prepared.article_text[span.start : span.end]
        assert found.split() == sentence.split()


def test_extractive_lines_point_at_their_sentences() -> None:
    prepared = _prepared()
    brief = extractive_brief(ExtractiveSummarizer(BriefSettings()), prepared, Budget(1, 100, 2))
    assert brief.summary_lines and brief.key_point_lines
    for line in (*brief.summary_lines, *brief.key_point_lines):
        (span,) = line.sources
        assert " ".join(prepared.article_text[span.start : span.end].split()) == line.text


def test_abstractive_lines_point_at_the_sentences_that_support_them() -> None:
    prepared = _prepared()
    model = Brief(
        headline="Ferry terminal approved",
        summary="Councillors backed the 48 million euro ferry terminal by 9 votes to 2. "
        "Operators will add two boats.",
        key_points=("Ferry operators plan two more boats on the route.",),
    )
    brief = with_sources(model, prepared)
    text = prepared.article_text
    first, second = brief.summary_lines
    found = [text[s.start : s.end] for s in first.sources]
    assert any(f.startswith("Council members voted 9 to 2") for f in found), found
    assert len(found) <= 2 and [s.start for s in first.sources] == sorted(
        s.start for s in first.sources
    )
    assert "boats" in text[second.sources[0].start : second.sources[0].end]
    (point,) = brief.key_point_lines
    assert text[point.sources[0].start : point.sources[0].end].startswith("Ferry operators")
    # a line the article does not support points nowhere
    unsupported = with_sources(Brief("h", "Aliens landed in the harbour."), prepared)
    assert unsupported.summary_lines[0].sources == ()


# words and the white space between them, of the kinds articles hold (hard wraps, tabs,
# no-break and ideographic spaces), and a few characters words are made of
_PIECES = st.sampled_from(
    ["a", "b", "ab", "a.", "Mr.", "(", "가", " ", "\n", "\t", "\u00a0", "\u3000"]
)


@settings(max_examples=3000, deadline=None)
@given(
    text=st.lists(_PIECES, max_size=30).map("".join),
    words=st.lists(_PIECES, min_size=1, max_size=10).map(lambda p: "".join(p).split()),
    start=st.integers(0, 40),
)
def test_words_across_any_white_space_are_found_where_the_regular_expression_finds_them(
    text: str, words: list[str], start: int
) -> None:
    if not words:
        return
    start = min(start, len(text))
    found = re.compile(r"\s+".join(re.escape(w) for w in words)).search(text, start)
    assert find_words(text, words, start) == (found.span() if found else None)
