"""Language detection and BCP-47 code handling.

The public API speaks BCP-47 (``en``, ``ko``, ``ms``, ``id``); :func:`canonical_code` turns what
callers send (``ko-KR``, ``zsm``, ``eng``) into those codes, and :class:`LanguageDetector` picks
one of the supported languages with a confidence.
"""

from __future__ import annotations

import re

from lingua import Language, LanguageDetectorBuilder

from ..domain import DetectedLanguage
from ..settings import LanguageSettings

UNDETERMINED = "und"

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ko": "Korean",
    "ms": "Malay",
    "id": "Indonesian",
}
"""English names of the languages the service knows, by BCP-47 code."""

_LINGUA: dict[str, Language] = {
    "en": Language.ENGLISH,
    "ko": Language.KOREAN,
    "ms": Language.MALAY,
    "id": Language.INDONESIAN,
}

# ISO 639-2/3 codes and deprecated or macro-language codes, to the BCP-47 code we use.
_ALIASES: dict[str, str] = {
    "eng": "en",
    "kor": "ko",
    "msa": "ms",
    "may": "ms",
    "zsm": "ms",
    "ind": "id",
    "in": "id",  # deprecated ISO 639-1 code of Indonesian
}

_CODE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


def canonical_code(code: str) -> str | None:
    """Canonicalise a BCP-47-like language tag to its primary language subtag.

    ``" ko-KR "`` -> ``"ko"``, ``"zsm"`` -> ``"ms"``, ``"en_US"`` -> ``"en"``, ``"in"`` ->
    ``"id"``. Returns ``None`` for malformed codes (``""``, ``"english"``, ``"xx-!!"``). The result
    is not checked against the supported languages: that is the caller's rule.
    """
    tag = code.strip().casefold().replace("_", "-")
    if not tag or not _CODE_RE.match(tag):
        return None
    primary = tag.split("-", 1)[0]
    return _ALIASES.get(primary, primary)


_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[a-z]+")

# Spelling and vocabulary that tell Malay from Indonesian (lingua alone confuses them).


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MALAY_MARKERS = _words(
    "bahawa kerana boleh selepas iaitu sahaja wang mahu kerajaan beliau daripada kelmarin "
    "semalam kenyataan menerusi ialah jabatan sebarang kakitangan pesakit sebahagian cuba "
    "manakala ringgit akhbar syarikat percuma baharu setiausaha sepatutnya peratus ahad "
    "khamis jumaat polis teksi pangsapuri kewangan akaun perkara semasa rakan dijangka "
    "mahkamah undi siri digelar seketika mendedahkan tentng hospital pekerja bilangan "
    "bagaimanapun walau tuntutan memandangkan dilaporkan mengumumkan"
)
_INDONESIAN_MARKERS = _words(
    "bahwa karena bisa setelah yaitu saja uang mau pemerintah kemarin nggak enggak rupiah "
    "jakarta perusahaan serikat mobil gratis kebijakan sekretaris kantor senin kamis jumat "
    "minggu polisi kepolisian taksi apartemen keuangan akun persen pengadilan karyawan "
    "ujar ujarnya jelasnya diperkirakan rumah sakit hingga sejumlah tim lewat banget "
    "sih dong bilang"
)


class LanguageDetector:
    """Detects the language of a text among the supported ones. Build once; thread-safe."""

    def __init__(self, settings: LanguageSettings) -> None:
        codes: list[str] = []
        for raw in settings.supported:
            code = canonical_code(raw)
            if code is None or code not in _LINGUA:
                raise ValueError(f"unsupported language in settings: {raw!r}")
            if code not in codes:
                codes.append(code)
        self.supported: tuple[str, ...] = tuple(codes)
        self.min_confidence = settings.min_confidence
        languages = [_LINGUA[c] for c in codes]
        builder = (
            LanguageDetectorBuilder.from_languages(*languages)
            if len(languages) > 1
            else LanguageDetectorBuilder.from_languages(*languages, Language.LATIN)
        )
        self._detector = builder.with_preloaded_language_models().build()
        self._code_of = {lang: code for code, lang in _LINGUA.items()}

    def detect(self, text: str) -> DetectedLanguage:
        """Detect the language of ``text``; ``"und"`` when unsure or when it has no letters."""
        sample = text[:5000]
        letters = _LETTER.findall(sample)
        if not letters:
            return DetectedLanguage(UNDETERMINED, 0.0)
        if "ko" in self.supported:
            hangul = sum(1 for ch in letters if _HANGUL.match(ch))
            if hangul / len(letters) >= 0.5:
                return DetectedLanguage("ko", round(min(1.0, 0.5 + hangul / len(letters) / 2), 4))
        values = self._detector.compute_language_confidence_values(sample)
        scores = {
            self._code_of[v.language]: float(v.value) for v in values if v.language in self._code_of
        }
        if "ms" in scores and "id" in scores:
            scores = _resolve_malay_indonesian(sample, scores)
        if not scores:
            return DetectedLanguage(UNDETERMINED, 0.0)
        best = max(scores, key=lambda c: scores[c])
        confidence = max(0.0, min(1.0, scores[best]))
        if confidence < self.min_confidence:
            return DetectedLanguage(UNDETERMINED, round(confidence, 4))
        return DetectedLanguage(best, round(confidence, 4))


def _resolve_malay_indonesian(text: str, scores: dict[str, float]) -> dict[str, float]:
    """Split the Malay + Indonesian mass by marker words when they decide it clearly."""
    words = _WORD.findall(text.casefold())
    ms = sum(1 for w in words if w in _MALAY_MARKERS)
    idn = sum(1 for w in words if w in _INDONESIAN_MARKERS)
    if ms == idn:
        return scores
    pool = scores["ms"] + scores["id"]
    # Laplace-smoothed share of the markers, mixed with lingua's own split.
    share_ms = (ms + 0.5) / (ms + idn + 1.0)
    lingua_ms = scores["ms"] / pool if pool > 0 else 0.5
    mixed = 0.75 * share_ms + 0.25 * lingua_ms if ms + idn >= 2 else 0.5 * (share_ms + lingua_ms)
    out = dict(scores)
    out["ms"] = pool * mixed
    out["id"] = pool * (1.0 - mixed)
    return out
