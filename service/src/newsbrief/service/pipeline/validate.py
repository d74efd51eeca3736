"""Request validation: every rule that turns a request into INVALID_ARGUMENT lives here."""

from __future__ import annotations

from newsbrief.service.domain import Article, BriefOptions, Budget, LengthPreset
from newsbrief.service.errors import FieldViolation, InvalidArgument
from newsbrief.service.intake.language import canonical_code
from newsbrief.service.settings import Settings
from newsbrief.service.text.patterns import ALNUM


def _language_violation(field: str, code: str, allowed: list[str]) -> FieldViolation:
    return FieldViolation(
        field, f"{code!r} is not a supported language code; use one of: {', '.join(allowed)}"
    )


def _source_language(raw: str, settings: Settings, violations: list[FieldViolation]) -> str:
    """The canonical code of a given source language ("" = detect); a bad one is a violation."""
    if not raw.strip():
        return ""
    code = canonical_code(raw)
    if code is None or code not in settings.language.supported:
        violations.append(_language_violation("source_language", raw, settings.language.supported))
        return ""
    return code


def validate_article(
    article: Article, options: BriefOptions, settings: Settings
) -> tuple[Article, tuple[str, ...]]:
    """Check the article and options against the limits; return the article with canonical
    language codes and the canonical target languages. Raises InvalidArgument naming every bad
    field at once."""
    limits = settings.limits
    violations: list[FieldViolation] = []
    if article.html is not None:
        size = len(article.html.encode("utf-8"))
        if not article.html.strip():
            violations.append(FieldViolation("html", "must not be empty"))
        elif size > limits.max_html_bytes:
            violations.append(
                FieldViolation(
                    "html", f"is {size} bytes; the limit is {limits.max_html_bytes} bytes"
                )
            )
    else:
        text = article.text or ""
        if not text.strip():
            violations.append(FieldViolation("text", "must not be empty (send text or html)"))
        elif len(text) > limits.max_text_chars:
            violations.append(
                FieldViolation(
                    "text",
                    f"is {len(text)} characters; the limit is {limits.max_text_chars} characters",
                )
            )
        elif not ALNUM.search(text):
            violations.append(
                FieldViolation(
                    "text",
                    "contains no letters or digits (only punctuation, symbols or emoji); "
                    "send the article's text",
                )
            )
    if len(article.title) > limits.max_title_chars:
        violations.append(
            FieldViolation(
                "title",
                f"is {len(article.title)} characters; the limit is {limits.max_title_chars}",
            )
        )
    if len(article.client_reference) > limits.max_client_reference_chars:
        violations.append(
            FieldViolation(
                "client_reference",
                f"is {len(article.client_reference)} characters; "
                f"the limit is {limits.max_client_reference_chars}",
            )
        )
    source = _source_language(article.source_language, settings, violations)
    violations.extend(_option_violations(options, settings))
    targets, more = validate_target_languages(
        options.target_languages, settings, field_name="target_languages"
    )
    violations.extend(more)
    if violations:
        raise InvalidArgument(violations)
    clean = Article(
        text=article.text,
        html=article.html,
        title=article.title.strip(),
        source_language=source,
        client_reference=article.client_reference,
    )
    return clean, targets


def validate_translate(
    texts: list[str], source_language: str, target_languages: list[str], settings: Settings
) -> tuple[str, tuple[str, ...]]:
    """Check a Translate request; return the canonical source ("" = detect) and targets."""
    limits = settings.limits
    violations: list[FieldViolation] = []
    if not texts or not any(t.strip() for t in texts):
        violations.append(FieldViolation("texts", "must hold at least one non-empty text"))
    if len(texts) > limits.max_translate_texts:
        violations.append(
            FieldViolation(
                "texts", f"has {len(texts)} texts; the limit is {limits.max_translate_texts}"
            )
        )
    for i, text in enumerate(texts):
        if len(text) > limits.max_text_chars:
            violations.append(
                FieldViolation(
                    f"texts[{i}]",
                    f"is {len(text)} characters; the limit is {limits.max_text_chars}",
                )
            )
    if not target_languages:
        violations.append(FieldViolation("target_languages", "must name at least one"))
    targets, more = validate_target_languages(
        target_languages, settings, field_name="target_languages"
    )
    violations.extend(more)
    source = _source_language(source_language, settings, violations)
    if violations:
        raise InvalidArgument(violations)
    return source, targets


def validate_detect(text: str, settings: Settings) -> None:
    """Check a DetectLanguage request: one non-empty text within the text limit."""
    limit = settings.limits.max_text_chars
    if not text.strip():
        raise InvalidArgument(FieldViolation("text", "must not be empty"))
    if len(text) > limit:
        raise InvalidArgument(
            FieldViolation("text", f"is {len(text)} characters; the limit is {limit} characters")
        )


def _option_violations(options: BriefOptions, settings: Settings) -> list[FieldViolation]:
    limits = settings.limits
    out: list[FieldViolation] = []
    if options.length is not None and (options.max_sentences or options.max_words):
        out.append(
            FieldViolation("length", "set either length or max_sentences/max_words, not both")
        )
    if options.max_sentences < 0 or options.max_sentences > limits.max_sentences:
        out.append(
            FieldViolation(
                "max_sentences", f"must be between 1 and {limits.max_sentences} (0 = default)"
            )
        )
    if options.max_words < 0 or options.max_words > limits.max_words:
        out.append(
            FieldViolation("max_words", f"must be between 1 and {limits.max_words} (0 = default)")
        )
    if options.max_key_points < 0 or options.max_key_points > limits.max_key_points:
        out.append(
            FieldViolation(
                "max_key_points", f"must be between 1 and {limits.max_key_points} (0 = default)"
            )
        )
    return out


def validate_target_languages(
    targets: tuple[str, ...] | list[str], settings: Settings, *, field_name: str
) -> tuple[tuple[str, ...], list[FieldViolation]]:
    """Canonical target codes and the violations among them (bad code, duplicate, too many)."""
    out: list[FieldViolation] = []
    codes: list[str] = []
    allowed = settings.language.translation_targets
    if len(targets) > settings.limits.max_target_languages:
        out.append(
            FieldViolation(
                field_name,
                f"has {len(targets)} languages; the limit is "
                f"{settings.limits.max_target_languages}",
            )
        )
    for i, raw in enumerate(targets):
        code = canonical_code(raw)
        if code is None or code not in allowed:
            out.append(_language_violation(f"{field_name}[{i}]", raw, allowed))
        elif code in codes:
            out.append(FieldViolation(f"{field_name}[{i}]", f"{raw!r} is listed twice"))
        else:
            codes.append(code)
    return tuple(codes), out


def resolve_budget(options: BriefOptions, settings: Settings) -> Budget:
    """The summary budget: a preset (default medium) or the caller's sentence/word budget."""
    brief = settings.brief
    key_points = options.max_key_points or brief.key_points
    if options.max_sentences or options.max_words:
        return Budget(
            sentences=options.max_sentences or settings.limits.max_sentences,
            words=options.max_words or settings.limits.max_words,
            key_points=key_points,
        )
    preset = options.length or LengthPreset.MEDIUM
    sentences, words = {
        LengthPreset.SHORT: (brief.short_sentences, brief.short_words),
        LengthPreset.MEDIUM: (brief.medium_sentences, brief.medium_words),
        LengthPreset.LONG: (brief.long_sentences, brief.long_words),
    }[preset]
    return Budget(sentences=sentences, words=words, key_points=key_points)
