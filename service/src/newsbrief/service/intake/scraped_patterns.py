"""The pattern tables of :mod:`.scraped`: the phrases and patterns of page furniture
(datelines, buttons and labels, headings of related stories and comments, promotions, captions,
source lines, bylines, timestamps) in English, Korean and Malay/Indonesian.
The rules that use them are in :mod:`.scraped`.
"""

from __future__ import annotations

import re

from newsbrief.service.text.numbers import MONTH_TITLES
from newsbrief.service.text.patterns import ALNUM_RUN as _WORD

_MONTHS = rf"(?:{MONTH_TITLES})\.?"
_AGENCIES = (
    r"(?:Reuters|AP|AFP|Bernama|Yonhap|CNN|UPI|dpa|ANI|PTI|IANS|Xinhua|Kyodo|"
    r"AP[ ]Photo|Associated[ ]Press|Agence[ ]France-Presse|Antara)"
)
_CITY = r"(?:[A-Z][A-Za-z.'\u2019\-]+(?:[ ][A-Z][A-Za-z.'\u2019\-]+){0,3})"
_CAPS_CITY = r"(?:[A-Z][A-Z'\u2019\-]+\.?(?:[ ][A-Z][A-Z.'\u2019\-]+){0,3})"
_DASH = r"(?:\u2014|\u2013|--|-)"
_DATELINE = re.compile(
    rf"""^(?P<dl>
      \(\s*[^()\n=]{{1,20}}=\s*[^()\n]{{1,20}}\)\s*
        (?:[^\s=]{{1,12}}\s+(?:[^\s=]{{1,12}}\s+)?기자\s*=\s*)?
    | {_CAPS_CITY}(?:,\ {_CITY})?(?:,?\ {_MONTHS}\ \d{{1,2}}(?:,\ \d{{4}})?)?
        (?:\ ?\({_AGENCIES}\))?\ ?{_DASH}\ ?
    | {_CITY}(?:,\ {_CITY})?,?\ {_MONTHS}\ \d{{1,2}}(?:,\ \d{{4}})?
        (?:\ ?\({_AGENCIES}\))?\ ?{_DASH}\ ?
    | {_CITY}(?:,\ {_CITY})?\ ?\({_AGENCIES}\)\ ?{_DASH}?\ ?
    | \({_AGENCIES}\)\ ?{_DASH}\ ?
    | {_CAPS_CITY}:\ (?=[A-Z])
    )""",
    re.VERBOSE,
)

_SENTENCE_END = re.compile(r"(?:[.!?\u2026\u3002]|[.!?\u2026][\"'\u201d\u2019)\]]+|다|요)$")


def _norm(text: str) -> str:
    """Case-folded words of ``text`` joined by single spaces (for comparing lines)."""
    return " ".join(_WORD.findall(text.casefold()))


def _phrases(text: str) -> frozenset[str]:
    return frozenset(_norm(p) for p in text.split("|") if p.strip())


# Whole paragraphs that are buttons, labels or links of the page's furniture.
_UI_PHRASES = _phrases(
    """share|shares|share this|share this article|media playback is unsupported on your device|
    share this story|share on facebook|
    share on twitter|share via email|tweet|email|print|save|copy link|link copied|comment|comments|
    subscribe|subscribe now|sign in|sign up|log in|login|register|menu|search|close|home|
    skip to content|skip to main content|back to top|next|previous|next article|previous article|
    read more|read full article|read the full story|see more|show more|load more|more|
    continue reading|continue reading the main story|advertisement|sponsored|ad|
    replay|just watched|must watch|more videos|watch|video|photo|photos|gallery|listen|
    play|pause|explore further|view all|view comments|view gallery|expand|collapse|
    facebook|twitter|whatsapp|linkedin|telegram|instagram|youtube|reddit|pinterest|x|
    like|follow|following|bookmark|top|toggle navigation|image|enlarge this image|
    hide caption|toggle caption|show caption|font size|text size|a a|
    kongsi|kongsi artikel|baca lagi|baca juga|iklan|langgan|log masuk|daftar|tutup|
    lihat semua|komen|bagikan|selengkapnya|
    공유|공유하기|구독|구독하기|댓글|좋아요|광고|프린트|스크랩|더보기|기사 더보기|
    닫기|메뉴|검색|로그인|글자크기|글씨 크기|목록|이전|다음|맨위로|맨 위로|기사 공유|페이스북|
    트위터|카카오톡|카카오스토리|네이버밴드|url 복사|링크 복사"""
)
_UI_WORDS = frozenset(w for p in _UI_PHRASES for w in p.split())
_COUNTED_UI = re.compile(r"^\(?\d+\s*(?:videos?|photos?|images?|comments?|shares?)\)?$", re.I)

