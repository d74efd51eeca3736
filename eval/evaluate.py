"""Offline evaluation of the built-in NLP stages (what ``make eval`` runs).

``python -m eval.evaluate --data ../shared/data [--out reports/]`` scores the
extractive brief against a Lead-3 baseline computed in the same run (ROUGE-1/2/L F1, stemming on,
per data set and per half, beside the previous method), the brief's own qualities
(:mod:`.evaluate_brief`: key points that are not sentences, page furniture in briefs, previous
and current method side by side), the intake (:mod:`.evaluate_intake`: main-text extraction
beside trafilatura, language detection, properties of Korean and Malay briefs) and the
faithfulness guard (precision/recall on FRANK, :mod:`.evaluate_guard`), prints markdown tables
and writes ``eval.json`` and ``eval.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eval import previous_brief
from eval.evaluate_brief import evaluate_brief, half
from eval.evaluate_brief import to_markdown as brief_markdown
from eval.evaluate_guard import evaluate_guard
from eval.evaluate_guard import to_markdown as guard_markdown
from eval.evaluate_intake import evaluate_intake
from eval.evaluate_intake import to_markdown as intake_markdown
from newsbrief.service.domain import Budget
from newsbrief.service.settings import BriefSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer
from newsbrief.service.text.normalize import normalize_text
from newsbrief.service.text.segment import split_paragraphs, split_sentences

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
    """Mean ROUGE F1 (x100) of the extractive brief (current), of the previous method
    (:mod:`eval.previous_brief`; left out where git history is not at hand) and of Lead-3, per
    data set and per half of it (:func:`eval.evaluate_brief.half`: the summary's constants were
    chosen on half 0, half 1 is held out)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    summarizer = ExtractiveSummarizer(settings)
    previous = previous_brief.summarizer(settings)
    budget = Budget(settings.medium_sentences, settings.medium_words, settings.key_points)
    sums: dict[str, dict[str, list[float]]] = {}
    for row in _jsonl(data / "summarisation" / "en_news_summaries.jsonl"):
        dataset = str(row.get("dataset", "unknown"))
        paragraphs = article_sentences(row["text"], "en")
        systems = [("extractive", summarizer.summarize(paragraphs, "en", budget).summary)]
        if previous is not None:
            systems.append(("previous", previous.summarize(paragraphs, "en", budget).summary))
        systems.append(("lead3", lead_n(paragraphs)))
        for group in (dataset, f"{dataset} half {half(row['id'])}"):
            acc = sums.setdefault(group, {})
            for system, summary in systems:
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


SYSTEMS = {
    "extractive": "extractive (current)",
    "previous": "extractive (previous)",
    "lead3": "lead-3",
}


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "### Summaries: ROUGE F1 x100 against the human summaries",
        "",
        "| data set | n | system | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-1 - lead-3 |",
        "|---|---|---|---|---|---|---|",
    ]
    skipped = False
    for ds, r in report["summaries"].items():
        for system, label in SYSTEMS.items():
            if f"{system}.rouge1" not in r:
                skipped = True
                continue
            delta = r[f"{system}.rouge1"] - r["lead3.rouge1"]
            lines.append(
                f"| {ds} | {r['n']} | {label} | "
                + " | ".join(f"{r[f'{system}.{k}']:.2f}" for k in ROUGE_TYPES)
                + (f" | {delta:+.2f} |" if system != "lead3" else " | |")
            )
    lines += [
        "",
        "Halves by a hash of the item id; the summary's constants (window, position decay, "
        "length exponent) were chosen on half 0 of cnn_dailymail; half 1 and xsum are held out.",
    ]
    if skipped:
        lines += ["", previous_brief.skipped_line()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.evaluate", description=__doc__)
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
        "summaries": evaluate_summaries(data, BriefSettings()),
        "brief": evaluate_brief(data),
        "intake": evaluate_intake(data),
        "guard": evaluate_guard(data),
    }
    markdown = (
        to_markdown(report)
        + "\n"
        + brief_markdown(report["brief"])
        + "\n"
        + intake_markdown(report["intake"])
        + "\n"
        + guard_markdown(report["guard"])
    )
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "eval.md").write_text(markdown, encoding="utf-8")
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
