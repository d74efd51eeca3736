"""Quality of the brief itself (part of ``make eval``): the previous method and the current one
side by side, on the same articles.

* **Key points that do not end as a sentence** (:data:`SENTENCE_RULE`), on the 333 pages of
  ``extraction_dev/`` (HTML and whole-page dumps, per source and per language), the CNN/DM and
  XSum articles of ``summarisation/`` and the Korean, Malay and Indonesian articles of
  ``non_english/``.
* **Page furniture in briefs** of ``extraction_dev/`` (HTML and dumps): lines (headline, each
  summary sentence, each key point) that match :data:`FURNITURE_RULE`.
* A sample of briefs for a human read.

"Previous" is the brief as the service made it up to commit 6251522: its extractive method
(:mod:`eval.previous_brief`, read from git history; left out, with a line that says so, where
git history is not at hand) on its intake (the intake of today without the two steps
added with the new brief: :func:`~newsbrief.service.intake.main_text.page_title`, which refuses
a headline found in a page when it is furniture, and
:func:`~newsbrief.service.intake.main_text.untable`, which takes prose out of layout-table rows).
"Current" is what the server serves (:func:`~newsbrief.service.pipeline.stages.intake.take_in`
and :func:`~newsbrief.service.pipeline.stages.extractive.extractive_brief`).

The counting rules are this module's own, written apart from the brief's rules
(:mod:`newsbrief.service.text.lines`), though by the same hand: read the furniture count as
a regression signal, with the lines it still finds listed in ``eval.json``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from eval import previous_brief
from newsbrief.service.domain import Article, Brief, Budget
from newsbrief.service.intake import main_text as intake
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.pipeline.stages.extractive import extractive_brief, squash
from newsbrief.service.pipeline.stages.intake import Intake, take_in
from newsbrief.service.settings import BriefSettings, IntakeSettings, LanguageSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer
from newsbrief.service.text.segment import split_sentences

SENTENCE_RULE = (
    "a key point ends as a sentence when its last character, after closing quotes and "
    "brackets, is . ! ? \u2026 or \u3002 (Korean: also a final \ub2e4, \uc694, \uc8e0 or \uae4c); "
    "stricter, it is a sentence when it also opens with a capital, a digit or an opening quote "
    "(or a letter of a script without case) and is not a table row (two or more |)"
)
_CLOSERS = "\"'\u201d\u2019)]\u00bb\u300d"
_OPENERS = "\"'\u201c\u2018([\u00ab\u300c"
_KOREAN_END = re.compile(r"[\ub2e4\uc694\uc8e0\uae4c]$")

FURNITURE_RULE = (
    "a line is furniture when it names cookies, consent to data use, personal data, a privacy "
    "policy, terms of use or a subscriber agreement; asks to enable JavaScript, to subscribe, "
    "sign in, sign up, register, download an app or follow us, or offers a newsletter; is a "
    "byline (By Name, no sentence end) or starts Updated/Published/Posted; carries a clock time "
    "with a time zone; is a photo credit or caption (Photo:, Image by, Credit:, Getty Images, "
    "(AP ...) at the end, Media caption, Image copyright, NAME, NAME in capitals); holds HTML "
    "(a tag or an entity); or is a table row, menu or bullet list (two or more | or \u2022)"
)
_FURNITURE = re.compile(
    r"""(?ix)
      \bcookies?\b|\bconsent\b.{0,40}\b(?:data|cookies?|partners|preferences|withdraw)
    | personal\ (?:data|information)|privacy\ polic|terms\ of\ (?:use|service)
    | subscriber\ agreement
    | \b(?:enable|disabled|requires?)\b.{0,30}javascript
    | javascript\b.{0,30}\b(?:enabled?|disabled|required)
    | \bsubscribe\b|already\ a\ subscriber|^(?:sign\ in|sign\ up|log\ ?in|register)\b
    | \bsign\ (?:in|up)\ (?:to|for\ (?:our|the|a\ free))\b
    | newsletter|create\ an\ account|\bdownload\ (?:the|our)\ app|\bfollow\ us\b
    | all\ rights\ reserved
    | ^by\s+[A-Z][^.!?]*$|^(?:updated|published|posted)\b
    | \b\d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?\s*(?:e[sd]t|gmt|ist|pt|utc)\b
    | \b(?:photo|image|picture)s?\s*(?:credit|:|by\b)|\bcredit:|getty\ images
    | \((?:ap|afp|reuters|epa)\b[^)]*\)\s*$|^media\ caption|image\ (?:copyright|caption)
    | <[a-z/!][^>]*>|&[a-z]+;|&\#\d+;
    | (?:\|[^|]*){2,}|(?:\u2022[^\u2022]*){2,}
    """
)
_CREDIT_CAPS = re.compile(
    r"^[A-Z][A-Z.'-]+(?:\s[A-Z][A-Z.'-]+)*,\s*[A-Z][A-Z.'-]+(?:\s[A-Z][A-Z.'-]+)*$"
)


def ends_as_sentence(point: str, lang: str) -> bool:
    """:data:`SENTENCE_RULE`, the issue's count."""
    core = point.rstrip().rstrip(_CLOSERS).rstrip()
    if not core:
        return False
    if core[-1] in ".!?\u2026\u3002":
        return True
    return lang == "ko" and bool(_KOREAN_END.search(core))


