import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SummaryLength(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUMMARY_LENGTH_UNSPECIFIED: _ClassVar[SummaryLength]
    SUMMARY_LENGTH_SHORT: _ClassVar[SummaryLength]
    SUMMARY_LENGTH_MEDIUM: _ClassVar[SummaryLength]
    SUMMARY_LENGTH_LONG: _ClassVar[SummaryLength]

class SummaryMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUMMARY_METHOD_UNSPECIFIED: _ClassVar[SummaryMethod]
    SUMMARY_METHOD_AUTO: _ClassVar[SummaryMethod]
    SUMMARY_METHOD_EXTRACTIVE: _ClassVar[SummaryMethod]
    SUMMARY_METHOD_ABSTRACTIVE: _ClassVar[SummaryMethod]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class ArticleState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTICLE_STATE_UNSPECIFIED: _ClassVar[ArticleState]
    ARTICLE_STATE_QUEUED: _ClassVar[ArticleState]
    ARTICLE_STATE_RUNNING: _ClassVar[ArticleState]
    ARTICLE_STATE_SUCCEEDED: _ClassVar[ArticleState]
    ARTICLE_STATE_FAILED: _ClassVar[ArticleState]
    ARTICLE_STATE_CANCELLED: _ClassVar[ArticleState]

class WebhookState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_STATE_UNSPECIFIED: _ClassVar[WebhookState]
    WEBHOOK_STATE_PENDING: _ClassVar[WebhookState]
    WEBHOOK_STATE_DELIVERED: _ClassVar[WebhookState]
    WEBHOOK_STATE_FAILED: _ClassVar[WebhookState]
SUMMARY_LENGTH_UNSPECIFIED: SummaryLength
SUMMARY_LENGTH_SHORT: SummaryLength
SUMMARY_LENGTH_MEDIUM: SummaryLength
SUMMARY_LENGTH_LONG: SummaryLength
SUMMARY_METHOD_UNSPECIFIED: SummaryMethod
SUMMARY_METHOD_AUTO: SummaryMethod
SUMMARY_METHOD_EXTRACTIVE: SummaryMethod
SUMMARY_METHOD_ABSTRACTIVE: SummaryMethod
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
ARTICLE_STATE_UNSPECIFIED: ArticleState
ARTICLE_STATE_QUEUED: ArticleState
ARTICLE_STATE_RUNNING: ArticleState
ARTICLE_STATE_SUCCEEDED: ArticleState
ARTICLE_STATE_FAILED: ArticleState
ARTICLE_STATE_CANCELLED: ArticleState
WEBHOOK_STATE_UNSPECIFIED: WebhookState
WEBHOOK_STATE_PENDING: WebhookState
WEBHOOK_STATE_DELIVERED: WebhookState
WEBHOOK_STATE_FAILED: WebhookState

class SummarizeRequest(_message.Message):
    __slots__ = ("text", "html", "title", "source_language", "target_languages", "length", "max_sentences", "max_words", "method", "client_reference", "max_key_points", "include_article_text")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_WORDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    MAX_KEY_POINTS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ARTICLE_TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    html: str
    title: str
    source_language: str
    target_languages: _containers.RepeatedScalarFieldContainer[str]
    length: SummaryLength
    max_sentences: int
    max_words: int
    method: SummaryMethod
    client_reference: str
    max_key_points: int
    include_article_text: bool
    def __init__(self, text: _Optional[str] = ..., html: _Optional[str] = ..., title: _Optional[str] = ..., source_language: _Optional[str] = ..., target_languages: _Optional[_Iterable[str]] = ..., length: _Optional[_Union[SummaryLength, str]] = ..., max_sentences: _Optional[int] = ..., max_words: _Optional[int] = ..., method: _Optional[_Union[SummaryMethod, str]] = ..., client_reference: _Optional[str] = ..., max_key_points: _Optional[int] = ..., include_article_text: _Optional[bool] = ...) -> None: ...

class Brief(_message.Message):
    __slots__ = ("headline", "summary", "key_points", "summary_lines", "key_point_lines")
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    KEY_POINTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_LINES_FIELD_NUMBER: _ClassVar[int]
    KEY_POINT_LINES_FIELD_NUMBER: _ClassVar[int]
    headline: str
    summary: str
    key_points: _containers.RepeatedScalarFieldContainer[str]
    summary_lines: _containers.RepeatedCompositeFieldContainer[BriefLine]
    key_point_lines: _containers.RepeatedCompositeFieldContainer[BriefLine]
    def __init__(self, headline: _Optional[str] = ..., summary: _Optional[str] = ..., key_points: _Optional[_Iterable[str]] = ..., summary_lines: _Optional[_Iterable[_Union[BriefLine, _Mapping]]] = ..., key_point_lines: _Optional[_Iterable[_Union[BriefLine, _Mapping]]] = ...) -> None: ...

class BriefLine(_message.Message):
    __slots__ = ("text", "sources")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    text: str
    sources: _containers.RepeatedCompositeFieldContainer[TextSpan]
    def __init__(self, text: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[TextSpan, _Mapping]]] = ...) -> None: ...

