"""What a line of a brief may be: a sentence, never a table row, a menu or page furniture, and
how a long sentence is compressed without losing its main clause.

The rules, used by the extractive brief (:mod:`.extractive`) for its summary and key points:

* :func:`is_sentence`: it opens as a sentence (a capital, a digit or an opening quote in cased
  scripts) and ends as one (``.``, ``!``, ``?``, ``…``, ``。``, a closing quote or bracket after
  them; Korean also a final ``다``/``요``/``죠``/``까``);
* :func:`is_listing`: a table row (two or more ``|``), a list of bullets or a rule of box
  characters, a breadcrumb, or a run of capitalised words with hardly a function word (a menu
  or tag list);
* :func:`is_furniture`: a line of the page, not of the story: cookie and consent banners, "enable
  JavaScript", sign-in and subscription calls, photo credits and media captions, bylines with a
  date or time;
* :func:`compress`: the same sentence with what can go taken out, in this order, each step kept
  only while what is left still is a sentence: parentheticals, attributions ("..., the mayor
  said."), non-restrictive relative clauses and appositives between commas, a leading adverbial
  or subordinate clause up to its comma, and a trailing clause after a semicolon or after a comma
  and a conjunction. The main clause, with its subject and verb, always stays; the result is
  never a prefix cut mid-clause nor a subordinate clause alone. Korean sentences only lose
  parentheticals (their clause order puts the main verb last).

All rules are tables of patterns (as trafilatura keeps its XPaths beside the algorithm), written
for English, Malay and Indonesian, with Korean endings; for other languages only the
punctuation rules apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from newsbrief.service.text.patterns import HANGUL
from newsbrief.service.text.words import word_set

MAX_COMPRESSED_CHARS = 2000
"""A longer "sentence" is not compressed (a news sentence is far shorter; the steps' work is
bounded by it on hostile text)."""
CLOSERS = "\"'\u201d\u2019)]\u00bb\u300d\u300f"
"""Characters that may follow a sentence's final punctuation (closing quotes and brackets)."""
OPENERS = "\"'\u201c\u2018([\u00ab\u300c\u300e"
"""Characters that may precede a sentence's first word (opening quotes and brackets)."""
_TERMINAL = ".!?\u2026\u3002\uff01\uff1f"
_KOREAN_END = re.compile(r"(?:다|요|죠|까|오|라|음|임|함)$")

# ---- listings: table rows, menus, tag lists ----------------------------------------------------

_BOX_RULE = re.compile(r"[\u2500-\u257f\u2580-\u259f=_~*-]{4,}")
_BULLETS = re.compile(r"[\u2022\u25cf\u25aa\u25a0\u00b7\u2023\u25e6]")
_BREADCRUMB = re.compile(r"\s(?:>|\u00bb|\u203a|/)\s")
_BRACKET_TAG = re.compile(r"\[[\w\s-]{1,20}\]")
_LABEL_BAR = re.compile(r"^[^|.!?]{1,40}\s\|\s")
_FUNCTION_WORDS = word_set(
    """a an the and or but of to in on at by for from with as into is are was were be been has
    have had will would can could may might must it its this that these those he she they we
    you who which what not no said says yang dan di ke dari pada untuk dengan ini itu adalah
    akan telah sudah oleh dalam tidak bagi juga atau kepada bahawa bahwa ia dia mereka"""
)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")

# ---- furniture: lines of the page, not of the story ------------------------------------------

