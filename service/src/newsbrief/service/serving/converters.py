"""The only place where protobuf messages meet domain types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, TypeVar

from newsbrief.service.domain import (
    Article,
    Brief,
    BriefLine,
    BriefOptions,
    BriefResult,
    DetectedLanguage,
    DetectResult,
    LengthPreset,
    Method,
    ModelInfo,
    Notice,
    ServerInfo,
    TranslateResult,
)
from newsbrief.service.errors import FieldViolation, InvalidArgument
from newsbrief.v1 import newsbrief_pb2 as pb

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M")

_LENGTHS = {
    pb.SUMMARY_LENGTH_UNSPECIFIED: None,
    pb.SUMMARY_LENGTH_SHORT: LengthPreset.SHORT,
    pb.SUMMARY_LENGTH_MEDIUM: LengthPreset.MEDIUM,
    pb.SUMMARY_LENGTH_LONG: LengthPreset.LONG,
}
_METHODS = {
    pb.SUMMARY_METHOD_UNSPECIFIED: Method.AUTO,
    pb.SUMMARY_METHOD_AUTO: Method.AUTO,
    pb.SUMMARY_METHOD_EXTRACTIVE: Method.EXTRACTIVE,
    pb.SUMMARY_METHOD_ABSTRACTIVE: Method.ABSTRACTIVE,
}


def article_from_pb(request: pb.SummarizeRequest) -> tuple[Article, BriefOptions]:
    """A SummarizeRequest as the pipeline's Article and BriefOptions."""
    violations: list[FieldViolation] = []
    length = _LENGTHS.get(request.length)
    if request.length not in _LENGTHS:
        violations.append(FieldViolation("length", f"unknown value {request.length}"))
    method = _METHODS.get(request.method, Method.AUTO)
    if request.method not in _METHODS:
        violations.append(FieldViolation("method", f"unknown value {request.method}"))
    if violations:
        raise InvalidArgument(violations)
    content = request.WhichOneof("content")
    article = Article(
        text=request.text if content == "text" else None,
        html=request.html if content == "html" else None,
        title=request.title,
        source_language=request.source_language,
        client_reference=request.client_reference,
    )
    options = BriefOptions(
        length=length,
        max_sentences=request.max_sentences,
        max_words=request.max_words,
        method=method,
        target_languages=tuple(request.target_languages),
        max_key_points=request.max_key_points,
        include_article_text=request.include_article_text,
    )
    return article, options


def brief_to_pb(brief: Brief) -> pb.Brief:
    return pb.Brief(
        headline=brief.headline,
        summary=brief.summary,
        key_points=brief.key_points,
        summary_lines=[line_to_pb(x) for x in brief.summary_lines],
        key_point_lines=[line_to_pb(x) for x in brief.key_point_lines],
    )


def line_to_pb(line: BriefLine) -> pb.BriefLine:
    return pb.BriefLine(
        text=line.text,
        sources=[pb.TextSpan(start=s.start, end=s.end) for s in line.sources],
    )


def language_to_pb(language: DetectedLanguage) -> pb.DetectedLanguage:
    return pb.DetectedLanguage(
        code=language.code, confidence=language.confidence, given=language.given
    )


def model_to_pb(model: ModelInfo) -> pb.ModelInfo:
    return pb.ModelInfo(
        role=model.role,
        id=model.id,
        revision=model.revision,
        licence=model.licence,
        languages=model.languages,
        ready=model.ready,
        backend=model.backend,
        detail=model.detail,
        parameters=dict(model.parameters),
    )


def _same_named_fields(message_type: Callable[..., M], value: DataclassInstance) -> M:
    """A message of ``message_type`` with every field of dataclass ``value`` copied to the
    message's field of the same name."""
    return message_type(**{f.name: getattr(value, f.name) for f in fields(value)})


def warning_to_pb(warning: Notice) -> pb.Warning:
    return pb.Warning(code=warning.code, message=warning.message)


def result_to_pb(result: BriefResult) -> pb.SummarizeResponse:
    return pb.SummarizeResponse(
        brief=brief_to_pb(result.brief),
        source_language=language_to_pb(result.language),
        translations=[
            pb.Translation(language=t.language, brief=brief_to_pb(t.brief))
            for t in result.translations
        ],
        faithfulness=pb.Faithfulness(
            passed=result.faithfulness.passed, issues=result.faithfulness.issues
        ),
        models=[model_to_pb(x) for x in result.models],
        warnings=[warning_to_pb(w) for w in result.warnings],
        timings=pb.Timings(stages_ms=result.timings_ms, total_ms=result.total_ms),
        cached=result.cached,
        client_reference=result.client_reference,
        method=result.method,
        metadata=_same_named_fields(pb.ArticleMetadata, result.metadata),
        article_text=result.article_text,
    )


def translate_to_pb(result: TranslateResult) -> pb.TranslateResponse:
    return pb.TranslateResponse(
        source_language=language_to_pb(result.language),
        translations=[
            pb.TranslatedTexts(language=lang, texts=texts)
            for lang, texts in result.translations.items()
        ],
        models=[model_to_pb(x) for x in result.models],
        warnings=[warning_to_pb(w) for w in result.warnings],
    )


def detect_to_pb(result: DetectResult) -> pb.DetectLanguageResponse:
    return pb.DetectLanguageResponse(
        language=language_to_pb(result.language),
        shares=result.shares,
        warnings=[warning_to_pb(w) for w in result.warnings],
    )


def info_to_pb(info: ServerInfo) -> pb.GetServerInfoResponse:
    return pb.GetServerInfoResponse(
        version=info.version,
        summary_languages=info.summary_languages,
        translation_languages=info.translation_languages,
        models=[model_to_pb(x) for x in info.models],
        limits=_same_named_fields(pb.Limits, info.limits),
        capabilities=[
            pb.Capability(name=c.name, ready=c.ready, detail=c.detail) for c in info.capabilities
        ],
    )
