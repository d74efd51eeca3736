"""The faithfulness guard on the shared evaluation data (skipped without it): it never flags text
taken from the article, and its FRANK precision/recall do not regress."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval.evaluate_guard import evaluate_guard
from newsbrief.service.checks.faithfulness import SourceIndex, check_brief
from newsbrief.service.domain import Brief
from newsbrief.service.summarize.extractive import shorten
from newsbrief.service.text.normalize import normalize_text
from newsbrief.service.text.segment import split_paragraphs, split_sentences

pytestmark = pytest.mark.data

_REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data() -> Path:
    env = os.environ.get("NEWSBRIEF_DATA_DIR")
    path = Path(env) if env else _REPO.parent / "shared" / "data"
    if not (path / "summarisation" / "en_news_summaries.jsonl").is_file():
        pytest.skip(f"evaluation data not found at {path} (set NEWSBRIEF_DATA_DIR)")
    return path


def test_article_text_always_passes(data: Path) -> None:
    """Briefs made of the article's own sentences (en, ko, ms): no false alarm at all."""
    files = [
        data / "summarisation" / "en_news_summaries.jsonl",
        data / "non_english" / "ko_ms_news.jsonl",
    ]
    checked = 0
    for path in files:
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            lang = row.get("lang", "en")
            text = normalize_text(row["text"])
            index = SourceIndex(f"\n{text}", lang)
            sentences = [s for p in split_paragraphs(text) for s in split_sentences(p, lang)]
            for i in range(0, len(sentences), 3):
                brief = Brief(
                    headline=shorten(sentences[i], 20, lang),
                    summary=" ".join(sentences[i : i + 3]),
                    key_points=tuple(sentences[i : i + 2]),
                )
                result = check_brief(brief, text, "", lang, index)
                assert result.passed, (row["id"], result.issues)
                checked += 1
    assert checked > 300


def test_frank_precision_and_recall_do_not_regress(data: Path) -> None:
    report = evaluate_guard(data)
    overall = report["groups"]["all"]
    assert overall["n"] == 280
    assert overall["precision"] >= 0.85, overall
    assert overall["recall"] >= 0.25, overall
    without_unk = report["groups"]["without UNK tokens"]
    assert without_unk["n"] == 250  # "UNK," and "UNK." count as UNK too
    assert without_unk["precision"] >= 0.9