# Headings that open the list of other stories (everything after them goes).
_RELATED_HEADINGS = _phrases(
    """related|related articles|related article|related stories|related story|related news|
    related content|related coverage|related topics|related links|read next|
    more from|more stories|more news|more on this story|more on this|more like this|
    you may also like|you might also like|you may be interested in|recommended|
    recommended for you|recommended stories|most read|most popular|most viewed|trending|
    trending now|top stories|latest news|latest stories|also read|see also|what to read next|
    editor s picks|from around the web|up next|more top stories|other news|in other news|
    berita berkaitan|artikel berkaitan|berita lain|berita terkini|artikel lain|baca juga|
    berita pilihan|terpopular|paling popular|berita terkait|artikel terkait|
    관련기사|관련 기사|관련뉴스|관련 뉴스|많이 본 뉴스|많이 본 기사|인기기사|인기 기사|
    주요뉴스|주요 뉴스|최신기사|최신 기사|다른 기사|이 시각 주요뉴스|추천 기사|함께 볼만한 기사"""
)
_RELATED_PREFIX = re.compile(
    r"^(?:more from|more stories from|read more on|most read in|latest from|"
    r"berita lain dari|관련\s*(?:기사|뉴스))\b",
    re.I,
)
# Headings that open a comment section (runs until a related-stories heading or the end).
_COMMENT_HEADINGS = _phrases(
    """comments|comment|leave a comment|leave a reply|add a comment|add your comment|
    post a comment|join the conversation|join the discussion|reader comments|show comments|
    view comments|comments are closed|sort by|newest first|oldest first|most liked|
    komen|ulasan|tinggalkan komen|komentar|tulis komentar|
    댓글|댓글쓰기|댓글 쓰기|댓글 보기|전체 댓글|댓글 달기|의견쓰기"""
)
_COMMENT_COUNT = re.compile(
    r"^\(?\d+\)?\s*(?:comments?|replies|komen|komentar|개의 댓글)$|^댓글\s*\d+$", re.I
)

