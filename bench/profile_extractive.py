"""CPU per stage of an extractive brief, in process: ``python -m bench.profile_extractive``.

Runs the server's own stage functions (intake, language analysis, segmentation, the extractive
brief, the guard) over the shared news articles (``summarisation/`` and ``non_english/`` of the
shared data) and reports each stage's CPU time per article (``time.process_time``: this process's
CPU, so other processes on a shared machine slow it less than wall time), the fastest of
``--rounds`` passes per article and stage. Also the resident memory of one detector.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsbrief.service.domain import Article, Budget
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.pipeline.stages.extractive import check_extractive_brief, extractive_brief
from newsbrief.service.pipeline.stages.intake import Intake
from newsbrief.service.settings import Settings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer
from newsbrief.service.text.segment import split_paragraphs, split_sentences

STAGES = ("intake", "language", "segment", "brief", "guard")


def data_dir() -> Path:
    """``NEWSBRIEF_DATA_DIR`` or ``../shared/data`` beside the repository (as the tests)."""
    here = Path(__file__).resolve().parents[1]
    path = Path(os.environ.get("NEWSBRIEF_DATA_DIR", here.parent / "shared" / "data"))
    if not path.is_dir():
        raise SystemExit(f"no shared data folder at {path} (set NEWSBRIEF_DATA_DIR)")
    return path


def articles(data: Path) -> list[tuple[str, str, str]]:
    """(set, language, text) of every shared news article."""
    out: list[tuple[str, str, str]] = []
    for name, path in (
        ("summarisation", data / "summarisation" / "en_news_summaries.jsonl"),
        ("non_english", data / "non_english" / "ko_ms_news.jsonl"),
    ):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    out.append((name, row["lang"], row["text"]))
    return out


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one(
    settings: Settings, detector: LanguageDetector, summarizer: ExtractiveSummarizer, text: str
) -> tuple[dict[str, float], str]:
    cpu: dict[str, float] = {}

    def timed(stage: str, fn: Callable[[], Any]) -> Any:
        t0 = time.process_time()
        result = fn()
        cpu[stage] = (time.process_time() - t0) * 1000
        return result

    intake = timed("intake", lambda: main_text(Article(text=text), settings.intake))
    analysis = timed("language", lambda: detector.analyse(intake.text))
    lang = analysis.language.code
    paragraphs = timed(
        "segment",
        lambda: [s for s in (split_sentences(p, lang) for p in split_paragraphs(intake.text)) if s],
    )
    # the article text the brief's sentences are located in, as the server's intake gives it
    prepared = Intake(
        intake.text,
        intake.title,
        paragraphs,
        analysis.language,
        None,  # type: ignore[arg-type]  # no metadata: the brief does not read it
        [],
        intake.article_text,
    )
    budget = Budget(
        settings.brief.medium_sentences, settings.brief.medium_words, settings.brief.key_points
    )
    brief = timed("brief", lambda: extractive_brief(summarizer, prepared, budget))
    timed("guard", lambda: check_extractive_brief(brief, prepared))
    return cpu, lang


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    settings = Settings()
    before = rss_mib()
    t0 = time.process_time()
    detector = LanguageDetector(settings.language)
    load_cpu = time.process_time() - t0
    detector_mib = rss_mib() - before
    summarizer = ExtractiveSummarizer(settings.brief)
    items = articles(data_dir())
    best: list[dict[str, float]] = [dict.fromkeys(STAGES, float("inf")) for _ in items]
    langs: list[str] = [""] * len(items)
    for _ in range(args.rounds):
        for i, (_, _, text) in enumerate(items):
            cpu, langs[i] = one(settings, detector, summarizer, text)
            for stage, ms in cpu.items():
                best[i][stage] = min(best[i][stage], ms)
    report: dict[str, Any] = {
        "load": os.getloadavg(),
        "detector_load_cpu_s": round(load_cpu, 2),
        "detector_rss_mib": round(detector_mib, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sets": {},
    }
    for name in ("summarisation", "non_english", "all"):
        rows = [b for (s, _, _), b in zip(items, best, strict=True) if name in (s, "all")]
        per = {stage: round(sum(r[stage] for r in rows) / len(rows), 3) for stage in STAGES}
        per["total"] = round(sum(per.values()), 3)
        report["sets"][name] = {"n": len(rows), "cpu_ms_per_article": per}
    wrong = [(lang, got) for (_, lang, _), got in zip(items, langs, strict=True) if lang != got]
    report["language_errors"] = wrong
    print_report(report, args.json)


def print_report(report: dict[str, Any], path: Path | None) -> None:
    """Print ``report`` as JSON, and write it to ``path`` too when one is given (``--json``)."""
    text = json.dumps(report, indent=1)
    print(text)
    if path:
        path.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
