"""The transport-free pipeline: ingest -> language -> segment -> brief -> guard -> translate.

The gRPC servicer (and any other front end) converts its messages into the domain types of
``newsbrief.service.domain`` and awaits :class:`Pipeline`. CPU-bound stages run on a bounded
thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from newsbrief.service import __version__
from newsbrief.service.backends.base import ManagedModel, Translator
from newsbrief.service.backends.summarizer import Summarizer, Summary
from newsbrief.service.cache import ResultCache, brief_key
from newsbrief.service.domain import (
    Article,
    ArticleMetadata,
    Brief,
    BriefOptions,
    BriefResult,
    Capability,
    DetectedLanguage,
    DetectResult,
    Faithfulness,
    Limits,
    Method,
    ModelInfo,
    ServerInfo,
    TranslateResult,
    Translation,
    Warning,
)
from newsbrief.service.errors import (
    CapabilityUnavailable,
    DeadlineExceeded,
    FieldViolation,
    InvalidArgument,
    NotReady,
)
from newsbrief.service.pipeline.extractive import ExtractiveSummarizer, shorten
from newsbrief.service.pipeline.guard import check_brief
from newsbrief.service.pipeline.intake import take_in
from newsbrief.service.pipeline.language import (
    LanguageAnalysis,
    LanguageDetector,
)
from newsbrief.service.pipeline.normalize import normalize_text
from newsbrief.service.pipeline.preserve import missing_items
from newsbrief.service.pipeline.segment import split_paragraphs, split_sentences
from newsbrief.service.pipeline.validate import (
    resolve_budget,
    validate_article,
    validate_detect,
    validate_translate,
)
from newsbrief.service.settings import Settings
from newsbrief.service.telemetry import NO_TELEMETRY, Telemetry
from newsbrief.service.translation_cache import TranslationCache

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTRACTIVE_MODEL = ModelInfo(
    role="summarizer",
    id="extractive",
    revision=__version__,
    licence="Apache-2.0 (built in, no weights)",
    languages=(),
    ready=True,
    backend="builtin",
)
NO_TRANSLATOR_HELP = (
    "this server has no translation model configured (models.translator.preset=none); "
    "set it to a translator preset such as m2m100-418m (see `newsbrief-server models list`)"
)


@dataclass
class _Prepared:
    """An article after intake: normalised text, paragraphs of sentences, language, metadata."""

    text: str
    title: str
    paragraphs: list[list[str]]
    language: DetectedLanguage
    metadata: ArticleMetadata
    warnings: list[Warning]
    article_text: str
    """The cleaned main text with its dateline (what the response's article_text carries)."""


class Pipeline:
    """Briefs and translations of articles. Thread-safe; one instance per server."""

    #: Stage metrics and spans (set by ``Telemetry.watch``; a no-op by default).
    telemetry: Telemetry = NO_TELEMETRY

    def __init__(
        self,
        settings: Settings,
        *,
        translator: Translator | None = None,
        summarizer: Summarizer | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self.settings = settings
        self.translator = translator
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(
            max_workers=settings.workers, thread_name_prefix="newsbrief-cpu"
        )
        self._detector: LanguageDetector | None = None
        self._summarizer = ExtractiveSummarizer(settings.brief)
        if summarizer is None and settings.models.summarizer.preset not in ("extractive", "none"):
            from newsbrief.service.backends.hf_summarize import build_summarizer

            summarizer = build_summarizer(settings.models.summarizer, settings.models)
        self.summarizer = summarizer
        self.cache = ResultCache(settings.cache)
        self.translations = TranslationCache(settings.cache.translations)
        self._cache_salt = json.dumps(
            [__version__, settings.brief.model_dump(mode="json"), settings.language.model_dump()],
            sort_keys=True,
        )
        self._ready = False

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        """Load the language models and warm every stage up with one small brief."""
        started = time.monotonic()
        self._detector = await self._run(LanguageDetector, self.settings.language)
        start_summarizer = getattr(self.summarizer, "start", None)
        if start_summarizer is not None:
            await start_summarizer()  # on its own worker; a missing model is not fatal
        if isinstance(self.translator, ManagedModel):
            await self.translator.start()  # on its own worker; a missing model is not fatal
        self._ready = True
        try:
            await self.brief(
                Article(text="Warm-up sentence one is here. Warm-up sentence two follows it."),
                BriefOptions(),
            )
        except Exception:
            self._ready = False
            raise
        log.info("pipeline ready in %.2f s", time.monotonic() - started)

    def close(self) -> None:
        self._ready = False
        close_summarizer = getattr(self.summarizer, "close", None)
        if close_summarizer is not None:
            close_summarizer()
        if isinstance(self.translator, ManagedModel):
            self.translator.close()
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- RPC entry points ------------------------------------------------------------------

    async def brief(
        self, article: Article, options: BriefOptions, *, deadline: float | None = None
    ) -> BriefResult:
        """The brief of one article, with the translations asked for. ``deadline`` is the
        caller's (``time.monotonic()`` seconds): no stage starts after it has passed (a stage
        already running finishes; its result is dropped), and model work not started by then is
        not done. A cancelled caller stops the same way, at the next stage boundary."""
        self._check_ready()
        started = time.monotonic()
        timings: dict[str, float] = {}
        article, targets = validate_article(article, options, self.settings)
        neural = self._neural_summarizer(options.method)
        if targets:
            self._require_translator(targets, article.source_language or None)
        cache_key = self._cache_key(article, options, targets)
        if cache_key and (hit := self._cache_hit(cache_key, article, started)) is not None:
            return hit

        prepared = await self._timed(timings, "ingest", deadline, self._prepare, article, deadline)
        budget = resolve_budget(options, self.settings)
        lang = prepared.language.code
        brief = await self._timed(
            timings,
            "brief",
            deadline,
            self._summarizer.summarize,
            prepared.paragraphs,
            lang,
            budget,
            prepared.title,
        )
        brief = Brief(
            headline=_squash(brief.headline),
            summary=_squash(brief.summary),
            key_points=tuple(_squash(k) for k in brief.key_points),
        )
        faithfulness = await self._timed(
            timings,
            "guard",
            deadline,
            check_extractive,
            brief,
            [x for p in prepared.paragraphs for x in p],
            prepared.text,
            prepared.title,
        )
        warnings = list(prepared.warnings)
        translations: list[Translation] = []
        models = [EXTRACTIVE_MODEL]
        method = "extractive"
        if neural is not None and not neural.supports(lang):
            if options.method is Method.ABSTRACTIVE:
                raise CapabilityUnavailable(
                    "summarize.abstractive",
                    f"the configured summariser {neural.name} does not summarise {lang!r} "
                    f"(it serves: {', '.join(neural.info.languages) or 'none'}); use "
                    "method=auto or method=extractive",
                )
            neural = None  # method=auto: the extractive brief serves this language
        if neural is not None:
            _check_deadline(deadline, "abstractive")
            t0 = time.monotonic()
            with self.telemetry.stage("abstractive"):
                summary = await neural.summarize(prepared.text, lang)
            timings["abstractive"] = (time.monotonic() - t0) * 1000
            if summary.chunked:
                warnings.append(Warning("INPUT_CHUNKED", summary.describe()))
            candidate = self._abstractive_brief(
                summary, brief, prepared.title, lang, budget.key_points
            )
            _check_deadline(deadline, "guard")
            t0 = time.monotonic()
            with self.telemetry.stage("guard"):
                verdict = await self._run(
                    check_brief, candidate, prepared.text, prepared.title, lang
                )
            timings["guard"] = timings.get("guard", 0.0) + (time.monotonic() - t0) * 1000
            if not summary.text.strip():
                verdict.issues.append("summary: the summariser returned an empty summary")
            warnings.extend(Warning("GUARD_LIMITED", note) for note in verdict.notes)
            if verdict.passed:
                brief, faithfulness = candidate, verdict.faithfulness()
                models, method = [neural.info], neural.name
            else:
                # the extractive brief is served; the issues say why the model's was not
                faithfulness = Faithfulness(
                    passed=faithfulness.passed,
                    issues=(
                        *(f"rejected {neural.name} brief: {x}" for x in verdict.issues),
                        *faithfulness.issues,
                    ),
                )
                warnings.append(
                    Warning(
                        "ABSTRACTIVE_REJECTED",
                        f"the {neural.name} summary was replaced by the extractive brief: "
                        f"{len(verdict.issues)} fact(s) not found in the article "
                        "(see faithfulness.issues)",
                    )
                )
                models = [EXTRACTIVE_MODEL, neural.info]
        if targets:
            if lang == "und":
                raise InvalidArgument(
                    FieldViolation(
                        "source_language",
                        "the article's language could not be detected; give source_language "
                        "to translate it",
                    )
                )
            if not article.source_language:
                self._require_translator(targets, lang)  # e.g. a detected unsupported language
            _check_deadline(deadline, "translate")
            t0 = time.monotonic()
            with self.telemetry.stage("translate"):
                translations, more, counts = await self._translate_brief(
                    brief, lang, targets, deadline
                )
            warnings.extend(more)
            timings["translate"] = (time.monotonic() - t0) * 1000
            timings.update(counts)  # texts asked, sent to the model, answered by the cache
            assert self.translator is not None
            models.append(self.translator.info)
        return self._remember(
            cache_key,
            BriefResult(
                brief=brief,
                language=prepared.language,
                method=method,
                faithfulness=faithfulness,
                translations=translations,
                models=models,
                warnings=warnings,
                timings_ms=timings,
                total_ms=(time.monotonic() - started) * 1000,
                client_reference=article.client_reference,
                metadata=prepared.metadata,
                article_text=prepared.article_text if options.include_article_text else "",
            ),
        )

    async def translate(
        self,
        texts: list[str],
        source_language: str,
        target_languages: list[str],
        *,
        deadline: float | None = None,
    ) -> TranslateResult:
        """Translate editor-written texts into each target language."""
        self._check_ready()
        source, targets = validate_translate(
            texts, source_language, target_languages, self.settings
        )
        self._require_translator(targets, source or None)
        clean = [normalize_text(t) for t in texts]
        if source:
            language = DetectedLanguage(source, 1.0, given=True)
        else:
            language = await self._run(self._detect, "\n".join(clean))
            if language.code == "und":
                raise InvalidArgument(
                    FieldViolation(
                        "source_language",
                        "the language of the texts could not be detected; give source_language",
                    )
                )
        if not source:
            self._require_translator(targets, language.code)
        assert self.translator is not None
        labels = [f"text {i + 1}" for i in range(len(clean))]

        async def one(target: str) -> tuple[list[str], list[Warning]]:
            assert self.translator is not None
            if target == language.code:
                return list(clean), []
            translated = await self.translations.translate(
                self.translator, clean, language.code, target, deadline=deadline
            )
            found = [*getattr(translated, "warnings", ())]
            found.extend(_mismatches(clean, translated, labels, language.code, target))
            return list(translated), found

        with self.telemetry.stage("translate"):  # target languages side by side
            done = await asyncio.gather(*(one(t) for t in targets))
        out = {target: texts for target, (texts, _) in zip(targets, done, strict=True)}
        warnings = [w for _, found in done for w in found]
        return TranslateResult(
            language=language,
            translations=out,
            models=[self.translator.info],
            warnings=warnings,
        )

    async def detect_language(self, text: str) -> DetectResult:
        """The language of one text, with the detector's confidence and per-language shares."""
        self._check_ready()
        validate_detect(text, self.settings)
        clean = normalize_text(text)
        if not clean:
            raise InvalidArgument(FieldViolation("text", "contains no readable text"))
        analysis = await self._run(self._analyse, clean)
        return DetectResult(analysis.language, dict(analysis.shares), _language_warnings(analysis))

    def info(self) -> ServerInfo:
        """Languages, models, limits and capabilities of this server."""
        limits = self.settings.limits
        translator_ready = self.translator is not None and self.translator.info.ready
        models: list[ModelInfo] = [
            ModelInfo(
                role=EXTRACTIVE_MODEL.role,
                id=EXTRACTIVE_MODEL.id,
                revision=EXTRACTIVE_MODEL.revision,
                licence=EXTRACTIVE_MODEL.licence,
                languages=tuple(self.settings.language.supported),
                ready=self._ready,
                backend="builtin",
            ),
            ModelInfo(
                role="language-detector",
                id="lingua",
                licence="Apache-2.0",
                languages=tuple(self.settings.language.supported),
                ready=self._detector is not None,
                backend="builtin",
            ),
        ]
        if self.summarizer is not None:
            models.append(self.summarizer.info)
        if self.translator is not None:
            models.append(self.translator.info)
        abstractive_ready = self.summarizer is not None and self.summarizer.info.ready
        capabilities = (
            Capability("summarize.extractive", self._ready),
            Capability(
                "summarize.abstractive",
                abstractive_ready,
                "" if abstractive_ready else self._no_summarizer_detail(),
            ),
            Capability("html", self._ready),
            Capability(
                "translate",
                translator_ready,
                ""
                if translator_ready
                else (
                    f"translation is not available: {self.translator.info.detail}"
                    if self.translator is not None and self.translator.info.detail
                    else NO_TRANSLATOR_HELP
                ),
            ),
        )
        return ServerInfo(
            version=__version__,
            summary_languages=tuple(self.settings.language.supported),
            translation_languages=(
                tuple(
                    t
                    for t in self.settings.language.translation_targets
                    if self.translator is not None and t in self.translator.info.languages
                )
                if translator_ready
                else ()
            ),
            models=tuple(models),
            limits=Limits(
                max_text_chars=limits.max_text_chars,
                max_html_bytes=limits.max_html_bytes,
                max_target_languages=limits.max_target_languages,
                max_message_bytes=self.settings.max_message_bytes,
                max_translate_texts=limits.max_translate_texts,
                max_title_chars=limits.max_title_chars,
            ),
            capabilities=capabilities,
        )

    # ---- stages ----------------------------------------------------------------------------

    def _prepare(self, article: Article, deadline: float | None = None) -> _Prepared:
        """Intake (HTML extraction, cleaning), language and segmentation; the deadline is
        checked between these steps too."""
        intake = take_in(article, self.settings.intake)
        warnings = list(intake.warnings)
        text, title = intake.text, intake.title
        if article.source_language:
            language = DetectedLanguage(article.source_language, 1.0, given=True)
        else:
            _check_deadline(deadline, "language")
            analysis = self._analyse(text)
            language = analysis.language
            warnings.extend(_language_warnings(analysis))
        lang = language.code
        _check_deadline(deadline, "segment")
        paragraphs = [
            sentences
            for sentences in (split_sentences(p, lang) for p in split_paragraphs(text))
            if sentences
        ]
        metadata = ArticleMetadata(
            title=title,
            byline=intake.byline,
            date=intake.date,
            dateline=intake.dateline,
            characters=len(text),
            sentences=sum(len(p) for p in paragraphs),
            paragraphs=len(paragraphs),
        )
        return _Prepared(text, title, paragraphs, language, metadata, warnings, intake.article_text)

    def _analyse(self, text: str) -> LanguageAnalysis:
        if self._detector is None:
            raise NotReady("the language detector is still loading")
        return self._detector.analyse(text)

    def _detect(self, text: str) -> DetectedLanguage:
        if self._detector is None:
            raise NotReady("the language detector is still loading")
        return self._detector.detect(text)

    async def _translate_brief(
        self,
        brief: Brief,
        source: str,
        targets: tuple[str, ...],
        deadline: float | None = None,
    ) -> tuple[list[Translation], list[Warning], dict[str, float]]:
        """Each target gets one batch holding headline, summary sentences and key points, so a
        name is rendered the same way in every field; a text repeated in the brief (a key point
        that is also a summary sentence) or translated before is not sent to the model again.
        Numbers, dates and quoted names of each field are checked in its translation (a warning
        lists what went missing). The counts: texts to translate, distinct texts sent to the
        model, distinct texts answered by the translation cache, over all targets."""
        assert self.translator is not None
        sentences = split_sentences(brief.summary, source) if brief.summary else []
        batch = [brief.headline, *sentences, *brief.key_points]
        labels = [
            "headline",
            *(["summary"] * len(sentences)),
            *(f"key point {i + 1}" for i in range(len(brief.key_points))),
        ]
        n = len(sentences)

        counts = dict.fromkeys(("translate.texts", "translate.sent", "translate.cached"), 0.0)

        async def one(target: str) -> tuple[Translation, list[Warning]]:
            assert self.translator is not None
            if target == source:
                return Translation(target, brief), []
            translated = await self.translations.translate(
                self.translator, batch, source, target, deadline=deadline
            )
            counts["translate.texts"] += len(batch)
            counts["translate.sent"] += translated.sent
            counts["translate.cached"] += translated.cached
            found = list(translated.warnings)
            found.extend(_mismatches(batch, translated, labels, source, target))
            return (
                Translation(
                    target,
                    Brief(
                        headline=translated[0],
                        summary=" ".join(translated[1 : 1 + n]),
                        key_points=tuple(translated[1 + n :]),
                    ),
                ),
                found,
            )

        # every target language at once: each is its own batch key, so with two model workers
        # (inter_threads=2) Korean and Malay are translated side by side
        done = await asyncio.gather(*(one(t) for t in targets))
        return [t for t, _ in done], [w for _, ws in done for w in ws], counts

    def _neural_summarizer(self, method: Method) -> Summarizer | None:
        """The neural summariser to use for ``method``: for auto, the configured one when it is
        ready (the language is checked once known); for extractive, none; for abstractive, the
        configured one, or FAILED_PRECONDITION naming the model and how to install it."""
        if method is Method.EXTRACTIVE:
            return None
        ready = self.summarizer is not None and self.summarizer.info.ready
        if method is Method.ABSTRACTIVE and not ready:
            raise CapabilityUnavailable(
                "summarize.abstractive",
                f"method=abstractive is not available: {self._no_summarizer_detail()}",
                how_to_fix=self._no_summarizer_detail(),
            )
        return self.summarizer if ready else None

    def _no_summarizer_detail(self) -> str:
        if self.summarizer is None:
            return (
                "no neural summariser is configured on this server (models.summarizer.preset="
                f"{self.settings.models.summarizer.preset}); set it to distilbart-cnn or "
                "mt5-xlsum and run `newsbrief-server models download PRESET`, or use "
                "method=auto or method=extractive"
            )
        info = self.summarizer.info
        return info.detail or f"the summariser {info.id} is loading"

    def _abstractive_brief(
        self, summary: Summary, extractive: Brief, title: str, lang: str, want: int
    ) -> Brief:
        """The brief of a model summary: the headline is the title when given, else the summary's
        first sentence shortened; the summary is the model's; the key points are the summary's
        sentences when it has as many as asked, else the extractive brief's key points (taken
        from the article)."""
        text = _squash(summary.text)
        sentences = split_sentences(text, lang) if text else []
        limit = self.settings.brief.headline_max_words
        if title.strip():
            headline = shorten(title, limit, lang)
        else:
            first = shorten(sentences[0], limit, lang) if sentences else ""
            headline = first.rstrip(".") if not first.endswith("..") else first
        if want and len(sentences) >= want:
            points = tuple(_squash(s) for s in sentences[:want])
        else:
            points = extractive.key_points if want else ()
        return Brief(headline=_squash(headline), summary=text, key_points=points)

    # ---- result cache ----------------------------------------------------------------------

    def _cache_key(self, article: Article, options: BriefOptions, targets: tuple[str, ...]) -> str:
        """The cache key of a validated request ("" with the cache off): every model that may
        take part is in it, with its revision, readiness and decoding parameters."""
        if not self.cache.enabled:
            return ""
        models = [EXTRACTIVE_MODEL]
        if self.summarizer is not None and options.method is not Method.EXTRACTIVE:
            models.append(self.summarizer.info)
        if targets and self.translator is not None:
            models.append(self.translator.info)
        return brief_key(article, options, targets=targets, models=models, salt=self._cache_salt)

    def _cache_hit(self, key: str, article: Article, started: float) -> BriefResult | None:
        result = self.cache.get(key)
        if result is None:
            return None
        elapsed = (time.monotonic() - started) * 1000
        result.cached = True
        result.client_reference = article.client_reference
        result.timings_ms = {"cache": elapsed}
        result.total_ms = elapsed
        return result

    def _remember(self, key: str, result: BriefResult) -> BriefResult:
        if key:
            self.cache.put(key, result)
        return result

    def _require_translator(self, targets: tuple[str, ...], source: str | None) -> None:
        if self.translator is None or not self.translator.info.ready:
            detail = (
                self.translator.info.detail
                if self.translator is not None and self.translator.info.detail
                else NO_TRANSLATOR_HELP
            )
            raise CapabilityUnavailable("translate", f"translation is not available: {detail}")
        if source is not None:
            missing = [
                t for t in targets if t != source and not self.translator.supports(source, t)
            ]
            if missing:
                raise CapabilityUnavailable(
                    "translate",
                    f"the configured translator {self.translator.info.id} does not translate "
                    f"{source} into {', '.join(missing)}",
                )

    def _check_ready(self) -> None:
        if not self._ready:
            raise NotReady("the server is starting: models are loading")

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # keeps the request id in the worker's log lines
        return await loop.run_in_executor(self._executor, context.run, fn, *args)

    async def _timed(
        self,
        timings: dict[str, float],
        stage: str,
        deadline: float | None,
        fn: Callable[..., T],
        *args: object,
    ) -> T:
        _check_deadline(deadline, stage)
        t0 = time.monotonic()
        try:
            with self.telemetry.stage(stage):
                return await self._run(fn, *args)
        finally:
            timings[stage] = (time.monotonic() - t0) * 1000


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def _check_deadline(deadline: float | None, stage: str) -> None:
    """Raise DeadlineExceeded when ``deadline`` (``time.monotonic()`` seconds) has passed: the
    stage boundary where a late request stops spending CPU."""
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded(f"the deadline passed before the {stage} stage")


def _mismatches(
    sources: list[str], translations: list[str], labels: list[str], source: str, target: str
) -> list[Warning]:
    """One TRANSLATION_MISMATCH warning per target language listing the numbers, dates and
    quoted names of the source that its translation lacks."""
    missing: list[str] = []
    for text, translated, label in zip(sources, translations, labels, strict=False):
        missing.extend(
            f"{item} ({label})" for item in missing_items(text, translated, source, target)
        )
    if not missing:
        return []
    return [
        Warning(
            "TRANSLATION_MISMATCH",
            f"the {target} translation may have changed or dropped: {'; '.join(missing)}",
        )
    ]


def _language_warnings(analysis: LanguageAnalysis) -> list[Warning]:
    """LANGUAGE_UNSUPPORTED, _MIXED, _UNDETERMINED or _AMBIGUOUS when the answer is not clear."""
    if analysis.status == "ok":
        return []
    return [Warning(f"LANGUAGE_{analysis.status.upper()}", analysis.message())]


def _squash(text: str) -> str:
    """One line: hard-wrapped article lines are joined with single spaces."""
    return _SPACE.sub(" ", text).strip()


def check_extractive(brief: Brief, sentences: list[str], source: str, title: str) -> Faithfulness:
    """The extractive guarantee, checked rather than assumed: the summary is article sentences in
    article order (the last one possibly cut short to fit the budget), every key point is text of
    the article, and the headline is text of the article or its title (else every word of it is
    a word of them)."""
    issues: list[str] = []
    remaining = _SPACE.sub(" ", brief.summary).strip()
    for sentence in sentences:
        if not remaining:
            break
        piece = _SPACE.sub(" ", sentence).strip()
        if piece and remaining.startswith(piece):
            remaining = remaining[len(piece) :].lstrip()
        elif piece.startswith(remaining):
            remaining = ""  # the last sentence, shortened to fit the budget (a prefix of it)
    if remaining:
        issues.append(f"summary text not taken from the article: {remaining[:80]!r}")
    haystack = _SPACE.sub(" ", f"{title}\n{source}").casefold()
    for point in brief.key_points:
        if _SPACE.sub(" ", point).strip().casefold() not in haystack:
            issues.append(f"key point not found in the article: {point[:80]!r}")
    headline = _SPACE.sub(" ", brief.headline).strip().casefold()
    if headline not in haystack:  # a cut sentence or title is found whole; else word by word
        words = set(_WORD.findall(haystack))
        unknown = [w[:40] for w in _WORD.findall(headline) if w not in words]
        if unknown:
            issues.append(f"headline words not in the article: {', '.join(unknown[:5])}")
    return Faithfulness(passed=not issues, issues=tuple(issues))
