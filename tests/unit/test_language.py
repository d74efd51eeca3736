import pytest

from newsbrief.service.pipeline.language import (
    LANGUAGE_NAMES,
    LanguageDetector,
    canonical_code,
)
from newsbrief.service.settings import LanguageSettings


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LanguageSettings())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        (" EN ", "en"),
        ("ko-KR", "ko"),
        ("ko_kr", "ko"),
        ("ms-MY", "ms"),
        ("zsm", "ms"),
        ("msa", "ms"),
        ("may", "ms"),
        ("kor", "ko"),
        ("eng", "en"),
        ("ind", "id"),
        ("in", "id"),
        ("id-ID", "id"),
    ],
)
def test_canonical_code(raw: str, expected: str) -> None:
    assert canonical_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "  ", "xx-!!", "english", "e", "k0"])
def test_canonical_code_rejects_malformed(raw: str) -> None:
    assert canonical_code(raw) is None


def test_names_cover_supported_languages() -> None:
    for code in LanguageSettings().supported:
        assert code in LANGUAGE_NAMES


def test_detects_english(detector: LanguageDetector) -> None:
    result = detector.detect("The central bank raised interest rates for the third time this year.")
    assert result.code == "en"
    assert 0.5 <= result.confidence <= 1.0


def test_detects_korean(detector: LanguageDetector) -> None:
    result = detector.detect("정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.")
    assert result.code == "ko"
    assert 0.5 <= result.confidence <= 1.0


def test_tells_malay_from_indonesian(detector: LanguageDetector) -> None:
    malay = (
        "Kerajaan berkata bahawa harga minyak akan dikaji semula selepas mesyuarat kabinet "
        "kerana ramai rakyat tidak berpuas hati dengan kenaikan tersebut."
    )
    indonesian = (
        "Pemerintah mengatakan bahwa harga minyak akan ditinjau kembali setelah rapat kabinet "
        "karena banyak warga tidak puas dengan kenaikan tersebut."
    )
    assert detector.detect(malay).code == "ms"
    assert detector.detect(indonesian).code == "id"


def test_no_letters_is_undetermined(detector: LanguageDetector) -> None:
    result = detector.detect("12345 !!! 3.14 --")
    assert result.code == "und"
    assert result.confidence == 0.0


def test_low_confidence_is_undetermined() -> None:
    strict = LanguageDetector(LanguageSettings(min_confidence=1.0))
    result = strict.detect("Saham jatuh")
    assert result.code == "und"
    assert 0.0 <= result.confidence < 1.0


def test_rejects_unknown_supported_language() -> None:
    with pytest.raises(ValueError):
        LanguageDetector(LanguageSettings(supported=["en", "xx"]))
