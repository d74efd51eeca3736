"""Language detection and BCP-47 code handling.

The public API speaks BCP-47 (``en``, ``ko``, ``ms``, ``id``); :func:`canonical_code` turns what
callers send (``ko-KR``, ``zsm``, ``eng``) into those codes, and :class:`LanguageDetector` tells
the language of a text with a confidence.

Detection runs in two steps. A detector over all 75 languages lingua knows (its low-accuracy
mode: trigram models only, about 130 MB resident and a few seconds to load, where the
high-accuracy models of all languages take 1.3 GB and a minute) says whether the text is in one
of the supported languages at all; a text in another language gets that language's true code
and the status ``unsupported``. Only then does the high-accuracy detector over the supported
languages, with word markers for Malay against Indonesian, choose among them.

The all-languages look is the costly one (about 3 ms per 1,000 characters of Latin text, against
0.5 ms for the supported languages' detector), so a cheaper first pass decides when it is
needed: a long text whose common function words are English, or Malay/Indonesian, in a share that
no other language reaches (``function_word_shortcut``), is in a supported language, and a text
written mostly in Hangul is Korean; neither is looked at over all the languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from lingua import Language, LanguageDetectorBuilder

from ..domain import DetectedLanguage
from ..settings import LanguageSettings
from ..text.patterns import HANGUL_LETTER as _HANGUL
from ..text.patterns import LETTER as _LETTER

UNDETERMINED = "und"

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ko": "Korean",
    "ms": "Malay",
    "id": "Indonesian",
}
"""English names of the languages the service supports, by BCP-47 code."""


def language_name(code: str) -> str:
    """English name of a language the detector knows (``"pt"`` -> ``"Portuguese"``)."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    for language in Language.all():
        if language.iso_code_639_1.name.casefold() == code:
            return language.name.title()
    return code


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


_WORD = re.compile(r"[a-z]+")
_CHUNK_SPLIT = re.compile(r"\n\s*\n|\n|(?<=[.!?\u3002])\s+")

