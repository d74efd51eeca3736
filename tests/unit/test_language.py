import pytest

from newsbrief.service.intake.language import (
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


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Good morning everyone", "en"),
        ("How far is it from Osaka to Kyoto?", "en"),
        ("서울", "ko"),
        ("비가 온다.", "ko"),
        ("Scherzer mahu bermain saja-saja melawan Rockies", "ms"),
        ("Bintang Game of Thrones, Kit Harington membidas maskuliniti toksik", "ms"),
        ("Saya tidak faham kenapa dia pergi ke pejabat pada hari Ahad.", "ms"),
        ("Saya tidak paham kenapa dia pergi ke kantor pada hari Minggu, ujarnya.", "id"),
    ],
)
def test_short_inputs(detector: LanguageDetector, text: str, code: str) -> None:
    assert detector.detect(text).code == code


@pytest.mark.parametrize("text", ["ok", "Seoul", "RM5", "?!"])
def test_too_short_or_unclear_is_undetermined(detector: LanguageDetector, text: str) -> None:
    analysis = detector.analyse(text)
    assert analysis.language.code == "und"
    assert analysis.status == "undetermined"
    assert "could not be detected" in analysis.message()


def test_mixed_text_is_undetermined_with_the_shares(detector: LanguageDetector) -> None:
    text = (
        "The central bank raised interest rates for the third time this year.\n"
        "Officials said inflation had stayed above the target for most of the year.\n"
        "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.\n"
        "예산안은 지난해보다 3% 늘어난 규모로 복지 지출이 크게 늘었다.\n"
    )
    analysis = detector.analyse(text)
    assert analysis.language.code == "und"
    assert analysis.status == "mixed"
    assert set(analysis.shares) == {"en", "ko"}
    assert "mixes languages" in analysis.message()
    assert "English" in analysis.message() and "Korean" in analysis.message()


def test_a_quote_in_another_language_does_not_make_a_text_mixed(
    detector: LanguageDetector,
) -> None:
    text = (
        "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.\n"
        "예산안은 지난해보다 3% 늘어난 규모로 복지 지출이 크게 늘었다.\n"
        "기획재정부 관계자는 경기 회복을 위해 지출을 늘렸다고 설명했다.\n"
        'He said: "We will do our best."\n'
    )
    analysis = detector.analyse(text)
    assert analysis.language.code == "ko"
    assert analysis.status == "ok"
    assert analysis.shares["ko"] > 0.7


def test_malay_without_telling_words_is_reported_as_ambiguous(
    detector: LanguageDetector,
) -> None:
    analysis = detector.analyse("Saya suka makan nasi.")
    assert analysis.language.code in ("ms", "id")  # either, and the caller is told
    assert analysis.status == "ambiguous"
    assert 0.5 <= analysis.language.confidence < 1.0
    assert "Malay or Indonesian" in analysis.message()


def test_confidence_is_reported(detector: LanguageDetector) -> None:
    long_malay = (
        "Kerajaan berkata bahawa harga minyak akan dikaji semula selepas mesyuarat kabinet "
        "kerana ramai rakyat tidak berpuas hati dengan kenaikan tersebut. " * 3
    )
    short = detector.detect("Dia sibuk, tetapi dia datang untuk membantu kami.")
    long = detector.detect(long_malay)
    assert long.code == "ms" and short.code in ("ms", "id")  # short: no telling word
    assert 0.5 <= short.confidence < long.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        (
            "O governo anunciou nesta terça-feira um novo plano para reduzir o preço dos "
            "combustíveis, depois de semanas de protestos em todo o país.",
            "pt",
            "Portuguese",
        ),
        (
            "Die Bundesregierung hat am Dienstag einen neuen Plan vorgestellt, mit dem die "
            "Energiepreise im kommenden Winter gesenkt werden sollen.",
            "de",
            "German",
        ),
        (
            "Il governo ha presentato martedì un nuovo piano per ridurre il prezzo "
            "dell'energia durante il prossimo inverno.",
            "it",
            "Italian",
        ),
    ],
)
def test_unsupported_language_gets_its_own_code(
    detector: LanguageDetector, text: str, code: str, name: str
) -> None:
    analysis = detector.analyse(text)
    assert analysis.language.code == code
    assert analysis.status == "unsupported"
    assert name in analysis.message() and code in analysis.message()


def test_supported_confidence_never_above_the_all_languages_view(
    detector: LanguageDetector,
) -> None:
    # Spanish and Portuguese share much with each other, little with the supported languages
    found = detector.detect("La ciudad aprobó el nuevo plan contra las inundaciones el martes.")
    assert found.code not in ("en", "ko", "ms", "id") or found.confidence < 0.9
