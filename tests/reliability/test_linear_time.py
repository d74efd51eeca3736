"""Every non-HTML stage runs in linear time on the inputs that were quadratic: the CPU time of
4n characters stays within a generous multiple of n's (linear: 4x; quadratic: 16x). CPU time
of this thread, best of a few runs, so a busy machine does not make it flaky; a ratio over the
bound is measured once more before it fails (the same 80k-character input took 163 and 271 ms
on a quiet machine: page faults of its large lists count as this thread's time), since a stage
that is really quadratic is over the bound every time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newsbrief.service.checks.faithfulness import check_brief, extract_facts
from newsbrief.service.checks.preservation import missing_items
from newsbrief.service.checks.verbatim import check_extractive
from newsbrief.service.domain import Article, Brief, BriefOptions
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.pipeline.validate import resolve_budget, validate_article
from newsbrief.service.settings import Settings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer, tokens
from newsbrief.service.text.normalize import normalize_text
from newsbrief.service.text.segment import split_paragraphs, split_sentences

N = 20_000
RATIO = 10.0  # generous: linear is 4, quadratic 16
FLOOR_S = 0.003  # below this, n's time is noise
PROSE = (Path(__file__).resolve().parent.parent / "fixtures" / "en_article.txt").read_text(
    encoding="utf-8"
)
SETTINGS = Settings()


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


#: The inputs that were quadratic somewhere, and ordinary prose (10x prose was 82x time).
INPUTS: dict[str, Callable[[int], str]] = {
    "x-run then a sentence": lambda n: "x" * (n - 14) + " end. The end.",
    "Mr. repeated": _repeat("Mr. "),
    "prose": _repeat(PROSE),
    "dotted word": _repeat("a."),
    "quotes after full stops": _repeat('Mr."a '),
    "abbreviations on lines": _repeat("Mr.\n"),
    "caption parentheses": _repeat("(photo "),
    "digits and commas": _repeat("1,"),
    "Korean number units": _repeat("1\ub9cc"),
    "number words": _repeat("one two "),
    "capitalised words": _repeat("Alpha Beta "),
    "spaces before a full stop": lambda n: "a" + " " * (n - 4) + ". B",
}


def _cpu(fn: Callable[[str], object], text: str, runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.thread_time()
        fn(text)
        best = min(best, time.thread_time() - t0)
    return best


def _assert_linear(fn: Callable[[str], object], make: Callable[[int], str]) -> None:
    small, large = make(N), make(4 * N)
    fn(small)  # warm caches
    seen = []
    for runs in (2, 4):
        t1, t4 = _cpu(fn, small, runs), _cpu(fn, large, runs)
        if t4 <= RATIO * max(t1, FLOOR_S):
            return
        seen.append(f"n: {t1 * 1000:.1f} ms, 4n: {t4 * 1000:.1f} ms")
    pytest.fail("; then ".join(seen))


def _segment(text: str) -> list[list[str]]:
    return [split_sentences(p, "en") for p in split_paragraphs(text)]


def _extractive(text: str) -> None:
    paragraphs = _segment(text)
    budget = resolve_budget(BriefOptions(), SETTINGS)
    brief = ExtractiveSummarizer(SETTINGS.brief).summarize(paragraphs, "en", budget)
    check_extractive(brief, [s for p in paragraphs for s in p], text, "")


def _guard(text: str) -> None:
    # the guard checks a brief's fields against the article; both may be hostile
    check_brief(Brief(headline=text[:200], summary=text[:5000], key_points=()), text, "", "en")
    extract_facts(text, "summary", "en")


@pytest.fixture(scope="module")
def detector() -> Iterator[LanguageDetector]:
    yield LanguageDetector(SETTINGS.language)


STAGES: dict[str, Callable[[str], object]] = {
    "validate": lambda t: validate_article(Article(text=t), BriefOptions(), SETTINGS),
    "normalize": normalize_text,
    "segment": _segment,
    "extractive brief and its check": _extractive,
    "guard": _guard,
    "preserve": lambda t: missing_items(t, t[::-1], "en", "ms"),
    "tokens": lambda t: tokens(t, "en"),
}


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("name", list(INPUTS))
def test_stage_is_linear(stage: str, name: str) -> None:
    _assert_linear(STAGES[stage], INPUTS[name])


@pytest.mark.parametrize("name", list(INPUTS))
def test_language_detection_is_linear(detector: LanguageDetector, name: str) -> None:
    _assert_linear(detector.analyse, INPUTS[name])
