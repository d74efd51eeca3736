"""Numbers, dates and quoted names a translation must keep (the pipeline's warning when a
translation drops them: tests/integration/test_pipeline_preserve.py)."""

from __future__ import annotations

import pytest

from newsbrief.service.checks.preservation import missing_items, protected_items

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
