"""The transport-free pipeline: orchestration of the stages of :mod:`.stages` (intake ->
extractive brief -> abstractive brief with the guard's fallback -> translation), the result
cache, readiness and the server's info.

The gRPC servicer (and any other front end) converts its messages into the domain types of
``newsbrief.service.domain`` and awaits :class:`Pipeline`. CPU-bound stages run in worker
processes (:mod:`.processes`), never on the event loop nor under its GIL.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

from newsbrief.service import __version__
from newsbrief.service.caching.results import ResultCache, brief_key
from newsbrief.service.caching.translations import TranslationCache
from newsbrief.service.domain import (
    Article,
    Brief,
    BriefOptions,
    BriefResult,
    Budget,
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
)
from newsbrief.service.errors import (
    CapabilityUnavailable,
    FieldViolation,
    InvalidArgument,
    NotReady,
)
from newsbrief.service.intake.language import LanguageAnalysis
from newsbrief.service.models.protocols import (
    ManagedModel,
    Summarizer,
    Translator,
)
from newsbrief.service.observability.telemetry import NO_TELEMETRY, Telemetry
from newsbrief.service.pipeline.processes import Workers, state
from newsbrief.service.pipeline.stages import (
    FAILED_STAGE,
    STAGE_TIMES,
    StageTimes,
    check_deadline,
)
from newsbrief.service.pipeline.stages.abstractive import Outcome, abstractive, serving_summarizer
from newsbrief.service.pipeline.stages.extractive import EXTRACTIVE_MODEL, take_in_and_brief
from newsbrief.service.pipeline.stages.intake import Intake, language_notices
from newsbrief.service.pipeline.stages.translation import translate_brief, translate_texts
from newsbrief.service.pipeline.validate import (
    resolve_budget,
    validate_article,
    validate_detect,
    validate_translate,
)
from newsbrief.service.settings import Settings
from newsbrief.service.text.normalize import normalize_text

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_TRANSLATOR_HELP = (
    "this server has no translation model configured (models.translator.preset=none); "
    "set it to a translator preset such as m2m100-418m (see `newsbrief-server models list`)"
)
#: Why JobService is off, and how to turn it on (its calls' FAILED_PRECONDITION and the "jobs"
#: capability of GetServerInfo).
JOBS_OFF = "background jobs are off on this server"
JOBS_ON_HELP = "set jobs.enabled (NEWSBRIEF_JOBS__ENABLED=true)"


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
    ) -> None:
        self.settings = settings
        self.translator = translator
        self.workers = Workers(settings)
        self._workers_ready = False
        self.summarizer = summarizer
        self.cache = ResultCache(settings.cache)
        self.translations = TranslationCache(settings.cache.translations)
        self._cache_salt = json.dumps(
            [__version__, settings.brief.model_dump(mode="json"), settings.language.model_dump()],
            sort_keys=True,
        )
        self._ready = False
        # the calls in progress that may use each model (briefs asking for translations and
        # Translate calls; briefs that may be abstractive): a model's batcher
        # (models.batching.MicroBatcher) waits for company only when there is some (a lone
        # call's texts run at once), and an extractive brief is no company for the translator
        self._calls: Counter[str] = Counter()
        for role, model in (("summarizer", summarizer), ("translator", translator)):
            batcher = getattr(model, "batcher", None)
            if batcher is not None:
                batcher.company = functools.partial(self._calls.__getitem__, role)

    @contextlib.contextmanager
    def _counted(self, *roles: str) -> Iterator[None]:
        """Count this call, for as long as it runs, as company for the models of ``roles``."""
        self._calls.update(roles)
        try:
            yield
        finally:
            self._calls.subtract(roles)

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        """Start the worker processes (each loads the language models), the neural models,
        and warm every stage up with one small brief."""
        started = time.monotonic()
        await self.workers.start()
        self._workers_ready = True
        for model in self._managed():
            await model.start()  # on its own worker; a missing model is not fatal
        self._ready = True
        try:
            await self.brief(
                Article(
                    text="Warm-up sentence one is here. Warm-up sentence two follows it.",
                    # models not loaded at start stay unloaded until a call needs them
                    source_language="" if self.settings.language_models_at_start else "en",
                ),
                BriefOptions(),
            )
        except Exception:
            self._ready = False
            raise
        log.info("pipeline ready in %.2f s", time.monotonic() - started)

    def close(self) -> None:
        self._ready = False
        for model in self._managed():
            model.close()
        self.workers.close()

    def _managed(self) -> list[ManagedModel]:
        """The models that load at start-up and stop at shutdown."""
        managed: list[ManagedModel] = []
        for model in (self.summarizer, self.translator):
            if isinstance(model, ManagedModel):
                managed.append(model)
        return managed

    # ---- RPC entry points ------------------------------------------------------------------

    async def brief(
        self,
        article: Article,
        options: BriefOptions,
        *,
        deadline: float | None = None,
        tenant: str = "",
    ) -> BriefResult:
        """The brief of one article, with the translations asked for. ``deadline`` is the
        caller's (``time.monotonic()`` seconds; None = ``max_call_seconds`` from now): no stage
        starts after it has passed, a stage still running in a worker process shortly after it
        is stopped (:mod:`.processes`), and model work not started by then is not done. A
        cancelled caller stops at the next stage boundary. ``tenant`` (the digest of the
        caller's API key) scopes the result and translation caches: a brief cached for one
        tenant is never served to another (see ``cache.shared_across_keys``)."""
        roles = []  # the models this brief may use
        if options.target_languages:
            roles.append("translator")
        if options.method is not Method.EXTRACTIVE:
            roles.append("summarizer")
        with self._counted(*roles):
            return await self._brief(article, options, deadline=deadline, tenant=tenant)

    async def _brief(
        self, article: Article, options: BriefOptions, *, deadline: float | None, tenant: str
    ) -> BriefResult:
        self._check_ready()
        started = time.monotonic()
        deadline = self._bounded(deadline)
        timings: dict[str, float] = {}
        article, targets = validate_article(article, options, self.settings)
        neural = self._neural_summarizer(options.method)
        if targets:
            self._require_translator(targets, article.source_language or None)
        tenant = self._cache_tenant(tenant)
        cache_key = self._cache_key(article, options, targets, tenant)
        if cache_key and (hit := self._cache_hit(cache_key, article, started)) is not None:
            return hit

        budget = resolve_budget(options, self.settings)
        # intake, extractive brief and its check: one hand-over to a worker process
        intake, brief, faithfulness = await self._extractive(timings, article, budget, deadline)
        lang = intake.language.code
        outcome = Outcome(brief, faithfulness)
        neural = serving_summarizer(neural, lang, options.method)
        if neural is not None:
            with self.telemetry.stage("abstractive"):  # the model's brief and its guard
                outcome = await abstractive(
                    neural,
                    intake,
                    outcome,
                    budget,
                    self.settings.brief.headline_max_words,
                    run=self._run,
                    timings=timings,
                    deadline=deadline,
                )
        warnings = [*intake.warnings, *outcome.notices]
        translations: list[Translation] = []
        models = list(outcome.models)
        if targets:
            if lang == "und":
                raise InvalidArgument(
                    FieldViolation(
                        "source_language",
                        "the article's language could not be detected; give source_language "
                        "to translate it",
                    )
                )
            # a detected language the translator does not serve is known only now
            translator = self._require_translator(
                targets, None if article.source_language else lang
            )
            check_deadline(deadline, "translate")
            t0 = time.monotonic()
            with self.telemetry.stage("translate"):
                translations, more, counts = await translate_brief(
                    self.translations,
                    translator,
                    outcome.brief,
                    lang,
                    targets,
                    deadline,
                    tenant,
                    run=self._run,
                )
            warnings.extend(more)
            timings["translate"] = (time.monotonic() - t0) * 1000
            timings.update(counts)  # texts asked, sent to the model, answered by the cache
            models.append(translator.info)
        return self._remember(
            cache_key,
            BriefResult(
                # where each line came from is told with the article text it points into
                brief=outcome.brief
                if options.include_article_text
                else outcome.brief.without_sources(),
                language=intake.language,
                method=outcome.method,
                faithfulness=outcome.faithfulness,
                translations=translations,
                models=models,
                warnings=warnings,
                timings_ms=timings,
                total_ms=(time.monotonic() - started) * 1000,
                client_reference=article.client_reference,
                metadata=intake.metadata,
                article_text=intake.article_text if options.include_article_text else "",
            ),
        )

    async def translate(
        self,
        texts: list[str],
        source_language: str,
        target_languages: list[str],
        *,
        deadline: float | None = None,
        tenant: str = "",
    ) -> TranslateResult:
        """Translate editor-written texts into each target language; ``tenant`` scopes the
        translation cache as in :meth:`brief`."""
        with self._counted("translator"):
            return await self._translate(
                texts, source_language, target_languages, deadline=deadline, tenant=tenant
            )

    async def _translate(
        self,
        texts: list[str],
        source_language: str,
        target_languages: list[str],
        *,
        deadline: float | None,
        tenant: str,
    ) -> TranslateResult:
        self._check_ready()
        deadline = self._bounded(deadline)
        source, targets = validate_translate(
            texts, source_language, target_languages, self.settings
        )
        self._require_translator(targets, source or None)
        # CPU work, in one hand-over to a worker process
        clean, detected = await self._run(
            _normalize_and_detect, texts, not source, deadline=deadline
        )
        if detected is None:
            language = DetectedLanguage(source, 1.0, given=True)
        else:
            language = detected
            if language.code == "und":
                raise InvalidArgument(
                    FieldViolation(
                        "source_language",
                        "the language of the texts could not be detected; give source_language",
                    )
                )
        translator = self._require_translator(targets, None if source else language.code)
        with self.telemetry.stage("translate"):  # target languages side by side
            out, warnings = await translate_texts(
                self.translations,
                translator,
                clean,
                language.code,
                targets,
                deadline,
                self._cache_tenant(tenant),
                run=self._run,
            )
        return TranslateResult(
            language=language,
            translations=out,
            models=[translator.info],
            warnings=warnings,
        )

    async def detect_language(self, text: str, *, deadline: float | None = None) -> DetectResult:
        """The language of one text, with the detector's confidence and per-language shares
        (``deadline`` as for :meth:`brief`)."""
        self._check_ready()
        validate_detect(text, self.settings)
        analysis = await self._run(  # CPU work, one hand-over
            _normalize_and_analyse, text, deadline=self._bounded(deadline)
        )
        if analysis is None:
            raise InvalidArgument(FieldViolation("text", "contains no readable text"))
        return DetectResult(analysis.language, dict(analysis.shares), language_notices(analysis))

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
                ready=self._workers_ready,
                backend="builtin",
            ),
        ]
        if self.summarizer is not None:
            models.append(self.summarizer.info)
        if self.translator is not None:
            models.append(self.translator.info)
        abstractive_ready = self.summarizer is not None and self.summarizer.info.ready
        jobs_on = self.settings.jobs.enabled
        capabilities = (
            Capability("summarize.extractive", self._ready),
            Capability(
                "summarize.abstractive",
                abstractive_ready,
                "" if abstractive_ready else self._no_summarizer_detail(),
            ),
            Capability("html", self._ready),
            Capability("translate", translator_ready, self._translation_unavailable()),
            # JobService (the server opens its job store at start or does not start)
            Capability("jobs", jobs_on, "" if jobs_on else f"{JOBS_OFF}: {JOBS_ON_HELP}"),
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

    # ---- result cache ----------------------------------------------------------------------

    def _cache_tenant(self, tenant: str) -> str:
        """Whose cache entries a caller may see: its own, or everyone's when shared."""
        return "" if self.settings.cache.shared_across_keys else tenant

    def _cache_key(
        self, article: Article, options: BriefOptions, targets: tuple[str, ...], tenant: str
    ) -> str:
        """The cache key of a validated request ("" with the cache off): every model that may
        take part is in it, with its revision, readiness and decoding parameters, and the
        tenant."""
        if not self.cache.enabled:
            return ""
        models = [EXTRACTIVE_MODEL]
        if self.summarizer is not None and options.method is not Method.EXTRACTIVE:
            models.append(self.summarizer.info)
        if targets and self.translator is not None:
            models.append(self.translator.info)
        return brief_key(
            article, options, targets=targets, models=models, salt=self._cache_salt, tenant=tenant
        )

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

    def _translation_unavailable(self) -> str:
        """Why translation is not available ("" when it is)."""
        if self.translator is not None and self.translator.info.ready:
            return ""
        detail = (
            self.translator.info.detail
            if self.translator is not None and self.translator.info.detail
            else NO_TRANSLATOR_HELP
        )
        return f"translation is not available: {detail}"

    def _require_translator(self, targets: tuple[str, ...], source: str | None) -> Translator:
        """The translator, when it is ready and translates ``source`` (if known) into every
        target; FAILED_PRECONDITION saying why otherwise."""
        unavailable = self._translation_unavailable()
        if unavailable or self.translator is None:
            raise CapabilityUnavailable("translate", unavailable or NO_TRANSLATOR_HELP)
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
        return self.translator

    def _check_ready(self) -> None:
        if not self._ready:
            raise NotReady("the server is starting: models are loading")

    def _bounded(self, deadline: float | None) -> float:
        """The caller's deadline, or ``max_call_seconds`` from now when it gave none: no call
        runs without a bound."""
        if deadline is None:
            return time.monotonic() + self.settings.max_call_seconds
        return deadline

    async def _run(self, fn: Callable[..., T], *args: object, deadline: float | None) -> T:
        """``fn(*args)`` in a worker process (see :mod:`.processes` for why), stopped when still
        running shortly after ``deadline``."""
        return await self.workers.run(fn, *args, deadline=deadline)

    async def _extractive(
        self, timings: dict[str, float], article: Article, budget: Budget, deadline: float
    ) -> tuple[Intake, Brief, Faithfulness]:
        """The intake, the extractive brief and its check in one worker process call (each
        stage started only before the deadline), their times reported as if run here: in
        ``timings`` and as stage metrics and spans. The first stage's time includes the
        hand-over to the worker, the last one's the way back, so the stages add up to the
        call."""
        check_deadline(deadline, "intake")
        t0 = time.monotonic()
        try:
            intake, brief, faithfulness, times = await self._run(
                _take_in_and_brief, article, budget, deadline, deadline=deadline
            )
        except BaseException as exc:
            self._report_stages(timings, getattr(exc, STAGE_TIMES, []), t0, exc)
            raise
        self._report_stages(timings, times, t0)
        return intake, brief, faithfulness

    def _report_stages(
        self,
        timings: dict[str, float],
        times: StageTimes,
        t0: float,
        error: BaseException | None = None,
    ) -> None:
        now = time.monotonic()
        last = len(times) - 1
        stages: StageTimes = []
        for i, (stage, started, ended) in enumerate(times):
            # the clock is the machine's; bounded by this call's own times all the same
            started = t0 if i == 0 else min(max(started, t0), now)
            ended = now if i == last else min(max(ended, started), now)
            timings[stage] = (ended - started) * 1000
            stages.append((stage, started, ended))
        failed = (
            error is not None
            and bool(times)
            and getattr(error, FAILED_STAGE, None) == (times[-1][0])
        )
        self.telemetry.stages_done(stages, error if failed else None)


# ---- the functions run in a worker process (module-level: they are pickled by name) ----------


def _take_in_and_brief(
    article: Article, budget: Budget, deadline: float | None
) -> tuple[Intake, Brief, Faithfulness, StageTimes]:
    worker = state()
    return take_in_and_brief(
        article,
        budget,
        worker.settings.intake,
        worker.detector.analyse,
        worker.summarizer,
        deadline,
    )


def _normalize_and_detect(
    texts: list[str], detect: bool
) -> tuple[list[str], DetectedLanguage | None]:
    """The texts normalised, and with ``detect`` the language of them all."""
    clean = [normalize_text(t) for t in texts]
    return clean, state().detector.detect("\n".join(clean)) if detect else None


def _normalize_and_analyse(text: str) -> LanguageAnalysis | None:
    """The language analysis of the normalised text; None when nothing readable is left."""
    clean = normalize_text(text)
    return state().detector.analyse(clean) if clean else None
