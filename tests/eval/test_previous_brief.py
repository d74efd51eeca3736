"""The previous method of ``make eval``, read from git history (no evaluation data needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eval import previous_brief
from newsbrief.service.domain import Budget
from newsbrief.service.settings import BriefSettings

_ARTICLE = [
    [
        "The city council approved a new budget for public transport on Monday evening.",
        "The plan adds two tram lines and more night buses across the northern districts.",
    ],
    ["Officials said the first works would start next spring and last three years in all."],
]


@pytest.fixture
def fresh() -> Iterator[None]:
    previous_brief._load.cache_clear()
    yield
    previous_brief._load.cache_clear()


def test_previous_method_is_read_from_the_pinned_commit(fresh: None) -> None:
    module = previous_brief.load()
    if module is None:
        pytest.skip(previous_brief.skipped_line())
    assert module.__file__ == f"{previous_brief.COMMIT[:7]}:{previous_brief.PATH}"
    assert previous_brief.unavailable() == ""
    summarizer = previous_brief.summarizer(BriefSettings())
    assert summarizer is not None
    brief = summarizer.summarize(_ARTICLE, "en", Budget(2, 60, 1), "Council budget")
    assert brief.headline == "Council budget"
    assert brief.summary.startswith("The city council approved")


def test_without_git_history_the_previous_method_is_skipped_with_a_reason(
    fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(previous_brief, "_REPO", tmp_path)
    assert previous_brief.load() is None
    assert previous_brief.summarizer(BriefSettings()) is None
    line = previous_brief.skipped_line()
    assert line.startswith(f"Previous method (commit {previous_brief.COMMIT[:7]}) skipped")
    assert "git" in previous_brief.unavailable()
