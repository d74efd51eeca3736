"""Plain result types of the newsbrief client (frozen dataclasses; users never see protobuf).

Each type has a ``from_pb`` classmethod; this module and ``client.py`` are the only places the
client meets the generated messages. Repeated fields become tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

from google.protobuf import json_format

from newsbrief.client import _wire
from newsbrief.client.errors import (
    NewsbriefError,
    error_from_details,
    status_code_from_number,
    status_details,
)
from newsbrief.v1 import newsbrief_pb2 as pb

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


def _converter(hint: Any) -> Callable[[Any], Any]:
    """How a message field becomes a value of type ``hint``: a message by the ``from_pb`` of
    its result type, a repeated field as a tuple, a map as a dict, a scalar as it is."""
    if get_origin(hint) is tuple:
        item = _converter(get_args(hint)[0])
        return lambda values: tuple(item(v) for v in values)
    if get_origin(hint) in (dict, Mapping):
        return dict
    from_pb: Callable[[Any], Any] | None = getattr(hint, "from_pb", None)
    return from_pb if from_pb is not None else _unchanged


def _unchanged(value: Any) -> Any:
    return value


_CONVERTERS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {}


def _field_converters(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field of ``cls`` but ``raw``, with its :func:`_converter` (worked out once)."""
    converters = _CONVERTERS.get(cls)
    if converters is None:
        hints = get_type_hints(cls)
        converters = tuple(
            (f.name, _converter(hints[f.name])) for f in fields(cls) if f.name != "raw"
        )
        _CONVERTERS[cls] = converters
    return converters


class _FromPb:
    """A result type made from the message fields of the same names (see :func:`_converter`);
    its ``raw`` field, where it has one, holds the serialized message."""

    @classmethod
    def from_pb(cls, msg: Any) -> Self:
        values = {name: convert(getattr(msg, name)) for name, convert in _field_converters(cls)}
        if "raw" in cls.__dataclass_fields__:  # type: ignore[attr-defined]
            values["raw"] = msg.SerializeToString()
        return cls(**values)


@dataclass(frozen=True)
class TextSpan(_FromPb):
    """A range of ``SummarizeResult.article_text``: ``article_text[start:end]`` (code points,
    end exclusive)."""

    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class BriefLine(_FromPb):
    """A summary sentence or key point and the spans of the article text it came from."""

    text: str = ""
    sources: tuple[TextSpan, ...] = ()


@dataclass(frozen=True)
class Brief(_FromPb):
    headline: str = ""
    summary: str = ""
    key_points: tuple[str, ...] = ()
    summary_lines: tuple[BriefLine, ...] = ()
    """The summary's sentences with their sources (with ``include_article_text`` only)."""
    key_point_lines: tuple[BriefLine, ...] = ()
    """The key points with their sources (with ``include_article_text`` only)."""


@dataclass(frozen=True)
class DetectedLanguage(_FromPb):
    code: str = ""
    confidence: float = 0.0
    given: bool = False


@dataclass(frozen=True)
class Translation(_FromPb):
    language: str = ""
    brief: Brief = field(default_factory=Brief)


@dataclass(frozen=True)
class Faithfulness(_FromPb):
    passed: bool = False
    issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelInfo(_FromPb):
    role: str = ""
    id: str = ""
    revision: str = ""
    licence: str = ""
    languages: tuple[str, ...] = ()
    ready: bool = False
    backend: str = ""
    detail: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # e.g. decoding settings


@dataclass(frozen=True)
class Notice(_FromPb):
    """A warning of a result (``result.warnings``): a stable ``code`` and a message for people.
    Named ``Notice`` so as not to shadow Python's builtin ``Warning``."""

    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class Timings(_FromPb):
    stages_ms: Mapping[str, float] = field(default_factory=dict, hash=False)
    total_ms: float = 0.0


@dataclass(frozen=True)
class ArticleMetadata(_FromPb):
    title: str = ""
    byline: str = ""
    date: str = ""
    dateline: str = ""
    characters: int = 0
    sentences: int = 0
    paragraphs: int = 0


def _to_dict(raw: bytes, message_type: Any) -> dict[str, Any]:
    msg = message_type()
    msg.ParseFromString(raw)
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result


class _KeepsRaw(_FromPb):
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


@dataclass(frozen=True)
class Limits(_FromPb):
    max_text_chars: int = 0
    max_html_bytes: int = 0
    max_target_languages: int = 0
    max_message_bytes: int = 0
    max_translate_texts: int = 0
    max_title_chars: int = 0


@dataclass(frozen=True)
class Capability(_FromPb):
    name: str = ""
    ready: bool = False
    detail: str = ""


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