# Promotions: these always are; the weak words only with a word that addresses the reader.
_PROMO = re.compile(
    r"""(?ix)
    \bapp\s*store\b|\bgoogle\s*play\b|\bdownload\s+(?:the|our)\b.{0,30}\bapp\b|\bget\s+the\s+app\b|
    \bin\s+your\s+inbox\b|\bmeet\s+your\s+inbox\b|\bdelivered\s+(?:to\s+your|weekday|daily|every)\b|
    \bfollow\s+(?:us|@?[\w.]+(?:\s+[\w.]+){0,6}\s+on)\s+(?:on\s+)?
        (?:facebook|twitter|instagram|x|youtube|tiktok|whatsapp|telegram|linkedin)\b|
    \bchat\s+with\s+us\b|\bclick\s+here\b|\blike\s+us\s+on\s+facebook\b|\bsponsored\s+content\b|
    \bpaid\s+(?:content|partner)\b|\bsupport\s+(?:our|independent)\s+journalism\b|
    \bbecome\s+a\s+(?:member|subscriber)\b|\bdisable\s+your\s+ad\s*blocker\b|
    \blisten\s+to\s+\w+\s+live\b|\bmuat\s+turun\b|\bikuti\s+kami\b|\bsertai\s+saluran\b|
    \bsaluran\s+telegram\b|\bwhatsapp\s+channel\b|
    앱\s*다운로드|앱\s*설치|구독\s*하기|구독하세요|뉴스레터|카카오톡\s*채널|친구\s*추가|
    네이버\s*채널|기사제보|제보하기|무단\s*전재|재배포\s*금지
    """
)
_PROMO_WEAK = re.compile(
    r"(?i)\bnewsletters?\b|\bsign\s+up\b|\bsubscribe\b|\bsubscription\b|\blanggan\b|\baplikasi\b|"
    r"\bregister\b|\bdaftar\b"
)
_ADDRESSES_READER = re.compile(
    r"(?i)\b(?:our|us|you|your|here|now|free|today|kami|anda|sekarang|percuma|di sini)\b"
)
_CAPTION = re.compile(
    r"""(?x)
      ^(?i:photo|photograph|picture|image|file\s+photo|caption|pic|foto|gambar|video|watch|
          image\s+copyright|image\s+caption|media\s+caption|getty\s+images)\b\s*[:|/\u2013\u2014-]
    | ^(?i:image|photo)\s+(?i:copyright|caption|credit)\b
    | ^\[?\s*(?:사진|그래픽|영상|자료사진|연합뉴스\s*자료사진)\s*[=:\]]
    | \(\s*(?:photo|picture|image|pic|foto|gambar|사진)\b[^)]{0,60}\)\s*$
    | \([^()]{0,40}\b(?i:photo|pic|picture|image|foto|gambar)s?\)\s*$
    | \b(?:photo|picture|image|credit)s?\s*:\s*[A-Z][^.]{0,60}$
    | (?:^|[^\s\u2013\u2014-]\s)(?:REUTERS|AFP|AP\ Photo|Getty\ Images|EPA|EPA-EFE|Bernama|Yonhap)
        (?:\s*/\s*[A-Z][\w .'-]{0,40})?\s*$
    | \[[^\]]{0,40}(?:제공|사진)\]\s*$
    """
)
_CAPTION_CREDIT = re.compile(
    rf"\((?:{_AGENCIES}|EPA|Getty Images|연합뉴스|뉴스1|뉴시스)"
    rf"(?:\s*(?:/|photo|file)[^)]{{0,30}})?\)\s*$"
)
_SOURCE_LINE = re.compile(
    rf"""(?ix)
      ^(?:source|sources|sumber|출처)\s*:\s*\S.{{0,60}}$
    | ^[\u2014\u2013-]+\s*{_AGENCIES}\s*$
    | ^\(?{_AGENCIES}\)?\.?$
    | ^(?:\(c\)|\u00a9|copyright\b).{{0,120}}$
    | ^(?:all\ rights\ reserved|hak\ cipta\ terpelihara).{{0,80}}$
    | ^(?:reporting|additional\ reporting|writing|editing)\ by\ .{{0,200}}$
    | ^(?:our\ standards\s*:).{{0,80}}$
    | ^citation\s*:?\s*$
    | ^this\ (?:document|article|story|material)\ (?:is\ subject\ to|may\ not\ be)\b.{{0,300}}$
    | ^<?\s*저작권자.{{0,80}}$
    | ^(?:연합뉴스|뉴스1|뉴시스|yonhap)\s*$
    | ^[\w.+-]+@[\w-]+\.[\w.]+\s*$
    """
)
_BYLINE_PREFIX = re.compile(
    r"^(?:by|oleh|reported by|written by|words by|story by|text by)\s+(?=\S)", re.IGNORECASE
)
_BYLINE_KO = re.compile(
    r"""(?x)
      ^[\uac00-\ud7a3]{2,4}\s*(?:기자|특파원|객원기자|인턴기자|선임기자|논설위원|칼럼니스트)
        (?:\s*[\w.+-]+@[\w.-]+)?\s*$
    | ^(?:글|written)\s*[=:|]?\s*[\uac00-\ud7a3]{2,4}(?:\s*[(\[][^)\]]{1,30}[)\]])?\s*$
    """
)
_NAME_PARTICLES = frozenset(
    [
        "and",
        "&",
        "dan",
        "bin",
        "binti",
        "de",
        "da",
        "van",
        "der",
        "von",
        "la",
        "le",
        "al",
        "el",
        "di",
        "du",
    ]
)
_NAME_SPLIT = re.compile(r"\s*(?:,|\||\band\b|&|\bdan\b)\s*")


_TIME_WORDS = _phrases(
    """time|updated|update|published|retrieved|posted|last updated|first published|modified|
    ago|just now|
    minute|minutes|min|mins|hour|hours|hr|hrs|day|days|week|weeks|month|months|year|years|
    second|seconds|sec|secs|am|pm|a m|p m|gmt|utc|bst|est|edt|pst|pdt|kst|myt|wib|sgt|cet|
    at|on|the|of|by|and|st|nd|rd|th|jan|january|feb|february|mar|march|apr|april|may|
    jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december|
    mon|monday|tue|tues|tuesday|wed|wednesday|thu|thurs|thursday|fri|friday|sat|saturday|
    sun|sunday|today|yesterday|dikemas kini|dikemaskini|diterbitkan|kemaskini|lalu|yang|
    minit|jam|hari|minggu|bulan|tahun|saat|tadi|semalam|januari|februari|mac|mei|julai|ogos|
    oktober|disember|agustus|desember|isnin|selasa|rabu|khamis|jumaat|sabtu|ahad|
    pagi|petang|malam|senin|kamis|jumat|minggu|wib|
    입력|수정|승인|발행|업데이트|등록|기사입력|최종수정|송고|분|시간|초|일|주|개월|년|월|전|방금|
    오전|오후|어제|오늘"""
)
_TIME_WORD_SET = frozenset(w for p in _TIME_WORDS for w in p.split())
_CLOCK_OR_DATE = re.compile(r"\d{1,2}:\d{2}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")
_BREADCRUMB = re.compile(r"\s(?:>|\u00bb|/|\u203a)\s")
_TIMEISH = re.compile(
    r"\d|\bretrieved\b|\bago\b|\bjust now\b|\blalu\b|방금|\byesterday\b|\btoday\b", re.I
)