def is_sentence(point: str, lang: str) -> bool:
    """:data:`SENTENCE_RULE`, the stricter count."""
    first = point.lstrip().lstrip(_OPENERS)[:1]
    opens = bool(first) and (first.isdigit() or first.isupper() or first.lower() == first.upper())
    return opens and ends_as_sentence(point, lang) and point.count("|") < 2


def is_furniture(line: str) -> bool:
    """:data:`FURNITURE_RULE`."""
    return bool(_FURNITURE.search(line) or _CREDIT_CAPS.search(line.strip()))


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _read(root: Path, name: str) -> str:
    path = root / name
    if path.suffix == ".gz":
        with gzip.open(path) as f:
            return f.read().decode("utf-8", errors="replace")
    return path.read_text(encoding="utf-8", errors="replace")


def half(item_id: str) -> int:
    """The half (0 or 1) an item falls in, by a hash of its id: the split-half check tunes on
    half 0 and reports half 1 as the held-out figure."""
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest(), 16) % 2


@contextlib.contextmanager
def previous_intake() -> Iterator[None]:
    """The intake as it was before the new brief: no judging of page-found headlines, layout
    tables left as rows."""
    saved = intake.page_title, intake.untable
    intake.page_title = intake.untable = _same  # type: ignore[assignment]
    try:
        yield
    finally:
        intake.page_title, intake.untable = saved


def _same(text: str) -> str:
    return text


Briefer = Callable[[Intake, Budget], Brief]


def briefers(settings: BriefSettings) -> dict[str, Briefer]:
    """The previous and the current method, each as a function of a prepared article (the
    current one alone where the previous one cannot be read from git history)."""
    current = ExtractiveSummarizer(settings)
    previous = previous_brief.summarizer(settings)

    def old(prepared: Intake, budget: Budget) -> Brief:
        assert previous is not None
        brief = previous.summarize(
            prepared.paragraphs, prepared.language.code, budget, prepared.title
        )
        return Brief(
            squash(brief.headline),
            squash(brief.summary),
            tuple(squash(k) for k in brief.key_points),
        )

    def new(prepared: Intake, budget: Budget) -> Brief:
        return extractive_brief(current, prepared, budget)

    if previous is None:
        return {"current": new}
    return {"previous": old, "current": new}


def _lines(brief: Brief, lang: str) -> list[tuple[str, str]]:
    summary = split_sentences(brief.summary, lang) if brief.summary else []
    return [
        ("headline", brief.headline),
        *(("summary", s) for s in summary),
        *(("key point", k) for k in brief.key_points),
    ]


class _Tally:
    """Key points and furniture lines, counted per group."""

    def __init__(self) -> None:
        self.points: Counter[str] = Counter()
        self.not_ending: Counter[str] = Counter()
        self.not_sentence: Counter[str] = Counter()
        self.briefs: Counter[str] = Counter()
        self.furniture_briefs: Counter[str] = Counter()
        self.furniture_lines: Counter[str] = Counter()
        self.examples: list[dict[str, str]] = []

    def add(self, groups: list[str], brief: Brief, lang: str, item: str, furniture: bool) -> None:
        for point in brief.key_points:
            for g in groups:
                self.points[g] += 1
                self.not_ending[g] += not ends_as_sentence(point, lang)
                self.not_sentence[g] += not is_sentence(point, lang)
        if not furniture:
            return
        found = [(field, line) for field, line in _lines(brief, lang) if is_furniture(line)]
        for g in groups:
            self.briefs[g] += 1
            self.furniture_briefs[g] += bool(found)
            for field, _ in found:
                self.furniture_lines[g] += 1
                self.furniture_lines[f"{g} / {field}"] += 1
        self.examples += [{"id": item, "field": f, "line": line[:160]} for f, line in found]

    def report(self) -> dict[str, Any]:
        return {
            "key_points": {
                g: {
                    "n": n,
                    "not_ending_as_sentence": self.not_ending[g],
                    "not_a_sentence": self.not_sentence[g],
                    "share_not_ending": round(self.not_ending[g] / n, 4) if n else 0.0,
                }
                for g, n in sorted(self.points.items())
            },
            "furniture": {
                g: {
                    "briefs": n,
                    "briefs_with_furniture": self.furniture_briefs[g],
                    "lines": self.furniture_lines[g],
                    **{
                        field: self.furniture_lines[f"{g} / {field}"]
                        for field in ("headline", "summary", "key point")
                    },
                }
                for g, n in sorted(self.briefs.items())
            },
            "furniture_lines": self.examples,
        }