# Spelling and vocabulary that tell Malay from Indonesian (lingua alone confuses them). Only
# words that the other language does not use in the same sense: "rumah", "saja", "setelah" and
# "minggu" are both Malay and Indonesian and are left out.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MALAY_MARKERS = _words(
    "bahawa kerana boleh selepas iaitu sahaja wang mahu kerajaan beliau daripada kelmarin "
    "kenyataan menerusi ialah jabatan sebarang kakitangan pesakit sebahagian cuba "
    "manakala ringgit akhbar syarikat percuma baharu setiausaha sepatutnya peratus ahad "
    "khamis jumaat isnin polis teksi pangsapuri kewangan akaun perkara semasa dijangka "
    "mahkamah undi siri digelar seketika mendedahkan hospital bilangan "
    "bagaimanapun walau tuntutan memandangkan mengumumkan berfikir berfikiran fikir fikiran "
    "pejabat kenderaan cukai bomba doktor kempen projek belia kanak bapa lelaki faham "
    "berjaya cuti dianggarkan seramai awak pasal cerewet hendak sejuk nafas tersilap silap "
    "pawagam telefon bimbit kualiti universiti komuniti aktiviti kemudahan lebuhraya "
    "ogos julai disember mac jun dipercayai sempena terbabit tiada "
    "menjejaskan pelbagai berbeza beza cuba lepas semalam esok petang seramai mesti kerap "
    "sentiasa pengarah parlimen kumpulan tempatan kawasan berhampiran serantau antarabangsa "
    "sokongan menyokong kajian penyelidik mengesahkan menafikan berlaku mangsa cedera "
    "kemalangan pemandu kedai beg kasut memberitahu maklumat berbanding mengikut berkenaan "
    "bermula ujian pasukan syarikat pengurus jenama bajet bilion filem muzik kelab "
    "encik berkuasa negeri bandar laman nak memaklumkan mendapati kenyataannya "
    "perbelanjaan pelaburan pelabur perniagaan peniaga pengeluar "
    "pertubuhan persatuan kesihatan jualan bahagian kebelakangan ketelusan penyiasatan "
    "dikenali dijumpai merebak rantau standard parti teruk mempunyai berbincang menjerit "
    "bertanggungjawab rosak merancang umur kebanyakan perlawanan jurulatih"
)
_INDONESIAN_MARKERS = _words(
    "bahwa karena bisa yaitu uang mau pemerintah kemarin nggak enggak gak rupiah "
    "jakarta perusahaan mobil kebijakan sekretaris kantor senin kamis jumat "
    "polisi kepolisian taksi apartemen keuangan akun persen pengadilan karyawan "
    "ujar ujarnya jelasnya diperkirakan tim lewat banget sih dong bilang aja udah "
    "bandara pemilu proyek kampanye dokter kendaraan pajak pria bapak paham pikir "
    "berhasil libur napas maret juni juli agustus desember bioskop ponsel telepon "
    "kualitas universitas aktivitas komunitas kapasitas mayoritas identitas realitas "
    "prioritas fasilitas kayak gimana tersebut berbagai berbeda beda coba sore besok "
    "senantiasa mantan direktur parlemen kelompok lokal setempat dukungan "
    "mendukung penelitian peneliti mengonfirmasi terjadi kecelakaan pengemudi sopir "
    "toko tas sepatu informasi dibandingkan terkait dimulai tes manajer merek "
    "miliar film musik klub anggota provinsi imbuhnya bagian dikenal ditemukan standar "
    "partai parah memiliki berdiskusi berteriak rusak berencana saksikan gawang pelatih "
    "menambahkan penyerangan siang gratis belanja pengusaha investasi investor bisnis produksi "
    "kesehatan"
)
_MALAY_BIGRAMS = frozenset(
    {"pilihan raya", "dewan rakyat", "ibu bapa", "kanak kanak", "ke atas", "oleh kerana"}
)
_INDONESIAN_BIGRAMS = frozenset(
    {"rumah sakit", "kereta api", "anak anak", "sepak bola", "tanggung jawab", "memberi tahu"}
)
#: The first words of the marker bigrams: only a pair of words that starts with one may be one.
_BIGRAM_FIRST = frozenset(b.split(" ", 1)[0] for b in _MALAY_BIGRAMS | _INDONESIAN_BIGRAMS)
_LATIN_CODES = ("en", "ms", "id")

# Function words, for short texts where lingua's character models are least sure.
_ENGLISH_FUNCTION = _words(
    "the a an of to in on at is are was were be been it its this that these those and or but "
    "with for from by as not no do does did how what who why where when which you your i me my "
    "he she they we our their his her has have had will would can could should there here"
)
_MALAY_FUNCTION = _words(
    "yang dan di ke dari pada untuk dengan ini itu adalah ialah akan telah sudah oleh dalam "
    "tidak tak juga atau kepada ia dia mereka kami kita saya anda lagi pun sebab kalau bila"
)

# The cheaper first pass (see the module doc): shares of the words of a text that are English, or
# Malay/Indonesian, function words, above which the text is in a supported language. Measured on
# the development sets (texts of 40 words or more): English news 0.22-0.45 (median 0.37) English
# function words, Malay and Indonesian 0.11-0.28 Malay ones; the unsupported languages at most
# 0.14 English (Danish, whose "i", "at" and "for" are English function words too; Portuguese
# and Vietnamese 0.10) and 0.05 Malay (Italian "di"). Each part of the text (a paragraph or a
# line) must show it too, at a lower bar (single sentences vary more): a part below both bars
# (a quote in another language, a line in another script) is foreign-looking, and a text with
# more than a tenth of its letters in such parts is looked at over all the languages (it may be
# mixed). On langid_dev's sentences the part bars pass 94-98% of the supported languages' letters
# and 0-15% of the unsupported ones'.
# What lingua reads of a long text, to choose among the supported languages and in the
# all-languages look: parts taken evenly through it (:func:`_spread`) up to this many
# characters; its answer on a long text is settled well before that, and its work grows with
# the length (the all-languages look: about 3 ms per 1,000 characters of Latin text).
_LINGUA_CHARS = 1500

