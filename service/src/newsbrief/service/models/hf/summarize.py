"""Summarisation on transformers: ``AutoTokenizer`` + ``AutoModelForSeq2SeqLM.generate``
(transformers 5 has no summarisation pipeline).

:class:`HFSummarizationEngine` is blocking and works in three stages: **prepare** (whitespace
clean-up, tokenise; a text that does not fit is refused, never cut), **generate** (beam search
with the preset's decoding, overridable in settings; never sampling, so deterministic) and
**finish** (decode, clean up spacing). Fitting a long article to the input is the article-level
summariser's job (:class:`~newsbrief.service.models.batching.BatchedSummarizer` with
:mod:`~newsbrief.service.models.chunking`). :func:`load_summarizer` is what the model's worker
thread runs at start-up. torch and transformers are imported when the model is loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.chunking import InputTooLong, clean_input, clean_summary
from newsbrief.service.models.hf.engine import HFEngine, from_pretrained, open_slot
from newsbrief.service.models.presets import Decoding
from newsbrief.service.models.resolve import resolve_slot
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

log = logging.getLogger(__name__)

WARMUP_TEXT = "Warm-up sentence one. Two follows it."


class HFSummarizationEngine(HFEngine):
    """A loaded summarisation model. Blocking; calls are serialised by a lock, and torch's
    intra-op threads are set once in each calling thread."""

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        decoding: Decoding,
        max_input_tokens: int,
        device: str = "cpu",
        threads: int = 0,
    ) -> HFSummarizationEngine:
        """Load tokenizer and model from a local directory (``from_pretrained``, never the
        network)."""
        tokenizer, model = from_pretrained(path)
        model.to(device)
        # The checkpoint's own generation defaults (distilbart-cnn: min_length 56, max_length
        # 142, no_repeat_ngram_size 3) would silently override ours, and a max_length beside
        # max_new_tokens warns on every call: the decoding settings alone decide.
        generation = model.generation_config
        generation.min_length = 0
        generation.max_length = 20  # transformers' default: "unset"
        generation.no_repeat_ngram_size = 0
        limit = max_input_tokens
        tok_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
            limit = min(limit, tok_max)
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            limit = min(limit, positions)
        return cls(
            model=model,
            tokenizer=tokenizer,
            decoding=decoding,
            max_input_tokens=limit,
            device=device,
            threads=threads,
        )

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model's input (special tokens included)."""
        with self._lock:
            encoded = self.tokenizer(clean_input(text), add_special_tokens=True, verbose=False)
        return len(encoded["input_ids"])

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        """One summary per text, in order, in one ``generate`` call. Every text must fit the
        model's input (:class:`InputTooLong` otherwise: nothing is cut silently)."""
        del lang  # BART and mT5 XL-Sum take no language tag
        if not texts:
            return []
        with self._lock:
            self._torch_threads.ensure()
            return self._finish(self._generate(self._prepare(texts)))

    def _prepare(self, texts: list[str]) -> Any:
        clean = [clean_input(t) for t in texts]
        batch = self.tokenizer(
            clean, return_tensors="pt", padding=True, truncation=False, verbose=False
        )
        length = int(batch["input_ids"].shape[1])
        if length > self.max_input_tokens:
            sizes = [len(self.tokenizer(t, verbose=False)["input_ids"]) for t in clean]
            longest = max(range(len(clean)), key=lambda i: sizes[i])
            raise InputTooLong(
                f"text {longest} is {sizes[longest]} tokens; the summariser takes at most "
                f"{self.max_input_tokens}"
            )
        return batch.to(self.device)

    def _generate(self, batch: Any) -> Any:
        import torch

        with torch.inference_mode():
            return self.model.generate(**batch, **self.decoding.generate_kwargs())

    def _finish(self, ids: Any) -> list[str]:
        texts = self.tokenizer.batch_decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return [clean_summary(t) for t in texts]


def load_summarizer(
    slot: ModelSlotSettings, models: ModelsSettings, info: ModelInfo
) -> tuple[HFSummarizationEngine, ModelInfo]:
    """Blocking (on the model's worker thread): resolve the slot's model, load it and warm it
    up. Raises :class:`ModelUnavailable` saying how to install what is missing."""
    preset, resolution, decoding = open_slot(slot, models, resolve_slot)
    engine = HFSummarizationEngine.load(
        resolution.folder,
        decoding=decoding,
        max_input_tokens=preset.max_input_tokens,
        device=slot.device,
        threads=slot.threads,
    )
    engine.summarize_batch([WARMUP_TEXT], "en")
    log.info(
        "summariser %s (%s): input %d tokens, %s",
        preset.name,
        resolution.model_id,
        engine.max_input_tokens,
        decoding.describe(),
    )
    loaded = ModelInfo(
        role="summarizer",
        id=resolution.model_id,
        revision=resolution.revision,
        licence=info.licence,
        languages=info.languages,
        backend="transformers",
        parameters=decoding.parameters(preset.name, engine.max_input_tokens),
    )
    return engine, loaded
