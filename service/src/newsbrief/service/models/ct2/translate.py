"""Translation on CTranslate2: :class:`CT2TranslationEngine` over a converted M2M100, NLLB or
MADLAD model, in three stages (prepare: tokenise with the family's special tokens; generate:
``translate_batch`` with the target language forced by ``target_prefix``; finish: decode,
clean), long texts in runs of whole sentences. Thread-safe: up to ``inter_threads`` batches run
at once. :func:`load_translator` is what the model's worker thread runs at start-up; torch is
never imported."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Unpack

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.chunking import (
    LanguageTokens,
    Stages,
    clean_translation,
    translate_in_runs,
)
from newsbrief.service.models.ct2.runtime import (
    TOKENIZER_DIR,
    CT2Engine,
    RuntimeOptions,
    decode_kwargs,
    intra_threads,
    open_model,
    open_slot,
    runtime_options,
    vocabulary,
)
from newsbrief.service.models.ct2.tokenizer import PieceTokenizer
from newsbrief.service.models.presets import Decoding
from newsbrief.service.models.protocols import Translated
from newsbrief.service.models.resolve import ModelLoadError
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

log = logging.getLogger(__name__)

WARMUP_TEXT = "The council approved the new park on Tuesday."


@dataclass
class CT2Prepared:
    """A tokenised batch: source tokens, target prefixes, which inputs were cut."""

    sources: list[list[str]]
    prefixes: list[list[str]] | None
    truncated: list[int]


@dataclass(kw_only=True, eq=False, repr=False)
class CT2TranslationEngine(LanguageTokens, Stages, CT2Engine):
    """A loaded CTranslate2 translation model. Blocking and thread-safe: up to
    ``inter_threads`` calls run at once (a micro-batcher's workers)."""

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        family: str,
        codes: dict[str, str],
        decoding: Decoding,
        max_input_tokens: int,
        **runtime: Unpack[RuntimeOptions],
    ) -> CT2TranslationEngine:
        """Load a converted model and check that every language code is in its vocabulary."""
        model_dir = Path(model_dir)
        tokenizer = PieceTokenizer(model_dir / TOKENIZER_DIR, family, list(codes.values()))
        engine = cls(
            translator=open_model(model_dir, **runtime),
            tokenizer=tokenizer,
            family=family,
            codes=codes,
            decoding=decoding,
            max_input_tokens=max_input_tokens,
        )
        engine.check_languages(vocabulary(model_dir))
        return engine

    def check_languages(self, vocabulary: set[str]) -> None:
        """Every language code must be a token of the model: an unknown one would silently
        become ``<unk>``."""
        if self.forcing == "source_prefix":
            return  # MADLAD's <2xx> tags are ordinary pieces of the source text
        bad = [f"{lang}={code}" for lang, code in self.codes.items() if code not in vocabulary]
        if bad:
            raise ModelLoadError(
                "the converted model's vocabulary lacks these language codes: "
                + ", ".join(bad)
                + " (convert again from a tokenizer saved with its language codes)"
            )

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self.tokenizer.pieces(text))

    def prepare(self, texts: Sequence[str], source: str, target: str) -> CT2Prepared:
        sources: list[list[str]] = []
        truncated: list[int] = []
        prefixes: list[list[str]] | None
        if self.forcing == "source_prefix":  # MADLAD: "<2ko> text"
            prefixes = None
            lead = self.codes[target]
        else:  # M2M100, NLLB: "[src] text </s>", the target token forced first
            prefixes = [[self.codes[target]] for _ in texts]
            lead = self.codes[source]
        for i, text in enumerate(texts):
            tokens, cut = self.tokenizer.source(text, lead, self.max_input_tokens)
            sources.append(tokens)
            if cut:
                truncated.append(i)
        return CT2Prepared(sources, prefixes, truncated)

    def generate(self, prepared: CT2Prepared) -> list[list[str]]:
        """The best hypothesis of each input, as token strings (the target prefix included)."""
        results = self.translator.translate_batch(
            prepared.sources, target_prefix=prepared.prefixes, **decode_kwargs(self.decoding)
        )
        return [list(r.hypotheses[0]) for r in results]

    def finish(self, hypotheses: list[list[str]]) -> tuple[list[str], list[int]]:
        """Decoded, cleaned texts, and which outputs stopped at ``max_new_tokens``."""
        texts = [clean_translation(self.tokenizer.decode(h)) for h in hypotheses]
        cut = [i for i, h in enumerate(hypotheses) if len(h) >= self.decoding.max_new_tokens]
        return texts, cut

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Translate one batch (blocking, thread-safe). Each text gets its own notices."""
        return translate_in_runs(self, texts, source, target)


def load_translator(
    slot: ModelSlotSettings, models: ModelsSettings, info: ModelInfo
) -> tuple[CT2TranslationEngine, ModelInfo]:
    """Blocking (on the model's worker thread): open the slot's converted model, check its
    language codes and warm it up. Raises :class:`ModelUnavailable` saying how to convert it."""
    preset, model_dir, meta, decoding = open_slot(slot, models)
    try:
        engine = CT2TranslationEngine.load(
            model_dir,
            family=preset.family,
            codes={lang: preset.code(lang) or "" for lang in preset.languages},
            decoding=decoding,
            max_input_tokens=preset.max_input_tokens,
            **runtime_options(slot),
        )
        engine.translate_batch([WARMUP_TEXT], preset.languages[0], preset.languages[1])
    except Exception as exc:
        raise RuntimeError(f"CTranslate2 model at {model_dir} failed to load: {exc}") from exc
    log.info(
        "translator %s on CTranslate2 (%s, %s): inter %d x intra %d threads",
        preset.name,
        model_dir,
        slot.compute_type,
        slot.inter_threads,
        intra_threads(slot),
    )
    loaded = replace(
        info,
        id=str(meta.get("model_id") or info.id),
        revision=str(meta.get("revision") or info.revision),
        parameters=decoding.parameters(
            preset.name, engine.max_input_tokens, ("device", slot.device)
        ),
    )
    return engine, loaded
