"""Quality report of the intake stages (part of ``make eval``).

* Main-text extraction on ``extraction_dev/`` (333 development pages of five public benchmarks,
  with whole-page text dumps) and ``boilerplate/`` (17 pages): precision, recall and F1 per page
  as the scrapinghub article-extraction-benchmark scores them (shingles of 4 consecutive
  ``\\w+`` tokens), overall and per source, for the server's own intake
  (:func:`newsbrief.service.intake.main_text.main_text`, never a copy) of the HTML and of the
  dumps, beside trafilatura's default settings on the same pages in the same run.
* Language detection: the sentences of ``langid_dev/`` (supported and unsupported languages),
  the articles of ``non_english/`` and the sentences of the NTREX and Tatoeba files of
  ``translation/``, accuracy per language (English sources counted once).
* Korean and Malay briefs: the language of the brief, every summary sentence taken from the
  article, and the length within the rule
  (:func:`newsbrief.service.summarize.extractive.length_units`: whitespace words; Korean
  non-space characters / 3).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from newsbrief.service.domain import Article, Budget
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.intake.scraped import clean_scraped_text
from newsbrief.service.settings import BriefSettings, IntakeSettings, LanguageSettings
from newsbrief.service.summarize.extractive import (
    KOREAN_CHARS_PER_WORD,
    ExtractiveSummarizer,
    length_units,
)
from newsbrief.service.text.normalize import normalize_text
from newsbrief.service.text.segment import split_paragraphs, split_sentences

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


def intake_text(article: Article, settings: IntakeSettings | None = None) -> str:
    """The article text the server takes from ``article`` (what ``article_text`` returns):
    :func:`newsbrief.service.intake.main_text.main_text`, the server's own intake."""
    return main_text(article, settings or IntakeSettings()).article_text


def _summary(scores: list[tuple[float, float, float]]) -> dict[str, float]:
    precision = statistics.fmean(s[0] for s in scores)
    recall = statistics.fmean(s[1] for s in scores)
    return {
        "n": len(scores),
        "mean_f1": round(statistics.fmean(s[2] for s in scores), 4),
        "median_f1": round(statistics.median(s[2] for s in scores), 4),
        "min_f1": round(min(s[2] for s in scores), 4),
        "mean_precision": round(precision, 4),
        "mean_recall": round(recall, 4),
        # the benchmark's headline figure: F1 of the mean precision and mean recall
        "f1_of_means": round(2 * precision * recall / (precision + recall), 4)
        if precision + recall
        else 0.0,
    }


def _read_page(root: Path, row: dict[str, Any], key: str) -> str:
    path = root / row[key]
    if path.suffix == ".gz":
        with gzip.open(path) as f:
            return f.read().decode("utf-8", errors="replace")
    return path.read_text(encoding="utf-8", errors="replace")


def _by_source(
    rows: list[dict[str, Any]], scores: list[tuple[float, float, float]]
) -> dict[str, dict[str, float]]:
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for row, score in zip(rows, scores, strict=True):
        groups.setdefault(row.get("source_dataset", "all"), []).append(score)
    return {name: _summary(group) for name, group in sorted(groups.items())}


def _score_page(
    root: Path, row: dict[str, Any], scraped: bool
) -> tuple[
    tuple[float, float, float], tuple[float, float, float], tuple[float, float, float] | None
]:
    """One page: the service's intake of its HTML, trafilatura's, and the service's intake of its
    scraped dump (None where it has none or ``scraped`` is off), each scored against the truth."""
    import trafilatura

    html = _read_page(root, row, "html_path")
    expected = row.get("expected_text") or _read_page(root, row, "expected_path")
    score = shingle_prf(intake_text(Article(html=html)), expected)
    baseline = shingle_prf(trafilatura.extract(html) or "", expected)
    dump = None
    if scraped and row.get("scraped_path"):
        text = _read_page(root, row, "scraped_path")
        dump = shingle_prf(intake_text(Article(text=text)), expected)
    return score, baseline, dump


def _score_pages(
    root: Path, rows: list[dict[str, Any]], scraped: bool
) -> list[tuple[Any, Any, Any]]:
    """:func:`_score_page` of every row, in order, spread over the machine's cores (the pages are
    independent: each is parsed, extracted and scored on its own)."""
    workers = min(os.cpu_count() or 1, 4, len(rows))
    if workers <= 1:
        return [_score_page(root, row, scraped) for row in rows]
    # spawn: a fresh interpreter per process, never a fork of a caller's threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        chunk = max(1, len(rows) // (workers * 4))
        return list(
            pool.map(_score_page, [root] * len(rows), rows, [scraped] * len(rows), chunksize=chunk)
        )


