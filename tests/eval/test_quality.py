"""Quality checks of the built-in NLP stages on the shared evaluation data (skipped without it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from eval.evaluate import article_sentences, evaluate_summaries
from newsbrief.service.domain import Budget
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.settings import BriefSettings, LanguageSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer, length_units
from newsbrief.service.text.normalize import normalize_text

pytestmark = pytest.mark.data

_REPO = Path(__file__).resolve().parents[2]


def _data_dir() -> Path:
    env = os.environ.get("NEWSBRIEF_DATA_DIR")
    path = Path(env) if env else _REPO.parent / "shared" / "data"
    if not (path / "README.md").is_file():
        pytest.skip(f"evaluation data not found at {path} (set NEWSBRIEF_DATA_DIR)")
    return path


@pytest.fixture(scope="module")
def data() -> Path:
    return _data_dir()


@pytest.fixture(scope="module")
def non_english(data: Path) -> list[dict[str, Any]]:
    path = data / "non_english" / "ko_ms_news.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_extractive_not_worse_than_lead3_on_cnn_dailymail(data: Path) -> None:
    report = evaluate_summaries(data, BriefSettings())
    cnn = report["cnn_dailymail"]
    assert cnn["n"] >= 10
    assert cnn["extractive.rouge1"] >= cnn["lead3.rouge1"] - 1.0, cnn


def test_language_of_every_non_english_article(non_english: list[dict[str, Any]]) -> None:
    detector = LanguageDetector(LanguageSettings())
    wrong = [
        (row["id"], row["lang"], detector.detect(row["text"]).code)
        for row in non_english
        if detector.detect(row["text"]).code != row["lang"]
    ]
    assert not wrong
    assert {row["lang"] for row in non_english} >= {"ko", "ms"}


@pytest.mark.parametrize("lang", ["ko", "ms"])
def test_korean_and_malay_briefs_are_article_sentences_within_budget(
    non_english: list[dict[str, Any]], lang: str
) -> None:
    settings = BriefSettings()
    summarizer = ExtractiveSummarizer(settings)
    budget = Budget(settings.medium_sentences, settings.medium_words, settings.key_points)
    rows = [r for r in non_english if r["lang"] == lang]
    assert rows
    for row in rows:
        paragraphs = article_sentences(row["text"], lang)
        sentences = {s for p in paragraphs for s in p}
        brief = summarizer.summarize(paragraphs, lang, budget, title=row.get("title", ""))
        assert brief.summary, row["id"]
        parts = _split_summary(brief.summary, sentences)
        assert all(part in sentences for part in parts), row["id"]
        assert len(parts) <= budget.sentences, row["id"]
        assert length_units(brief.summary, lang) <= budget.words, row["id"]
        for point in brief.key_points:
            assert point in normalize_text(row["text"]), row["id"]


def _split_summary(summary: str, sentences: set[str]) -> list[str]:
    """Cut a summary back into the article sentences it was joined from (longest match first)."""
    parts: list[str] = []
    rest = summary
    while rest:
        match = max((s for s in sentences if rest.startswith(s)), key=len, default=None)
        if match is None:
            return [rest]
        parts.append(match)
        rest = rest[len(match) :].lstrip()
    return parts
