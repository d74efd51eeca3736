"""How well the faithfulness guard separates unfaithful summaries from faithful ones.

The FRANK items of ``summarisation/en_news_summaries.jsonl`` carry system summaries
(``model_summaries``) with a human factuality score: the share of the summary's sentences that
annotators found free of factual errors (1.0 = no error). A summary counts as **unfaithful** when
its score is below 1.0 (``--label-below``); the guard's verdict is "unfaithful" when it finds at
least one number, date, name or quotation missing from the article. Reported: precision and
recall of the "unfaithful" verdict, overall, for cased and lowercased summaries (FRANK stores
most of them lowercased, which hides names from a capitalisation-based check), and per system.

``python -m eval.evaluate_guard --data ../shared/data`` prints the table; ``make
eval`` includes it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsbrief.service.checks.faithfulness import SourceIndex, check_brief
from newsbrief.service.domain import Brief
from newsbrief.service.text.normalize import normalize_text

_UNK = re.compile(r"\bUNK\b")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _scores(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    """Precision/recall/F1 of predicted "unfaithful" (first) against the label (second)."""
    tp = sum(1 for p, y in pairs if p and y)
    fp = sum(1 for p, y in pairs if p and not y)
    fn = sum(1 for p, y in pairs if not p and y)
    tn = sum(1 for p, y in pairs if not p and not y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(pairs),
        "unfaithful": tp + fn,
        "flagged": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "base_rate": round((tp + fn) / len(pairs), 3) if pairs else 0.0,
    }


def evaluate_guard(data: Path, label_below: float = 1.0) -> dict[str, Any]:
    """Run the guard on every FRANK system summary; score its verdict against the humans'."""
    groups: dict[str, list[tuple[bool, bool]]] = {}
    examples: list[dict[str, Any]] = []
    references = [0, 0]  # flagged, n: the human reference summaries, for comparison
    for row in _jsonl(data / "summarisation" / "en_news_summaries.jsonl"):
        summaries = row.get("model_summaries") or []
        if not summaries:
            continue
        source = normalize_text(row["text"])
        index = SourceIndex(f"\n{source}", "en")
        if row["dataset"] == "cnn_dailymail":  # cased; XSum references are lowercased
            reference = normalize_text(row["summary"])
            verdict = check_brief(Brief(headline="", summary=reference), source, "", "en", index)
            references[0] += not verdict.passed
            references[1] += 1
        for item in summaries:
            summary = normalize_text(item["summary"])
            result = check_brief(Brief(headline="", summary=summary), source, "", "en", index)
            predicted = not result.passed
            label = float(item["human_factuality"]) < label_below
            pair = (predicted, label)
            case = "lowercased" if item.get("lowercased") else "cased"
            keys = ["all", case, f"{row['dataset']}", f"system:{item['model']}"]
            if not _UNK.search(summary):  # s2s writes UNK for rare words ("UNK," too)
                keys.append("without UNK tokens")
            for key in keys:
                groups.setdefault(key, []).append(pair)
            if predicted and len(examples) < 12:
                examples.append(
                    {
                        "id": row["id"],
                        "model": item["model"],
                        "human_factuality": item["human_factuality"],
                        "issues": result.issues[:3],
                    }
                )
    order = ["all", "without UNK tokens", "cased", "lowercased", "cnn_dailymail", "xsum"]
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return {
        "label": f"human_factuality < {label_below}",
        "verdict": "unfaithful when >= 1 fact is missing from the article",
        "groups": {k: _scores(groups[k]) for k in keys},
        "cnn_dailymail_references": {"n": references[1], "flagged": references[0]},
        "examples": examples,
    }


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Faithfulness guard on FRANK system summaries (unfaithful = {report['label']}; "
        f"{report['verdict']})",
        "",
        "| subset | n | unfaithful | flagged | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in report["groups"].items():
        precision = f"{r['precision']:.3f}" if r["flagged"] else "n/a (none flagged)"
        lines.append(
            f"| {name} | {r['n']} | {r['unfaithful']} | {r['flagged']} | "
            f"{precision} | {r['recall']:.3f} | {r['f1']:.3f} |"
        )
    ref = report.get("cnn_dailymail_references")
    if ref:
        lines += [
            "",
            f"The guard also flags {ref['flagged']} of {ref['n']} human-written CNN/DailyMail "
            "reference highlights (they often carry facts that are not in the article text).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.evaluate_guard", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--label-below",
        type=float,
        default=1.0,
        help="human factuality below this = unfaithful (default 1.0: any error)",
    )
    parser.add_argument("--examples", action="store_true", help="print some flagged summaries")
    args = parser.parse_args(argv)
    path = args.data / "summarisation" / "en_news_summaries.jsonl"
    if not path.is_file():
        print(f"error: {path} not found; pass --data <folder>", file=sys.stderr)
        return 2
    report = evaluate_guard(args.data, args.label_below)
    sys.stdout.write(to_markdown(report))
    if args.examples:
        sys.stdout.write(json.dumps(report["examples"], indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