_FURNITURE = re.compile(
    r"""(?ix)
      ^(?=.*\bcookies?\b)(?=.*\b(?:sites?|browsing|navigation|experience|accept|consent|polic|
        settings|partners|personali[sz]|advertis|analytics|track)\w*)
    | \b(?:manage|your)\ (?:consent|cookie|privacy)\ (?:preferences|settings|choices)\b
    | \b(?:grant|give|withdraw)\ (?:your\ )?consent\b|\bby\ clicking\b
    | ^(?=.*\bpersonal\ (?:data|information)\b)(?=.*\b(?:process|share|partners|consent|collect)\w*)
    | ^(?=.*\b(?:privacy\ polic|terms\ of\ (?:use|service)|terms\ and\ conditions|cookie\ polic))
       (?=.*\b(?:agree|accept|acknowledge|read\ our|review|updated|governed|understand)\w*)
    | \bsubscriber\ agreement\b|\bcopyright\ law\b|\bshare\ this\ (?:feature|article|story|page)\b
    | \b(?:enable|enabled|turn\ on|requires?|disabled)\b.{0,40}\bjavascript\b
    | \bjavascript\b.{0,40}\b(?:enable|enabled|disabled|required|turned\ off)\b
    | \b(?:update|upgrade)\ your\ browser\b|\byour\ browser\ (?:does\ not|doesn't|is\ not)\b
    | ^(?:please\ )?(?:sign\ in|log\ in|login|sign\ up|register|subscribe)\b
    | \b(?:already\ a\ (?:subscriber|member)|create\ (?:an|your|a\ free)\ account)\b
    | \bsubscribe\ (?:now|today|to\ (?:our|the)\ newsletter|for\ (?:just|only|unlimited))\b
    | \bsubscribers?\ only\b|\bsubscription\ (?:required|offer)\b
    | \bsign\ up\ (?:for\ (?:our|the|a\ free)|now|today|here)\b|\bnewsletter\ sign[\ -]?up\b
    | ^(?:media|image|video)\ (?:caption|copyright)\b|^(?:photo|image|picture)\ (?:credit|by)\b
    | \((?:photo|image|picture|credit)s?\b[^)]{0,60}\)|\bcredit:\s
    | \b(?:getty\ images|ap\ photo|afp\ photo|reuters\ photo)\b
    | ^by\ [^.!?]{2,80}\b(?:\d{1,2}:\d{2}|\d{1,2}/\d{1,2}/\d{2,4}
        |(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\ \d{1,2})
    | ^(?:updated|published|posted|last\ updated)\b[^!?]{0,60}?\d
    | \ball\ rights\ reserved\b|\u00a9\s*\d{4}
    | \b(?:our|the)\ (?:privacy|cookie)\ (?:policy|policies|notice)\b|\bregister\ for\ free\b
    | \bour\b[^.!?]{0,40}\b(?:privacy|cookie|advertising)\ polic
    | \b(?:this\ )?(?:video|media|content)\ (?:is\ )?(?:unavailable|not\ available)\b
    | \b(?:values?|appreciates?)\ your\ feedback\b|\bproviding\ this\ feedback\b
    | \blast\ updated\b|\bupdated:\s
    | \d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?\s*(?:gmt|ist|e[sd]t|bst|utc|pt)\b
      (?:,?\s+\w+day)?,?\s+(?:\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}\s+\w+\s+\d{4}|\w+\s+\d{1,2},?\s+\d{4})
    | (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2},?\s+\d{4},?\s+
      (?:at\s+)?\d{1,2}:\d{2}
    | <[a-z/!][^>]*>|&[a-z]{2,8};|&\#\d+;
    | 쿠키|무단\s*전재|재배포\s*금지|구독|로그인
    | \bkuki\b|\blog\ masuk\b|\blanggan(?:an)?\ (?:sekarang|kami)\b
    """
)

# every match of _FURNITURE holds one of these, or a clock time (a digit, a colon, a digit), or
# starts with "by ", or is "our ... advertising polic(y)" with a colon somewhere (a cheap first
# look: most sentences of a story hold none, and the full table is slow to search; a colon alone,
# as in every quotation's "said:", does not call for it)
_TRIGGER_WORDS = (
    "cookie", "consent", "personal data", "personal information", "privacy", "terms", "subscri",
    "copyright", "share this", "already a", "javascript", "browser", "sign in", "sign up",
    "sign-in", "sign-up", "log in", "login", "log-in", "register", "account", "newsletter",
    "caption", "photo", "image", "picture", "video", "credit", "getty", "afp", "reuters",
    "updated", "published", "posted", "unavailable", "not available", "feedback", "\u00a9",
    "reserved", "<", "&", "clicking",
    "쿠키", "무단", "재배포", "구독", "로그인", "kuki", "log masuk", "langgan",
)  # fmt: skip
_CLOCK = re.compile(r"\d:\d")


