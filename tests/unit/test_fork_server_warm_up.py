"""The fork server's warm-up of the stages: what they make at their first use is made there,
once, before any worker is forked (the workers share it), over articles that take every path of
the intake; never fatal."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import pytest

from newsbrief.service.domain import Budget
from newsbrief.service.intake import scraped
from newsbrief.service.intake.language import LanguageDetector
from newsbrief.service.pipeline import fork_server
from newsbrief.service.pipeline.stages.extractive import take_in_and_brief
from newsbrief.service.settings import BriefSettings, IntakeSettings, LanguageSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer


def test_the_warm_up_articles_take_the_paths_of_news_articles() -> None:
    intake = IntakeSettings()
    detector = LanguageDetector(LanguageSettings())
    summarizer = ExtractiveSummarizer(BriefSettings())
    articles = fork_server.warm_up_articles(intake)
    languages = []
    for article in articles:
        taken, brief, _, _ = take_in_and_brief(
            article, Budget(3, 80, 3), intake, detector.analyse, summarizer
        )
        languages.append(taken.language.code)
        assert brief.summary
    assert {"en", "ms", "ko"} <= set(languages)
    assert any(a.html for a in articles)
    dump = [a.text for a in articles if a.text and a.text.count("\n") + 1 >= intake.page_dump_lines]
    assert dump, "no page dump: jusText's path is not warmed"


def test_the_warm_up_makes_the_stop_words_of_every_language_once() -> None:
    scraped._stopwords.cache_clear()
    fork_server.warm_up(LanguageSettings())
    assert scraped._stopwords.cache_info().currsize == 1


def test_a_failing_warm_up_is_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr("newsbrief.service.pipeline.stages.extractive.take_in_and_brief", broken)
    fork_server.warm_up(LanguageSettings())  # logged, not raised


def _resident_kb(path: str) -> int:
    """Resident KiB of this process's read-only, never-copied mappings of ``path``."""
    total, current = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split()
            if not fields[0].endswith(":"):
                current = len(fields) >= 6 and fields[5] == path and fields[1] == "r--p"
            elif current and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc: Linux")
def test_page_out_hands_back_the_resident_pages_of_a_read_only_file_mapping(
    tmp_path: Path,
) -> None:
    """What the fork server does to lingua's library after loading its models, on a file that
    no other process maps (the kernel keeps a page another process maps too): its read-only
    mapping is resident once read, and no longer after ``page_out``; its bytes read the same."""
    data = tmp_path / "models.bin"
    size = 8 << 20
    data.write_bytes(bytes(range(256)) * (size // 256))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
    libc.mmap.argtypes += [ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    prot_read, map_private = 1, 2
    with data.open("rb") as f:
        address = libc.mmap(None, size, prot_read, map_private, f.fileno(), 0)
    assert address not in (None, ctypes.c_void_p(-1).value)
    try:
        view = (ctypes.c_ubyte * size).from_address(address)
        assert sum(view[i] for i in range(0, size, 4096)) == 0  # every page read once
        assert _resident_kb(str(data)) >= size // 1024 // 2
        assert fork_server.page_out(str(data)) == size
        assert _resident_kb(str(data)) < size // 1024 // 8
        assert bytes(view[1000:1004]) == bytes(range(256))[1000 % 256 : 1000 % 256 + 4]
    finally:
        libc.munmap(address, size)


def test_lingua_detects_after_its_library_was_paged_out() -> None:
    """The fork server pages lingua's library out after loading the models: detection goes on
    (a page needed again is read back from the file)."""
    import lingua.lingua

    detector = LanguageDetector(LanguageSettings())
    assert fork_server.page_out(lingua.lingua.__file__) > 0
    text = "The city council approved a new park on Tuesday after a long debate."
    assert detector.detect(text).code == "en"
