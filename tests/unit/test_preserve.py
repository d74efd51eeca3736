"""Numbers, dates and quoted names a translation must keep, and the pipeline's warning when a
translation drops them (with a fake translator: no model needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from newsbrief.service.checks.preservation import missing_items, protected_items
from newsbrief.service.domain import Article, BriefOptions, ModelInfo, Notice
from newsbrief.service.models.protocols import Translated
from newsbrief.service.pipeline.core import Pipeline
from tests.conftest import make_settings

EN = 'The council approved 1,250 homes on 3 March 2026 for 45 million dollars at "Ocean Park".'


def test_protected_items() -> None:
    kinds = {(i.kind, i.text) for i in protected_items(EN, "en")}
    assert {("number", "1,250"), ("number", "2026"), ("number", "45 million")} <= kinds
    assert ("date", "3 March") in kinds
    assert ("name", "Ocean Park") in kinds
    # a long quotation is translated, not kept: not protected
    quote = '"We are delighted with the decision of the council today," she said.'
    assert not [i for i in protected_items(quote, "en") if i.kind == "name"]


@pytest.mark.parametrize(
    ("translation", "target"),
    [
        ("시의회는 2026년 3월 3일 4500만 달러에 1250채를 승인했다 “Ocean Park”.", "ko"),
        (
            "Majlis meluluskan 1,250 rumah pada 3 Mac 2026 bernilai 45 juta dolar di Ocean Park.",
            "ms",
        ),
        (
            "Dewan menyetujui 1.250 rumah pada 3 Maret 2026 senilai 45 juta dolar di Ocean Park.",
            "id",
        ),
    ],
)
def test_faithful_renderings_pass(translation: str, target: str) -> None:
    assert missing_items(EN, translation, "en", target) == []


def test_dropped_and_changed_items_are_listed() -> None:
    missing = missing_items(
        EN, "Majlis meluluskan 1,300 rumah pada Mei 2026 di Taman Lautan.", "en", "ms"
    )
    assert missing == ["1,250", "3", "45 million", "3 March", "“Ocean Park”"]


def test_number_words_and_separators() -> None:
    assert (
        missing_items("Three people and 1000 cars.", "Tiga orang dan 1,000 kereta.", "en", "ms")
        == []
    )
    assert missing_items("Harga naik 2,5 persen.", "Prices rose 2.5 percent.", "id", "en") == []


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


def test_korean_numbers_with_several_units_are_one_value() -> None:
    en = "It will cost 450 million dollars and 50 million won."
    assert missing_items(en, "비용은 4억 5천만 달러와 5천만 원이다.", "en", "ko") == []
    assert (
        missing_items("비용은 4억 5천만 달러이다.", "It costs 450 million dollars.", "ko", "en")
        == []
    )
    assert missing_items(en, "비용은 4억 달러와 5천만 원이다.", "en", "ko") == ["450 million"]


def test_currency_prefixes_do_not_hide_numbers() -> None:
    assert missing_items("It costs 45 million ringgit.", "Kosnya RM45 juta.", "en", "ms") == []
    assert missing_items("Harganya Rp1.500.", "It costs Rp1,500.", "id", "en") == []