def _may_be_furniture(text: str) -> bool:
    low = text.casefold()
    return (
        low.startswith("by ")
        or any(w in low for w in _TRIGGER_WORDS)
        or (":" in low and (_CLOCK.search(low) is not None or "advertising polic" in low))
    )


# a photo credit in capitals: "VICTOR TANGERMANN, FUTURISM"
_CAPS_CREDIT = re.compile(
    r"^[A-Z][A-Z.'\u2019-]+(?: [A-Z][A-Z.'\u2019-]+)*, ?[A-Z][A-Z.'\u2019 -]+$"
)

# ---- compression ----------------------------------------------------------------------------

_PARENTHETICAL = re.compile(r"\s*(?:\([^()\n]{1,150}\)|\[[^\[\]\n]{1,150}\])")
_DASH_ASIDE = re.compile(
    r"\s+[\u2014\u2013]\s+[^\u2014\u2013]{1,150}?\s+[\u2014\u2013](?=\s)|\s+--\s+[^-]{1,150}?\s+--(?=\s)"
)
_SAY = (
    r"(?:said|says|say|added|adds|explained|noted|wrote|told\ [\w\s.'\u2019-]{1,40}?|"
    r"according\ to\ [^,.;\"\u201c\u201d]{1,80}?|stated|announced|insisted|warned)"
)
_WHEN = r"(?:\s+(?:on|in|at|last|this|late|early|earlier)\b[^,.;\"\u201c\u201d]{0,40}?)?"
_ATTRIBUTION_EN = re.compile(
    rf"""(?x),(?P<q>[\"\u201d\u2019']?)\s+
    (?:{_SAY}\s+[^,.;\"\u201c\u201d]{{1,80}}?{_WHEN}
     |[^,.;\"\u201c\u201d]{{1,80}}?\s+{_SAY}{_WHEN})
    (?P<end>[.!?])$"""
)
_ATTRIBUTION_MS = re.compile(
    r"""(?xi),(?P<q>[\"\u201d\u2019']?)\s+
    (?:kata|katanya|ujar|ujarnya|jelas|jelasnya|ungkap|ungkapnya|tambah|tambahnya|tutur|
       tuturnya|terang|terangnya|menurut|sebut|sebutnya|kata\s+beliau)\b[^\"\u201c\u201d]{0,120}
    (?P<end>[.!?])$"""
)
_RELATIVE = re.compile(
    r"""(?x),\s+(?:which|who|whose|whom|where|yang)\b[^,;:()\"\u201c\u201d]{2,150},\s+(?=[a-z])"""
)
_APPOSITIVE = re.compile(
    r"""(?x)(?<=[A-Za-z\u00c0-\u024f.])
    ,\s+(?:a|an|the|his|her|their|its|also|now|then|formerly|seorang|bekas|mantan)\s
    [^,;:()\"\u201c\u201d]{2,100},\s+(?=[a-z])"""
)
_LEADERS_EN = (
    r"(?:in|on|at|during|after|before|since|following|last|this|earlier|later|however|"
    r"meanwhile|still|instead|also|now|yet|moreover|separately|previously|indeed|today|"
    r"yesterday|when|while|although|though|as|if|because|with|without|under|despite|"
    r"according|for|by|once|unlike|like|amid|among|until|over|across|in\ addition|"
    r"nevertheless|nonetheless|furthermore|overall|ultimately|finally|first|second|"
    r"currently|recently|traditionally|initially|according\ to)"
)
_LEADERS_MS = (
    r"(?:menurut|sementara\ itu|selain\ itu|bagaimanapun|namun|dalam\ pada\ itu|oleh\ itu|"
    r"sebelum\ ini|sebelumnya|selepas|setelah|ketika|semasa|apabila|jika|walaupun|meskipun|"
    r"dalam|pada|di|justeru|malah|tambahan\ pula|untuk\ itu|dengan\ itu|kemudian|sebaliknya)"
)
_LEADING = re.compile(rf"(?i)^(?:{_LEADERS_EN}|{_LEADERS_MS})\b[^,;:\"\u201c\u201d]{{0,120}}?,\s+")
_TRAILING = re.compile(
    r"""(?x)(?:;\s+|,\s+(?:but|while|although|though|whereas|as|because|after|before|
    which|saying|adding|citing|including|according\ to|even\ though|despite|amid|
    tetapi|namun|manakala|sementara|kerana|karena|sebab|selepas|setelah|yang|termasuk|
    katanya)\b)"""
)
_SUBORDINATORS = word_set(
    """although though while whereas when whenever where wherever if unless because since as
    after before until once whether which who whom whose that so and or but nor
    walaupun meskipun kerana karena apabila jika kalau ketika sewaktu yang bahawa bahwa supaya
    agar sebab sedangkan manakala serta"""
)
_NOT_ONLY = re.compile(r"(?i)\bnot\s+(?:only|just|merely)\b")


