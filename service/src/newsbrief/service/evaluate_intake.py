"""Quality report of the intake stages (part of ``make eval``).

* Main-text extraction on ``boilerplate/`` (17 scraped news pages of the scrapinghub
  article-extraction-benchmark): precision, recall and F1 per page as that benchmark scores them
  (``evaluate.py`` upstream: shingles of 4 consecutive ``\\w+`` tokens, true/false
  positives normalised per page), for the service's intake (stdlib extractor + furniture
  cleaning) beside trafilatura's default settings, run on the same pages in the same process.
* Language detection: the articles of ``non_english/`` and the sentences of the NTREX and
  Tatoeba files of ``translation/``, accuracy per language (English sources counted once).
* Korean and Malay briefs: the language of the brief, every summary sentence taken from the
  article, and the length within the rule (:func:`..pipeline.extractive.length_units`:
  whitespace words; Korean non-space characters / 3).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .domain import Budget
from .pipeline.extractive import KOREAN_CHARS_PER_WORD, ExtractiveSummarizer, length_units
from .pipeline.html import extract_html
from .pipeline.language import LanguageDetector
from .pipeline.scraped import clean_scraped_text
from .settings import BriefSettings, IntakeSettings, LanguageSettings
from .text.normalize import normalize_text
from .text.segment import split_paragraphs, split_sentences

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


# ---- extraction ----------------------------------------------------------------------------


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


def shingle_prf(predicted: str, expected: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``predicted`` against ``expected``, scored as the
    scrapinghub article-extraction-benchmark scores one page (4-token shingles)."""
    pred, true = _shingles(predicted), _shingles(expected)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    if fp == fn == 0:
        return 1.0, 1.0, 1.0
    precision = 0.0 if tp == fp == 0 else tp / (tp + fp)
    recall = 0.0 if tp == fn == 0 else tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def intake_html_text(html: str, settings: IntakeSettings | None = None) -> str:
    """The article text the service takes from ``html``: extraction, normalisation, cleaning;
    the dateline (kept as metadata by the service) is put back in front for scoring."""
    settings = settings or IntakeSettings()
    page = extract_html(html)
    text = normalize_text(page.text)
    if not settings.clean_html:
        return text
    cleaned = clean_scraped_text(
        text,
        normalize_text(page.title),
        min_kept_chars=settings.min_kept_chars,
        min_kept_ratio=settings.min_kept_ratio,
    )
    return f"{cleaned.dateline} {cleaned.text}" if cleaned.dateline else cleaned.text


def _trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError:
        return None
    return trafilatura


def _summary(scores: list[tuple[float, float, float]]) -> dict[str, float]:
    precision = statistics.fmean(s[0] for s in scores)
    recall = statistics.fmean(s[1] for s in scores)
    return {
        "median_f1": round(statistics.median(s[2] for s in scores), 4),
        "min_f1": round(min(s[2] for s in scores), 4),
        "mean_precision": round(precision, 4),
        "mean_recall": round(recall, 4),
        # the benchmark's headline figure: F1 of the mean precision and mean recall
        "f1_of_means": round(2 * precision * recall / (precision + recall), 4),
    }


def evaluate_extraction(data: Path) -> dict[str, Any]:
    """Per-page P/R/F1 of the service's HTML intake and of trafilatura (default settings)."""
    root = data / "boilerplate"
    traf = _trafilatura()
    pages: list[dict[str, Any]] = []
    ours: list[tuple[float, float, float]] = []
    theirs: list[tuple[float, float, float]] = []
    for row in _jsonl(root / "index.jsonl"):
        html = (root / row["html_path"]).read_text(encoding="utf-8", errors="replace")
        expected = row.get("expected_text") or (root / row["expected_path"]).read_text("utf-8")
        page: dict[str, Any] = {
            "id": row["id"][:12],
            "url": row.get("url", ""),
            "lang": row["lang"],
        }
        score = shingle_prf(intake_html_text(html), expected)
        ours.append(score)
        page["newsbrief"] = [round(x, 4) for x in score]
        if traf is not None:
            score = shingle_prf(traf.extract(html) or "", expected)
            theirs.append(score)
            page["trafilatura"] = [round(x, 4) for x in score]
        pages.append(page)
    out: dict[str, Any] = {
        "n": len(pages),
        "scoring": "scrapinghub article-extraction-benchmark: 4-token shingles, per page",
        "newsbrief": _summary(ours) if ours else {},
        "pages": pages,
    }
    if traf is not None:
        out["trafilatura"] = {"version": getattr(traf, "__version__", "?"), **_summary(theirs)}
    else:
        out["trafilatura"] = {"error": "not installed (pip install -r requirements-dev.txt)"}
    return out


