"""The pipeline's warning when a translation drops the numbers, dates or quoted names of its
source, with a fake translator (no model needed; the pipeline's worker processes run the check)."""

from __future__ import annotations

import asyncio
from typing import Any

from newsbrief.service.domain import Article, BriefOptions, ModelInfo, Notice
from newsbrief.service.models.protocols import Translated
from newsbrief.service.pipeline.core import Pipeline
from tests.conftest import make_settings


class _Fake:
    """A translator that translates by a function; ``notices`` are given to the first text."""

    def __init__(self, fn, notices: tuple[Notice, ...] = ()) -> None:  # type: ignore[no-untyped-def]
        self.fn = fn
        self.notices = notices
        self.calls: list[tuple[list[str], str, str]] = []

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(role="translator", id="fake", ready=True, languages=("en", "ko", "ms"))

    def supports(self, source: str, target: str) -> bool:
        return True

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        self.calls.append((list(texts), source, target))
        out = [self.fn(t) for t in texts]
        return Translated(out, [self.notices, *([()] * (len(out) - 1))])


ARTICLE = (
    "The council approved 1,250 homes on Tuesday. The plan will cost 45 million dollars. "
    "Mayor Lee said work starts in 2026. Residents welcomed the decision."
)


class _Watched(Pipeline):
    """Records the functions handed to the worker processes."""

    ran: list[str]

    async def _run(self, fn, *args, deadline):  # type: ignore[no-untyped-def]
        self.ran.append(fn.__name__)
        return await super()._run(fn, *args, deadline=deadline)


def _run(fake: _Fake, ran: list[str] | None = None, **options: Any):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        pipeline = _Watched(make_settings(), translator=fake)
        pipeline.ran = [] if ran is None else ran
        await pipeline.start()
        try:
            return await pipeline.brief(
                Article(text=ARTICLE), BriefOptions(target_languages=("ko", "ms"), **options)
            )
        finally:
            pipeline.close()

    return asyncio.run(go())


def test_one_batch_per_language_and_no_warning_when_everything_is_kept() -> None:
    fake = _Fake(lambda t: t)
    result = _run(fake)
    assert [c[2] for c in fake.calls] == ["ko", "ms"]  # headline + sentences + points together
    n = len(fake.calls[0][0])
    assert n == 1 + len(fake.calls[0][0][1:])
    assert [t.language for t in result.translations] == ["ko", "ms"]
    assert not [w for w in result.warnings if w.code == "TRANSLATION_MISMATCH"]


def test_a_translation_that_drops_numbers_is_flagged_per_language() -> None:
    fake = _Fake(lambda t: "".join(ch for ch in t if not ch.isdigit()))
    result = _run(fake)
    mismatch = [w for w in result.warnings if w.code == "TRANSLATION_MISMATCH"]
    assert [w.message.split()[1] for w in mismatch] == ["ko", "ms"]
    assert "1,250" in mismatch[0].message


def test_the_check_runs_in_a_worker_process_not_on_the_event_loop() -> None:
    """About 2 s of CPU per million characters: never on the loop that answers every call."""
    ran: list[str] = []
    _run(_Fake(lambda t: t), ran)
    assert ran.count("mismatches") == 2  # one per target language


def test_engine_notices_reach_the_response_naming_the_text_they_concern() -> None:
    fake = _Fake(lambda t: t, (Notice("TRANSLATION_INPUT_TRUNCATED", "cut"),))
    result = _run(fake)
    cut = [w.message for w in result.warnings if w.code == "TRANSLATION_INPUT_TRUNCATED"]
    assert cut == ["headline (ko): cut", "headline (ms): cut"]