_SHORTCUT_MIN_WORDS = 40
_SHORTCUT_ENGLISH = 0.25
_SHORTCUT_MALAY = 0.12
_SHORTCUT_PART_ENGLISH = 0.15
_SHORTCUT_PART_MALAY = 0.10
_SHORTCUT_MAX_FOREIGN = 0.1


@dataclass(frozen=True)
class LanguageAnalysis:
    """What :meth:`LanguageDetector.analyse` found: the answer and why."""

    language: DetectedLanguage
    status: str = "ok"
    """``ok``; ``unsupported`` (a language the service does not support, reported with its own
    code and the detector's confidence); ``mixed`` (no language holds most of the text);
    ``undetermined`` (no letters, or no language above the confidence threshold);
    ``ambiguous`` (Malay or Indonesian, and the text does not say which: reported as the
    preferred one)."""
    shares: dict[str, float] = field(default_factory=dict)
    """Share of the text's letters per language, where the text was looked at in parts."""

    def message(self) -> str:
        """A sentence for the caller when the status is not ``ok``."""
        lang = self.language
        if self.status == "unsupported":
            return (
                f"the text is in {language_name(lang.code)} ({lang.code}, confidence "
                f"{lang.confidence:.2f}), which this server does not support; the brief was made "
                "by the extractive summariser with generic sentence rules, so check it; give "
                "source_language if the detection is wrong"
            )
        if self.status == "mixed":
            parts = ", ".join(
                f"{language_name(c)} {share:.0%}"
                for c, share in sorted(self.shares.items(), key=lambda kv: -kv[1])
                if share >= 0.05
            )
            return (
                f"the text mixes languages ({parts}); no language holds most of it, so it is "
                "reported as 'und' and generic sentence rules were used; give source_language "
                "to choose one"
            )
        if self.status == "undetermined":
            return (
                "the language could not be detected with confidence (best guess confidence "
                f"{lang.confidence:.2f}); it is reported as 'und' and generic sentence rules "
                "were used; give source_language to choose one"
            )
        if self.status == "ambiguous":
            return (
                "the text is Malay or Indonesian and does not show which (no spelling or word "
                f"that only one of them uses); reported as {lang.code!r} with confidence "
                f"{lang.confidence:.2f}; give source_language to choose"
            )
        return ""