def evaluate_pages(root: Path, *, scraped: bool = True) -> dict[str, Any]:
    """Benchmark P/R/F1 of one folder of pages (``index.jsonl``, html, expected and, where
    given, scraped text dumps), overall and per ``source_dataset``: the service's intake of the
    HTML beside trafilatura's default settings (same pages, same run), and of the dumps."""
    import trafilatura

    rows = list(_jsonl(root / "index.jsonl"))
    ours: list[tuple[float, float, float]] = []
    theirs: list[tuple[float, float, float]] = []
    dumps: list[tuple[float, float, float]] = []
    dump_rows: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    for row, (score, baseline, dump) in zip(rows, _score_pages(root, rows, scraped), strict=True):
        ours.append(score)
        theirs.append(baseline)
        page: dict[str, Any] = {
            "id": row["id"],
            "source": row.get("source_dataset", ""),
            "lang": row.get("lang", ""),
            "newsbrief": [round(x, 4) for x in score],
            "trafilatura": [round(x, 4) for x in baseline],
        }
        if dump is not None:
            dumps.append(dump)
            dump_rows.append(row)
            page["scraped"] = [round(x, 4) for x in dump]
        pages.append(page)
    out: dict[str, Any] = {
        "n": len(rows),
        "scoring": "scrapinghub article-extraction-benchmark: 4-token shingles, per page",
        "trafilatura_version": trafilatura.__version__,
        "html": {
            "newsbrief": _summary(ours),
            "trafilatura": _summary(theirs),
            "sources": {
                name: {"newsbrief": s, "trafilatura": _by_source(rows, theirs)[name]}
                for name, s in _by_source(rows, ours).items()
            },
            # pages the service fails where trafilatura does well: the done-when rule
            "lost_pages": [
                p["id"] for p in pages if p["trafilatura"][2] >= 0.8 and p["newsbrief"][2] < 0.5
            ],
        },
        "pages": pages,
    }
    if dumps:
        out["scraped"] = {"newsbrief": _summary(dumps), "sources": _by_source(dump_rows, dumps)}
    return out


def evaluate_extraction(data: Path) -> dict[str, Any]:
    """:func:`evaluate_pages` of ``extraction_dev/`` (development pages of five benchmarks, with
    scraped dumps) and of ``boilerplate/`` (17 pages), where present."""
    return {
        name: evaluate_pages(data / name)
        for name in ("extraction_dev", "boilerplate")
        if (data / name / "index.jsonl").is_file()
    }


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

    langid = data / "langid_dev" / "sentences.jsonl"
    if langid.is_file():
        rows = list(_jsonl(langid))
        score("langid_dev sentences", [(r["text"], r["lang"]) for r in rows])
        supported = set(settings.supported)
        sure_wrong = ambiguous = 0
        for r in rows:
            analysis = detector.analyse(r["text"])
            found = analysis.language
            if r["lang"] not in supported and found.code in supported and found.confidence >= 0.9:
                sure_wrong += 1
            ambiguous += analysis.status == "ambiguous"
        out["langid_dev sentences"]["unsupported_as_supported_0.9"] = sure_wrong
        out["langid_dev sentences"]["ambiguous"] = ambiguous
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


def _row(name: str, s: dict[str, float]) -> str:
    return (
        f"| {name} | {s['n']} | {s['mean_f1']:.3f} | {s['median_f1']:.3f} | {s['min_f1']:.3f} | "
        f"{s['mean_precision']:.3f} | {s['mean_recall']:.3f} | {s['f1_of_means']:.3f} |"
    )


_HEADER = [
    "| system / source | pages | mean F1 | median F1 | min F1 | mean P | mean R | F1 of means |",
    "|---|---|---|---|---|---|---|---|",
]


def extraction_markdown(name: str, ex: dict[str, Any]) -> list[str]:
    """Tables of one :func:`evaluate_pages` report: HTML (service and trafilatura, overall and
    per source) and scraped dumps (per source)."""
    html = ex["html"]
    traf = f"trafilatura {ex['trafilatura_version']} default"
    lines = [
        f"### Main-text extraction from HTML: {name} ({ex['n']} pages, {ex['scoring']})",
        "",
        *_HEADER,
        _row("**newsbrief, all**", html["newsbrief"]),
        _row(f"**{traf}, all**", html["trafilatura"]),
    ]
    for source, pair in html["sources"].items() if len(html["sources"]) > 1 else ():
        lines.append(_row(f"newsbrief, {source}", pair["newsbrief"]))
        lines.append(_row(f"{traf}, {source}", pair["trafilatura"]))
    lost = html["lost_pages"]
    lines += [
        "",
        f"Pages under 0.5 where trafilatura scores 0.8 or more: {len(lost)}"
        + (f" ({', '.join(lost)})" if lost else "")
        + ".",
    ]
    if "scraped" in ex:
        lines += [
            "",
            f"### Scraped whole-page text dumps: {name} (the service's text intake)",
            "",
            *_HEADER,
            _row("**newsbrief, all**", ex["scraped"]["newsbrief"]),
            *(_row(f"newsbrief, {k}", v) for k, v in ex["scraped"]["sources"].items()),
        ]
    return lines


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown tables of :func:`evaluate_intake`'s report."""
    lines: list[str] = []
    for name, ex in report["extraction"].items():
        lines += [*extraction_markdown(name, ex), ""]
    lines += [
        "### Language detection accuracy",
        "",
        "| data | language | n | accuracy |",
        "|---|---|---|---|",
    ]
    errors: list[str] = []
    notes: list[str] = []
    for name, per_lang in report["language"].items():
        for lang, r in per_lang.items():
            if isinstance(r, dict) and "accuracy" in r:
                lines.append(f"| {name} | {lang} | {r['n']} | {r['accuracy']:.3f} |")
        if "unsupported_as_supported_0.9" in per_lang:
            notes.append(
                f"{name}: unsupported-language sentences reported as a supported language with "
                f"confidence >= 0.9: {per_lang['unsupported_as_supported_0.9']}; "
                f"LANGUAGE_AMBIGUOUS: {per_lang['ambiguous']}"
            )
        if per_lang["errors"]:
            errors.append(
                f"{name}: " + ", ".join(f"{k} x{v}" for k, v in sorted(per_lang["errors"].items()))
            )
    if notes:
        lines += ["", *(f"{n}." for n in notes)]
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