# ---- language detection --------------------------------------------------------------------


def evaluate_languages(data: Path, settings: LanguageSettings) -> dict[str, Any]:
    """Accuracy of language detection per data set and language, with the wrong answers."""
    detector = LanguageDetector(settings)
    out: dict[str, Any] = {}

    def score(name: str, items: list[tuple[str, str]]) -> None:
        by_lang: dict[str, list[bool]] = {}
        wrong: Counter[str] = Counter()
        for text, lang in items:
            got = detector.detect(text).code
            by_lang.setdefault(lang, []).append(got == lang)
            if got != lang:
                wrong[f"{lang}->{got}"] += 1
        out[name] = {
            lang: {"n": len(hits), "accuracy": round(sum(hits) / len(hits), 4)}
            for lang, hits in sorted(by_lang.items())
        }
        out[name]["errors"] = dict(wrong)

    rows = list(_jsonl(data / "non_english" / "ko_ms_news.jsonl"))
    score("non_english articles", [(r["text"], r["lang"]) for r in rows])
    for corpus in ("ntrex", "tatoeba"):
        items: list[tuple[str, str]] = []
        seen: set[str] = set()
        for path in sorted((data / "translation").glob(f"{corpus}_*.jsonl")):
            for r in _jsonl(path):
                if r["src"] not in seen:  # the same English sentences are in both files
                    seen.add(r["src"])
                    items.append((r["src"], r["src_lang"]))
                items.append((r["ref"], r["tgt_lang"]))
        score(f"{corpus} sentences", items)
    return out


# ---- Korean and Malay briefs ---------------------------------------------------------------


def _split_summary(summary: str, sentences: set[str]) -> list[str] | None:
    """The article sentences ``summary`` was joined from, or None if it is not such a join."""
    parts: list[str] = []
    rest = summary
    while rest:
        match = max((s for s in sentences if rest.startswith(s)), key=len, default=None)
        if match is None:
            return None
        parts.append(match)
        rest = rest[len(match) :].lstrip()
    return parts


def evaluate_properties(
    data: Path, brief_settings: BriefSettings, language_settings: LanguageSettings
) -> dict[str, Any]:
    """Property checks of the briefs of the Korean and Malay articles, through the intake."""
    detector = LanguageDetector(language_settings)
    summarizer = ExtractiveSummarizer(brief_settings)
    budget = Budget(
        brief_settings.medium_sentences, brief_settings.medium_words, brief_settings.key_points
    )
    articles: list[dict[str, Any]] = []
    for row in _jsonl(data / "non_english" / "ko_ms_news.jsonl"):
        if row["lang"] not in ("ko", "ms"):
            continue
        text = normalize_text(row["text"])
        title = normalize_text(row.get("title", ""))
        cleaned = clean_scraped_text(text, title)
        lang = detector.detect(cleaned.text).code
        paragraphs = [
            s for s in (split_sentences(p, lang) for p in split_paragraphs(cleaned.text)) if s
        ]
        brief = summarizer.summarize(paragraphs, lang, budget, title or cleaned.headline)
        sentences = {s for p in paragraphs for s in p}
        parts = _split_summary(brief.summary, sentences)
        units = length_units(brief.summary, lang)
        articles.append(
            {
                "id": row["id"],
                "lang": row["lang"],
                "detected": lang,
                "brief_language": detector.detect(brief.summary).code,
                "from_article": parts is not None and bool(parts),
                "sentences": len(parts or []),
                "length": units,
                "within_length": units <= budget.words and len(parts or []) <= budget.sentences,
                "removed": cleaned.removed,
            }
        )
    summary: dict[str, Any] = {}
    for lang in ("ko", "ms"):
        rows = [a for a in articles if a["lang"] == lang]
        summary[lang] = {
            "n": len(rows),
            "language_of_brief": sum(a["brief_language"] == lang for a in rows),
            "from_article": sum(a["from_article"] for a in rows),
            "within_length": sum(a["within_length"] for a in rows),
        }
    return {
        "rule": (
            f"at most {budget.sentences} sentences and {budget.words} length units; a unit is a "
            f"whitespace word, in Korean {KOREAN_CHARS_PER_WORD} non-space characters"
        ),
        "summary": summary,
        "articles": articles,
    }


