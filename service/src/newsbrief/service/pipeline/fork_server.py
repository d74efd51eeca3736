"""Imported by the fork server of the pipeline's worker processes (the last of its preload list,
see :func:`.processes._context`), and acting only there: it imports the stages, loads the
language models that every worker forked from it then shares (:mod:`.shared_models`), warms
the stages up (:func:`warm_up`) and settles its memory for sharing (:func:`settle`)."""

from __future__ import annotations

import ctypes
import gc
import logging

from newsbrief.service.domain import Article, Budget
from newsbrief.service.pipeline import shared_models
from newsbrief.service.pipeline.orphans import in_fork_server
from newsbrief.service.settings import BriefSettings, IntakeSettings, LanguageSettings

log = logging.getLogger(__name__)

_ENGLISH = (
    "The city council approved a new ferry terminal on Tuesday after a three-hour debate. "
    "The terminal, which will replace a pier built in 1932, is expected to open in 2027, "
    "the mayor said. Council members voted 9 to 2 in favour of the plan."
)
_MALAY = (
    "Kerajaan negeri telah meluluskan pembinaan terminal feri baharu pada hari Selasa. "
    "Menurut menteri itu, terminal tersebut dijangka dibuka pada tahun 2027 dan akan "
    "membawa kira-kira 4,000 penumpang sehari. Projek itu menelan belanja RM48 juta."
)
_KOREAN = (
    "시의회는 화요일 세 시간의 토론 끝에 새 여객선 터미널 건설을 승인했다. "
    "시장은 터미널이 2027년에 문을 열 것이라고 밝혔다. 의원들은 9대 2로 계획에 찬성했다."
)


def warm_up_articles(settings: IntakeSettings) -> list[Article]:
    """Articles that take every path of the stages a news article may take: English, Malay and
    Korean text, an HTML page, and a whole page dumped to text (the jusText path)."""
    dump = [
        "Home | News | Sport | Weather",
        "Ferry terminal approved",
        *(_ENGLISH.split(". ") * settings.page_dump_lines)[: settings.page_dump_lines],
    ]
    return [
        Article(text=_ENGLISH),
        Article(text=_MALAY),
        Article(text=_KOREAN),
        Article(
            html=f"<html><head><title>Ferry terminal</title></head><body><nav>Home</nav>"
            f"<article><h1>Ferry terminal approved</h1><p>{_ENGLISH}</p><p>{_ENGLISH}</p>"
            "</article></body></html>"
        ),
        Article(text="\n".join(dump)),
    ]


def warm_up(language: LanguageSettings) -> None:
    """Run the extractive pass over :func:`warm_up_articles` once here, before any worker is
    forked: what the stages load or build at their first use (jusText's stop words of every
    language, lingua's models of a script, compiled patterns) is then made once and shared by
    every worker, rather than made again in each one (and in each replacement) in the time of
    its first requests. Never fatal."""
    from newsbrief.service.intake.language import LanguageDetector
    from newsbrief.service.pipeline.stages.extractive import take_in_and_brief
    from newsbrief.service.summarize.extractive import ExtractiveSummarizer

    intake = IntakeSettings()
    detector = LanguageDetector(language, preload=False)  # the models loaded just now
    summarizer = ExtractiveSummarizer(BriefSettings())
    budget = Budget(sentences=3, words=80, key_points=3)
    for article in warm_up_articles(intake):
        try:
            take_in_and_brief(article, budget, intake, detector.analyse, summarizer)
        except Exception:  # the workers then do it at their first use: slower, never wrong
            log.exception("warming the stages up in the fork server failed")


def settle() -> None:
    """Before the first worker is forked, after the imports, the models and the warm-up: freeze
    every object made so far (the workers' garbage collections then never write to them, so
    their pages stay shared), hand the heap's free pages back to the system (what loading
    left free: glibc keeps it otherwise, and every worker's share of the fork server counts it),
    and the pages of lingua's library that held its compressed models (:func:`page_out`).
    """
    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator keeps what it keeps
        pass
    import lingua.lingua

    page_out(lingua.lingua.__file__)


_MADV_PAGEOUT = 21  # <linux/mman.h>, Linux 5.4


def page_out(library: str | None) -> int:
    """Hand back the resident pages of ``library``'s read-only data (``madvise(MADV_PAGEOUT)``
    on its mappings that are read-only and hold no private copy): lingua's models are compressed
    into its 100 MB library, and loading them reads some 14 MiB of it that nothing reads again
    (the models are then in memory, decompressed). They are clean file pages, which the kernel
    takes back under memory pressure anyway; until then they count in the fork server's resident
    memory. A page needed again is read back from the file; a page another process maps too
    (another server on the host) stays, shared among them. Returns the bytes advised (0 where
    the system has no such call: nothing changes)."""
    if not library:
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        advised = 0
        for start, end in _read_only_mappings(library):
            if libc.madvise(start, end - start, _MADV_PAGEOUT) == 0:
                advised += end - start
        return advised
    except (OSError, AttributeError):  # no /proc or no madvise here
        return 0


def _read_only_mappings(path: str) -> list[tuple[int, int]]:
    """The address ranges where this process maps ``path`` read-only with no anonymous (copied)
    page, from ``/proc/self/smaps``."""
    ranges: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's header: range perms offset dev inode path
                current = None
                if len(fields) >= 6 and fields[5] == path and fields[1] == "r--p":
                    low, high = fields[0].split("-")
                    current = (int(low, 16), int(high, 16))
            elif fields[0] == "Anonymous:" and current is not None and fields[1] == "0":
                ranges.append(current)
    return ranges


if in_fork_server():
    # what the workers' stages run (the pipeline's worker functions, the HTML extractor), then
    # the language models: imported and loaded once here, shared by every worker forked after
    import trafilatura  # noqa: F401

    import newsbrief.service.pipeline.core  # noqa: F401

    if (settings := shared_models.load()) is not None:
        warm_up(settings)
    settle()
