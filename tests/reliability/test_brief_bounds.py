"""What the brief promises on any input: key points never repeat the summary, a brief is
bounded however long the words are, and the extractive brief passes its own check."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbrief.service.checks.verbatim import check_extractive
from newsbrief.service.domain import BriefOptions, LengthPreset
from newsbrief.service.pipeline.validate import resolve_budget
from newsbrief.service.settings import Settings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer, tokens
from newsbrief.service.text.segment import split_paragraphs, split_sentences

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLES = {
    "en": (FIXTURES / "en_article.txt").read_text(encoding="utf-8"),
    "ko": (FIXTURES / "ko_article.txt").read_text(encoding="utf-8"),
    "ms": (FIXTURES / "ms_article.txt").read_text(encoding="utf-8"),
    "en-two-sentences": "The council approved the new budget for the city schools on Monday "
    "evening. Teachers welcomed the decision after months of protests outside the hall.",
    "en-one-sentence": "The council approved the new budget for the city schools on Monday "
    "evening after months of protests by teachers outside the hall.",
    "en-repeated": "The storm cut power to thousands of homes across the northern coast. " * 3
    + "Crews worked through the night to restore the lines before the morning.",
}
SETTINGS = Settings()


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@pytest.mark.parametrize("name", list(ARTICLES))
@pytest.mark.parametrize("length", list(LengthPreset))
@pytest.mark.parametrize("key_points", [1, 3, 5])
def test_key_points_never_near_duplicate_summary_sentences(
    name: str, length: LengthPreset, key_points: int
) -> None:
    lang = name[:2]
    text = ARTICLES[name]
    paragraphs = [split_sentences(p, lang) for p in split_paragraphs(text)]
    budget = resolve_budget(BriefOptions(length=length, max_key_points=key_points), SETTINGS)
    brief = ExtractiveSummarizer(SETTINGS.brief).summarize(paragraphs, lang, budget)
    summary = [frozenset(tokens(s, lang)) for s in split_sentences(brief.summary, lang)]
    threshold = SETTINGS.brief.redundancy_threshold
    for point in brief.key_points:
        mine = frozenset(tokens(point, lang))
        assert all(_jaccard(mine, s) < threshold for s in summary), (point, brief.summary)
    assert len({p.casefold() for p in brief.key_points}) == len(brief.key_points)
    flat = [s for p in paragraphs for s in p]
    assert check_extractive(brief, flat, text, "").passed


@pytest.mark.parametrize(
    "text",
    ["w" * 99_000, "word " * 20_000, "\uac00" * 99_000, "https://example.com/" * 4_000],
    ids=["one-long-word", "word-repeated", "hangul-run", "url-run"],
)
def test_the_brief_is_bounded_and_faithful_however_long_the_words(text: str) -> None:
    lang = "ko" if "\uac00" in text else "en"
    paragraphs = [split_sentences(p, lang) for p in split_paragraphs(text)]
    budget = resolve_budget(BriefOptions(), SETTINGS)
    brief = ExtractiveSummarizer(SETTINGS.brief).summarize(paragraphs, lang, budget)
    assert 0 < len(brief.summary) <= 31 * budget.words
    assert len(brief.headline) <= 31 * SETTINGS.brief.headline_max_words
    verdict = check_extractive(brief, [s for p in paragraphs for s in p], text, "")
    assert verdict.passed, verdict.issues