def evaluate_brief(data: Path, settings: BriefSettings | None = None) -> dict[str, Any]:
    """Key points as sentences and furniture in briefs, previous and current method."""
    settings = settings or BriefSettings()
    budget = Budget(settings.medium_sentences, settings.medium_words, settings.key_points)
    detector = LanguageDetector(LanguageSettings())
    methods = briefers(settings)
    tallies = {name: _Tally() for name in methods}
    samples: list[dict[str, Any]] = []

    def one(article: Article, item: str, groups: list[str], furniture: bool) -> None:
        for name, make in methods.items():
            with previous_intake() if name == "previous" else contextlib.nullcontext():
                prepared = take_in(article, IntakeSettings(), detector.analyse)
            lang = prepared.language.code
            brief = make(prepared, budget)
            tallies[name].add([*groups, f"language {lang}"], brief, lang, item, furniture)
            if name == "current" and len(samples) < 40 and half(item) == 1 and furniture:
                samples.append({"id": item, **_brief_dict(brief)})

    root = data / "extraction_dev"
    if (root / "index.jsonl").is_file():
        for row in _jsonl(root / "index.jsonl"):
            source = row.get("source_dataset", "")
            html = _read(root, row["html_path"])
            one(Article(html=html), row["id"], ["extraction_dev html", f"html / {source}"], True)
            if row.get("scraped_path"):
                dump = _read(root, row["scraped_path"])
                groups = ["extraction_dev dump", f"dump / {source}"]
                one(Article(text=dump), f"{row['id']} (dump)", groups, True)
    for row in _jsonl(data / "summarisation" / "en_news_summaries.jsonl"):
        article = Article(text=row["text"], source_language="en")
        one(article, row["id"], [str(row.get("dataset", "summarisation"))], False)
    for row in _jsonl(data / "non_english" / "ko_ms_news.jsonl"):
        article = Article(text=row["text"], title=row.get("title", ""))
        one(article, row["id"], ["non_english"], False)
    return {
        "sentence_rule": SENTENCE_RULE,
        "furniture_rule": FURNITURE_RULE,
        "methods": {name: t.report() for name, t in tallies.items()},
        "samples": samples,
    }


def _brief_dict(brief: Brief) -> dict[str, Any]:
    return {
        "headline": brief.headline,
        "summary": brief.summary,
        "key_points": list(brief.key_points),
    }


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown tables of :func:`evaluate_brief`'s report."""
    cur = report["methods"]["current"]
    prev = report["methods"].get("previous")
    skipped = [previous_brief.skipped_line(), ""] if prev is None else []
    missing = {"n": "-", "briefs_with_furniture": "-", "lines": "-"}  # cells when it was skipped
    lines = [
        "### Key points that do not end as a sentence (previous -> current method)",
        "",
        f"Rule: {report['sentence_rule']}.",
        "",
        *skipped,
        "| group | key points (prev / cur) | not ending as a sentence (prev) | "
        "(cur) | not a sentence, stricter (prev) | (cur) |",
        "|---|---|---|---|---|---|",
    ]
    for group, c in cur["key_points"].items():
        p = (
            prev["key_points"].get(group, {"n": 0, "not_ending_as_sentence": 0})
            if prev
            else missing
        )
        lines.append(
            f"| {group} | {p['n']} / {c['n']} | {_share(p, 'not_ending_as_sentence')} | "
            f"{_share(c, 'not_ending_as_sentence')} | {_share(p, 'not_a_sentence')} | "
            f"{_share(c, 'not_a_sentence')} |"
        )
    lines += [
        "",
        "### Page furniture in briefs of extraction_dev (previous -> current method)",
        "",
        f"Rule: {report['furniture_rule']}.",
        "",
        *skipped,
        "| group | briefs | briefs with furniture (prev) | (cur) | lines (prev) | (cur) | "
        "headline / summary / key point (cur) |",
        "|---|---|---|---|---|---|---|",
    ]
    for group, c in cur["furniture"].items():
        if group.startswith("language "):
            continue
        p = prev["furniture"][group] if prev else missing
        lines.append(
            f"| {group} | {c['briefs']} | {p['briefs_with_furniture']} | "
            f"{c['briefs_with_furniture']} | {p['lines']} | {c['lines']} | "
            f"{c['headline']} / {c['summary']} / {c['key point']} |"
        )
    return "\n".join(lines) + "\n"


def _share(row: dict[str, Any], key: str) -> str:
    n = row.get("n", 0)
    k = row.get(key, 0)
    return f"{k} ({100 * k / n:.1f}%)" if isinstance(n, int) and n else "-"