class LanguageDetector:
    """Detects the language of a text among the supported ones. Build once; thread-safe."""

    def __init__(self, settings: LanguageSettings, *, preload: bool = True) -> None:
        """``preload``: load every model now (on lingua's thread pool); False: lingua loads a
        model when a text first needs it, on the calling thread (for a process whose models
        were loaded by the process it was forked from, see :func:`load_models`)."""
        codes: list[str] = []
        for raw in settings.supported:
            code = canonical_code(raw)
            if code is None or code not in _LINGUA:
                raise ValueError(f"unsupported language in settings: {raw!r}")
            if code not in codes:
                codes.append(code)
        self.supported: tuple[str, ...] = tuple(codes)
        self.min_confidence = settings.min_confidence
        self.mixed_threshold = settings.mixed_threshold
        self.malay_prior = settings.malay_prior
        self.min_letters = settings.min_letters
        languages = [_LINGUA[c] for c in codes]
        builder = (
            LanguageDetectorBuilder.from_languages(*languages)
            if len(languages) > 1
            else LanguageDetectorBuilder.from_languages(*languages, Language.LATIN)
        )
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()
        self._code_of = {lang: code for code, lang in _LINGUA.items()}
        # every language lingua knows, to tell "not a supported language" (see the module doc)
        everything = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()
        if preload:
            everything = everything.with_preloaded_language_models()
        self._all = everything.build()
        self.unsupported_margin = settings.unsupported_margin
        self.unsupported_min_letters = settings.unsupported_min_letters
        self.unsupported_short_margin = settings.unsupported_short_margin
        self.function_word_shortcut = settings.function_word_shortcut
        # (family, function words, bar over the text, bar over each part) of the supported ones
        self._shortcut_sides = [
            side
            for side, family in (
                (("en", _ENGLISH_FUNCTION, _SHORTCUT_ENGLISH, _SHORTCUT_PART_ENGLISH), {"en"}),
                (("ms", _MALAY_FUNCTION, _SHORTCUT_MALAY, _SHORTCUT_PART_MALAY), {"ms", "id"}),
            )
            if family & set(codes)
        ]

    def detect(self, text: str) -> DetectedLanguage:
        """Detect the language of ``text``; ``"und"`` when unsure, mixed or without letters."""
        return self.analyse(text).language

    def analyse(self, text: str) -> LanguageAnalysis:
        """The language of ``text`` with its confidence, and whether it is mixed or unsure.

        Long texts are looked at in parts (paragraphs, or sentences): when no language holds
        ``mixed_threshold`` of the letters (Korean syllables count 2.5 letters each, as they
        carry more), the answer is ``und`` with status ``mixed``. Malay and Indonesian count as
        one language for that purpose.
        """
        sample = text[:5000]
        if not _LETTER.search(sample):
            return LanguageAnalysis(DetectedLanguage(UNDETERMINED, 0.0), "undetermined")
        parts = [_Part(c) for c in _chunks(sample)]
        # the all-languages look, once for the whole text, unless the cheaper first pass shows
        # that the text is in a supported language (then None: not needed)
        broad = None if self._clearly_supported(parts) else self._broad(sample)
        shares = self._shares(parts, broad[2] if broad else 1.0, shortcut=broad is None)
        if shares:
            family: dict[str, float] = {}
            for code, share in shares.items():
                key = "ms" if code in ("ms", "id") else code
                family[key] = family.get(key, 0.0) + share
            top = max(family.values())
            if top < self.mixed_threshold:
                return LanguageAnalysis(
                    DetectedLanguage(UNDETERMINED, round(top, 4)), "mixed", shares
                )
            # detect on the dominant part only: a Korean story with an English quote is Korean
            main = max(family, key=lambda c: family[c])
            if main == "ko":
                part = " ".join(p.text for p in parts if p.letters and p.hangul_led)
                if part and part != sample:
                    # all Hangul-led parts: Korean by the script rule, no all-languages look
                    sample, broad = part, None
        result = self._detect_whole(sample, broad=broad, unsupported=broad is not None)
        if shares and result.status == "ok":
            return LanguageAnalysis(result.language, result.status, shares)
        return result

    def _clearly_supported(self, parts: list[_Part]) -> bool:
        """The cheaper first pass over the parts of a text: True when the text is plainly in
        supported languages, so that the all-languages look can tell nothing more (see the
        module doc and the bars above). Every part, but for a tenth of the letters, is mostly
        Hangul (Korean supported) or clears a family's part bar; and the text's words outside
        the Hangul parts are few (under 40, when Hangul leads) or clear that family's bar over
        the text. Marks the parts that read as plain English (:attr:`_Part.english`)."""
        if not self.function_word_shortcut or (
            not self._shortcut_sides and "ko" not in self.supported
        ):
            return False
        korean = "ko" in self.supported
        total = foreign = 0.0
        hangul_letters = other_letters = 0
        words_seen = 0
        hits = [0] * len(self._shortcut_sides)
        for part in parts:
            if not part.letters:
                continue
            total += part.weight
            if korean and part.hangul_led:
                hangul_letters += len(part.letters)
                continue
            other_letters += len(part.letters)
            words = _WORD.findall(part.text.casefold())
            words_seen += len(words)
            cleared: set[str] = set()
            found_any: set[str] = set()
            for i, (name, function_words, _, part_bar) in enumerate(self._shortcut_sides):
                found = sum(1 for w in words if w in function_words)
                hits[i] += found
                if found:
                    found_any.add(name)
                    if found >= part_bar * len(words):
                        cleared.add(name)
            if not cleared:
                foreign += part.weight
            # English function words in plenty and not one Malay/Indonesian one
            part.english = found_any == cleared == {"en"}
        if total == 0 or foreign > _SHORTCUT_MAX_FOREIGN * total:
            return False
        if hangul_letters >= other_letters and words_seen < _SHORTCUT_MIN_WORDS:
            return True  # Korean, with a few words of Latin script that read as supported
        if words_seen < _SHORTCUT_MIN_WORDS:
            return False
        return any(
            found >= text_bar * words_seen
            for found, (_, _, text_bar, _) in zip(hits, self._shortcut_sides, strict=True)
        )

    def _detect_whole(
        self,
        sample: str,
        *,
        unsupported: bool = True,
        broad: tuple[str, float, float] | None = None,
        letters: list[str] | None = None,
    ) -> LanguageAnalysis:
        """The language of ``sample``; with ``unsupported=False`` only among the supported ones
        (no look at all the languages lingua knows); ``broad``: that look, made already;
        ``letters``: the sample's letters, found already."""
        if letters is None:
            letters = _LETTER.findall(sample)
        if "ko" in self.supported:
            hangul = _hangul_count(letters)
            if hangul / len(letters) >= 0.5:
                conf = round(min(1.0, 0.5 + hangul / len(letters) / 2), 4)
                return LanguageAnalysis(DetectedLanguage("ko", conf))
        if len(letters) < self.min_letters:
            return LanguageAnalysis(DetectedLanguage(UNDETERMINED, 0.0), "undetermined")
        result = self._detect_supported(sample, letters)
        # the all-languages view (trigrams only) is less sure of a few words: it must then
        # be clearer before a text is called unsupported, and an unclear one stays 'und'
        # (a Chinese, Japanese or Thai character carries about a word: it counts three letters)
        dense = sum(1 for ch in letters if "\u0e00" <= ch <= "\u0e7f" or ch >= "\u2e80")
        short = len(letters) + 2 * dense < self.unsupported_min_letters
        if (short and result.language.code == UNDETERMINED) or not unsupported:
            return result
        other, other_score, supported_mass = broad or self._broad(sample)
        margin = self.unsupported_short_margin if short else self.unsupported_margin
        if other and other_score >= supported_mass + margin:
            return LanguageAnalysis(DetectedLanguage(other, round(other_score, 4)), "unsupported")
        if result.language.code == UNDETERMINED:
            return result
        # never surer that it is this language than that it is a supported language at all
        capped = min(result.language.confidence, round(supported_mass, 4))
        return LanguageAnalysis(DetectedLanguage(result.language.code, capped), result.status)

    def _broad(self, sample: str) -> tuple[str, float, float]:
        """The best language outside the supported ones with its score ("" when the best of all
        is a supported one), and the joint score of the supported languages, over all the
        languages lingua knows (Malay and Indonesian count as one when either is supported)."""
        family = set(self.supported)
        if family & {"ms", "id"}:
            family |= {"ms", "id"}
        supported_mass = 0.0
        best, best_score = "", 0.0
        for value in self._all.compute_language_confidence_values(_spread(sample, _LINGUA_CHARS)):
            code = value.language.iso_code_639_1.name.casefold()
            if code in family:
                supported_mass += float(value.value)
            elif float(value.value) > best_score:
                best, best_score = code, float(value.value)
        return best, best_score, min(1.0, supported_mass)

    def _detect_supported(self, sample: str, letters: list[str]) -> LanguageAnalysis:
        # lingua reads a bounded sample of a long text; the words that tell Malay from
        # Indonesian are counted over all of it
        values = self._detector.compute_language_confidence_values(_spread(sample, _LINGUA_CHARS))
        scores = {
            self._code_of[v.language]: float(v.value) for v in values if v.language in self._code_of
        }
        if not scores:
            return LanguageAnalysis(DetectedLanguage(UNDETERMINED, 0.0), "undetermined")
        if len(letters) < 200:
            scores = _function_word_vote(sample, scores)
        status = "ok"
        if "ms" in scores and "id" in scores:
            scores, decided = _resolve_malay_indonesian(sample, scores, self.malay_prior)
            pool = scores["ms"] + scores["id"]
            other = max((v for c, v in scores.items() if c not in ("ms", "id")), default=0.0)
            if pool >= self.min_confidence and pool - other >= 0.2:
                best = "ms" if scores["ms"] >= scores["id"] else "id"
                if not decided:
                    status = "ambiguous"
                # the confidence that it is this language (the family is surer than that)
                return LanguageAnalysis(DetectedLanguage(best, round(scores[best], 4)), status)
        best = max(scores, key=lambda c: scores[c])
        confidence = max(0.0, min(1.0, scores[best]))
        if confidence < self.min_confidence:
            return LanguageAnalysis(
                DetectedLanguage(UNDETERMINED, round(confidence, 4)), "undetermined"
            )
        return LanguageAnalysis(DetectedLanguage(best, round(confidence, 4)), status)

    def _shares(
        self, parts: list[_Part], supported_mass: float, *, shortcut: bool = False
    ) -> dict[str, float]:
        """Letter-weighted share of each language over the parts of a long text ({} if short).
        ``shortcut``: the cheaper first pass found the text plainly in supported languages, and
        a part it found plainly English (:attr:`_Part.english`) is English without a detector."""
        chunks = [p for p in parts if len(p.letters) >= 20]
        if len(chunks) < 2:
            return {}
        # A text the all-languages view finds clearly in the supported languages has its parts
        # told apart among those alone (the costly all-languages look once, not once a part).
        everywhere = supported_mass < 1.0 - self.unsupported_margin
        korean = "ko" in self.supported
        weights: dict[str, float] = {}
        total = 0.0
        for part in chunks:
            total += part.weight
            if korean and part.hangul_led:
                code = "ko"
            elif shortcut and part.english:
                code = "en"
            else:
                code = self._detect_whole(
                    part.text, unsupported=everywhere, letters=part.letters
                ).language.code
            weights[code] = weights.get(code, 0.0) + part.weight
        known = {c: w for c, w in weights.items() if c != UNDETERMINED}
        if sum(known.values()) < 0.5 * total:
            return {}  # mostly short or unsure parts: judge the text as a whole
        return {c: round(w / total, 4) for c, w in weights.items()}


