"""Regression checks of the intake on the shared data (skipped, saying why, where it is absent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.evaluate_intake import (
    evaluate_extraction,
    evaluate_languages,
    evaluate_properties,
    shingle_prf,
)
from newsbrief.service.settings import BriefSettings, LanguageSettings
from tests.conftest import require_data

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def data() -> Path:
    require_data("boilerplate", "index.jsonl")
    require_data("non_english", "ko_ms_news.jsonl")
    return require_data("translation")


@pytest.fixture(scope="module")
def extraction(data: Path) -> dict[str, Any]:
    require_data("extraction_dev", "index.jsonl")
    return evaluate_extraction(data.parent)


@pytest.fixture(scope="module")
def languages(data: Path) -> dict[str, Any]:
    return evaluate_languages(data.parent, LanguageSettings())


def test_scoring_matches_the_benchmark() -> None:
    assert shingle_prf("a b c d e", "a b c d e") == (1.0, 1.0, 1.0)
    p, r, f1 = shingle_prf("a b c d e f", "a b c d e")  # one extra 4-gram of three
    assert (round(p, 3), r) == (0.667, 1.0)
    assert f1 == pytest.approx(0.8)
    assert shingle_prf("", "a b c d") == (0.0, 0.0, 0.0)


def test_html_not_below_trafilatura_overall_and_per_source(extraction: dict[str, Any]) -> None:
    html = extraction["extraction_dev"]["html"]
    assert extraction["extraction_dev"]["n"] == 333
    assert html["newsbrief"]["mean_f1"] >= html["trafilatura"]["mean_f1"]
    for source, pair in html["sources"].items():
        if pair["newsbrief"]["n"] >= 20:
            assert pair["newsbrief"]["mean_f1"] >= pair["trafilatura"]["mean_f1"], source


def test_no_page_lost_where_trafilatura_does_well(extraction: dict[str, Any]) -> None:
    for name in ("extraction_dev", "boilerplate"):
        assert extraction[name]["html"]["lost_pages"] == [], name


def test_scraped_dumps_cleaned_to_the_article(extraction: dict[str, Any]) -> None:
    scraped = extraction["extraction_dev"]["scraped"]["newsbrief"]
    # the target is a median of 0.85; 0.82 is reached (see the README): a regression
    # guard at the level reached, well above the 0.68 of the furniture rules alone
    assert scraped["median_f1"] >= 0.8, scraped


def test_malay_and_indonesian_sentences_told_apart(languages: dict[str, Any]) -> None:
    require_data("langid_dev", "sentences.jsonl")
    sentences = languages["langid_dev sentences"]
    assert sentences["ms"]["accuracy"] >= 0.9, sentences["ms"]
    assert sentences["id"]["accuracy"] >= 0.9, sentences["id"]


def test_unsupported_never_a_sure_supported_code(languages: dict[str, Any]) -> None:
    require_data("langid_dev", "sentences.jsonl")
    sentences = languages["langid_dev sentences"]
    assert sentences["unsupported_as_supported_0.9"] == 0
    for lang in ("pt", "de", "it", "fr", "es", "ru", "ja", "zh", "tl", "vi", "th"):
        assert sentences[lang]["accuracy"] >= 0.85, (lang, sentences[lang])


def test_every_korean_and_malay_article_detected(languages: dict[str, Any]) -> None:
    articles = languages["non_english articles"]
    assert articles["ko"]["n"] >= 5 and articles["ms"]["n"] >= 9
    assert articles["ko"]["accuracy"] == 1.0
    assert articles["ms"]["accuracy"] == 1.0
    assert articles["id"]["accuracy"] == 1.0  # the Indonesian confusers are not called Malay


@pytest.mark.parametrize("lang", ["en", "ko", "ms"])
def test_ntrex_sentences_at_least_95_percent(languages: dict[str, Any], lang: str) -> None:
    result = languages["ntrex sentences"][lang]
    assert result["n"] >= 200
    assert result["accuracy"] >= 0.95, result


def test_tatoeba_is_reported(languages: dict[str, Any]) -> None:
    tatoeba = languages["tatoeba sentences"]
    assert {"en", "ko", "ms"} <= set(tatoeba)  # reported; no target (short everyday sentences)


def test_korean_and_malay_brief_properties(data: Path) -> None:
    report = evaluate_properties(data.parent, BriefSettings(), LanguageSettings())
    for lang in ("ko", "ms"):
        summary = report["summary"][lang]
        assert summary["n"] > 0
        assert summary["language_of_brief"] == summary["n"], report["articles"]
        assert summary["from_article"] == summary["n"], report["articles"]
        assert summary["within_length"] == summary["n"], report["articles"]


def test_first_pass_never_takes_a_long_unsupported_text_for_a_supported_one(data: Path) -> None:
    """The cheaper first pass of the detector (function words) skips the all-languages look only
    for texts plainly in a supported language: never for a long text in another language (whole
    NTREX documents of langid_dev's unsupported languages, extraction_dev's pages in them), and
    for most of the shared English, Malay and Indonesian news (its point: the CPU it saves)."""
    import json
    from collections import defaultdict

    from newsbrief.service.intake.language import LanguageDetector, _chunks, _Part

    require_data("langid_dev", "sentences.jsonl")
    detector = LanguageDetector(LanguageSettings())

    def plain(text: str) -> bool:
        return detector._clearly_supported([_Part(c) for c in _chunks(text[:5000])])

    root = data.parent
    documents: dict[tuple[str, str], list[str]] = defaultdict(list)
    with (root / "langid_dev" / "sentences.jsonl").open(encoding="utf-8") as f:
        for row in map(json.loads, f):
            documents[(row["lang"], row["doc_id"])].append(row["text"])
    unsupported = [
        "\n".join(lines)
        for (lang, _), lines in documents.items()
        if lang not in ("en", "ms", "id", "ko")
    ]
    with (root / "extraction_dev" / "index.jsonl").open(encoding="utf-8") as f:
        for row in map(json.loads, f):
            if row["lang"] not in ("en", "ms", "id", "ko"):
                for key in ("expected_path", "scraped_path"):
                    unsupported.append((root / "extraction_dev" / row[key]).read_text("utf-8"))
    assert len(unsupported) >= 40
    assert [t[:80] for t in unsupported if plain(t)] == []
    news = [
        json.loads(line)["text"]
        for name in ("summarisation/en_news_summaries.jsonl", "non_english/ko_ms_news.jsonl")
        for line in (root / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    assert sum(map(plain, news)) >= 0.85 * len(news)