def ends_as_sentence(text: str, lang: str = "") -> bool:
    """Whether ``text`` ends as a sentence: final punctuation (then closing quotes or brackets
    only), or, in Korean, a sentence-final ending such as ``다``."""
    core = text.rstrip().rstrip(CLOSERS).rstrip()
    if not core:
        return False
    if core[-1] in _TERMINAL:
        return True
    return (lang == "ko" or bool(HANGUL.search(core[-3:]))) and bool(_KOREAN_END.search(core))


def opens_as_sentence(text: str) -> bool:
    """Whether ``text`` opens as a sentence: its first letter or digit (after opening quotes
    and brackets) is a capital, a digit, or a letter of a script without case."""
    core = text.lstrip().lstrip(OPENERS + " ")
    if not core:
        return False
    first = core[0]
    if first.isdigit():
        return True
    if not first.isalpha():
        return False
    return first.isupper() or first.lower() == first.upper()


def is_sentence(text: str, lang: str = "") -> bool:
    """Whether ``text`` is written as a sentence (:func:`opens_as_sentence` and
    :func:`ends_as_sentence`) with balanced quotes and brackets."""
    return (
        opens_as_sentence(text)
        and ends_as_sentence(text, lang)
        and _balanced(text)
        and not is_listing(text)
    )


def is_listing(text: str) -> bool:
    """A table row, a menu, a tag or link list, a breadcrumb or a rule: not a sentence however
    it ends."""
    if text.count("|") >= 2 or len(_BULLETS.findall(text)) >= 2 or _BOX_RULE.search(text):
        return True
    if len(_BREADCRUMB.findall(text)) >= 2 or len(_BRACKET_TAG.findall(text)) >= 2:
        return True
    if _LABEL_BAR.match(text):
        return True  # a section label before a bar: "Ask Mint | US data ..."
    words = _WORD.findall(text)
    if len(words) < 6 or HANGUL.search(text):
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    if capitalised < 0.6 * len(words):
        return False  # prose: neither of the tests below can hold
    function = sum(1 for w in words if w.casefold() in _FUNCTION_WORDS)
    # a menu or tag list: capitalised words with hardly a function word among them; or a run
    # of titles (Title Case, function words capitalised too)
    return (function <= len(words) // 12 and capitalised >= 0.6 * len(words)) or (
        len(words) >= 10 and capitalised >= 0.8 * len(words)
    )


def is_furniture(text: str) -> bool:
    """A line of the page rather than of the story: consent and cookie banners, JavaScript and
    browser notices, sign-in and subscription calls, photo credits and media captions, bylines
    and update lines with a date or time."""
    text = text.strip()
    if _CAPS_CREDIT.match(text):
        return True
    # the full table only where one of its words is (most sentences of a story have none)
    return _may_be_furniture(text) and bool(_FURNITURE.search(text))


def compress(text: str, lang: str, fits: int, measure: Callable[[str, str], int]) -> str | None:
    """``text`` made to fit ``fits`` units (``measure(text, lang)``) by the steps of this
    module's rules, least change first; None when no compression fits or when ``text`` is not
    a sentence to begin with. The words of the result are words of ``text`` in its order (a
    compression, never a rewording); only a first letter may be capitalised and a final full
    stop added."""
    text = text.strip()
    if not is_sentence(text, lang):
        return None
    if measure(text, lang) <= fits:
        return text
    if len(text) > MAX_COMPRESSED_CHARS:
        return None  # not a news sentence: no compression (bounds the work on hostile text)
    current = text
    for step in _STEPS_KO if lang == "ko" else _STEPS:
        shorter = step(current, lang)
        if shorter is None or shorter == current:
            continue
        shorter = _tidy(shorter)
        if not is_sentence(shorter, lang) or _word_count(shorter) < 5 or _dangles(shorter):
            continue
        current = shorter
        if measure(current, lang) <= fits:
            return current
    return None