class _Part:
    """A part of a text (a paragraph, line or sentence) with what the detector reads off it."""

    __slots__ = ("english", "hangul", "hangul_led", "letters", "text", "weight")

    def __init__(self, text: str) -> None:
        self.text = text
        self.letters: list[str] = _LETTER.findall(text)
        self.hangul = _hangul_count(self.letters)
        self.hangul_led = 2 * self.hangul >= len(self.letters) > 0
        # Korean syllables count 2.5 letters each, as they carry more
        self.weight = len(self.letters) + 1.5 * self.hangul
        self.english = False
        """Plainly English by its function words (set by the cheaper first pass)."""


def _spread(text: str, limit: int) -> str:
    """``text`` itself when it has at most ``limit`` characters, else whole parts of it taken
    evenly from its start to its end up to ``limit`` characters (a first part longer than that
    cut at a space)."""
    if len(text) <= limit:
        return text
    parts = _chunks(text)
    mean = sum(len(p) + 1 for p in parts) / len(parts)
    wanted = max(1, min(len(parts), int(limit / mean)))
    step = len(parts) / wanted
    picked: list[str] = []
    used = 0
    for i in range(wanted):
        part = parts[int(i * step)]
        if used + len(part) > limit:
            if not picked:
                cut = part.rfind(" ", 0, limit)
                picked.append(part[: cut if cut > 0 else limit])
            break
        picked.append(part)
        used += len(part) + 1
    return "\n".join(picked)


