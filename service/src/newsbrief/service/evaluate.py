"""Offline evaluation of the built-in NLP stages (what ``make eval`` runs).

``python -m newsbrief.service.evaluate --data ../shared/data [--out reports/]`` scores the
extractive brief against a Lead-3 baseline computed in the same run (ROUGE-1/2/L F1, stemming on,
per data set), the HTML extractor (median token F1), language detection (accuracy) and the
faithfulness guard (precision/recall on FRANK, :mod:`.evaluate_guard`), prints a
markdown table and writes ``eval.json`` and ``eval.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .domain import Budget
from .evaluate_guard import evaluate_guard
from .evaluate_guard import to_markdown as guard_markdown
from .pipeline.extractive import ExtractiveSummarizer
from .pipeline.html import extract_html
from .pipeline.language import LanguageDetector
from .pipeline.normalize import normalize_text
from .pipeline.segment import split_paragraphs, split_sentences
from .settings import BriefSettings, LanguageSettings

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def article_sentences(text: str, lang: str) -> list[list[str]]:
    """Normalise and segment an article into sentences per paragraph."""
    paragraphs = split_paragraphs(normalize_text(text))
    return [s for s in (split_sentences(p, lang) for p in paragraphs) if s]


def lead_n(paragraphs: list[list[str]], n: int = 3) -> str:
    """The first ``n`` sentences of the article: the Lead-n baseline."""
    return " ".join([s for p in paragraphs for s in p][:n])


def evaluate_summaries(data: Path, settings: BriefSettings) -> dict[str, dict[str, Any]]:
    """Mean ROUGE F1 (x100) of the extractive brief and of Lead-3, per data set."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    summarizer = ExtractiveSummarizer(settings)
    budget = Budget(settings.medium_sentences, settings.medium_words, settings.key_points)
    sums: dict[str, dict[str, list[float]]] = {}
    for row in _jsonl(data / "summarisation" / "en_news_summaries.jsonl"):
        dataset = str(row.get("dataset", "unknown"))
        paragraphs = article_sentences(row["text"], "en")
        brief = summarizer.summarize(paragraphs, "en", budget)
        acc = sums.setdefault(dataset, {})
        for system, summary in (("extractive", brief.summary), ("lead3", lead_n(paragraphs))):
            scores = scorer.score(row["summary"], summary)
            for kind in ROUGE_TYPES:
                acc.setdefault(f"{system}.{kind}", []).append(100 * scores[kind].fmeasure)
    return {
        ds: {
            "n": len(v["lead3.rouge1"]),
            **{k: round(statistics.fmean(x), 2) for k, x in v.items()},
        }
        for ds, v in sorted(sums.items())
    }


def token_f1(predicted: str, expected: str) -> float:
    """Bag-of-tokens F1 between two texts (word characters, case-folded)."""
    a = Counter(re.findall(r"\w+", predicted.casefold()))
    b = Counter(re.findall(r"\w+", expected.casefold()))
    overlap = sum((a & b).values())
    if overlap == 0:
        return 0.0
    p = overlap / sum(a.values())
    r = overlap / sum(b.values())
    return 2 * p * r / (p + r)


def evaluate_html(data: Path) -> dict[str, Any]:
    """Median and mean token F1 of :func:`extract_html` against the expected main text."""
    root = data / "boilerplate"
    scores: list[float] = []
    for row in _jsonl(root / "index.jsonl"):
        html = (root / row["html_path"]).read_text(encoding="utf-8", errors="replace")
        expected = row.get("expected_text") or (root / row["expected_path"]).read_text("utf-8")
        scores.append(token_f1(extract_html(html).text, expected))
    return {
        "n": len(scores),
        "median_f1": round(statistics.median(scores), 4) if scores else 0.0,
        "mean_f1": round(statistics.fmean(scores), 4) if scores else 0.0,
    }


def evaluate_language(data: Path, settings: LanguageSettings) -> dict[str, Any]:
    """Accuracy of language detection on whole articles and on NTREX sentences."""
    detector = LanguageDetector(settings)
    out: dict[str, Any] = {}
    rows = list(_jsonl(data / "non_english" / "ko_ms_news.jsonl"))
    hits = [detector.detect(r["text"]).code == r["lang"] for r in rows]
    out["articles"] = {"n": len(hits), "accuracy": round(sum(hits) / max(1, len(hits)), 4)}
    for path in sorted((data / "translation").glob("ntrex_*.jsonl")):
        hits = []
        for r in _jsonl(path):
            hits.append(detector.detect(r["src"]).code == r["src_lang"])
            hits.append(detector.detect(r["ref"]).code == r["tgt_lang"])
        out[path.stem] = {"n": len(hits), "accuracy": round(sum(hits) / max(1, len(hits)), 4)}
    return out


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "| data set | n | system | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---|---|---|---|---|",
    ]
    for ds, r in report["summaries"].items():
        for system in ("extractive", "lead3"):
            lines.append(
                f"| {ds} | {r['n']} | {system} | "
                + " | ".join(f"{r[f'{system}.{k}']:.2f}" for k in ROUGE_TYPES)
                + " |"
            )
    lines += ["", "| check | n | value |", "|---|---|---|"]
    h = report["html"]
    lines.append(
        f"| HTML extraction token F1 (median / mean) | {h['n']} | "
        f"{h['median_f1']:.3f} / {h['mean_f1']:.3f} |"
    )
    for name, r in report["language"].items():
        lines.append(f"| language detection accuracy: {name} | {r['n']} | {r['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newsbrief.service.evaluate", description=__doc__
    )
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="the evaluation data folder"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="where eval.json and eval.md go"
    )
    args = parser.parse_args(argv)
    data: Path = args.data
    if not (data / "summarisation" / "en_news_summaries.jsonl").is_file():
        print(
            f"error: evaluation data not found at {data} (expected "
            f"{data / 'summarisation' / 'en_news_summaries.jsonl'}); pass --data <folder>",
            file=sys.stderr,
        )
        return 2
    report = {
        "summaries": evaluate_summaries(data, BriefSettings()),  # type: ignore[call-arg]
        "html": evaluate_html(data),
        "language": evaluate_language(data, LanguageSettings()),  # type: ignore[call-arg]
        "guard": evaluate_guard(data),
    }
    markdown = to_markdown(report) + "\n" + guard_markdown(report["guard"])
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "eval.md").write_text(markdown, encoding="utf-8")
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