def _word_count(text: str) -> int:
    return len(text.split()) if not HANGUL.search(text) else len(text.replace(" ", "")) // 3


_DANGLING = word_set(
    """a an the and or but nor of to in on at by for from with as that which who whose than
    yang dan atau di ke dari untuk dengan bahawa bahwa serta"""
)


def _dangles(text: str) -> bool:
    """Whether ``text`` ends on a word that needs one after it ("... unhindered but.")."""
    words = text.rstrip(CLOSERS + _TERMINAL + " ").split()
    return bool(words) and words[-1].casefold() in _DANGLING


def _balanced(text: str) -> bool:
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        return False
    if text.count('"') % 2:
        return False
    return text.count("\u201c") == text.count("\u201d")


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    text = re.sub(r",\s*([.!?])", r"\1", text)
    return text


def _capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if not (ch in OPENERS or ch.isspace()):
            return text
    return text


def _drop_parentheticals(text: str, lang: str) -> str | None:
    out = _PARENTHETICAL.sub("", text)
    return _DASH_ASIDE.sub("", out)


def _drop_attribution(text: str, lang: str) -> str | None:
    pattern = _ATTRIBUTION_EN if lang not in ("ms", "id") else _ATTRIBUTION_MS
    m = pattern.search(text)
    if m is None:
        return None
    head = text[: m.start()]
    if not head.strip() or head.rstrip()[-1] in _TERMINAL:
        return None
    return f"{head}{m.group('end')}{m.group('q')}"


def _drop_asides(text: str, lang: str) -> str | None:
    out = _RELATIVE.sub(" ", text)
    return _APPOSITIVE.sub(" ", out)


def _drop_leading(text: str, lang: str) -> str | None:
    m = _LEADING.match(text)
    if m is None:
        return None
    rest = text[m.end() :]
    first = rest.split(maxsplit=1)[0].casefold() if rest.split() else ""
    if not first or first.strip("\"'\u201c") in _SUBORDINATORS or len(rest.split()) < 5:
        return None
    return _capitalise(rest)


def _keep_main_clause(text: str, lang: str) -> str | None:
    """The sentence up to the first clause that follows its main clause (after a semicolon,
    or a comma and a conjunction or participle), ended with a full stop."""
    for m in _TRAILING.finditer(text):
        if not m.group().startswith(";") and "," in text[m.end() :]:
            continue  # the clause after the comma is not the sentence's last: it may be an
            # aside inside the main clause ("reforms, which ..., would ...")
        head = text[: m.start()].rstrip(" ,;:")
        if m.group().lstrip(" ,").startswith("but") and _NOT_ONLY.search(head):
            continue  # "not only X, but Y": the head needs its second half
        words = head.split()
        if len(words) < 6 or not _balanced(head):
            continue
        if words[0].casefold().strip(OPENERS) in _SUBORDINATORS:
            return None  # the head is itself a subordinate clause
        end = "." if not head.endswith(tuple(_TERMINAL)) else ""
        return head + end
    return None


_STEPS = (
    _drop_parentheticals,
    _drop_attribution,
    _drop_asides,
    _drop_leading,
    _keep_main_clause,
)
_STEPS_KO = (_drop_parentheticals,)


_FOLD_WORD = re.compile(r"\w+", re.UNICODE)


def is_compression_of(line: str, sentence: str) -> bool:
    """Whether the words of ``line`` are words of ``sentence`` in the same order (case
    ignored): ``line`` is ``sentence`` or a compression of it."""
    words = _FOLD_WORD.findall(line.casefold())
    if not words:
        return False
    source = iter(_FOLD_WORD.findall(sentence.casefold()))
    return all(any(w == s for s in source) for w in words)
