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


KOREAN_BUDGET = (
    "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.\n"
    "예산안은 지난해보다 3% 늘어난 규모로 복지 지출이 크게 늘었다.\n"
)


def test_mixed_text_is_undetermined_with_the_shares(detector: LanguageDetector) -> None:
    text = (
        "The central bank raised interest rates for the third time this year.\n"
        "Officials said inflation had stayed above the target for most of the year.\n"
    ) + KOREAN_BUDGET
    analysis = detector.analyse(text)
    assert analysis.language.code == "und"
    assert analysis.status == "mixed"
    assert set(analysis.shares) == {"en", "ko"}
    assert "mixes languages" in analysis.message()
    assert "English" in analysis.message() and "Korean" in analysis.message()


def test_a_quote_in_another_language_does_not_make_a_text_mixed(
    detector: LanguageDetector,
) -> None:
    text = KOREAN_BUDGET + (
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


# ---- the cheaper first pass (function words, Hangul) before the all-languages look ---------

_ENGLISH_ARTICLE = (
    "The city council approved a new plan on Tuesday to protect the river banks from floods.\n"
    "The plan, which will cost about 40 million dollars, was drawn up after the floods of last "
    "year damaged more than two hundred homes in the old town.\n"
    "Officials said that the work would begin in the spring and that it should be finished "
    "before the end of the next year.\n"
    "Residents who had asked for the work for years said they were glad that it had at last "
    "been approved, but some of them were worried about the cost.\n"
)
_MALAY_ARTICLE = (
    "Kerajaan negeri berkata bahawa projek tebatan banjir itu akan bermula pada bulan depan.\n"
    "Menurut kenyataan yang dikeluarkan oleh pejabat menteri, projek itu dijangka siap dalam "
    "tempoh dua tahun dan akan memberi manfaat kepada lebih daripada sepuluh ribu penduduk.\n"
    "Penduduk di kawasan itu telah lama meminta kerajaan untuk mengambil tindakan kerana "
    "banjir sering berlaku pada musim hujan.\n"
    "Beliau berkata kos projek itu akan ditanggung sepenuhnya oleh kerajaan persekutuan.\n"
)
_GERMAN_LINES = (
    "Die Bundesregierung hat am Dienstag einen neuen Plan vorgestellt, mit dem die "
    "Energiepreise im kommenden Winter gesenkt werden sollen.\n"
    "Der Minister sagte, dass die Hilfen vor allem Familien mit kleinen Einkommen zugute "
    "kommen sollen und schon im Herbst ausgezahlt werden.\n"
)


@pytest.fixture(scope="module")
def full_detector() -> LanguageDetector:
    """The detector without the first pass: every text is looked at over all languages."""
    return LanguageDetector(LanguageSettings(function_word_shortcut=False))


def _count_broad(detector: LanguageDetector, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    broad = detector._broad

    def counted(sample: str) -> tuple[str, float, float]:
        calls.append(sample)
        return broad(sample)

    monkeypatch.setattr(detector, "_broad", counted)
    return calls


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (_ENGLISH_ARTICLE, "en"),
        (_MALAY_ARTICLE, "ms"),
        (
            "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다.\n" * 3 + 'He said: "We did it."',
            "ko",
        ),
    ],
)
def test_plainly_supported_text_skips_the_all_languages_look(
    detector: LanguageDetector,
    full_detector: LanguageDetector,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    code: str,
) -> None:
    calls = _count_broad(detector, monkeypatch)
    fast = detector.analyse(text)
    assert calls == []  # the costly look was not needed
    full = full_detector.analyse(text)
    assert (fast.language.code, fast.status) == (full.language.code, full.status) == (code, "ok")
    assert fast.language.confidence == pytest.approx(full.language.confidence, abs=0.02)


def test_long_unsupported_text_is_still_looked_at_over_all_languages(
    detector: LanguageDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_broad(detector, monkeypatch)
    analysis = detector.analyse(_GERMAN_LINES * 2)
    assert calls  # German function words are not English ones: no shortcut
    assert (analysis.language.code, analysis.status) == ("de", "unsupported")


def test_a_third_in_another_language_keeps_a_text_mixed(
    detector: LanguageDetector, full_detector: LanguageDetector
) -> None:
    # the English function words of the whole text clear the bar, but its German lines do not
    # read as a supported language: the text is looked at over all languages, and is mixed
    text = _ENGLISH_ARTICLE + _GERMAN_LINES
    fast = detector.analyse(text)
    assert (fast.language.code, fast.status) == ("und", "mixed")
    assert fast.shares == full_detector.analyse(text).shares
    assert "de" in fast.shares


def test_lingua_reads_a_bounded_sample_spread_over_a_long_text() -> None:
    from newsbrief.service.intake.language import _spread

    lines = [f"Line {i} of the article says something about item {i}." for i in range(200)]
    text = "\n".join(lines)
    sample = _spread(text, 1500)
    assert len(sample) <= 1500
    picked = sample.split("\n")
    assert picked[0] == lines[0] and all(p in lines for p in picked)
    assert any(p in lines[150:] for p in picked)  # from the end of the text too
    assert _spread("short text", 1500) == "short text"
    assert len(_spread("word " * 1000, 1500)) <= 1500  # one long part: cut at a space


def test_the_marker_bigrams_of_malay_and_indonesian_are_counted() -> None:
    from newsbrief.service.intake.language import _resolve_malay_indonesian

    even = {"ms": 0.5, "id": 0.5}
    # no marker word, two bigrams of one side: the bigrams decide
    malay, decided = _resolve_malay_indonesian("Pilihan raya dan dewan rakyat.", even, 0.0)
    assert decided and malay["ms"] > malay["id"]
    indonesian, decided = _resolve_malay_indonesian("Rumah sakit dan sepak bola.", even, 0.0)
    assert decided and indonesian["id"] > indonesian["ms"]
