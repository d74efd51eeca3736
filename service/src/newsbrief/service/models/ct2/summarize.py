"""Summarisation on CTranslate2: :class:`CT2SummarizationEngine` over a converted BART or mT5
model (``summarize_batch(texts, lang)``; a text that does not fit is refused, never cut).
Thread-safe: up to ``inter_threads`` batches run at once. :func:`load_summarizer` is what the
model's worker thread runs at start-up; torch is never imported."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.chunking import InputTooLong, clean_input, clean_summary
from newsbrief.service.models.ct2.runtime import (
    TOKENIZER_DIR,
    CT2Engine,
    RuntimeOptions,
    decode_kwargs,
    open_model,
    open_slot,
    read_json,
    runtime_options,
)
from newsbrief.service.models.ct2.tokenizer import PieceTokenizer
from newsbrief.service.models.presets import Decoding
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

log = logging.getLogger(__name__)

WARMUP_TEXT = "Warm-up sentence one. Two follows it."


@dataclass(kw_only=True, eq=False, repr=False)
class CT2SummarizationEngine(CT2Engine):
    """A loaded CTranslate2 summariser (BART, mT5): ``summarize_batch(texts, lang)``."""

    #: tokens forced at the start of every summary (BART's ``forced_bos_token_id``), or None
    prefix: list[str] | None

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        family: str,
        decoding: Decoding,
        max_input_tokens: int,
        **runtime: Unpack[RuntimeOptions],
    ) -> CT2SummarizationEngine:
        model_dir = Path(model_dir)
        tokenizer = PieceTokenizer(model_dir / TOKENIZER_DIR, family)
        # BART forces <s> as the first generated token (``forced_bos_token_id``); so do we.
        prefix: list[str] | None = None
        config = read_json(model_dir / TOKENIZER_DIR / "config.json")
        generation = read_json(model_dir / TOKENIZER_DIR / "generation_config.json")
        forced = generation.get("forced_bos_token_id", config.get("forced_bos_token_id"))
        if forced is not None and family == "bart":
            prefix = [tokenizer.token(int(forced))]
        tokenizer_config = read_json(model_dir / TOKENIZER_DIR / "tokenizer_config.json")
        # the input limit as the transformers engine computes it: the preset's, the tokenizer's
        # model_max_length, the model's positions
        for limit in (
            tokenizer_config.get("model_max_length"),
            config.get("max_position_embeddings") or config.get("n_positions"),
        ):
            if isinstance(limit, int) and 0 < limit < 1_000_000:
                max_input_tokens = min(max_input_tokens, limit)
        return cls(
            translator=open_model(model_dir, **runtime),
            tokenizer=tokenizer,
            decoding=decoding,
            max_input_tokens=max_input_tokens,
            prefix=prefix,
        )

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.source(text)[0])

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        """One summary per text (each must fit the input: :class:`InputTooLong` otherwise)."""
        del lang  # BART and mT5 XL-Sum take no language tag
        if not texts:
            return []
        sources = [self.tokenizer.source(clean_input(t))[0] for t in texts]
        for i, tokens in enumerate(sources):
            if len(tokens) > self.max_input_tokens:
                raise InputTooLong(
                    f"text {i} is {len(tokens)} tokens; the summariser takes at most "
                    f"{self.max_input_tokens}"
                )
        prefixes = [list(self.prefix) for _ in texts] if self.prefix else None
        results = self.translator.translate_batch(
            sources, target_prefix=prefixes, **decode_kwargs(self.decoding)
        )
        return [clean_summary(self.tokenizer.decode(r.hypotheses[0])) for r in results]


def load_summarizer(
    slot: ModelSlotSettings, models: ModelsSettings, info: ModelInfo
) -> tuple[CT2SummarizationEngine, ModelInfo]:
    """Blocking (on the model's worker thread): open the slot's converted model and warm it up.
    Raises :class:`ModelUnavailable` saying how to convert it."""
    preset, model_dir, meta, decoding = open_slot(slot, models)
    engine = CT2SummarizationEngine.load(
        model_dir,
        family=preset.family,
        decoding=decoding,
        max_input_tokens=preset.max_input_tokens,
        **runtime_options(slot),
    )
    engine.summarize_batch([WARMUP_TEXT], "en")
    log.info(
        "summariser %s on CTranslate2 (%s): input %d tokens, %s",
        preset.name,
        model_dir,
        engine.max_input_tokens,
        decoding.describe(),
    )
    loaded = ModelInfo(
        role="summarizer",
        id=str(meta.get("model_id") or info.id),
        revision=str(meta.get("revision") or info.revision),
        licence=info.licence,
        languages=info.languages,
        backend="ctranslate2",
        parameters=decoding.parameters(preset.name, engine.max_input_tokens),
    )
    return engine, loaded