# A text in each script whose languages lingua tells apart with its models (one language to a
# script, such as Korean or Greek, is told by the script alone): detecting them loads the models.
_WARM_UP_TEXTS = (
    "the council said that the new plan would begin next year, kata menteri itu semalam",
    "правительство заявило, что новый план начнётся в следующем году",
    "قالت الحكومة إن الخطة الجديدة ستبدأ العام المقبل",
    "सरकार ने कहा कि नई योजना अगले साल शुरू होगी",
    "政府表示新计划将于明年开始",
    # letter triples no language's trigram model holds: lingua then falls back to its smaller
    # n-gram models, which it loads at that first need (about 50 ms), as for a Welsh place name
    "Xylqwz Tydfil",
)


def load_models(settings: LanguageSettings) -> None:
    """Load the models a :class:`LanguageDetector` of ``settings`` uses into lingua's cache
    (one for the whole process) without starting a thread, for a process that forks workers:
    they then share the models copy-on-write instead of each loading its own (about 130 MiB).

    lingua's preloading (``preload=True``) runs on a thread pool, and a process forked after
    that deadlocks when it uses the pool in turn: here each model loads lazily, on this thread,
    as a text of its script first needs it. A model no text here loaded (a language told by its
    script alone) is loaded by a worker when it needs it."""
    detector = LanguageDetector(settings, preload=False)
    for text in _WARM_UP_TEXTS:
        detector._all.compute_language_confidence_values(text)
        detector._detector.compute_language_confidence_values(text)


