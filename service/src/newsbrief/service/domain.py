"""Domain types of the pipeline: what goes in and what comes out, free of any transport."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LengthPreset(enum.StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Method(enum.StrEnum):
    AUTO = "auto"
    EXTRACTIVE = "extractive"
    ABSTRACTIVE = "abstractive"


@dataclass(frozen=True)
class Article:
    """One article as the caller sent it. Exactly one of ``text`` and ``html`` is set."""

    text: str | None = None
    html: str | None = None
    title: str = ""
    source_language: str = ""  # BCP-47; empty = detect
    client_reference: str = ""


@dataclass(frozen=True)
class BriefOptions:
    """How the brief is made. ``max_sentences``/``max_words`` of 0 mean unset."""

    length: LengthPreset | None = None
    max_sentences: int = 0
    max_words: int = 0
    method: Method = Method.AUTO
    target_languages: tuple[str, ...] = ()
    max_key_points: int = 0
    include_article_text: bool = False
    """Return the cleaned main text the brief was made from (:attr:`BriefResult.article_text`)."""


@dataclass(frozen=True)
class Budget:
    """The resolved length budget of a summary: at most ``sentences`` sentences and ``words`` words
    (for languages written without spaces, like Korean, ``words`` is converted to characters by the
    language rules)."""

    sentences: int
    words: int
    key_points: int


@dataclass(frozen=True)
class Span:
    """A range of the article text (``BriefResult.article_text``): Unicode code points (Python
    string indices), ``end`` exclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class BriefLine:
    """One line of a brief (a summary sentence or a key point) and the spans of the article
    text it came from: its source sentence (extractive), or the article sentences that support
    it (abstractive)."""

    text: str
    sources: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Brief:
    headline: str
    summary: str
    key_points: tuple[str, ...] = ()
    summary_lines: tuple[BriefLine, ...] = ()
    """The summary's sentences with their sources (empty when the sources are not known)."""
    key_point_lines: tuple[BriefLine, ...] = ()
    """The key points with their sources, in the order of ``key_points``."""

    def without_sources(self) -> Brief:
        """This brief without its lines' sources (what a response carries unless the article
        text was asked for)."""
        return Brief(self.headline, self.summary, self.key_points)


@dataclass(frozen=True)
class DetectedLanguage:
    code: str  # BCP-47, "und" when undetermined
    confidence: float
    given: bool = False


@dataclass(frozen=True)
class Notice:
    """A warning of a result: a stable ``code`` and a message for people (named ``Notice`` so
    as not to shadow Python's builtin ``Warning``)."""

    code: str
    message: str


@dataclass(frozen=True)
class ModelInfo:
    role: str
    id: str
    revision: str = ""
    licence: str = ""
    languages: tuple[str, ...] = ()
    ready: bool = True
    backend: str = "builtin"
    detail: str = ""
    # settings that shape the output (decoding of a neural model), as name/value pairs
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Faithfulness:
    passed: bool
    issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleMetadata:
    title: str = ""
    byline: str = ""
    date: str = ""
    dateline: str = ""
    characters: int = 0
    sentences: int = 0
    paragraphs: int = 0


@dataclass(frozen=True)
class Translation:
    language: str
    brief: Brief


@dataclass
class BriefResult:
    brief: Brief
    language: DetectedLanguage
    method: str
    faithfulness: Faithfulness
    translations: list[Translation] = field(default_factory=list)
    models: list[ModelInfo] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    total_ms: float = 0.0
    cached: bool = False
    client_reference: str = ""
    metadata: ArticleMetadata = field(default_factory=ArticleMetadata)
    article_text: str = ""
    """The cleaned main text, paragraphs separated by one blank line (when asked for)."""


@dataclass
class TranslateResult:
    language: DetectedLanguage
    translations: dict[str, list[str]]
    models: list[ModelInfo] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


@dataclass
class DetectResult:
    """The language of a text: the answer, each language's share, and why it is not clear-cut."""

    language: DetectedLanguage
    shares: dict[str, float] = field(default_factory=dict)
    warnings: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Capability:
    name: str
    ready: bool
    detail: str = ""


@dataclass(frozen=True)
class Limits:
    max_text_chars: int
    max_html_bytes: int
    max_target_languages: int
    max_message_bytes: int
    max_translate_texts: int
    max_title_chars: int


@dataclass(frozen=True)
class ServerInfo:
    version: str
    summary_languages: tuple[str, ...]
    translation_languages: tuple[str, ...]
    models: tuple[ModelInfo, ...]
    limits: Limits
    capabilities: tuple[Capability, ...]