def evaluate_intake(data: Path) -> dict[str, Any]:
    """The whole intake report."""
    return {
        "extraction": evaluate_extraction(data),
        "language": evaluate_languages(data, LanguageSettings()),
        "properties": evaluate_properties(
            data,
            BriefSettings(),
            LanguageSettings(),
        ),
    }


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown tables of :func:`evaluate_intake`'s report."""
    ex = report["extraction"]
    traf = ex["trafilatura"]
    has_traf = "error" not in traf
    lines = [
        f"### Main-text extraction ({ex['n']} pages, {ex['scoring']})",
        "",
        "| system | median F1 | min F1 | mean P | mean R | F1 of means |",
        "|---|---|---|---|---|---|",
    ]
    systems = [("newsbrief intake", ex["newsbrief"])]
    if has_traf:
        systems.append((f"trafilatura {traf['version']} (default)", traf))
    for name, s in systems:
        lines.append(
            f"| {name} | {s['median_f1']:.3f} | {s['min_f1']:.3f} | {s['mean_precision']:.3f} | "
            f"{s['mean_recall']:.3f} | {s['f1_of_means']:.3f} |"
        )
    if not has_traf:
        lines.append(f"| trafilatura | {traf['error']} | | | | |")
    lines += [
        "",
        "| page | lang | newsbrief P / R / F1 | trafilatura P / R / F1 |",
        "|---|---|---|---|",
    ]
    for page in ex["pages"]:
        url = page["url"].split("//", 1)[-1][:50]
        ours = " / ".join(f"{x:.3f}" for x in page["newsbrief"])
        theirs = " / ".join(f"{x:.3f}" for x in page.get("trafilatura", [])) or "-"
        lines.append(f"| {url} | {page['lang']} | {ours} | {theirs} |")
    lines += [
        "",
        "### Language detection accuracy",
        "",
        "| data | language | n | accuracy |",
        "|---|---|---|---|",
    ]
    errors: list[str] = []
    for name, per_lang in report["language"].items():
        for lang, r in per_lang.items():
            if lang == "errors":
                continue
            lines.append(f"| {name} | {lang} | {r['n']} | {r['accuracy']:.3f} |")
        if per_lang["errors"]:
            errors.append(
                f"{name}: " + ", ".join(f"{k} x{v}" for k, v in sorted(per_lang["errors"].items()))
            )
    if errors:
        lines += ["", "Errors (expected->detected): " + "; ".join(errors) + "."]
    props = report["properties"]
    lines += [
        "",
        f"### Korean and Malay briefs (property checks; rule: {props['rule']})",
        "",
        "| language | articles | brief in that language | sentences from the article | "
        "within the length rule |",
        "|---|---|---|---|---|",
    ]
    for lang, s in props["summary"].items():
        lines.append(
            f"| {lang} | {s['n']} | {s['language_of_brief']} | {s['from_article']} | "
            f"{s['within_length']} |"
        )
    return "\n".join(lines) + "\n"