class TextSpan(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class DetectedLanguage(_message.Message):
    __slots__ = ("code", "confidence", "given")
    CODE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    GIVEN_FIELD_NUMBER: _ClassVar[int]
    code: str
    confidence: float
    given: bool
    def __init__(self, code: _Optional[str] = ..., confidence: _Optional[float] = ..., given: _Optional[bool] = ...) -> None: ...

class Translation(_message.Message):
    __slots__ = ("language", "brief")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    BRIEF_FIELD_NUMBER: _ClassVar[int]
    language: str
    brief: Brief
    def __init__(self, language: _Optional[str] = ..., brief: _Optional[_Union[Brief, _Mapping]] = ...) -> None: ...

class Faithfulness(_message.Message):
    __slots__ = ("passed", "issues")
    PASSED_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    passed: bool
    issues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, passed: _Optional[bool] = ..., issues: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("role", "id", "revision", "licence", "languages", "ready", "backend", "detail", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    role: str
    id: str
    revision: str
    licence: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    ready: bool
    backend: str
    detail: str
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, role: _Optional[str] = ..., id: _Optional[str] = ..., revision: _Optional[str] = ..., licence: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., ready: _Optional[bool] = ..., backend: _Optional[str] = ..., detail: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Warning(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("stages_ms", "total_ms")
    class StagesMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STAGES_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    stages_ms: _containers.ScalarMap[str, float]
    total_ms: float
    def __init__(self, stages_ms: _Optional[_Mapping[str, float]] = ..., total_ms: _Optional[float] = ...) -> None: ...

class ArticleMetadata(_message.Message):
    __slots__ = ("title", "byline", "date", "dateline", "characters", "sentences", "paragraphs")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BYLINE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    DATELINE_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPHS_FIELD_NUMBER: _ClassVar[int]
    title: str
    byline: str
    date: str
    dateline: str
    characters: int
    sentences: int
    paragraphs: int
    def __init__(self, title: _Optional[str] = ..., byline: _Optional[str] = ..., date: _Optional[str] = ..., dateline: _Optional[str] = ..., characters: _Optional[int] = ..., sentences: _Optional[int] = ..., paragraphs: _Optional[int] = ...) -> None: ...

class SummarizeResponse(_message.Message):
    __slots__ = ("brief", "source_language", "translations", "faithfulness", "models", "warnings", "timings", "cached", "client_reference", "method", "metadata", "article_text")
    BRIEF_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TRANSLATIONS_FIELD_NUMBER: _ClassVar[int]
    FAITHFULNESS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_TEXT_FIELD_NUMBER: _ClassVar[int]
    brief: Brief
    source_language: DetectedLanguage
    translations: _containers.RepeatedCompositeFieldContainer[Translation]
    faithfulness: Faithfulness
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    warnings: _containers.RepeatedCompositeFieldContainer[Warning]
    timings: Timings
    cached: bool
    client_reference: str
    method: str
    metadata: ArticleMetadata
    article_text: str
    def __init__(self, brief: _Optional[_Union[Brief, _Mapping]] = ..., source_language: _Optional[_Union[DetectedLanguage, _Mapping]] = ..., translations: _Optional[_Iterable[_Union[Translation, _Mapping]]] = ..., faithfulness: _Optional[_Union[Faithfulness, _Mapping]] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., warnings: _Optional[_Iterable[_Union[Warning, _Mapping]]] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., cached: _Optional[bool] = ..., client_reference: _Optional[str] = ..., method: _Optional[str] = ..., metadata: _Optional[_Union[ArticleMetadata, _Mapping]] = ..., article_text: _Optional[str] = ...) -> None: ...

class SummarizeStreamRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: SummarizeRequest
    def __init__(self, request: _Optional[_Union[SummarizeRequest, _Mapping]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ItemStatus(_message.Message):
    __slots__ = ("code", "message", "field_violations", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    field_violations: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    details: _containers.RepeatedCompositeFieldContainer[_any_pb2.Any]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., field_violations: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ..., details: _Optional[_Iterable[_Union[_any_pb2.Any, _Mapping]]] = ...) -> None: ...

class SummarizeStreamResponse(_message.Message):
    __slots__ = ("client_reference", "index", "status", "response")
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    client_reference: str
    index: int
    status: ItemStatus
    response: SummarizeResponse
    def __init__(self, client_reference: _Optional[str] = ..., index: _Optional[int] = ..., status: _Optional[_Union[ItemStatus, _Mapping]] = ..., response: _Optional[_Union[SummarizeResponse, _Mapping]] = ...) -> None: ...

class TranslateRequest(_message.Message):
    __slots__ = ("texts", "source_language", "target_languages")
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    source_language: str
    target_languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ..., source_language: _Optional[str] = ..., target_languages: _Optional[_Iterable[str]] = ...) -> None: ...

class TranslatedTexts(_message.Message):
    __slots__ = ("language", "texts")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    language: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, language: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ...) -> None: ...

class TranslateResponse(_message.Message):
    __slots__ = ("source_language", "translations", "models", "warnings")
    SOURCE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TRANSLATIONS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    source_language: DetectedLanguage
    translations: _containers.RepeatedCompositeFieldContainer[TranslatedTexts]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    warnings: _containers.RepeatedCompositeFieldContainer[Warning]
    def __init__(self, source_language: _Optional[_Union[DetectedLanguage, _Mapping]] = ..., translations: _Optional[_Iterable[_Union[TranslatedTexts, _Mapping]]] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., warnings: _Optional[_Iterable[_Union[Warning, _Mapping]]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_text_chars", "max_html_bytes", "max_target_languages", "max_message_bytes", "max_translate_texts", "max_title_chars")
    MAX_TEXT_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_HTML_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_TARGET_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_TRANSLATE_TEXTS_FIELD_NUMBER: _ClassVar[int]
    MAX_TITLE_CHARS_FIELD_NUMBER: _ClassVar[int]
    max_text_chars: int
    max_html_bytes: int
    max_target_languages: int
    max_message_bytes: int
    max_translate_texts: int
    max_title_chars: int
    def __init__(self, max_text_chars: _Optional[int] = ..., max_html_bytes: _Optional[int] = ..., max_target_languages: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_translate_texts: _Optional[int] = ..., max_title_chars: _Optional[int] = ...) -> None: ...

class Capability(_message.Message):
    __slots__ = ("name", "ready", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    ready: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., ready: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("version", "summary_languages", "translation_languages", "models", "limits", "capabilities")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    version: str
    summary_languages: _containers.RepeatedScalarFieldContainer[str]
    translation_languages: _containers.RepeatedScalarFieldContainer[str]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    limits: Limits
    capabilities: _containers.RepeatedCompositeFieldContainer[Capability]
    def __init__(self, version: _Optional[str] = ..., summary_languages: _Optional[_Iterable[str]] = ..., translation_languages: _Optional[_Iterable[str]] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., capabilities: _Optional[_Iterable[_Union[Capability, _Mapping]]] = ...) -> None: ...

class DetectLanguageRequest(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class DetectLanguageResponse(_message.Message):
    __slots__ = ("language", "shares", "warnings")
    class SharesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    language: DetectedLanguage
    shares: _containers.ScalarMap[str, float]
    warnings: _containers.RepeatedCompositeFieldContainer[Warning]
    def __init__(self, language: _Optional[_Union[DetectedLanguage, _Mapping]] = ..., shares: _Optional[_Mapping[str, float]] = ..., warnings: _Optional[_Iterable[_Union[Warning, _Mapping]]] = ...) -> None: ...

class JobArticle(_message.Message):
    __slots__ = ("index", "client_reference", "state", "attempts", "status", "response")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    index: int
    client_reference: str
    state: ArticleState
    attempts: int
    status: ItemStatus
    response: SummarizeResponse
    def __init__(self, index: _Optional[int] = ..., client_reference: _Optional[str] = ..., state: _Optional[_Union[ArticleState, str]] = ..., attempts: _Optional[int] = ..., status: _Optional[_Union[ItemStatus, _Mapping]] = ..., response: _Optional[_Union[SummarizeResponse, _Mapping]] = ...) -> None: ...

class WebhookAttempt(_message.Message):
    __slots__ = ("time", "http_status", "error", "duration_ms")
    TIME_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    http_status: int
    error: str
    duration_ms: float
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., http_status: _Optional[int] = ..., error: _Optional[str] = ..., duration_ms: _Optional[float] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("delivery_id", "state", "attempts", "delivered_time")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_TIME_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    state: WebhookState
    attempts: _containers.RepeatedCompositeFieldContainer[WebhookAttempt]
    delivered_time: _timestamp_pb2.Timestamp
    def __init__(self, delivery_id: _Optional[str] = ..., state: _Optional[_Union[WebhookState, str]] = ..., attempts: _Optional[_Iterable[_Union[WebhookAttempt, _Mapping]]] = ..., delivered_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "state", "create_time", "update_time", "finish_time", "expire_time", "article_count", "succeeded_count", "failed_count", "idempotency_key", "callback_url", "articles", "webhook")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: JobState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    article_count: int
    succeeded_count: int
    failed_count: int
    idempotency_key: str
    callback_url: str
    articles: _containers.RepeatedCompositeFieldContainer[JobArticle]
    webhook: WebhookDelivery
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., article_count: _Optional[int] = ..., succeeded_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., callback_url: _Optional[str] = ..., articles: _Optional[_Iterable[_Union[JobArticle, _Mapping]]] = ..., webhook: _Optional[_Union[WebhookDelivery, _Mapping]] = ...) -> None: ...

class CreateJobRequest(_message.Message):
    __slots__ = ("articles", "idempotency_key", "callback_url")
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    articles: _containers.RepeatedCompositeFieldContainer[SummarizeRequest]
    idempotency_key: str
    callback_url: str
    def __init__(self, articles: _Optional[_Iterable[_Union[SummarizeRequest, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., callback_url: _Optional[str] = ...) -> None: ...

class CreateJobResponse(_message.Message):
    __slots__ = ("job", "created")
    JOB_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    job: Job
    created: bool
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("state", "created_after", "created_before", "page_size", "page_token")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...
