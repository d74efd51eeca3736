"""Plain result types of the newsbrief client (frozen dataclasses; users never see protobuf).

Each type has a ``from_pb`` classmethod; this module and ``client.py`` are the only places the
client meets the generated messages. Repeated fields become tuples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from google.protobuf import json_format

from newsbrief.client import _wire
from newsbrief.client.errors import (
    NewsbriefError,
    error_from_details,
    status_code_from_number,
    status_details,
)
from newsbrief.v1 import newsbrief_pb2 as pb

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _D = TypeVar("_D", bound=DataclassInstance)

Length = Literal["short", "medium", "long"]
Method = Literal["auto", "extractive", "abstractive"]

LENGTHS: dict[str, int] = {
    "short": pb.SUMMARY_LENGTH_SHORT,
    "medium": pb.SUMMARY_LENGTH_MEDIUM,
    "long": pb.SUMMARY_LENGTH_LONG,
}
METHODS: dict[str, int] = {
    "auto": pb.SUMMARY_METHOD_AUTO,
    "extractive": pb.SUMMARY_METHOD_EXTRACTIVE,
    "abstractive": pb.SUMMARY_METHOD_ABSTRACTIVE,
}


def _same_named_fields(cls: type[_D], msg: Any) -> _D:
    """``cls`` with every field copied from the message's scalar field of the same name."""
    return cls(**{f.name: getattr(msg, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class TextSpan:
    """A range of ``SummarizeResult.article_text``: ``article_text[start:end]`` (code points,
    end exclusive)."""

    start: int = 0
    end: int = 0

    @classmethod
    def from_pb(cls, msg: pb.TextSpan) -> TextSpan:
        return cls(start=msg.start, end=msg.end)


@dataclass(frozen=True)
class BriefLine:
    """A summary sentence or key point and the spans of the article text it came from."""

    text: str = ""
    sources: tuple[TextSpan, ...] = ()

    @classmethod
    def from_pb(cls, msg: pb.BriefLine) -> BriefLine:
        return cls(text=msg.text, sources=tuple(TextSpan.from_pb(s) for s in msg.sources))


@dataclass(frozen=True)
class Brief:
    headline: str = ""
    summary: str = ""
    key_points: tuple[str, ...] = ()
    summary_lines: tuple[BriefLine, ...] = ()
    """The summary's sentences with their sources (with ``include_article_text`` only)."""
    key_point_lines: tuple[BriefLine, ...] = ()
    """The key points with their sources (with ``include_article_text`` only)."""

    @classmethod
    def from_pb(cls, msg: pb.Brief) -> Brief:
        return cls(
            headline=msg.headline,
            summary=msg.summary,
            key_points=tuple(msg.key_points),
            summary_lines=tuple(BriefLine.from_pb(x) for x in msg.summary_lines),
            key_point_lines=tuple(BriefLine.from_pb(x) for x in msg.key_point_lines),
        )


@dataclass(frozen=True)
class DetectedLanguage:
    code: str = ""
    confidence: float = 0.0
    given: bool = False

    @classmethod
    def from_pb(cls, msg: pb.DetectedLanguage) -> DetectedLanguage:
        return cls(code=msg.code, confidence=msg.confidence, given=msg.given)


@dataclass(frozen=True)
class Translation:
    language: str = ""
    brief: Brief = field(default_factory=Brief)

    @classmethod
    def from_pb(cls, msg: pb.Translation) -> Translation:
        return cls(language=msg.language, brief=Brief.from_pb(msg.brief))


@dataclass(frozen=True)
class Faithfulness:
    passed: bool = False
    issues: tuple[str, ...] = ()

    @classmethod
    def from_pb(cls, msg: pb.Faithfulness) -> Faithfulness:
        return cls(passed=msg.passed, issues=tuple(msg.issues))


@dataclass(frozen=True)
class ModelInfo:
    role: str = ""
    id: str = ""
    revision: str = ""
    licence: str = ""
    languages: tuple[str, ...] = ()
    ready: bool = False
    backend: str = ""
    detail: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # e.g. decoding settings

    @classmethod
    def from_pb(cls, msg: pb.ModelInfo) -> ModelInfo:
        return cls(
            role=msg.role,
            id=msg.id,
            revision=msg.revision,
            licence=msg.licence,
            languages=tuple(msg.languages),
            ready=msg.ready,
            backend=msg.backend,
            detail=msg.detail,
            parameters=dict(msg.parameters),
        )


@dataclass(frozen=True)
class Notice:
    """A warning of a result (``result.warnings``): a stable ``code`` and a message for people.
    Named ``Notice`` so as not to shadow Python's builtin ``Warning``."""

    code: str = ""
    message: str = ""

    @classmethod
    def from_pb(cls, msg: pb.Warning) -> Notice:
        return cls(code=msg.code, message=msg.message)


@dataclass(frozen=True)
class Timings:
    stages_ms: Mapping[str, float] = field(default_factory=dict, hash=False)
    total_ms: float = 0.0

    @classmethod
    def from_pb(cls, msg: pb.Timings) -> Timings:
        return cls(stages_ms=dict(msg.stages_ms), total_ms=msg.total_ms)


@dataclass(frozen=True)
class ArticleMetadata:
    title: str = ""
    byline: str = ""
    date: str = ""
    dateline: str = ""
    characters: int = 0
    sentences: int = 0
    paragraphs: int = 0

    @classmethod
    def from_pb(cls, msg: pb.ArticleMetadata) -> ArticleMetadata:
        return _same_named_fields(cls, msg)


def _to_dict(raw: bytes, message_type: Any) -> dict[str, Any]:
    msg = message_type()
    msg.ParseFromString(raw)
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result


class _KeepsRaw:
    """A result that keeps the serialized response it came from (its ``raw`` field), of
    message type ``_message``, for :meth:`to_dict`."""

    raw: bytes
    _message: ClassVar[Any]

    def to_dict(self) -> dict[str, Any]:
        """The response in protobuf's standard JSON mapping (lowerCamelCase field names)."""
        return _to_dict(self.raw, self._message)


@dataclass(frozen=True)
class SummarizeResult(_KeepsRaw):
    """The brief of one article (``newsbrief.v1.SummarizeResponse``)."""

    brief: Brief = field(default_factory=Brief)
    source_language: DetectedLanguage = field(default_factory=DetectedLanguage)
    translations: tuple[Translation, ...] = ()
    faithfulness: Faithfulness = field(default_factory=Faithfulness)
    models: tuple[ModelInfo, ...] = ()
    warnings: tuple[Notice, ...] = ()
    timings: Timings = field(default_factory=Timings)
    cached: bool = False
    client_reference: str = ""
    method: str = ""
    metadata: ArticleMetadata = field(default_factory=ArticleMetadata)
    article_text: str = ""
    """The cleaned main text the brief was made from (paragraphs separated by a blank line),
    when the request asked for it."""
    raw: bytes = field(default=b"", repr=False, compare=False)
    """The serialized response as received (for :meth:`to_dict`)."""
    _message: ClassVar[Any] = pb.SummarizeResponse

    @classmethod
    def from_pb(cls, msg: pb.SummarizeResponse) -> SummarizeResult:
        return cls(
            brief=Brief.from_pb(msg.brief),
            source_language=DetectedLanguage.from_pb(msg.source_language),
            translations=tuple(Translation.from_pb(t) for t in msg.translations),
            faithfulness=Faithfulness.from_pb(msg.faithfulness),
            models=tuple(ModelInfo.from_pb(m) for m in msg.models),
            warnings=tuple(Notice.from_pb(w) for w in msg.warnings),
            timings=Timings.from_pb(msg.timings),
            cached=msg.cached,
            client_reference=msg.client_reference,
            method=msg.method,
            metadata=ArticleMetadata.from_pb(msg.metadata),
            article_text=msg.article_text,
            raw=msg.SerializeToString(),
        )

    def translation(self, language: str) -> Brief | None:
        """The brief in ``language``, or None when it was not asked for."""
        for t in self.translations:
            if t.language == language:
                return t.brief
        return None


@dataclass(frozen=True)
class StreamItem:
    """The outcome of one article of :meth:`Client.summarize_many`: a result or an error."""

    index: int
    client_reference: str = ""
    result: SummarizeResult | None = None
    error: NewsbriefError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def from_pb(cls, msg: pb.SummarizeStreamResponse) -> StreamItem:
        status = msg.status
        if status.code == 0:
            return cls(
                index=msg.index,
                client_reference=msg.client_reference,
                result=SummarizeResult.from_pb(msg.response),
            )
        # ItemStatus.details are google.rpc.Status.details (field 3 there): decode them as one.
        packed = b"".join(
            _wire.encode_varint((3 << 3) | 2) + _wire.encode_varint(len(raw)) + raw
            for raw in (d.SerializeToString() for d in status.details)
        )
        details = status_details(packed)
        if not details.field_violations:
            details.field_violations = [(v.field, v.description) for v in status.field_violations]
        error = error_from_details(status_code_from_number(status.code), status.message, details)
        return cls(index=msg.index, client_reference=msg.client_reference, error=error)


@dataclass(frozen=True)
class TranslateResult(_KeepsRaw):
    """``newsbrief.v1.TranslateResponse``: ``translations`` maps language -> texts in order."""

    source_language: DetectedLanguage = field(default_factory=DetectedLanguage)
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    models: tuple[ModelInfo, ...] = ()
    warnings: tuple[Notice, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)
    """The serialized response as received (for :meth:`to_dict`)."""
    _message: ClassVar[Any] = pb.TranslateResponse

    @classmethod
    def from_pb(cls, msg: pb.TranslateResponse) -> TranslateResult:
        return cls(
            source_language=DetectedLanguage.from_pb(msg.source_language),
            translations={t.language: tuple(t.texts) for t in msg.translations},
            models=tuple(ModelInfo.from_pb(m) for m in msg.models),
            warnings=tuple(Notice.from_pb(w) for w in msg.warnings),
            raw=msg.SerializeToString(),
        )


@dataclass(frozen=True)
class LanguageResult(_KeepsRaw):
    """``newsbrief.v1.DetectLanguageResponse``: the language (code "und" when it cannot be
    told), each language's share of the text, and LANGUAGE_* warnings when not clear-cut."""

    language: DetectedLanguage = field(default_factory=DetectedLanguage)
    shares: Mapping[str, float] = field(default_factory=dict, hash=False)
    warnings: tuple[Notice, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)
    """The serialized response as received (for :meth:`to_dict`)."""
    _message: ClassVar[Any] = pb.DetectLanguageResponse

    @classmethod
    def from_pb(cls, msg: pb.DetectLanguageResponse) -> LanguageResult:
        return cls(
            language=DetectedLanguage.from_pb(msg.language),
            shares=dict(msg.shares),
            warnings=tuple(Notice.from_pb(w) for w in msg.warnings),
            raw=msg.SerializeToString(),
        )


@dataclass(frozen=True)
class Limits:
    max_text_chars: int = 0
    max_html_bytes: int = 0
    max_target_languages: int = 0
    max_message_bytes: int = 0
    max_translate_texts: int = 0
    max_title_chars: int = 0

    @classmethod
    def from_pb(cls, msg: pb.Limits) -> Limits:
        return _same_named_fields(cls, msg)


@dataclass(frozen=True)
class Capability:
    name: str = ""
    ready: bool = False
    detail: str = ""

    @classmethod
    def from_pb(cls, msg: pb.Capability) -> Capability:
        return cls(name=msg.name, ready=msg.ready, detail=msg.detail)


@dataclass(frozen=True)
class ServerInfo(_KeepsRaw):
    """``newsbrief.v1.GetServerInfoResponse``."""

    version: str = ""
    summary_languages: tuple[str, ...] = ()
    translation_languages: tuple[str, ...] = ()
    models: tuple[ModelInfo, ...] = ()
    limits: Limits = field(default_factory=Limits)
    capabilities: tuple[Capability, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)
    _message: ClassVar[Any] = pb.GetServerInfoResponse

    @classmethod
    def from_pb(cls, msg: pb.GetServerInfoResponse) -> ServerInfo:
        return cls(
            version=msg.version,
            summary_languages=tuple(msg.summary_languages),
            translation_languages=tuple(msg.translation_languages),
            models=tuple(ModelInfo.from_pb(m) for m in msg.models),
            limits=Limits.from_pb(msg.limits),
            capabilities=tuple(Capability.from_pb(c) for c in msg.capabilities),
            raw=msg.SerializeToString(),
        )


@dataclass(frozen=True)
class SummarizeRequest:
    """One article for :meth:`Client.summarize_many` (a dict with these keys works too)."""

    text: str | None = None
    html: str | None = None
    title: str = ""
    source_language: str = ""
    target_languages: Sequence[str] = ()
    length: Length | None = None
    max_sentences: int = 0
    max_words: int = 0
    method: Method = "auto"
    client_reference: str = ""
    max_key_points: int = 0
    include_article_text: bool = False

    def to_pb(self) -> pb.SummarizeRequest:
        """Validate the options and build the wire message (ValueError on bad options)."""
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of text or html")
        msg = pb.SummarizeRequest(
            title=self.title,
            source_language=self.source_language,
            target_languages=list(self.target_languages),
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            client_reference=self.client_reference,
            max_key_points=self.max_key_points,
            include_article_text=self.include_article_text,
        )
        if isinstance(self.target_languages, str):
            raise ValueError("target_languages must be a sequence of language codes, not a str")
        if self.text is not None:
            msg.text = self.text
        else:
            msg.html = self.html or ""
        if self.length is not None:
            try:
                msg.length = LENGTHS[self.length]  # type: ignore[assignment]
            except KeyError:
                raise ValueError(
                    f"length must be one of {', '.join(LENGTHS)}, not {self.length!r}"
                ) from None
        try:
            msg.method = METHODS[self.method]  # type: ignore[assignment]
        except KeyError:
            raise ValueError(
                f"method must be one of {', '.join(METHODS)}, not {self.method!r}"
            ) from None
        return msg

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SummarizeRequest:
        """Build from a dict with the keyword arguments of :meth:`Client.summarize`."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown request keys: {', '.join(sorted(unknown))}")
        return cls(**dict(data))


JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JOB_STATES: dict[str, int] = {
    "queued": pb.JOB_STATE_QUEUED,
    "running": pb.JOB_STATE_RUNNING,
    "succeeded": pb.JOB_STATE_SUCCEEDED,
    "failed": pb.JOB_STATE_FAILED,
    "cancelled": pb.JOB_STATE_CANCELLED,
}
FINAL_JOB_STATES = frozenset({"succeeded", "failed", "cancelled"})
_ARTICLE_STATES = {
    pb.ARTICLE_STATE_QUEUED: "queued",
    pb.ARTICLE_STATE_RUNNING: "running",
    pb.ARTICLE_STATE_SUCCEEDED: "succeeded",
    pb.ARTICLE_STATE_FAILED: "failed",
    pb.ARTICLE_STATE_CANCELLED: "cancelled",
}
_WEBHOOK_STATES = {
    pb.WEBHOOK_STATE_PENDING: "pending",
    pb.WEBHOOK_STATE_DELIVERED: "delivered",
    pb.WEBHOOK_STATE_FAILED: "failed",
}


@dataclass(frozen=True)
class JobArticle:
    """One article of a job: its state and, once finished, its result or its error."""

    index: int
    client_reference: str = ""
    state: str = "queued"
    attempts: int = 0
    result: SummarizeResult | None = None
    error: NewsbriefError | None = field(default=None, compare=False)

    @classmethod
    def from_pb(cls, msg: pb.JobArticle) -> JobArticle:
        error = None
        if msg.HasField("status") and msg.status.code != 0:
            item = StreamItem.from_pb(
                pb.SummarizeStreamResponse(index=msg.index, status=msg.status)
            )
            error = item.error
        return cls(
            index=msg.index,
            client_reference=msg.client_reference,
            state=_ARTICLE_STATES.get(msg.state, "unspecified"),
            attempts=msg.attempts,
            result=SummarizeResult.from_pb(msg.response) if msg.HasField("response") else None,
            error=error,
        )


@dataclass(frozen=True)
class WebhookDelivery:
    """The delivery of a finished job to its callback URL, with one HTTP status per attempt
    (0: no answer)."""

    delivery_id: str
    state: str
    attempts: tuple[int, ...] = ()

    @classmethod
    def from_pb(cls, msg: pb.WebhookDelivery) -> WebhookDelivery:
        return cls(
            delivery_id=msg.delivery_id,
            state=_WEBHOOK_STATES.get(msg.state, "unspecified"),
            attempts=tuple(a.http_status for a in msg.attempts),
        )


@dataclass(frozen=True)
class Job:
    """A background job (``newsbrief.v1.Job``): ``state`` is one of queued, running, succeeded,
    failed, cancelled; ``articles`` are empty in a listing."""

    id: str
    state: str
    article_count: int = 0
    succeeded_count: int = 0
    failed_count: int = 0
    idempotency_key: str = ""
    callback_url: str = ""
    articles: tuple[JobArticle, ...] = ()
    webhook: WebhookDelivery | None = None
    created: bool = False
    """True when CreateJob made it now; False when the idempotency key found it."""
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.state in FINAL_JOB_STATES

    @classmethod
    def from_pb(cls, msg: pb.Job, *, created: bool = False) -> Job:
        state = next((k for k, v in JOB_STATES.items() if v == msg.state), "unspecified")
        return cls(
            id=msg.id,
            state=state,
            article_count=msg.article_count,
            succeeded_count=msg.succeeded_count,
            failed_count=msg.failed_count,
            idempotency_key=msg.idempotency_key,
            callback_url=msg.callback_url,
            articles=tuple(JobArticle.from_pb(a) for a in msg.articles),
            webhook=WebhookDelivery.from_pb(msg.webhook) if msg.HasField("webhook") else None,
            created=created,
            raw=msg.SerializeToString(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The job in protobuf's standard JSON mapping, with ``state`` as the short name
        (``succeeded``) and each finished article's ``response`` or ``status``."""
        out = _to_dict(self.raw, pb.Job)
        out["state"] = self.state
        for article in out.get("articles", []):
            name = str(article.get("state", "")).removeprefix("ARTICLE_STATE_").lower()
            article["state"] = name or "unspecified"
        return out