def _chunks(text: str) -> list[str]:
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    if len(parts) >= 2:
        return parts
    return [p.strip() for p in _CHUNK_SPLIT.split(text) if p.strip()]


def _hangul_count(letters: list[str]) -> int:
    """How many of ``letters`` (single characters) are Hangul."""
    return len(_HANGUL.findall("".join(letters)))


def _hangul_share(text: str) -> float:
    letters = _LETTER.findall(text)
    return _hangul_count(letters) / len(letters) if letters else 0.0


def _function_word_vote(text: str, scores: dict[str, float]) -> dict[str, float]:
    """Short Latin texts: move lingua's mass between English and Malay/Indonesian when the
    function words clearly say which (lingua's character n-grams are weakest there)."""
    words = _WORD.findall(text.casefold())
    en = sum(1 for w in words if w in _ENGLISH_FUNCTION)
    ms = sum(1 for w in words if w in _MALAY_FUNCTION)
    if "en" not in scores or en == ms or max(en, ms) < 2:
        return scores
    out = dict(scores)
    malayic = out.get("ms", 0.0) + out.get("id", 0.0)
    pool = out["en"] + malayic
    en_share = (en + 0.5) / (en + ms + 1.0)
    target_en = pool * (0.5 * en_share + 0.5 * (out["en"] / pool if pool else 0.5))
    if malayic > 0:
        scale = (pool - target_en) / malayic
        for code in ("ms", "id"):
            if code in out:
                out[code] *= scale
    out["en"] = target_en
    return out


def _resolve_malay_indonesian(
    text: str, scores: dict[str, float], malay_prior: float
) -> tuple[dict[str, float], bool]:
    """Split the Malay + Indonesian mass by marker words and spellings; returns the scores and
    whether the text decided it (markers on one side). Without markers lingua's split is kept,
    leaned towards Malay by ``malay_prior`` (lingua leans to Indonesian on short Malay)."""
    words = _WORD.findall(text.casefold())
    bigrams = {f"{a} {b}" for a, b in pairwise(words) if a in _BIGRAM_FIRST}
    ms = sum(1 for w in words if w in _MALAY_MARKERS or (len(w) >= 6 and w.endswith("iti")))
    idn = sum(1 for w in words if w in _INDONESIAN_MARKERS or (len(w) >= 7 and w.endswith("itas")))
    ms += len(bigrams & _MALAY_BIGRAMS)
    idn += len(bigrams & _INDONESIAN_BIGRAMS)
    pool = scores["ms"] + scores["id"]
    lingua_ms = scores["ms"] / pool if pool > 0 else 0.5
    if ms == idn:
        share = min(1.0, lingua_ms + malay_prior)
        decided = abs(share - 0.5) >= 0.25
    else:
        # Laplace-smoothed share of the markers, weighed over lingua's own split
        markers = (ms + 0.5) / (ms + idn + 1.0)
        weight = 0.9 if ms + idn >= 2 else 0.75
        share = weight * markers + (1 - weight) * lingua_ms
        decided = True
    out = dict(scores)
    out["ms"] = pool * share
    out["id"] = pool * (1.0 - share)
    return out, decided
